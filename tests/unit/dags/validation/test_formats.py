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
from mwaa_control_plane.dags.validation.models import SettingsFile

BAD = b'from airflow import DAG\nwith DAG("bad id!", schedule="@daily", catchup=False):\n    pass\n'
GOOD = b'"""Nothing to see."""\n'


def _report() -> Report:
    files = [SourceFile(path="dags/bad.py", content=BAD), SourceFile(path="dags/good.py", content=GOOD)]
    return validate_files(files, ValidationContext())


# One finding suppressed by each source: a comment on the line, a file-level comment, the configuration.
SUPPRESSED = b"""# mwaa-cp: ignore-file[dag-catchup-missing]
from airflow import DAG
from airflow.models import Variable

bucket = Variable.get("bucket")  # mwaa-cp: ignore[top-level-variable]
api_key = "sandbox-demo-key"
with DAG("suppressed", schedule="@daily"):
    pass
"""
SETTINGS = SettingsFile(content=b'[rules]\ndisable = ["credential-literal"]\n')


def _suppressed_report() -> Report:
    return validate_files([SourceFile(path="dags/s.py", content=SUPPRESSED)], ValidationContext(settings_file=SETTINGS))


def test_suppressed_findings_stay_in_the_json_marked_with_their_source() -> None:
    data = json.loads(render_json(_suppressed_report()))

    [file] = data["files"]
    marked = {f["rule"]: f["suppression"] for f in file["findings"] if f["suppressed"]}
    assert marked == {"top-level-variable": "inline", "dag-catchup-missing": "file", "credential-literal": "config"}
    assert file["verdict"] == "pass"
    assert data["summary"]["suppressed"] == 3 and data["summary"]["errors"] == 0


def test_sarif_gives_suppressed_results_a_standard_suppression() -> None:
    log = json.loads(render_sarif(_suppressed_report()))

    by_rule = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert by_rule["top-level-variable"]["suppressions"][0]["kind"] == "inSource"
    assert by_rule["dag-catchup-missing"]["suppressions"][0]["kind"] == "inSource"
    assert by_rule["credential-literal"]["suppressions"][0]["kind"] == "external"
    assert all(s["status"] == "accepted" for r in by_rule.values() for s in r.get("suppressions", []))
    assert "suppressions" not in by_rule["dag-start-date-missing"]


def test_text_output_leaves_suppressed_findings_out_and_counts_them() -> None:
    text = render_text(_suppressed_report())

    assert "[top-level-variable]" not in text and "[credential-literal]" not in text
    assert "dags/s.py:7: info [dag-start-date-missing]" in text
    assert text.rstrip().endswith("; 3 suppressed")


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
        "suppressed",
    }
    bad, good = data["files"]
    assert set(bad) == {"path", "verdict", "findings"}
    assert bad["verdict"] == "fail" and good["verdict"] == "pass"
    for finding in bad["findings"]:
        assert set(finding) == {"rule", "severity", "message", "line", "suppressed", "suppression"}
        assert finding["severity"] in {"error", "warning", "info"}
        assert finding["line"] is None or isinstance(finding["line"], int)
        assert finding["suppressed"] is False and finding["suppression"] is None
    assert data["summary"]["failed"] == 1 and data["summary"]["python_version"] == "3.11"
    assert data["summary"]["suppressed"] == 0


def test_verdict_is_fail_exactly_when_an_unsuppressed_error_is_present() -> None:
    for file in [*_report().files, *_suppressed_report().files]:
        assert (file.verdict == "fail") == any(f.severity.value == "error" and not f.suppressed for f in file.findings)


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
