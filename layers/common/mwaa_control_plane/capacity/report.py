"""The analysis report: one JSON model (``cause``, ``limit``, ``findings``, ``recommendation``) and its text renderings.

The JSON is what ``mwaa-cp analyze --format json`` prints and what the flow stores in the reports bucket; the
Markdown rendering goes next to it, and the text rendering is the terminal's. All three carry the same facts: the
cause, the finding that decided it with its numbers, the proposal with its cost, then the other rules' findings.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from mwaa_control_plane.capacity.configuration import Capacity
from mwaa_control_plane.capacity.diagnosis import DataUsed
from mwaa_control_plane.capacity.recommendation import CostDelta, Recommendation
from mwaa_control_plane.capacity.rules import Cause, Finding, Number

_STATUS = {"fires": "fires", "clear": "clear", "borderline": "borderline", "not_evaluated": "not evaluated"}


class ReportWindow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: datetime
    end: datetime


class AnalysisReport(BaseModel):
    """The worker analysis of one environment over one window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: str
    environment_class: str
    window: ReportWindow
    cause: Cause
    limit: str | None = None
    """The limit that holds tasks back (concurrency_bound only): parallelism, pool:<name>, max_active_tasks_per_dag,
    max_active_runs_per_dag or worker_autoscale."""
    decided_by: str
    """The rule whose finding decided the cause (``healthy`` or ``unexplained-backlog`` when none did)."""
    summary: str
    """The deciding finding's message."""
    findings: list[Finding]
    """Every rule's finding, the deciding one first, then the others in order of precedence."""
    recommendation: Recommendation
    capacity: Capacity
    data: DataUsed
    description: str | None = None
    notes: list[str] = []
    """What the gathering could not get (from the scenario)."""

    @property
    def top_finding(self) -> Finding:
        return self.findings[0]

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def _value(value: Number) -> str:
    return "-" if value is None else str(value)


def _evidence(evidence: dict[str, Number]) -> str:
    return ", ".join(f"{key}={_value(value)}" for key, value in evidence.items())


def _usd(value: Decimal | None) -> str:
    if value is None:
        return "unknown"
    return f"{value:+.2f} USD" if value else "0.00 USD"


def _cost_line(cost: CostDelta) -> str:
    line = (
        f"{_usd(cost.delta_monthly)} a month at minimum capacity, {_usd(cost.delta_monthly_at_max)} with every "
        "worker up to MaxWorkers running"
    )
    if cost.before_monthly is not None and cost.after_monthly is not None and cost.delta_monthly:
        line += f" (from {cost.before_monthly} to {cost.after_monthly} USD a month at minimum capacity)"
    return line


def _heading(report: AnalysisReport) -> str:
    cap = report.capacity
    return (
        f"{report.environment} ({report.environment_class}, workers {cap.min_workers}-{cap.max_workers}, "
        f"{cap.schedulers} schedulers), {_time(report.window.start)} to {_time(report.window.end)}"
    )


def _configuration(cap: Capacity) -> list[str]:
    parallelism = "unlimited" if cap.parallelism.value is None else str(cap.parallelism.value)
    tasks, runs = cap.max_active_tasks_per_dag, cap.max_active_runs_per_dag
    return [
        f"tasks per worker: {cap.per_worker} ({cap.tasks_per_worker.source}); slots at MaxWorkers: {cap.max_slots}",
        f"core.parallelism: {parallelism} per scheduler ({cap.parallelism.source})",
        f"core.max_active_tasks_per_dag: {_value(tasks.value)} ({tasks.source})",
        f"core.max_active_runs_per_dag: {_value(runs.value)} ({runs.source})",
    ]


def render_text(report: AnalysisReport) -> str:
    """The report for a terminal: cause and deciding finding first, then the proposal, then the other rules."""
    cause = report.cause + (f" ({report.limit})" if report.limit else "")
    lines = [_heading(report)]
    if report.description:
        lines.append(f"  {report.description}")
    lines += ["", f"cause: {cause}", f"  {report.summary}"]
    if report.top_finding.evidence:
        lines.append(f"  evidence: {_evidence(report.top_finding.evidence)}")
    recommendation = report.recommendation
    lines += ["", f"recommendation: {recommendation.summary}"]
    if recommendation.change is not None:
        change = recommendation.change.model_dump(
            mode="json", exclude_none=True, exclude={"reason", "requested_by", "restore_on_failure", "settle_seconds"}
        )
        lines.append(f"  change request: {json.dumps(change, sort_keys=True)}")
        lines.append(
            "  applies automatically: "
            + ("yes (capacity only)" if recommendation.auto_applicable else "no, needs approval")
        )
    if recommendation.cost is not None:
        lines.append(f"  cost: {_cost_line(recommendation.cost)}")
        lines += [f"  note: {note}" for note in recommendation.cost.notes]
    if recommendation.capped_by_ceiling:
        lines.append(f"  capped at the ceiling of {recommendation.max_workers_ceiling} workers")
    lines += [f"  - {advice}" for advice in recommendation.advice]
    lines += ["", "other findings:"]
    for finding in report.findings[1:]:
        lines.append(f"  [{_STATUS[finding.status]}] {finding.rule}: {finding.message}")
    lines += ["", "configuration:"] + [f"  {line}" for line in _configuration(report.capacity)]
    data = report.data
    lines += ["", f"data: {len(data.used)} metrics used, {len(data.unused)} not used, {data.minutes} minutes"]
    lines.append("  airflow block: " + ("yes" if data.airflow_block else "no"))
    lines += [f"  note: {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def render_markdown(report: AnalysisReport) -> str:
    """The report as Markdown (stored next to the JSON in the reports bucket)."""
    cause = f"`{report.cause}`" + (f" (limit `{report.limit}`)" if report.limit else "")
    lines = [f"# Worker analysis: {report.environment}", "", _heading(report), ""]
    if report.description:
        lines += [f"> {report.description}", ""]
    lines += [f"**Cause:** {cause}", "", report.summary, ""]
    if report.top_finding.evidence:
        lines += ["| evidence | value |", "|---|---|"]
        lines += [f"| {key} | {_value(value)} |" for key, value in report.top_finding.evidence.items()]
        lines.append("")
    recommendation = report.recommendation
    lines += ["## Recommendation", "", recommendation.summary, ""]
    if recommendation.change is not None:
        change = recommendation.change.model_dump(mode="json", exclude_none=True)
        lines += ["Change request (environment-change flow):", "", "```json", json.dumps(change, indent=2), "```", ""]
        lines.append(
            "Applies automatically: "
            + ("yes (capacity only)." if recommendation.auto_applicable else "no, needs approval.")
        )
        lines.append("")
    if recommendation.cost is not None:
        lines += [f"Cost: {_cost_line(recommendation.cost)}.", ""]
        lines += [f"- {note}" for note in recommendation.cost.notes]
    if recommendation.capped_by_ceiling:
        lines += [f"Capped at the ceiling of {recommendation.max_workers_ceiling} workers.", ""]
    lines += [f"- {advice}" for advice in recommendation.advice]
    lines += ["", "## Findings", "", "| rule | status | finding |", "|---|---|---|"]
    for finding in report.findings:
        message = finding.message.replace("|", "\\|")
        lines.append(f"| {finding.rule} | {_STATUS[finding.status]} | {message} |")
    lines += ["", "## Configuration", ""] + [f"- {line}" for line in _configuration(report.capacity)]
    data = report.data
    lines += ["", "## Data", "", f"{data.minutes} minutes; metrics used:", ""] + [f"- {label}" for label in data.used]
    if data.unused:
        lines += ["", "Not used:", ""] + [f"- {label}" for label in data.unused]
    if report.notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"
