"""``.airflowignore`` as the emulated Airflow reads it: which files its DAG processor never lists.

This is the emulator's own reading of Airflow (``airflow/utils/file.py``, ``_find_path_from_directory``),
written apart from the validator's engine on purpose: a flow test that runs both can only catch a wrong
translation of Airflow's rules if they were not translated once and shared.

Airflow walks the DAG folder from the top. In each folder it appends the patterns of that folder's
``.airflowignore`` to those inherited from the folders above (dropping repeats, first one kept), skips the
subfolders the patterns match, with everything below them (so nothing inside can be re-included), and
skips the files they match.

* ``regexp`` (``[core] dag_ignore_file_syntax`` default on Airflow 2): every pattern is searched
  (``re.search``) in the path relative to the DAG folder, whichever folder its ``.airflowignore`` is in;
  one match ignores. Airflow 2 compiles with re2 where installed; Python's ``re`` is used here, so a
  pattern only ``re`` accepts (look-around, back-references) works here and is dropped there.
* ``glob`` (the default on Airflow 3): gitignore wildmatch patterns compiled by ``pathspec``, as Airflow
  does. A pattern with a ``/`` at its start or in its middle is matched against the path relative to its
  own ``.airflowignore``'s folder, any other against the entry's name alone. The last pattern that
  matches decides, so ``!pattern`` re-includes. A folder is tested with a trailing ``/`` only against
  patterns that end with one.

In both, everything from a ``#`` to the end of a line is dropped (with the blanks before it), empty lines
are skipped, and a pattern that does not compile is dropped (Airflow logs a warning for an invalid regexp;
an invalid glob makes pathspec raise, which stops Airflow's whole listing: dropping it is the emulator's
deviation).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

try:
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern as _WildMatch
except ImportError:  # pathspec < 1.0: the class Airflow imports, before its rename
    from pathspec.patterns.gitwildmatch import (  # type: ignore[assignment, no-redef, unused-ignore]
        GitWildMatchPattern as _WildMatch,
    )

IGNORE_FILE = ".airflowignore"

Syntax = Literal["regexp", "glob"]

_COMMENT = re.compile(r"\s*#.*")


@dataclass(frozen=True)
class _Rule:
    """One compiled pattern line; equal rules are the repeats Airflow drops."""

    source: str
    include: bool
    # glob only: the folder a pattern with a "/" is relative to ("" = the DAG folder); None = match the name.
    relative_to: str | None
    regex: re.Pattern[str] = field(compare=False)

    def verdict(self, syntax: Syntax, path: str, is_dir: bool) -> bool | None:
        """True: ignore, False: re-include, None: this rule says nothing about ``path``."""
        if syntax == "regexp":
            return True if self.regex.search(path) is not None else None
        if self.relative_to is None:
            subject = posixpath.basename(path)
        else:
            subject = path[len(self.relative_to) + 1 :] if self.relative_to else path
        if is_dir and self.source.endswith("/"):
            subject += "/"
        return self.include if self.regex.match(subject) is not None else None


def _pattern_lines(text: str) -> list[str]:
    # Airflow opens the file in text mode: \r\n and \r end lines like \n.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [line for line in (_COMMENT.sub("", raw) for raw in lines) if line]


def _compile_regexp(line: str) -> _Rule | None:
    try:
        return _Rule(source=line, include=True, relative_to=None, regex=re.compile(line))
    except re.error:
        return None


def _compile_glob(line: str, folder: str) -> _Rule | None:
    if line.strip() == "/":
        return None  # matches nothing in git; Airflow drops it with a warning
    anchored = line.startswith("/") or "/" in line.rstrip("/")
    try:
        pattern = _WildMatch(line)
    except ValueError:  # pathspec's pattern error ("!" alone, a trailing backslash)
        return None
    if pattern.include is None or pattern.regex is None:
        return None  # blank once pathspec has read it: no rule
    return _Rule(source=line, include=pattern.include, relative_to=folder if anchored else None, regex=pattern.regex)


class AirflowIgnore:
    """The ``.airflowignore`` files of one DAG folder, keyed by the folder they are in ("" = the top)."""

    def __init__(self, ignore_files: Mapping[str, str], syntax: Syntax) -> None:
        self.syntax = syntax
        self._texts = dict(ignore_files)
        # Rules in force inside each folder walked so far; None for a folder Airflow never enters.
        self._in_folder: dict[str, tuple[_Rule, ...] | None] = {}

    @classmethod
    def of_folder(cls, files: Iterable[tuple[str, bytes]], syntax: Syntax) -> AirflowIgnore:
        """The rules of a DAG folder given as ``(relative path, content)`` of its files."""
        return cls(
            {
                posixpath.dirname(path): content.decode("utf-8", "replace")
                for path, content in files
                if posixpath.basename(path) == IGNORE_FILE
            },
            syntax,
        )

    def is_ignored(self, path: str) -> bool:
        """Whether Airflow skips the file at ``path`` (relative to the DAG folder, ``/`` separated)."""
        rules = self._rules_in(posixpath.dirname(path))
        return rules is None or self._ignores(rules, path, is_dir=False)

    def _ignores(self, rules: tuple[_Rule, ...], path: str, *, is_dir: bool) -> bool:
        ignored = False
        for rule in rules:
            verdict = rule.verdict(self.syntax, path, is_dir)
            if verdict is not None:
                ignored = verdict
        return ignored

    def _rules_in(self, folder: str) -> tuple[_Rule, ...] | None:
        if folder in self._in_folder:
            return self._in_folder[folder]
        inherited: tuple[_Rule, ...] | None = ()
        if folder:
            inherited = self._rules_in(posixpath.dirname(folder))
            if inherited is not None and self._ignores(inherited, folder, is_dir=True):
                inherited = None
        rules = inherited
        if inherited is not None and folder in self._texts:
            own = [self._compile(line, folder) for line in _pattern_lines(self._texts[folder])]
            rules = tuple(dict.fromkeys([*inherited, *(rule for rule in own if rule is not None)]))
        self._in_folder[folder] = rules
        return rules

    def _compile(self, line: str, folder: str) -> _Rule | None:
        return _compile_regexp(line) if self.syntax == "regexp" else _compile_glob(line, folder)
