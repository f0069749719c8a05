"""requirements.txt as MWAA's ``pip install -r`` will read it.

Besides its own findings the parse yields the distributions the environment installs,
which import resolution uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mwaa_control_plane.dags.validation.models import Finding
from mwaa_control_plane.dags.validation.rules import finding
from mwaa_control_plane.dags.validation.target import Target, normalize_distribution

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_REQUIREMENT = re.compile(
    rf"^(?P<name>{_NAME})\s*(?:\[(?P<extras>[A-Za-z0-9._,\s-]*)\])?\s*(?P<rest>.*)$",
)
_VERSION = r"[A-Za-z0-9.*+!_-]+"
_SPECIFIER = re.compile(rf"^\s*(?P<op>~=|===|==|!=|<=|>=|<|>)\s*(?P<version>{_VERSION})\s*$")
_CONSTRAINT_URL = re.compile(r"constraints-(?P<airflow>\d+\.\d+\.\d+)/constraints-(?P<python>\d+\.\d+)\.txt")
_WHEEL = re.compile(r"(?:^|/)(?P<name>[A-Za-z0-9_.]+)-[^-/]+(?:-[^-/]+)?-[^-/]+-[^-/]+-[^-/]+\.whl$")
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
            if airflow != target.airflow_text or python != target.python_text:
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
    spec = line
    for option in _PER_REQUIREMENT_OPTIONS:
        index = spec.find(" " + option)
        if index != -1:
            spec = spec[:index].strip()
    if "://" in spec.split(";")[0].split("@")[0] or spec.startswith(("/", "./", "../", "git+", "file:")):
        # A URL or a path without a name: the wheel file name still tells the distribution.
        wheel = _WHEEL.search(spec.split(";")[0].split("#")[0].strip())
        egg = _EGG_FRAGMENT.search(spec)
        name = wheel.group("name") if wheel else egg.group("name") if egg else None
        if name is None:
            parsed.opaque = True
        else:
            parsed.distributions.append(name)
        return
    match = _REQUIREMENT.match(spec)
    if match is None:
        parsed.findings.append(finding("requirements-invalid-line", f"cannot parse {line!r}", number))
        return
    name, rest = match.group("name"), match.group("rest").strip()
    version_part, _, marker = rest.partition(";")
    version_part = version_part.strip()
    if version_part.startswith("@"):
        parsed.distributions.append(name)
        _check_airflow(name, number, parsed)
        return
    if version_part.startswith("(") and version_part.endswith(")"):
        version_part = version_part[1:-1]
    specifiers = [part for part in version_part.split(",") if part.strip()] if version_part else []
    for part in specifiers:
        if not _SPECIFIER.match(part):
            parsed.findings.append(
                finding("requirements-invalid-line", f"invalid version specifier {part.strip()!r} for {name}", number)
            )
            return
    if marker and not marker.strip():
        parsed.findings.append(finding("requirements-invalid-line", "empty environment marker after ';'", number))
        return
    parsed.distributions.append(name)
    if _check_airflow(name, number, parsed):
        return
    pinned = any(
        (m := _SPECIFIER.match(part)) is not None and m.group("op") in ("==", "===") and "*" not in m.group("version")
        for part in specifiers
    )
    if not pinned:
        parsed.findings.append(
            finding(
                "requirements-unpinned",
                f"{name} is not pinned with '==': the next environment update may install another version",
                number,
            )
        )


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
