"""The environment a file is checked against: Airflow version, its Python, and the data shipped per version.

Data files live in ``data/`` (see its README for their sources) and are loaded once per process.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from mwaa_control_plane.versions import Release, release

#: An Airflow version as (major, minor, micro), read by the project's one version parser.
Version = Release

_DISTRIBUTION_SEPARATORS = re.compile(r"[-_.]+")

# Python of each Airflow version MWAA offers (MWAA user guide; docs/mwaa-facts.md). Versions not
# listed fall back to the closest rule below, so a new patch release needs no code change.
_PYTHON_BY_AIRFLOW: dict[tuple[int, int], tuple[int, int]] = {
    (2, 0): (3, 7),
    (2, 2): (3, 7),
    (2, 4): (3, 10),
    (2, 5): (3, 10),
    (2, 6): (3, 10),
    (2, 7): (3, 11),
    (2, 8): (3, 11),
    (2, 9): (3, 11),
    (2, 10): (3, 11),
    (2, 11): (3, 12),
}

# Standard-library modules that the Lambda's Python (3.12) may lack but older targets have.
_STDLIB_REMOVED_IN: dict[str, tuple[int, int]] = {
    "asynchat": (3, 12),
    "asyncore": (3, 12),
    "distutils": (3, 12),
    "imp": (3, 12),
    "smtpd": (3, 12),
    **dict.fromkeys(
        (
            "aifc",
            "audioop",
            "cgi",
            "cgitb",
            "chunk",
            "crypt",
            "imghdr",
            "mailcap",
            "msilib",
            "nis",
            "nntplib",
            "ossaudiodev",
            "pipes",
            "sndhdr",
            "spwd",
            "sunau",
            "telnetlib",
            "uu",
            "xdrlib",
            "lib2to3",
        ),
        (3, 13),
    ),
}
_STDLIB_ADDED_IN: dict[str, tuple[int, int]] = {"tomllib": (3, 11)}


def normalize_distribution(name: str) -> str:
    """PEP 503 normalization: lower case, runs of -, _ and . as one -."""
    return _DISTRIBUTION_SEPARATORS.sub("-", name).lower()


def python_for_airflow(version: Version) -> tuple[int, int]:
    """The Python an MWAA environment of this Airflow version runs."""
    if version[0] >= 3:
        return (3, 12)
    known = [minor for (major, minor) in _PYTHON_BY_AIRFLOW if major == 2 and minor <= version[1]]
    return _PYTHON_BY_AIRFLOW[(2, max(known))] if known else (3, 7)


@dataclass(frozen=True, slots=True)
class Change:
    """A deprecated or removed import path or argument."""

    path: str
    prefix: bool
    deprecated_in: Version | None
    removed_in: Version | None
    replacement: str | None


@dataclass(frozen=True, slots=True)
class Target:
    airflow: Version
    python: tuple[int, int]
    airflow_text: str

    @property
    def major(self) -> int:
        return self.airflow[0]

    @property
    def python_text(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"

    def status(
        self, deprecated_in: Version | None, removed_in: Version | None
    ) -> Literal["removed", "deprecated"] | None:
        if removed_in is not None and self.airflow >= removed_in:
            return "removed"
        if deprecated_in is not None and self.airflow >= deprecated_in:
            return "deprecated"
        return None


@cache
def make_target(airflow_version: str, python_version: str | None) -> Target:
    airflow = release(airflow_version)
    python = python_for_airflow(airflow) if python_version is None else release(python_version)[:2]
    return Target(airflow=airflow, python=python, airflow_text=airflow_version)


#: The validator's data files (``data/README.md``), shipped next to this module. Read as plain files,
#: not through importlib.resources: its import, and zipfile's that it brings, cost a one-file
#: ``mwaa-cp validate`` more than reading them does.
DATA = Path(__file__).parent / "data"


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


@dataclass(frozen=True, slots=True)
class Preinstalled:
    modules: frozenset[str]
    providers: frozenset[str]


@cache
def preinstalled(major: int) -> Preinstalled:
    """Top-level import names and providers MWAA installs for this Airflow major version."""
    entry = _load("preinstalled.json")["airflow3" if major >= 3 else "airflow2"]
    return Preinstalled(modules=frozenset(entry["modules"]), providers=frozenset(entry["providers"]))


@cache
def stdlib_modules(python: tuple[int, int]) -> frozenset[str]:
    names = set(sys.stdlib_module_names)
    names |= {name for name, removed in _STDLIB_REMOVED_IN.items() if python < removed}
    names -= {name for name, added in _STDLIB_ADDED_IN.items() if python < added}
    return frozenset(names)


def _version_or_none(text: str | None) -> Version | None:
    return None if text is None else release(text)


@dataclass(frozen=True, slots=True)
class ArgumentChange:
    name: str
    deprecated_in: Version | None
    removed_in: Version | None
    replacement: str | None


@dataclass(frozen=True, slots=True)
class AirflowChanges:
    exact: dict[str, Change]
    prefixes: dict[str, Change]
    dag_arguments: dict[str, ArgumentChange]
    operator_arguments: dict[str, ArgumentChange]
    context_keys: frozenset[str]
    context_deprecated_in: Version
    context_removed_in: Version

    def lookup(self, dotted: str) -> Change | None:
        """The change that covers ``dotted`` (a module or ``module.Name``), the most specific first."""
        hit = self.exact.get(dotted)
        if hit is not None:
            return hit
        parts = dotted.split(".")
        for end in range(len(parts), 1, -1):
            hit = self.prefixes.get(".".join(parts[:end]))
            if hit is not None:
                return hit
        return None


def _argument_changes(raw: list[dict[str, Any]]) -> dict[str, ArgumentChange]:
    return {
        item["name"]: ArgumentChange(
            item["name"],
            _version_or_none(item["deprecated_in"]),
            _version_or_none(item["removed_in"]),
            item["replacement"],
        )
        for item in raw
    }


@cache
def airflow_changes() -> AirflowChanges:
    raw = _load("airflow_changes.json")
    changes = [
        Change(
            path=item["path"],
            prefix=item["match"] == "prefix",
            deprecated_in=_version_or_none(item["deprecated_in"]),
            removed_in=_version_or_none(item["removed_in"]),
            replacement=item["replacement"],
        )
        for item in raw["imports"]
    ]
    context = raw["context_keys"]
    return AirflowChanges(
        exact={c.path: c for c in changes if not c.prefix},
        prefixes={c.path: c for c in changes if c.prefix},
        dag_arguments=_argument_changes(raw["dag_arguments"]),
        operator_arguments=_argument_changes(raw["operator_arguments"]),
        context_keys=frozenset(context["keys"]),
        context_deprecated_in=release(context["deprecated_in"]),
        context_removed_in=release(context["removed_in"]),
    )


@cache
def distribution_imports() -> dict[str, tuple[str, ...]]:
    """Import names by normalized distribution name (the file keeps the names as PyPI spells them)."""
    raw: dict[str, list[str]] = _load("distribution_imports.json")["distributions"]
    return {normalize_distribution(name): tuple(modules) for name, modules in raw.items()}


@cache
def protected_startup_variables() -> tuple[frozenset[str], tuple[str, ...]]:
    raw = _load("startup_protected.json")
    return frozenset(raw["names"]), tuple(raw["prefixes"])
