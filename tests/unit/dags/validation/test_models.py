"""The validator's dataclasses keep the contracts the pydantic models had.

The report's JSON (``--format json``, the Lambda's report document) and the problems said about a
``.mwaa-cp.toml`` were written by pydantic models until the validator dropped pydantic from its
import path (``mwaa-cp validate`` runs on every commit). The pydantic models below are the ones it
had, kept here as the reference: the output must be byte for byte what they wrote.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from mwaa_control_plane.dags.validation import (
    RULES,
    Report,
    Severity,
    SourceFile,
    ValidationContext,
    render_json,
    validate_files,
)
from mwaa_control_plane.dags.validation.models import SettingsFile
from mwaa_control_plane.dags.validation.settings_file import SettingsProblem, parse_settings
from tests.unit.dags.validation.corpus import CLEAN, defect_cases, validate_folder

# -- the report, as pydantic wrote it -------------------------------------------------------------------


class _Finding(BaseModel):
    rule: str
    severity: Severity
    message: str
    line: int | None = None
    suppressed: bool = False
    suppression: Literal["inline", "file", "config"] | None = None


class _FileReport(BaseModel):
    path: str
    verdict: Literal["pass", "fail"]
    findings: list[_Finding]
    dag_ids: list[str] = Field(default_factory=list, exclude=True)
    modules: list[str] = Field(default_factory=list, exclude=True)


class _Summary(BaseModel):
    files: int
    passed: int
    failed: int
    errors: int
    warnings: int
    infos: int
    airflow_version: str
    python_version: str
    suppressed: int = 0


class _Report(BaseModel):
    files: list[_FileReport]
    summary: _Summary


def _as_pydantic_wrote_it(report: Report) -> str:
    return _Report.model_validate(report, from_attributes=True).model_dump_json(indent=2) + "\n"


def _reports() -> list[Report]:
    reports = [validate_folder(case.folder, case.airflow_version, **case.context) for case in defect_cases()]
    reports += [validate_folder(CLEAN / "airflow2", "2.10.3"), validate_folder(CLEAN / "airflow3", "3.0.6")]
    # Not ASCII, and control characters: in paths, dag_ids and the messages that quote them.
    odd = (
        'from airflow import DAG\nwith DAG("caf\u00e9 \u2603 \\x01", schedule="0 0 * * *\\x1b\u00e9"):\n    pass\n'
        "secret_key = 'x\u00e9\\u2028y'\n"
        "from airflow.models import Variable\nv = Variable.get('k')  # mwaa-cp: ignore[top-level-variable]\n"
    )
    files = [
        SourceFile(path="dags/na\u00efve_\u20ac.py", content=odd.encode()),
        SourceFile(path="dags/b\u00e9.sql", content=b"\xff"),
    ]
    reports.append(validate_files(files, ValidationContext()))
    return reports


def test_the_json_output_is_byte_for_byte_what_the_pydantic_models_wrote() -> None:
    reports = _reports()

    assert any(r.summary.errors for r in reports) and any(r.summary.suppressed for r in reports)
    for report in reports:
        assert render_json(report) == _as_pydantic_wrote_it(report)


def test_the_report_document_leaves_dag_ids_and_modules_out() -> None:
    report = validate_folder(CLEAN / "airflow2", "2.10.3")

    assert any(f.dag_ids for f in report.files)
    assert all(set(f) == {"path", "verdict", "findings"} for f in report.to_dict()["files"])
    assert json.loads(render_json(report)) == report.to_dict()


# -- the context and the inputs check what pydantic checked ---------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"python_version": "3"},
        {"python_version": "3.123"},
        {"python_version": "2.7"},
        {"max_python_file_bytes": 0},
        {"max_zip_members": -1},
        {"max_compression_ratio": 1},
        {"max_file_bytes": "1"},
        {"dag_ignore_syntax": "fnmatch"},
        {"airflow_version": 2},
    ],
)
def test_the_context_refuses_what_its_fields_cannot_be(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(fields))):
        ValidationContext(**fields)


def test_the_context_keeps_names_given_as_any_collection_as_frozensets() -> None:
    context = ValidationContext(sibling_modules={"a"}, plugin_modules=["b"], imported_modules=("c",))  # type: ignore[arg-type]

    assert (context.sibling_modules, context.plugin_modules, context.imported_modules) == (
        frozenset({"a"}),
        frozenset({"b"}),
        frozenset({"c"}),
    )
    assert ValidationContext(python_version="3.11").python_version == "3.11"


def test_files_need_a_path() -> None:
    with pytest.raises(ValueError, match="path"):
        SourceFile(path="", content=b"")
    with pytest.raises(ValueError, match="path"):
        SettingsFile(path="", content=b"")


# -- .mwaa-cp.toml problems, as pydantic said them --------------------------------------------------------


def _known_rule(rule_id: str) -> str:
    if rule_id not in RULES:
        import difflib

        close = difflib.get_close_matches(rule_id, RULES, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"unknown rule '{rule_id}'{hint}")
    return rule_id


def _dotted_module(name: str) -> str:
    if not all(part.isidentifier() for part in name.split(".")):
        raise ValueError(f"'{name}' is not a module name (dotted Python identifiers, e.g. vendor.sdk)")
    return name


_RuleId = Annotated[str, AfterValidator(_known_rule)]
_ModuleName = Annotated[str, AfterValidator(_dotted_module)]


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _RuleSettings(_Table):
    disable: frozenset[_RuleId] = frozenset()
    severity: dict[_RuleId, Severity] = Field(default_factory=dict)


class _ImportSettings(_Table):
    extra_modules: frozenset[_ModuleName] = frozenset()


class _ValidatorSettings(_Table):
    rules: _RuleSettings = _RuleSettings()
    imports: _ImportSettings = _ImportSettings()


_KEYS = {(): "[rules] and [imports]", ("rules",): "disable and severity", ("imports",): "extra_modules"}
_TYPES = {
    "frozen_set_type": "an array of strings",
    "dict_type": "a table",
    "model_type": "a table",
    "string_type": "a string",
}


def _where(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p != "[key]"]
    if len(parts) <= 1:
        return f"'{parts[0]}'" if parts else "the file"
    return f"[{'.'.join(parts[:-1])}] '{parts[-1]}'"


def _pydantic_said(data: dict[str, Any]) -> str | None:
    """What the pydantic models said about ``data`` (the TOML document), or None when they took it."""
    try:
        _ValidatorSettings.model_validate(data)
    except ValidationError as exc:
        said: list[str] = []
        for error in exc.errors(include_url=False, include_input=False):
            loc = tuple(error["loc"])
            if error["type"] == "extra_forbidden":
                table = tuple(str(p) for p in loc[:-1])
                said.append(f"unknown key {_where(loc)} (known: {_KEYS.get(table, 'none')})")
                continue
            loc = tuple(p for p in loc if not isinstance(p, int))
            expected = _TYPES.get(error["type"])
            message = f"should be {expected}" if expected else str(error["msg"]).removeprefix("Value error, ")
            said.append(f"{_where(loc)}: {message}")
        return "; ".join(dict.fromkeys(said))
    return None


def _toml(value: Any) -> str:
    """``value`` as a TOML value (inline tables and arrays; keys always quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


_RULE_IDS = sorted(RULES)
_names = st.sampled_from([*_RULE_IDS[:5], "top-level-varaible", "nope", "vendor.sdk", "a-b", "ok_mod", "", "x..y"])
_scalars = st.one_of(_names, st.integers(-2, 2), st.booleans(), st.sampled_from(["error", "warning", "info", "ERROR"]))
_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_names, inner, max_size=2), max_leaves=4
)
_keys = st.sampled_from(["rules", "imports", "disable", "severity", "extra_modules", "other"])
_tables = st.dictionaries(
    _keys,
    st.one_of(
        _values,
        st.dictionaries(
            _keys,
            st.one_of(_values, st.lists(_names, max_size=3), st.dictionaries(_names, _scalars, max_size=3)),
            max_size=3,
        ),
    ),
    max_size=3,
)


@settings(max_examples=400, deadline=None)
@given(_tables)
def test_a_config_s_problems_are_said_as_the_pydantic_models_said_them(data: dict[str, Any]) -> None:
    text = "".join(f"{json.dumps(key)} = {_toml(value)}\n" for key, value in data.items())

    try:
        parse_settings(text.encode())
        said = None
    except SettingsProblem as problem:
        said = str(problem)

    assert said == _pydantic_said(data)


def test_a_valid_config_reads_as_the_pydantic_models_read_it() -> None:
    text = b'[rules]\ndisable = ["top-level-variable"]\n[rules.severity]\n"dag-catchup-missing" = "warning"\n'
    text += b'[imports]\nextra_modules = ["vendor.sdk"]\n'

    settings = parse_settings(text)
    reference = _ValidatorSettings.model_validate(
        {
            "rules": {"disable": ["top-level-variable"], "severity": {"dag-catchup-missing": "warning"}},
            "imports": {"extra_modules": ["vendor.sdk"]},
        }
    )

    assert settings.rules.disable == reference.rules.disable
    assert settings.rules.severity == reference.rules.severity
    assert settings.imports.extra_modules == reference.imports.extra_modules
