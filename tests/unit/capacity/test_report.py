"""The report: the JSON the flow stores and the CLI prints, and its text and Markdown renderings."""

from __future__ import annotations

import json

from mwaa_control_plane.capacity import AnalysisReport, analyze, render_markdown, render_text
from tests.unit.capacity.builders import during, scenario


def _capacity_bound_report() -> AnalysisReport:
    return analyze(
        scenario(queued=during(30, 120, 20.0), running=during(30, 120, 25.0, 5.0), additional=4.0, heartbeat=24.0),
        execution="arn:aws:states:us-east-1:123456789012:execution:worker-analysis:abc",
    )


def test_the_json_has_the_cause_limit_findings_and_recommendation() -> None:
    report = json.loads(_capacity_bound_report().to_json())

    assert report["cause"] == "capacity_bound"
    assert report["limit"] is None
    assert report["decided_by"] == "capacity"
    assert report["findings"][0] == {
        "rule": "capacity",
        "status": "fires",
        "cause": "capacity_bound",
        "limit": None,
        "message": report["summary"],
        "evidence": report["findings"][0]["evidence"],
    }
    assert report["findings"][0]["evidence"]["required_workers"] == 9
    assert {finding["rule"] for finding in report["findings"]} >= {"scheduler-heartbeat", "stranded", "concurrency"}
    change = report["recommendation"]["change"]
    assert change["max_workers"] == 9
    assert change["requested_by"] == {
        "flow": "worker-analysis",
        "execution": "arn:aws:states:us-east-1:123456789012:execution:worker-analysis:abc",
    }
    assert report["recommendation"]["cost"]["delta_monthly_at_max"] == "160.60"


def test_the_text_leads_with_the_cause_its_numbers_and_the_change() -> None:
    text = render_text(_capacity_bound_report())
    lines = text.splitlines()

    assert lines[0] == "dev (mw1.small, workers 1-5, 2 schedulers), 2026-11-30 10:00 UTC to 2026-11-30 12:00 UTC"
    assert "cause: capacity_bound" in lines
    assert any(line.startswith("  evidence: queue_backlog_minutes=90") for line in lines)
    assert '  change request: {"environment_name": "dev", "max_workers": 9}' in lines
    assert "  applies automatically: yes (capacity only)" in lines
    assert (
        "  cost: 0.00 USD a month at minimum capacity, +160.60 USD with every worker up to MaxWorkers running" in lines
    )
    assert "  [clear] stranded: Queued tasks never waited with nothing running for 10 minutes (longest: 0)." in lines


def test_the_markdown_has_the_change_request_as_json_and_every_finding() -> None:
    markdown = render_markdown(_capacity_bound_report())

    assert markdown.startswith("# Worker analysis: dev\n")
    assert "**Cause:** `capacity_bound`" in markdown
    assert '"max_workers": 9' in markdown
    assert "| capacity | fires |" in markdown
    assert "| over-provisioned | clear |" in markdown


def test_a_concurrency_limit_is_named_in_every_rendering() -> None:
    report = analyze(
        scenario(
            running=6.0,
            additional=0.0,
            cpu=30.0,
            memory=30.0,
            pools={"etl": {"PoolOpenSlots": 0.0, "PoolStarvingTasks": 8.0}},
        )
    )

    assert "cause: concurrency_bound (pool:etl)" in render_text(report)
    assert "**Cause:** `concurrency_bound` (limit `pool:etl`)" in render_markdown(report)
    assert json.loads(report.to_json())["limit"] == "pool:etl"
