"""``.airflowignore``: which files of the DAGs folder Airflow never parses.

Mirrors Airflow's ``find_path_from_directory``: every ``.airflowignore`` adds its patterns to
those of its parent folders; a matching folder is skipped with everything below it.

- ``regexp`` (Airflow 2's default): each line is a regular expression searched in the path
  relative to the DAGs folder. Airflow 2 compiles them with re2; a pattern re2 rejects
  (look-around, back-references) is dropped with only a log line.
- ``glob`` (Airflow 3's default): gitignore-style patterns compiled by pathspec, as Airflow's
  ``_GlobIgnoreRule`` does; a pattern without a ``/`` (other than a trailing one) is matched
  against the file or folder name, one with a ``/`` against the path relative to its
  ``.airflowignore``; ``!`` re-includes; a folder's path gets a trailing ``/`` for patterns
  written with one.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
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
    matches: Callable[[str], object]  # truthy when the pattern matches the subject
    base: str  # folder of the .airflowignore that defined it ("" for the DAGs root)
    anchored: bool
    folder_slash: bool  # a folder is matched as "name/" (glob patterns written with a trailing "/")
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
            return any(rule.matches(path) for rule in rules)
        matched = False
        name = posixpath.basename(path)
        for rule in rules:
            subject = path[len(rule.base) + 1 :] if rule.anchored and rule.base else path if rule.anchored else name
            if is_dir and rule.folder_slash:
                subject += "/"
            if rule.matches(subject):
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


#: A pattern Airflow drops: (rule id, message).
_Problem = tuple[str, str]


def _compile_glob(line: str, base: str) -> _Rule | _Problem | None:
    # Airflow reads .airflowignore in text mode: Windows line endings never reach the pattern.
    pattern = line.rstrip("\r")
    if pattern.strip() == "/":
        return None  # a no-op in gitignore; Airflow drops it with a log line
    # Imported here: only glob syntax (Airflow 3) with an .airflowignore needs pathspec.
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    try:
        # GitIgnoreSpecPattern is pathspec 1.x's name for the "gitwildmatch" pattern Airflow uses (0.12.1
        # behaviour). 0.12.1 stripped leading spaces, 1.x keeps them: strip them as Airflow's pathspec does.
        compiled = GitIgnoreSpecPattern(pattern.lstrip())
    except ValueError as exc:  # GitIgnorePatternError
        return "airflowignore-pattern-invalid", f"pattern {line!r} is not a valid glob ({exc})"
    if compiled.include is None:
        return None
    return _Rule(
        matches=compiled.match_file,
        base=base,
        # Airflow's rule, on the pattern as written: a "/" at the start or in the middle anchors it.
        anchored=pattern.startswith("/") or "/" in pattern.rstrip("/"),
        folder_slash=pattern.endswith("/"),
        include=compiled.include,
    )


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
    return _Rule(matches=regex.search, base=base, anchored=True, folder_slash=False, include=True)


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
