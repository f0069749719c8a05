"""One cause per analysis: the rules in their order of precedence, and what decides when several fire.

The rules run in :data:`PRECEDENCE`. The first one that is not ``clear`` and not ``not_evaluated`` decides:

1. ``required-data`` and ``consistency`` firing make the cause **inconclusive** (too little queue data, or metrics
   that contradict the recorded configuration): nothing else is trusted then.
2. ``scheduler-heartbeat`` (scheduler_unhealthy) and ``stranded`` come before any capacity question: when nothing
   schedules or nothing picks tasks up, the numbers about slots and workers describe the symptom, not the cause.
3. ``memory-starvation`` before ``cpu-starvation`` (memory exhaustion kills tasks; CPU only slows them), both before
   ``capacity``: adding workers of a starved class is the expensive wrong fix the analysis exists to prevent.
4. ``capacity`` (capacity_bound) before ``concurrency`` (concurrency_bound): full slots at MaxWorkers are the
   question to answer first; a concurrency limit only matters while slots are idle.
5. ``over-provisioned`` last: it only fires when no task waited.

A rule that is ``borderline`` where it decides makes the cause **inconclusive**: its numbers sit just below the
threshold and the analysis does not guess. A rule that is ``not_evaluated`` (its data is missing) is passed over,
and named. When no rule decides: **healthy**, unless tasks waited for a sustained time that no rule explains and
were still waiting at the window's end, which is **inconclusive** (with what was missing).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from mwaa_control_plane.capacity.configuration import Capacity
from mwaa_control_plane.capacity.rules import (
    BACKLOG_MIN_MINUTES,
    CLEARED_MINUTES,
    Cause,
    Context,
    Finding,
    Number,
    Rule,
    capacity,
    concurrency,
    consistency,
    context_of,
    cpu_starvation,
    memory_starvation,
    over_provisioned,
    required_data,
    scheduler_heartbeat,
    stranded,
)
from mwaa_control_plane.capacity.scenario import Scenario

PRECEDENCE: tuple[Rule, ...] = (
    required_data,
    consistency,
    scheduler_heartbeat,
    stranded,
    memory_starvation,
    cpu_starvation,
    capacity,
    concurrency,
    over_provisioned,
)
_DATA_RULES = ("required-data", "consistency")


class DataUsed(BaseModel):
    """Which metrics the analysis read (CloudWatch label each), which it ignored, and the grid it read them on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    minutes: int
    used: list[str]
    unused: list[str]
    airflow_block: bool


class Diagnosis(BaseModel):
    """The cause, the limit (concurrency_bound only), and every rule's finding, the deciding one first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cause: Cause
    limit: str | None = None
    decided_by: str
    findings: list[Finding]
    capacity: Capacity
    data: DataUsed


def _decide(findings: list[Finding], context: Context) -> tuple[Cause, str | None, Finding]:
    for finding in findings:
        if finding.rule in _DATA_RULES:
            if finding.status == "fires":
                return "inconclusive", None, finding
            continue
        if finding.status == "fires":
            assert finding.cause is not None
            return finding.cause, finding.limit, finding
        if finding.status == "borderline":
            return "inconclusive", None, finding
    unevaluated = [finding.rule for finding in findings if finding.status == "not_evaluated"]
    evidence: dict[str, Number] = {
        "backlog_minutes": len(context.backlog),
        "longest_backlog_minutes": context.longest_episode,
        "not_evaluated": ", ".join(unevaluated) or None,
    }
    if context.sustained_backlog and not context.cleared():
        missing = f" Not evaluated for lack of data: {', '.join(unevaluated)}." if unevaluated else ""
        return (
            "inconclusive",
            None,
            Finding(
                rule="unexplained-backlog",
                status="fires",
                cause="inconclusive",
                message=f"Tasks waited for up to {context.longest_episode} minutes in a row ({len(context.backlog)} "
                f"minutes in all) and were still waiting at the window's end, but no rule explains it.{missing}",
                evidence=evidence,
            ),
        )
    if context.sustained_backlog:
        message = (
            f"Healthy: tasks waited for up to {context.longest_episode} minutes in a row, but none in the last "
            f"{CLEARED_MINUTES} minutes: the backlog cleared (MWAA scaling out) and no rule points to a cause."
        )
    else:
        message = (
            f"Healthy: no sustained backlog (the longest lasted {context.longest_episode} minutes, fewer than "
            f"{BACKLOG_MIN_MINUTES}), and no rule fired."
        )
    if unevaluated:
        message += f" Not evaluated for lack of data: {', '.join(unevaluated)}."
    return "healthy", None, Finding(rule="healthy", status="fires", cause="healthy", message=message, evidence=evidence)


def diagnose(scenario: Scenario) -> Diagnosis:
    """Run every rule on the scenario and name one cause (see the module docstring for the precedence)."""
    context = context_of(scenario)
    findings = [required_data(context)]
    if findings[0].status != "fires":
        findings += [rule(context) for rule in PRECEDENCE[1:]]
    cause, limit, deciding = _decide(findings, context)
    rest = [finding for finding in findings if finding is not deciding]
    observations = context.observations
    return Diagnosis(
        cause=cause,
        limit=limit,
        decided_by=deciding.rule,
        findings=[deciding, *rest],
        capacity=context.capacity,
        data=DataUsed(
            minutes=observations.minutes,
            used=list(observations.used),
            unused=list(observations.unused),
            airflow_block=scenario.airflow is not None,
        ),
    )
