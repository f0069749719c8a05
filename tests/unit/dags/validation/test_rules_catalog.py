"""The rule catalog, its documentation and its tests stay in step."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from mwaa_control_plane.dags.validation import RULES
from tests.unit.dags.validation.corpus import defect_cases
from tests.unit.dags.validation.test_generated_defects import GENERATED

REPO = Path(__file__).resolve().parents[4]
DOC = REPO / "docs" / "validator-rules.md"
_SECTION = re.compile(r"^### (?P<id>[a-z0-9-]+)\n- Severity: (?P<severity>error|warning|info)\.", re.MULTILINE)


def test_every_rule_is_documented_with_its_severity() -> None:
    documented = {m.group("id"): m.group("severity") for m in _SECTION.finditer(DOC.read_text())}

    assert documented == {rule.id: rule.severity.value for rule in RULES.values()}


def test_every_rule_has_a_defect_case_asserting_it() -> None:
    covered = {rule for case in defect_cases() for rule in case.expect} | {g.rule for g in GENERATED.values()}

    assert set(RULES) - covered == set()


def test_rule_ids_are_short_prefixed_and_kebab_case() -> None:
    for rule_id in RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule_id)
        assert len(rule_id) <= 40


def test_pre_commit_hook_runs_the_validate_command() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())

    (hook,) = hooks
    assert hook["id"] == "mwaa-validate"
    assert hook["entry"] == "mwaa-cp validate"
    assert re.search(hook["files"], "dags/etl.py")
    assert re.search(hook["files"], "dags/.airflowignore")
