"""Which Python files of the DAGs folder Airflow ever imports: the files it parses, and what they import.

With ``dag_discovery_safe_mode`` (on, also on MWAA) Airflow parses only files that contain
"airflow" and "dag" ("asset" too on Airflow 3). A file it skips still runs when a parsed file
imports it (a helper module); a file nothing imports never runs on MWAA at all (a Glue or
Spark job script kept next to the DAGs), and judging it by the environment's packages would
only produce false errors.

Imports are found by a regular expression over the bytes, not by parsing: it is cheap enough
to run over every file of a folder, and where it errs it errs toward "imported" (an import
inside a string or a comment counts), which keeps the full checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Set

_FROM = re.compile(rb"(?:^|;)[ \t]*from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]*(\([^)]*\)|[^\n#;]*)", re.MULTILINE)
_IMPORT = re.compile(rb"(?:^|;)[ \t]*import[ \t]+([^\n#;]+)", re.MULTILINE)
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def parsed_by_airflow(content: bytes, airflow_major: int) -> bool:
    """Airflow's safe-mode heuristic (``might_contain_dag_via_default_heuristic``), case-insensitive."""
    lowered = content.lower()
    if b"airflow" not in lowered:
        return False
    if airflow_major >= 3:
        return b"dag" in lowered or b"asset" in lowered
    return b"dag" in lowered


def module_name(path: str) -> str | None:
    """``team/jobs/etl.py`` -> ``team.jobs.etl``, ``team/__init__.py`` -> ``team``; None if not importable."""
    if not path.endswith(".py"):
        return None
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)


def _with_prefixes(dotted: str, into: set[str]) -> None:
    parts = dotted.split(".")
    for end in range(1, len(parts) + 1):
        into.add(".".join(parts[:end]))


def _names(listed: bytes) -> list[str]:
    """``a.b as c, d`` or ``(x, y)`` -> the dotted names, aliases and punctuation dropped."""
    text = listed.decode("ascii", "ignore").strip().strip("()\\")
    names: list[str] = []
    for part in text.replace("\\", " ").split(","):
        found = _DOTTED.match(part.strip())
        if found is not None:
            names.append(found.group(0))
    return names


def imported_names(path: str, content: bytes) -> set[str]:
    """Dotted modules the file at ``path`` (relative to the DAGs folder) may import, with every prefix.

    ``from pkg import name`` counts ``pkg.name`` too (it may be a submodule); relative imports
    are resolved against the file's own package.
    """
    found: set[str] = set()
    if b"import" not in content:
        return found
    package = path.split("/")[:-1]
    for match in _FROM.finditer(content):
        level = len(match.group(1))
        module = match.group(2).decode("ascii", "ignore")
        if level:
            base = package[: len(package) - (level - 1)] if level - 1 <= len(package) else []
            module = ".".join([*base, *([module] if module else [])])
        if not module:
            continue
        _with_prefixes(module, found)
        for name in _names(match.group(3)):
            if name != "*":
                _with_prefixes(f"{module}.{name}", found)
    for match in _IMPORT.finditer(content):
        for name in _names(match.group(1)):
            _with_prefixes(name, found)
    return found


def is_imported(path: str, imported: Set[str]) -> bool:
    """Whether ``imported`` names the module at ``path``: its full dotted name or any tail of it.

    A tail (``etl`` for ``team/jobs/etl.py``) counts because a DAG may put a subfolder on
    ``sys.path`` itself; counting it errs toward the full checks.
    """
    name = module_name(path)
    if name is None:
        return False
    parts = name.split(".")
    return any(".".join(parts[start:]) in imported for start in range(len(parts)))


class ImportReach:
    """What :func:`reached_modules` gives, computed only as far as each question needs.

    :meth:`imports` asks whether one file is imported: the files Airflow parses are read one by
    one until one of them imports it, and the skipped files only when none does. Helper modules
    are usually imported by the first DAGs read, so a folder is rarely read whole; the answers
    are the ones the whole closure gives, since reading more only imports more.
    """

    def __init__(self, files: Iterable[tuple[str, bytes]], airflow_major: int, known: Set[str] = frozenset()) -> None:
        self.imported = set(known)
        self._pending = iter(files)
        self._major = airflow_major
        self._skipped: list[tuple[str, bytes]] | None = []  # None once the closure is complete

    def imports(self, path: str) -> bool:
        """Whether a file Airflow parses (or a skipped file one of them reaches) imports the module at ``path``."""
        if is_imported(path, self.imported):
            return True
        for other, content in self._pending:
            if not other.endswith(".py"):
                continue
            if self._skipped is not None and not parsed_by_airflow(content, self._major):
                self._skipped.append((other, content))
                continue
            self.imported |= imported_names(other, content)
            if is_imported(path, self.imported):
                return True
        return is_imported(path, self.closure())

    def closure(self) -> set[str]:
        """Every module reached: the parsed files' imports, then the skipped files they reach, to a fixpoint."""
        if self._skipped is None:
            return self.imported
        skipped = self._skipped
        for other, content in self._pending:
            if not other.endswith(".py"):
                continue
            if parsed_by_airflow(content, self._major):
                self.imported |= imported_names(other, content)
            else:
                skipped.append((other, content))
        reached = True
        while reached:
            now = [(other, content) for other, content in skipped if is_imported(other, self.imported)]
            for other, content in now:
                self.imported |= imported_names(other, content)
            skipped = [item for item in skipped if item not in now]
            reached = bool(now)
        self._skipped = None
        return self.imported


def reached_modules(files: Iterable[tuple[str, bytes]], airflow_major: int, known: Set[str] = frozenset()) -> set[str]:
    """Modules imported by the ``.py`` files Airflow parses, then by the skipped files they reach, to a fixpoint.

    ``files`` are (path relative to the DAGs folder, content); ``known`` are modules already known
    to be imported (from files outside this set). A skipped file is imported when the result
    names it (:func:`is_imported`).
    """
    return ImportReach(files, airflow_major, known).closure()
