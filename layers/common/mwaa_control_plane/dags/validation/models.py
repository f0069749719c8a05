"""The validator's inputs and its report.

The report's JSON shape (``Report.model_dump(mode="json")``) is a public contract: the
``--format json`` output of ``mwaa-cp validate`` and the payload the Lambda returns. Add
fields to ``Summary`` (or ``Finding``, with a default) if needed; never rename or remove one.
"""

from __future__ import annotations

import posixpath
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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
    parse_version(text)  # InvalidVersion is a ValueError: pydantic reports it as a validation error
    return text.strip()


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


class Finding(BaseModel):
    """One problem in one file. ``line`` is 1-based, or None when the finding is about the whole file.

    A suppressed finding stays in the report (``suppressed``, with its ``suppression`` source) but
    counts toward neither the verdict nor the summary's errors, warnings and infos.
    """

    model_config = ConfigDict(frozen=True)

    rule: str
    severity: Severity
    message: str
    line: int | None = None
    suppressed: bool = False
    suppression: SuppressionSource | None = None


class FileReport(BaseModel):
    path: str
    verdict: Verdict
    findings: list[Finding]
    #: dag_ids the file defines, as far as static analysis can tell. Not part of the CLI's JSON/SARIF
    #: schema (excluded from dumps); the control plane keeps its dag_id index from it.
    dag_ids: list[str] = Field(default_factory=list, exclude=True)
    #: For plugins.zip: the top-level modules it makes importable (excluded from dumps, like dag_ids).
    modules: list[str] = Field(default_factory=list, exclude=True)


class Summary(BaseModel):
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


class Report(BaseModel):
    files: list[FileReport]
    summary: Summary

    @property
    def ok(self) -> bool:
        """True when no file has an error-level finding."""
        return self.summary.failed == 0


class SourceFile(BaseModel):
    """A file to check: its path relative to the DAGs folder root (``/`` separators) and its bytes.

    ``kind`` defaults from the file name: ``requirements.txt``, ``plugins.zip`` and ``startup.sh``
    at the root (after :func:`normalize_path`) are MWAA's environment files, everything else is
    DAG-folder content.
    """

    model_config = ConfigDict(frozen=True)

    path: Annotated[str, Field(min_length=1)]
    content: bytes
    kind: FileKind | None = None

    @property
    def resolved_kind(self) -> FileKind:
        if self.kind is not None:
            return self.kind
        return default_kind(normalize_path(self.path))


class SettingsFile(BaseModel):
    """The validator's configuration file (``.mwaa-cp.toml``) as found: where, to name it in findings, and its bytes.

    The validator parses it (``settings_file.parse_settings``); problems are ``config-invalid`` findings.
    """

    model_config = ConfigDict(frozen=True)

    path: Annotated[str, Field(min_length=1)] = SETTINGS_FILE_NAME
    content: bytes


class ValidationContext(BaseModel):
    """What the validator knows about the target environment.

    The control plane fills it from GetEnvironment and its own index; the CLI from flags and
    the files next to the DAGs.
    """

    model_config = ConfigDict(frozen=True)

    airflow_version: Annotated[str, AfterValidator(_airflow_version)] = DEFAULT_AIRFLOW_VERSION
    #: Python of the environment, e.g. "3.11"; derived from ``airflow_version`` when None.
    python_version: Annotated[str | None, Field(pattern=r"^3\.\d{1,2}$")] = None
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
    dag_id_owners: dict[str, str] = Field(default_factory=dict)
    #: ``core.dag_discovery_safe_mode``; MWAA keeps Airflow's default (on).
    safe_mode: bool = True
    #: Dotted modules that Python files of the DAGs folder outside this run import (prefixes included).
    #: A file safe mode skips is fully checked when one of them names it; None: only the run's files count.
    imported_modules: frozenset[str] | None = None
    #: The .mwaa-cp.toml that applies (rule switches, severities, extra modules); None: the defaults.
    settings_file: SettingsFile | None = None
    max_python_file_bytes: Annotated[int, Field(gt=0)] = 1 * MIB
    max_file_bytes: Annotated[int, Field(gt=0)] = 100 * MIB
    max_plugins_bytes: Annotated[int, Field(gt=0)] = 1024 * MIB
    #: Zip-bomb limits for every archive: total uncompressed size, members, compression ratio.
    max_uncompressed_bytes: Annotated[int, Field(gt=0)] = 4 * 1024 * MIB
    max_zip_members: Annotated[int, Field(gt=0)] = 50_000
    max_compression_ratio: Annotated[int, Field(gt=1)] = 200
