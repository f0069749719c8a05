"""requirements.txt as MWAA's ``pip install -r`` will read it.

Requirement lines are PEP 508, parsed by ``packaging`` (the parser pip vendors); pip's own
syntax around them (options, URLs and paths, line continuations) is handled here. Besides its
own findings the parse yields the distributions the environment installs, which import
resolution uses.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from mwaa_control_plane.dags.validation.models import Finding
from mwaa_control_plane.dags.validation.rules import finding
from mwaa_control_plane.dags.validation.target import Target, normalize_distribution
from mwaa_control_plane.versions import parse_version, release

_CONSTRAINT_URL = re.compile(r"constraints-(?P<airflow>\d+\.\d+\.\d+)/constraints-(?P<python>\d+\.\d+)\.txt")
_EGG_FRAGMENT = re.compile(r"#egg=(?P<name>[A-Za-z0-9_.-]+)")
_COMMENT = re.compile(r"(?:^|\s)#.*$")

_OPTIONS_WITH_VALUE = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--trusted-host",
        "--only-binary",
        "--no-binary",
        "--use-feature",
        "--progress-bar",
    }
)
_FLAG_OPTIONS = frozenset({"--no-index", "--pre", "--prefer-binary", "--require-hashes", "--no-deps"})
_PER_REQUIREMENT_OPTIONS = ("--hash", "--global-option", "--config-settings", "--install-option")


@dataclass(slots=True)
class Requirements:
    findings: list[Finding] = field(default_factory=list)
    distributions: list[str] = field(default_factory=list)
    #: Entries whose distribution name is unknown offline (-r includes, bare URLs, editable installs).
    opaque: bool = False


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with continuations joined and comments removed, with the number of their first line."""
    result: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined = _COMMENT.sub("", pending + line).strip()
        pending = ""
        if joined:
            result.append((start, joined))
    if pending.strip():
        result.append((start, _COMMENT.sub("", pending).strip()))
    return result


def parse_requirements(text: str, target: Target) -> Requirements:
    """Findings of requirements.txt for ``target`` and the distributions it installs."""
    parsed = Requirements()
    has_constraint = False
    for line_number, line in _logical_lines(text):
        if line.startswith("-"):
            kind = _option(line, line_number, target, parsed)
            has_constraint = has_constraint or kind == "constraint"
            continue
        _requirement(line, line_number, parsed)
    if not has_constraint and parsed.distributions:
        parsed.findings.append(
            finding(
                "requirements-constraint-missing",
                "no --constraint line: pip may pick versions that conflict with Airflow "
                f"{target.airflow_text} (MWAA adds its own constraint file from 2.7.2 on); add "
                f"-c https://raw.githubusercontent.com/apache/airflow/constraints-{target.airflow_text}/"
                f"constraints-{target.python_text}.txt",
                1,
            )
        )
    return parsed


def _option(line: str, number: int, target: Target, parsed: Requirements) -> str:
    option, _, value = line.partition("=") if line.startswith("--") and "=" in line.split()[0] else line.partition(" ")
    option, value = option.strip(), value.strip().strip("'\"")
    if option in ("-c", "--constraint"):
        if not value:
            parsed.findings.append(finding("requirements-invalid-line", f"{option} without a file or URL", number))
            return "invalid"
        match = _CONSTRAINT_URL.search(value)
        if match is not None:
            airflow, python = match.group("airflow"), match.group("python")
            if parse_version(airflow) != parse_version(target.airflow_text) or release(python)[:2] != target.python:
                parsed.findings.append(
                    finding(
                        "requirements-constraint-mismatch",
                        f"constraint file is for Airflow {airflow} / Python {python}; the environment runs Airflow "
                        f"{target.airflow_text} / Python {target.python_text}",
                        number,
                    )
                )
        return "constraint"
    if option in ("-r", "--requirement", "-e", "--editable"):
        parsed.opaque = True
        return "include"
    if option in _OPTIONS_WITH_VALUE:
        if not value:
            parsed.findings.append(finding("requirements-invalid-line", f"{option} without a value", number))
        return "option"
    if option in _FLAG_OPTIONS:
        return "option"
    parsed.findings.append(finding("requirements-invalid-line", f"unknown pip option {option!r}", number))
    return "invalid"


def _requirement(line: str, number: int, parsed: Requirements) -> None:
    # Imported here: only environments with a requirements.txt need it (about 30 ms at a cold start).
    from packaging.requirements import InvalidRequirement, Requirement

    spec = line
    for option in _PER_REQUIREMENT_OPTIONS:
        index = spec.find(" " + option)
        if index != -1:
            spec = spec[:index].strip()
    if "://" in spec.split(";")[0].split("@")[0] or spec.startswith(("/", "./", "../", "git+", "file:")):
        # pip's own syntax, not PEP 508: a URL or a path without a name. A wheel's file name or an
        # #egg= fragment still tells the distribution.
        name = _wheel_name(spec.split(";")[0].split("#")[0].strip())
        egg = _EGG_FRAGMENT.search(spec)
        name = name or (egg.group("name") if egg else None)
        if name is None:
            parsed.opaque = True
        else:
            parsed.distributions.append(name)
        return
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        parsed.findings.append(finding("requirements-invalid-line", f"cannot parse {line!r}: {reason}", number))
        return
    name = requirement.name
    parsed.distributions.append(name)
    if _check_airflow(name, number, parsed) or requirement.url is not None:
        return
    pinned = any(s.operator in ("==", "===") and "*" not in s.version for s in requirement.specifier)
    if not pinned:
        parsed.findings.append(
            finding(
                "requirements-unpinned",
                f"{name} is not pinned with '==': the next environment update may install another version",
                number,
            )
        )


def _wheel_name(location: str) -> str | None:
    """The distribution of a wheel named by ``location`` (URL or path), or None."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    filename = posixpath.basename(location)
    if not filename.endswith(".whl"):
        return None
    try:
        return parse_wheel_filename(filename)[0]
    except InvalidWheelFilename:
        return None


def _check_airflow(name: str, number: int, parsed: Requirements) -> bool:
    if normalize_distribution(name) == "apache-airflow":
        parsed.findings.append(
            finding(
                "requirements-airflow-listed",
                "apache-airflow is installed by MWAA; listing it can replace the environment's Airflow and fail the "
                "update",
                number,
            )
        )
        return True
    return False
