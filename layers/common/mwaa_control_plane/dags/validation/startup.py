"""startup.sh: what MWAA runs with bash on every container before Airflow starts."""

from __future__ import annotations

import re

from mwaa_control_plane.dags.validation.models import Finding
from mwaa_control_plane.dags.validation.rules import finding
from mwaa_control_plane.dags.validation.target import protected_startup_variables

_SEGMENTS = re.compile(r"&&|\|\||;|\|")
_ASSIGNMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\+?=")
_DECLARE = frozenset({"export", "declare", "typeset", "readonly", "local"})


def _is_protected(name: str) -> bool:
    names, prefixes = protected_startup_variables()
    return name in names or name.startswith(prefixes)


def _assigned_names(segment: str) -> list[str]:
    words = segment.split()
    if not words:
        return []
    if words[0] == "unset":
        return [w for w in words[1:] if not w.startswith("-")]
    if words[0] in _DECLARE:
        return [m.group("name") for w in words[1:] if (m := _ASSIGNMENT.match(w))]
    assignments = [m.group("name") for w in words if (m := _ASSIGNMENT.match(w))]
    # VAR=value command: the assignment only lives for that command.
    if len(assignments) < len(words):
        return []
    return assignments


def check_startup(content: bytes, text: str) -> list[Finding]:
    """Findings of startup.sh (``text`` is its decoded content)."""
    found: list[Finding] = []
    crlf = content.find(b"\r\n")
    if crlf != -1:
        found.append(
            finding(
                "startup-crlf",
                "Windows line endings: bash reads '\\r' as part of each command and the script fails; save with LF",
                content.count(b"\n", 0, crlf) + 1,
            )
        )
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for segment in _SEGMENTS.split(line):
            for name in _assigned_names(segment.strip()):
                if _is_protected(name):
                    found.append(
                        finding(
                            "startup-protected-variable",
                            f"{name} is protected: MWAA restores it after the startup script, the change never applies",
                            number,
                        )
                    )
    return found
