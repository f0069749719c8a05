"""``.airflowignore``: which files of the DAGs folder Airflow never parses.

Mirrors Airflow's ``find_path_from_directory``: every ``.airflowignore`` adds its patterns to
those of its parent folders; a matching folder is skipped with everything below it.

- ``regexp`` (Airflow 2's default): each line is a regular expression searched in the path
  relative to the DAGs folder. Airflow 2 compiles them with re2; a pattern re2 rejects
  (look-around, back-references) is dropped with only a log line.
- ``glob`` (Airflow 3's default): gitignore-style patterns; a pattern without a ``/`` matches
  a file or folder name at any depth, one with a ``/`` is relative to its ``.airflowignore``,
  ``!`` re-includes.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from mwaa_control_plane.dags.validation.models import Finding
from mwaa_control_plane.dags.validation.rules import finding

Syntax = Literal["regexp", "glob"]

_COMMENT = re.compile(r"\s*#.*")
# Constructs Python's re accepts and re2 does not.
_RE2_UNSUPPORTED = (
    (re.compile(r"\(\?<?[=!]"), "look-around assertions"),
    (re.compile(r"\\[1-9]"), "back-references"),
    (re.compile(r"\(\?P="), "named back-references"),
    (re.compile(r"\(\?>"), "atomic groups"),
    (re.compile(r"\(\?\("), "conditionals"),
    (re.compile(r"(?<!\\)[*+?}][+]"), "possessive quantifiers"),
)


@dataclass(frozen=True, slots=True)
class _Rule:
    regex: re.Pattern[str]
    base: str  # folder of the .airflowignore that defined it ("" for the DAGs root)
    anchored: bool
    dir_only: bool
    include: bool


@dataclass(slots=True)
class IgnoreRules:
    syntax: Syntax
    by_folder: dict[str, list[_Rule]] = field(default_factory=dict)
    findings: dict[str, list[Finding]] = field(default_factory=dict)

    def _rules_for(self, folder: str) -> list[_Rule]:
        """Rules in effect for entries of ``folder``: those of the folder and all its parents."""
        rules: list[_Rule] = []
        parts = folder.split("/") if folder else []
        for depth in range(len(parts) + 1):
            rules.extend(self.by_folder.get("/".join(parts[:depth]), ()))
        return rules

    def _matches(self, path: str, is_dir: bool) -> bool:
        folder = posixpath.dirname(path)
        rules = self._rules_for(folder)
        if not rules:
            return False
        if self.syntax == "regexp":
            return any(rule.regex.search(path) is not None for rule in rules)
        matched = False
        name = posixpath.basename(path)
        for rule in rules:
            if rule.dir_only and not is_dir:
                continue
            subject = path[len(rule.base) + 1 :] if rule.anchored and rule.base else path if rule.anchored else name
            if rule.regex.fullmatch(subject) is not None:
                matched = rule.include
        return matched

    def is_ignored(self, path: str) -> bool:
        """Whether Airflow skips ``path`` (relative to the DAGs folder, '/' separators)."""
        if not self.by_folder:
            return False
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if self._matches("/".join(parts[:depth]), is_dir=True):
                return True
        return self._matches(path, is_dir=False)


def _glob_to_regex(pattern: str) -> str:
    segments = pattern.split("/")
    out: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            out.append(".*" if last else "(?:.*/)?")
            continue
        out.append(_translate_segment(segment) + ("" if last else "/"))
    return "".join(out)


def _translate_segment(segment: str) -> str:
    result: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            result.append("[^/]*")
        elif char == "?":
            result.append("[^/]")
        elif char == "[":
            end = segment.find("]", i + 2)
            if end == -1:
                result.append(re.escape(char))
            else:
                body = segment[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                result.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        elif char == "\\" and i + 1 < len(segment):
            i += 1
            result.append(re.escape(segment[i]))
        else:
            result.append(re.escape(char))
        i += 1
    return "".join(result)


#: A pattern Airflow drops: (rule id, message).
_Problem = tuple[str, str]


def _compile_glob(line: str, base: str) -> _Rule | _Problem | None:
    pattern = line.rstrip()
    if not pattern or pattern.strip() == "/":
        return None
    include = True
    if pattern.startswith("!"):
        include, pattern = False, pattern[1:]
    elif pattern.startswith("\\!") or pattern.startswith("\\#"):
        pattern = pattern[1:]
    dir_only = pattern.endswith("/")
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    if not body:
        return None
    try:
        regex = re.compile(_glob_to_regex(body))
    except re.error as exc:
        return "airflowignore-pattern-invalid", f"pattern {line!r} is not a valid glob ({exc})"
    return _Rule(regex=regex, base=base, anchored=anchored, dir_only=dir_only, include=include)


def _compile_regexp(line: str, base: str, re2: bool) -> _Rule | _Problem:
    if line != line.rstrip("\r"):
        return (
            "airflowignore-pattern-invalid",
            f"pattern {line!r} ends with a carriage return (Windows line endings) and will never match",
        )
    try:
        regex = re.compile(line)
    except re.error as exc:
        return (
            "airflowignore-pattern-invalid",
            f"pattern {line!r} is not a valid regular expression ({exc}); Airflow drops it",
        )
    if re2:
        for construct, what in _RE2_UNSUPPORTED:
            if construct.search(line):
                return (
                    "airflowignore-pattern-unsupported",
                    f"pattern {line!r} uses {what}, which re2 rejects; Airflow 2 drops it",
                )
    return _Rule(regex=regex, base=base, anchored=True, dir_only=False, include=True)


def build_rules(ignore_files: Iterable[tuple[str, str, str]], syntax: Syntax, re2: bool) -> IgnoreRules:
    """Rules from ``(report path, folder, text)`` of every .airflowignore; findings keyed by report path."""
    rules = IgnoreRules(syntax=syntax)
    for report_path, folder, text in ignore_files:
        compiled: list[_Rule] = []
        problems: list[Finding] = []
        for number, raw in enumerate(text.split("\n"), start=1):
            line = _COMMENT.sub("", raw)
            if not line.strip():
                continue
            result = _compile_regexp(line, folder, re2) if syntax == "regexp" else _compile_glob(line, folder)
            if isinstance(result, _Rule):
                compiled.append(result)
            elif result is not None:
                rule_id, message = result
                problems.append(finding(rule_id, message, number))
        rules.by_folder.setdefault(folder, []).extend(compiled)
        if problems:
            rules.findings.setdefault(report_path, []).extend(problems)
    return rules
