"""The validator's inputs and its report: plain slotted dataclasses, checked where they are built.

The report's JSON shape (:meth:`Report.to_dict`, the ``--format json`` output of ``mwaa-cp validate``
and the document the Lambda writes) is a public contract. Add fields to ``Summary`` (or ``Finding``,
with a default) if needed; never rename or remove one.

Not pydantic models: ``mwaa-cp validate`` runs on every commit as a pre-commit hook, and building
these models cost it about 60 ms of a 180 ms run, more than checking a file. Everything here stays
inside the validator or is written out through ``to_dict``; the payloads that cross the Lambda and
Step Functions boundary (``dags.payloads``) are still pydantic models.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from mwaa_control_plane.versions import parse_version

Verdict = Literal["pass", "fail"]

#: Where a suppression came from: a comment on the finding's line, an ``ignore-file`` comment, ``.mwaa-cp.toml``.
SuppressionSource = Literal["inline", "file", "config"]

#: Where the validator's configuration is read: the DAG repository (CLI) or ``<environment>/`` in staging.
SETTINGS_FILE_NAME = ".mwaa-cp.toml"

#: What a file is to MWAA. ``dags`` is anything synced from the DAGs folder.
FileKind = Literal["dags", "requirements", "plugins", "startup"]

#: MWAA's environment files, by their name at the DAGs folder root.
ENVIRONMENT_FILES: dict[str, FileKind] = {
    "requirements.txt": "requirements",
    "plugins.zip": "plugins",
    "startup.sh": "startup",
}

MIB = 1024 * 1024

#: The Airflow version a context targets when none is given (the CLI's --airflow-version default).
DEFAULT_AIRFLOW_VERSION = "2.10.3"


def _airflow_version(text: str) -> str:
    """A PEP 440 version (``2.10.3``, ``2.11``, ``3.1.0rc1``), read by the project's one version parser."""
    if not isinstance(text, str):
        raise ValueError(f"airflow_version: expected a string, got {type(text).__name__}")
    try:
        parse_version(text)
    except ValueError:  # InvalidVersion
        raise ValueError(f"airflow_version: {text!r} is not a version such as 2.10.3") from None
    return text.strip()


def _python_version(text: str | None) -> None:
    """``3.N`` or ``3.NN`` (any Unicode decimal digits, as the pattern ``^3\\.\\d{1,2}$`` it replaces), or None."""
    if text is None:
        return
    digits = text[2:] if isinstance(text, str) and text.startswith("3.") else ""
    if not (digits.isdecimal() and len(digits) <= 2):
        raise ValueError(f"python_version: {text!r} is not a Python version such as 3.11")


def normalize_path(path: str) -> str:
    """'/'-separated, no leading './' or '/', no '..' games."""
    normalized = posixpath.normpath(path.replace("\\", "/")).lstrip("/")
    return "" if normalized == "." else normalized


def default_kind(path: str) -> FileKind:
    """The kind of a file at ``path`` (already normalized) when none is given."""
    return "dags" if "/" in path else ENVIRONMENT_FILES.get(path, "dags")


def human_size(size: int) -> str:
    """1536 -> '1.5 KiB'; sizes in messages."""
    if size < 1024:
        return f"{size} B"
    if size < MIB:
        return f"{size / 1024:.1f} KiB"
    return f"{size / MIB:.1f} MiB"


def over_limit(size: int, limit: int) -> str:
    """'2.0 MiB, over the 1.0 MiB limit'; messages of the size rules."""
    return f"{human_size(size)}, over the {human_size(limit)} limit"


def decode_utf8(content: bytes) -> str:
    """``content`` read the way Python reads a source file: UTF-8, a leading BOM dropped.

    Raises UnicodeDecodeError; callers word the finding.
    """
    return content.decode("utf-8").removeprefix("\ufeff")


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one file. ``line`` is 1-based, or None when the finding is about the whole file.

    A suppressed finding stays in the report (``suppressed``, with its ``suppression`` source) but
    counts toward neither the verdict nor the summary's errors, warnings and infos.
    """

    rule: str
    severity: Severity
    message: str
    line: int | None = None
    suppressed: bool = False
    suppression: SuppressionSource | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "line": self.line,
            "suppressed": self.suppressed,
            "suppression": self.suppression,
        }


@dataclass(slots=True)
class FileReport:
    path: str
    verdict: Verdict
    findings: list[Finding]
    #: dag_ids the file defines, as far as static analysis can tell. Not part of the CLI's JSON/SARIF
    #: schema (left out of ``to_dict``); the control plane keeps its dag_id index from it.
    dag_ids: list[str] = field(default_factory=list)
    #: For plugins.zip: the top-level modules it makes importable (left out of ``to_dict``, like dag_ids).
    modules: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "verdict": self.verdict, "findings": [f.to_dict() for f in self.findings]}


@dataclass(slots=True)
class Summary:
    files: int
    passed: int
    failed: int
    errors: int
    warnings: int
    infos: int
    airflow_version: str
    python_version: str
    #: Findings suppressed by a comment or .mwaa-cp.toml (not in errors, warnings or infos).
    suppressed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "warnings": self.warnings,
            "infos": self.infos,
            "airflow_version": self.airflow_version,
            "python_version": self.python_version,
            "suppressed": self.suppressed,
        }


@dataclass(slots=True)
class Report:
    files: list[FileReport]
    summary: Summary

    @property
    def ok(self) -> bool:
        """True when no file has an error-level finding."""
        return self.summary.failed == 0

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON document: the public contract (see the module docstring)."""
        return {"files": [f.to_dict() for f in self.files], "summary": self.summary.to_dict()}


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file to check: its path relative to the DAGs folder root (``/`` separators) and its bytes.

    ``kind`` defaults from the file name: ``requirements.txt``, ``plugins.zip`` and ``startup.sh``
    at the root (after :func:`normalize_path`) are MWAA's environment files, everything else is
    DAG-folder content.
    """

    path: str
    content: bytes
    kind: FileKind | None = None

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("path: empty; a file to check needs its path")

    @property
    def resolved_kind(self) -> FileKind:
        if self.kind is not None:
            return self.kind
        return default_kind(normalize_path(self.path))


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsFile:
    """The validator's configuration file (``.mwaa-cp.toml``) as found: where, to name it in findings, and its bytes.

    The validator parses it (``settings_file.parse_settings``); problems are ``config-invalid`` findings.
    """

    path: str = SETTINGS_FILE_NAME
    content: bytes

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("path: empty; name the file the findings are about")


_POSITIVE_LIMITS = (
    "max_python_file_bytes",
    "max_file_bytes",
    "max_plugins_bytes",
    "max_uncompressed_bytes",
    "max_zip_members",
)


@dataclass(frozen=True, slots=True)
class ValidationContext:
    """What the validator knows about the target environment.

    The control plane fills it from GetEnvironment and its own index; the CLI from flags and
    the files next to the DAGs. Built with an invalid value (a version that is not PEP 440, a
    limit under 1), it raises ValueError.
    """

    airflow_version: str = DEFAULT_AIRFLOW_VERSION
    #: Python of the environment, e.g. "3.11"; derived from ``airflow_version`` when None.
    python_version: str | None = None
    #: The environment's requirements.txt (None: the environment has none).
    requirements: str | None = None
    #: Top-level module names importable from the DAGs folder (the folder is on sys.path).
    sibling_modules: frozenset[str] = frozenset()
    #: Top-level module names importable from plugins.zip.
    plugin_modules: frozenset[str] = frozenset()
    #: The .airflowignore at the DAGs folder root, when it is not among the files.
    airflowignore: str | None = None
    #: "regexp" or "glob"; None means the target version's default (regexp on 2, glob on 3).
    dag_ignore_syntax: Literal["regexp", "glob"] | None = None
    #: dag_id -> path of the file that owns it in the environment (index kept by the control plane).
    dag_id_owners: dict[str, str] = field(default_factory=dict)
    #: ``core.dag_discovery_safe_mode``; MWAA keeps Airflow's default (on).
    safe_mode: bool = True
    #: Dotted modules that Python files of the DAGs folder outside this run import (prefixes included).
    #: A file safe mode skips is fully checked when one of them names it; None: only the run's files count.
    imported_modules: frozenset[str] | None = None
    #: The .mwaa-cp.toml that applies (rule switches, severities, extra modules); None: the defaults.
    settings_file: SettingsFile | None = None
    max_python_file_bytes: int = 1 * MIB
    max_file_bytes: int = 100 * MIB
    max_plugins_bytes: int = 1024 * MIB
    #: Zip-bomb limits for every archive: total uncompressed size, members, compression ratio.
    max_uncompressed_bytes: int = 4 * 1024 * MIB
    max_zip_members: int = 50_000
    max_compression_ratio: int = 200

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__  # frozen: the normalized values are set the way __init__ sets them
        setattr_(self, "airflow_version", _airflow_version(self.airflow_version))
        _python_version(self.python_version)
        # Sets of names as given (a set, a list): kept as frozensets, which is what the validator reads.
        for name in ("sibling_modules", "plugin_modules", "imported_modules"):
            value = getattr(self, name)
            if value is not None and type(value) is not frozenset:
                setattr_(self, name, frozenset(value))
        if self.dag_ignore_syntax not in (None, "regexp", "glob"):
            raise ValueError(f"dag_ignore_syntax: {self.dag_ignore_syntax!r} is not 'regexp' or 'glob'")
        for name in _POSITIVE_LIMITS:
            _check_limit(name, getattr(self, name), 0)
        _check_limit("max_compression_ratio", self.max_compression_ratio, 1)


def _check_limit(name: str, value: object, above: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= above:
        raise ValueError(f"{name}: {value!r} is not an integer greater than {above}")
