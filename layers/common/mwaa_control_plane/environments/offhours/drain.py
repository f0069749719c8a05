"""Is Airflow idle enough to hibernate? The drain check and the ``mwaa-cp:drain`` policy.

Deleting an environment kills whatever runs in it. Before a hibernate the flow asks Airflow
(``InvokeRestApi``) for running and queued task instances and DAG runs of every DAG, and the
policy decides: ``wait-<N>m`` (the default ``wait-30m``) waits up to N minutes for the work to
finish and then skips this hibernate (notified; the next off period tries again), ``force``
hibernates anyway. A queued task counts: MWAA would start it a moment later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    # Types only: the tag reader imports this module, and must not load the Airflow client.
    from mwaa_control_plane.airflow.models import DagRun, TaskInstance

TAG_DRAIN = "mwaa-cp:drain"
DEFAULT_WAIT_MINUTES = 30
MAX_WAIT_MINUTES = 12 * 60
"""As long as MWAA's GRACEFUL worker replacement lets tasks finish: waiting longer would never pay off."""
BUSY_STATES: tuple[str, ...] = ("running", "queued")
_EXAMPLES = 5
_WAIT = re.compile(r"^wait-(?P<minutes>\d{1,4})m$", re.ASCII)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DrainPolicy(_Model):
    """``wait`` up to ``minutes`` for running work, then skip; or ``force``: hibernate whatever runs."""

    mode: Literal["wait", "force"] = "wait"
    minutes: Annotated[int, Field(ge=0, le=MAX_WAIT_MINUTES)] = DEFAULT_WAIT_MINUTES

    @property
    def text(self) -> str:
        return "force" if self.mode == "force" else f"wait-{self.minutes}m"


def parse_drain_policy(value: str) -> DrainPolicy:
    """``wait-<N>m`` (0 to 720) or ``force``, any case; ValueError naming the accepted forms otherwise."""
    text = value.strip().lower()
    if text == "force":
        return DrainPolicy(mode="force")
    match = _WAIT.match(text)
    if match is None:
        raise ValueError("must be 'wait-<N>m' (wait up to N minutes, then skip), e.g. 'wait-30m', or 'force'")
    minutes = int(match["minutes"])
    if minutes > MAX_WAIT_MINUTES:
        raise ValueError(f"waits at most {MAX_WAIT_MINUTES} minutes (12 hours), not {minutes}")
    return DrainPolicy(mode="wait", minutes=minutes)


class DrainReader(Protocol):
    """What the drain check reads from Airflow; AirflowClient implements it."""

    def list_task_instances(self, states: Sequence[str]) -> list[TaskInstance]: ...

    def list_dag_runs(self, states: Sequence[str]) -> list[DagRun]: ...


class DrainStatus(_Model):
    """Work in flight in one environment at ``checked_at``; ``examples`` name a few (DAG ids and task ids only)."""

    checked_at: datetime
    running_task_instances: int = 0
    queued_task_instances: int = 0
    running_dag_runs: int = 0
    queued_dag_runs: int = 0
    examples: list[str] = []

    @property
    def idle(self) -> bool:
        return not (
            self.running_task_instances or self.queued_task_instances or self.running_dag_runs or self.queued_dag_runs
        )

    def describe(self) -> str:
        if self.idle:
            return "no running or queued task instances or DAG runs"
        parts = [
            f"{count} {what}"
            for count, what in (
                (self.running_task_instances, "running task instances"),
                (self.queued_task_instances, "queued task instances"),
                (self.running_dag_runs, "running DAG runs"),
                (self.queued_dag_runs, "queued DAG runs"),
            )
            if count
        ]
        shown = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        return ", ".join(parts) + shown


def drain_status(airflow: DrainReader, now: datetime) -> DrainStatus:
    """Count running and queued task instances and DAG runs across every DAG (one listing per state)."""
    tasks = airflow.list_task_instances(BUSY_STATES)
    runs = airflow.list_dag_runs(BUSY_STATES)
    examples = [f"{t.dag_id}.{t.task_id}" for t in tasks[:_EXAMPLES]]
    examples += [r.dag_id for r in runs if r.dag_id not in {t.dag_id for t in tasks}][: _EXAMPLES - len(examples)]
    return DrainStatus(
        checked_at=now,
        running_task_instances=sum(1 for t in tasks if t.state == "running"),
        queued_task_instances=sum(1 for t in tasks if t.state == "queued"),
        running_dag_runs=sum(1 for r in runs if r.state == "running"),
        queued_dag_runs=sum(1 for r in runs if r.state == "queued"),
        examples=examples,
    )


class DrainDecision(_Model):
    """``proceed`` to the snapshot, ``wait`` and check again at ``check_again_at``, or ``skip`` this hibernate."""

    decision: Literal["proceed", "wait", "skip"]
    reason: str
    deadline: datetime | None = None
    check_again_at: datetime | None = None


def decide(
    status: DrainStatus,
    policy: DrainPolicy,
    *,
    waiting_since: datetime,
    now: datetime,
    poll_interval: timedelta = timedelta(minutes=1),
) -> DrainDecision:
    """What to do with ``status`` under ``policy``, ``waiting_since`` being the first check of this hibernate.

    Idle: proceed. ``force``: proceed and say what will be killed. ``wait-<N>m``: wait until
    N minutes after ``waiting_since``, then skip (the flow notifies; raise DrainTimeoutError
    if a Catch should route it).
    """
    if status.idle:
        return DrainDecision(decision="proceed", reason=f"Airflow is idle: {status.describe()}")
    busy = status.describe()
    if policy.mode == "force":
        return DrainDecision(
            decision="proceed",
            reason=f"{TAG_DRAIN}=force: hibernating although Airflow has {busy}; that work is lost",
        )
    deadline = waiting_since + timedelta(minutes=policy.minutes)
    if now >= deadline:
        return DrainDecision(
            decision="skip",
            reason=(
                f"Airflow still has {busy} after waiting {policy.minutes} minutes ({TAG_DRAIN}={policy.text}):"
                " this hibernate is skipped"
            ),
            deadline=deadline,
        )
    return DrainDecision(
        decision="wait",
        reason=f"Airflow has {busy}: waiting until {deadline.isoformat()} ({TAG_DRAIN}={policy.text})",
        deadline=deadline,
        check_again_at=min(now + poll_interval, deadline),
    )
