"""The report's JSON contract and its SARIF rendering."""

from __future__ import annotations

import json

from mwaa_control_plane.dags.validation import (
    RULES,
    Report,
    SourceFile,
    ValidationContext,
    render_json,
    render_sarif,
    render_text,
    validate_files,
)

BAD = b'from airflow import DAG\nwith DAG("bad id!", schedule="@daily", catchup=False):\n    pass\n'
GOOD = b'"""Nothing to see."""\n'


def _report() -> Report:
    files = [SourceFile(path="dags/bad.py", content=BAD), SourceFile(path="dags/good.py", content=GOOD)]
    return validate_files(files, ValidationContext())


def test_json_output_has_the_documented_shape() -> None:
    data = json.loads(render_json(_report()))

    assert set(data) == {"files", "summary"}
    assert set(data["summary"]) == {
        "files",
        "passed",
        "failed",
        "errors",
        "warnings",
        "infos",
        "airflow_version",
        "python_version",
    }
    bad, good = data["files"]
    assert set(bad) == {"path", "verdict", "findings"}
    assert bad["verdict"] == "fail" and good["verdict"] == "pass"
    for finding in bad["findings"]:
        assert set(finding) == {"rule", "severity", "message", "line"}
        assert finding["severity"] in {"error", "warning", "info"}
        assert finding["line"] is None or isinstance(finding["line"], int)
    assert data["summary"]["failed"] == 1 and data["summary"]["python_version"] == "3.11"


def test_verdict_is_fail_exactly_when_an_error_is_present() -> None:
    for file in _report().files:
        assert (file.verdict == "fail") == any(f.severity.value == "error" for f in file.findings)


def test_sarif_is_a_2_1_0_log_with_rules_and_located_results() -> None:
    log = json.loads(render_sarif(_report()))

    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == list(RULES)
    assert {r["defaultConfiguration"]["level"] for r in driver["rules"]} == {"error", "warning", "note"}
    assert run["results"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"}
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "dags/bad.py"
        if "region" in location:
            assert location["region"]["startLine"] >= 1


def test_text_output_links_path_and_line_then_summarizes() -> None:
    text = render_text(_report())

    assert "dags/bad.py:2: error [dag-id-invalid]" in text
    assert text.rstrip().splitlines()[-1].startswith("2 files checked against Airflow 2.10.3 (Python 3.11)")
