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
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

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


RuleId = Annotated[str, AfterValidator(_known_rule)]
ModuleName = Annotated[str, AfterValidator(_dotted_module)]


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RuleSettings(_Table):
    disable: frozenset[RuleId] = frozenset()
    severity: dict[RuleId, Severity] = Field(default_factory=dict)


class ImportSettings(_Table):
    extra_modules: frozenset[ModuleName] = frozenset()


class ValidatorSettings(_Table):
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
_TYPES = {
    "frozen_set_type": "an array of strings",
    "dict_type": "a table",
    "model_type": "a table",
    "string_type": "a string",
}


def _where(loc: tuple[int | str, ...]) -> str:
    """('rules', 'severity', 'x') -> "[rules.severity] 'x'"; the table, then the key."""
    parts = [str(p) for p in loc if p != "[key]"]
    if len(parts) <= 1:
        return f"'{parts[0]}'" if parts else "the file"
    return f"[{'.'.join(parts[:-1])}] '{parts[-1]}'"


def _problems(exc: ValidationError) -> str:
    said: list[str] = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            table = tuple(str(p) for p in loc[:-1])
            said.append(f"unknown key {_where(loc)} (known: {_KEYS.get(table, 'none')})")
            continue
        # A value inside a list (rules.disable.0): name the list, not the index.
        loc = tuple(p for p in loc if not isinstance(p, int))
        expected = _TYPES.get(error["type"])
        message = f"should be {expected}" if expected else str(error["msg"]).removeprefix("Value error, ")
        said.append(f"{_where(loc)}: {message}")
    return "; ".join(dict.fromkeys(said))


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
    try:
        return ValidatorSettings.model_validate(data)
    except ValidationError as exc:
        raise SettingsProblem(_problems(exc)) from None


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
