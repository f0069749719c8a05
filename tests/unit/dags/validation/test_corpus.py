"""The defect corpus triggers exactly its rule; the clean corpus triggers nothing."""

from __future__ import annotations

import pytest

from mwaa_control_plane.dags.validation import RULES, Severity
from tests.unit.dags.validation.corpus import CLEAN, Case, defect_cases, validate_folder

CASES = defect_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_defect_case_reports_its_rule_and_no_other_error(case: Case) -> None:
    report = validate_folder(case.folder, case.airflow_version, **case.context)

    found = [f for file in report.files for f in file.findings]
    rules = {f.rule for f in found}
    for rule in case.expect:
        assert rule in rules, f"{case.name}: expected {rule}, got {sorted(rules)}"
        assert all(f.severity == RULES[rule].severity for f in found if f.rule == rule)
    unexpected_errors = {f.rule for f in found if f.severity is Severity.ERROR} - set(case.expect)
    assert not unexpected_errors, f"{case.name}: unexpected errors {unexpected_errors}"


def test_defect_case_with_an_error_rule_fails_the_file_that_has_it() -> None:
    for case in CASES:
        report = validate_folder(case.folder, case.airflow_version, **case.context)
        for file in report.files:
            has_error = any(f.severity is Severity.ERROR for f in file.findings)
            assert file.verdict == ("fail" if has_error else "pass")


@pytest.mark.parametrize(("folder", "version"), [("airflow2", "2.10.3"), ("airflow3", "3.0.6")])
def test_clean_corpus_has_no_error_and_no_warning(folder: str, version: str) -> None:
    report = validate_folder(CLEAN / folder, version)

    noisy = [
        (file.path, f.rule, f.message)
        for file in report.files
        for f in file.findings
        if f.severity is not Severity.INFO
    ]
    assert noisy == []
    assert report.ok
    assert report.summary.files >= 7


def test_clean_airflow2_corpus_fails_on_airflow3_where_airflow_changed() -> None:
    # The same DAGs, targeted at Airflow 3: the version changes the verdict (deprecated imports at least).
    report = validate_folder(CLEAN / "airflow2", "3.0.6")

    rules = {f.rule for file in report.files for f in file.findings}
    assert "airflow-import-deprecated" in rules
