"""The validator's configuration file, ``.mwaa-cp.toml``: rules switched off, severities changed, modules declared.

::

    [rules]
    disable = ["top-level-variable"]            # suppressed everywhere (still in the report)
    [rules.severity]
    "dag-catchup-missing" = "warning"           # error | warning | info
    [imports]
    extra_modules = ["company_lib", "vendor.sdk"]  # importable although the validator cannot see them

``mwaa-cp validate`` finds it in the DAG repository (:func:`find_settings_file`), the delivery
flow reads ``<environment>/.mwaa-cp.toml`` from the staging bucket. A file that is not TOML,
has a key this module does not know, names an unknown rule or gives a wrong value is refused
as a whole (``config-invalid``): a typo must never quietly turn a check off or leave it on.
``tomllib`` is imported only when there is a file to parse (the validation Lambda's cold start).

The tables are checked by hand rather than by pydantic models: ``mwaa-cp validate`` imports this
module on every commit, and the models cost it more than checking a file. The problems are said the
way the pydantic models said them (a unit test compares the two on generated files), in the same
order: each table's keys in the order below, then its unknown keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mwaa_control_plane.dags.validation.models import SETTINGS_FILE_NAME, SettingsFile, Severity, decode_utf8
from mwaa_control_plane.dags.validation.rules import RULES
from mwaa_control_plane.errors import InvalidInputError

_TOML_LINE = re.compile(r"at line (\d+)")


def _known_rule(rule_id: str) -> str:
    if rule_id not in RULES:
        import difflib  # only on this error path

        close = difflib.get_close_matches(rule_id, RULES, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"unknown rule '{rule_id}'{hint}")
    return rule_id


def _dotted_module(name: str) -> str:
    if not all(part.isidentifier() for part in name.split(".")):
        raise ValueError(f"'{name}' is not a module name (dotted Python identifiers, e.g. vendor.sdk)")
    return name


@dataclass(frozen=True, slots=True)
class RuleSettings:
    disable: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportSettings:
    extra_modules: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ValidatorSettings:
    """The parsed file; every table and key is optional, an empty file means the defaults."""

    rules: RuleSettings = RuleSettings()
    imports: ImportSettings = ImportSettings()


class SettingsProblem(InvalidInputError):
    """``.mwaa-cp.toml`` cannot be used; ``line`` is where TOML stopped reading it, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


#: What each table accepts, said when a key is unknown.
_KEYS = {(): "[rules] and [imports]", ("rules",): "disable and severity", ("imports",): "extra_modules"}
_SEVERITIES = {severity.value: severity for severity in Severity}
_NOT_A_SEVERITY = f"Input should be {', '.join(repr(v) for v in list(_SEVERITIES)[:-1])} or {list(_SEVERITIES)[-1]!r}"


def _where(loc: tuple[str, ...]) -> str:
    """('rules', 'severity', 'x') -> "[rules.severity] 'x'"; the table, then the key."""
    if len(loc) <= 1:
        return f"'{loc[0]}'" if loc else "the file"
    return f"[{'.'.join(loc[:-1])}] '{loc[-1]}'"


class _Reader:
    """Reads the TOML document's tables, noting every problem (``said``) instead of stopping at the first."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def problem(self, loc: tuple[str, ...], message: str) -> None:
        self.said.append(f"{_where(loc)}: {message}")

    def table(self, value: object, loc: tuple[str, ...]) -> dict[str, Any] | None:
        """``value`` as a table; None (and said) when it is not one."""
        if not isinstance(value, dict):
            self.problem(loc, "should be a table")
            return None
        return value

    def unknown_keys(self, table: dict[str, Any], loc: tuple[str, ...], known: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                self.said.append(f"unknown key {_where((*loc, key))} (known: {_KEYS.get(loc, 'none')})")

    def names(self, value: object, loc: tuple[str, ...], check: Callable[[str], str]) -> frozenset[str]:
        """An array of strings, each passed to ``check``."""
        if not isinstance(value, list | tuple | set | frozenset):
            self.problem(loc, "should be an array of strings")
            return frozenset()
        kept: list[str] = []
        for item in value:
            if not isinstance(item, str):
                self.problem(loc, "should be a string")
                continue
            try:
                kept.append(check(item))
            except ValueError as exc:
                self.problem(loc, str(exc))
        return frozenset(kept)

    def severities(self, value: object, loc: tuple[str, ...]) -> dict[str, Severity]:
        if not isinstance(value, dict):
            self.problem(loc, "should be a table")
            return {}
        kept: dict[str, Severity] = {}
        for rule_id, wanted in value.items():
            known = True
            try:
                _known_rule(rule_id)
            except ValueError as exc:
                self.problem((*loc, rule_id), str(exc))
                known = False
            severity = _SEVERITIES.get(wanted) if isinstance(wanted, str) else None
            if severity is None:
                self.problem((*loc, rule_id), _NOT_A_SEVERITY)
            elif known:
                kept[rule_id] = severity
        return kept

    def settings(self, data: dict[str, Any]) -> ValidatorSettings:
        rules, imports = RuleSettings(), ImportSettings()
        if "rules" in data and (table := self.table(data["rules"], ("rules",))) is not None:
            disable = self.names(table.get("disable", ()), ("rules", "disable"), _known_rule)
            severity = self.severities(table.get("severity", {}), ("rules", "severity"))
            rules = RuleSettings(disable, severity)
            self.unknown_keys(table, ("rules",), ("disable", "severity"))
        if "imports" in data and (table := self.table(data["imports"], ("imports",))) is not None:
            imports = ImportSettings(
                self.names(table.get("extra_modules", ()), ("imports", "extra_modules"), _dotted_module)
            )
            self.unknown_keys(table, ("imports",), ("extra_modules",))
        self.unknown_keys(data, (), ("rules", "imports"))
        return ValidatorSettings(rules, imports)


def parse_settings(content: bytes) -> ValidatorSettings:
    """``content`` of a ``.mwaa-cp.toml``; raises :class:`SettingsProblem` saying what is wrong and where."""
    try:
        text = decode_utf8(content)
    except UnicodeDecodeError as exc:
        raise SettingsProblem(f"not valid UTF-8 (byte {exc.start}); TOML files are UTF-8") from None
    import tomllib  # stdlib, but only worth its import time when a file exists

    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        raise SettingsProblem(f"not valid TOML: {exc}", int(found.group(1)) if found else None) from None
    reader = _Reader()
    settings = reader.settings(data)
    if reader.said:
        raise SettingsProblem("; ".join(dict.fromkeys(reader.said)))
    return settings


def find_settings_file(start: Path) -> Path | None:
    """The ``.mwaa-cp.toml`` that applies to ``start`` (a DAGs folder or a file in it), or None.

    Looked for in ``start`` and its parents up to the root of the git repository holding it
    (the first folder with a ``.git``); outside a repository, only in ``start`` itself, so that
    a file in a home folder never applies by accident.
    """
    folder = start.resolve()
    if not folder.is_dir():
        folder = folder.parent
    candidates: list[Path] = []
    for current in (folder, *folder.parents):
        candidates.append(current)
        if (current / ".git").exists():
            break
    else:
        candidates = [folder]
    for current in candidates:
        found = current / SETTINGS_FILE_NAME
        if found.is_file():
            return found
    return None


def load_settings_file(path: Path) -> SettingsFile:
    """``path`` read for the validator, which parses it and reports its problems.

    Raises InvalidInputError when it cannot be read (a usage error for the CLI).
    """
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        shown = Path(path).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:  # outside the working folder: the path as given
        shown = path.as_posix()
    return SettingsFile(path=shown, content=content)
