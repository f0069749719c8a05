"""The drain check before a hibernate: what runs in Airflow, and what the mwaa-cp:drain policy makes of it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from mwaa_control_plane.airflow.models import DagRun, TaskInstance
from mwaa_control_plane.environments.offhours.drain import (
    DrainPolicy,
    DrainStatus,
    decide,
    drain_status,
    parse_drain_policy,
)

NOW = datetime(2026, 1, 14, 20, 0, tzinfo=UTC)


class Airflow:
    def __init__(self, tasks: list[TaskInstance] | None = None, runs: list[DagRun] | None = None) -> None:
        self.tasks = tasks or []
        self.runs = runs or []
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    def list_task_instances(self, states: Sequence[str]) -> list[TaskInstance]:
        self.asked.append(("tasks", tuple(states)))
        return [t for t in self.tasks if t.state in states]

    def list_dag_runs(self, states: Sequence[str]) -> list[DagRun]:
        self.asked.append(("runs", tuple(states)))
        return [r for r in self.runs if r.state in states]


def _busy(**counts: int) -> DrainStatus:
    return DrainStatus(checked_at=NOW, **counts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wait-30m", DrainPolicy(mode="wait", minutes=30)),
        ("WAIT-5M", DrainPolicy(mode="wait", minutes=5)),
        ("wait-0m", DrainPolicy(mode="wait", minutes=0)),
        ("wait-720m", DrainPolicy(mode="wait", minutes=720)),
        (" force ", DrainPolicy(mode="force")),
    ],
)
def test_a_drain_policy_is_read_from_its_tag_value(text: str, expected: DrainPolicy) -> None:
    assert parse_drain_policy(text) == expected


@pytest.mark.parametrize("text", ["wait", "wait-30", "30m", "wait-1h", "wait--1m", "forced", ""])
def test_an_unreadable_drain_policy_names_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="'wait-<N>m'"):
        parse_drain_policy(text)


def test_a_wait_longer_than_twelve_hours_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 720 minutes"):
        parse_drain_policy("wait-721m")


def test_the_default_policy_waits_thirty_minutes() -> None:
    assert DrainPolicy().text == "wait-30m"


def test_the_status_counts_running_and_queued_work_of_every_dag() -> None:
    airflow = Airflow(
        tasks=[
            TaskInstance(dag_id="etl", task_id="load", state="running"),
            TaskInstance(dag_id="etl", task_id="report", state="queued"),
            TaskInstance(dag_id="old", task_id="done", state="success"),
        ],
        runs=[DagRun(dag_id="etl", run_id="r1", state="running"), DagRun(dag_id="ml", run_id="r2", state="queued")],
    )

    status = drain_status(airflow, NOW)

    assert (status.running_task_instances, status.queued_task_instances) == (1, 1)
    assert (status.running_dag_runs, status.queued_dag_runs) == (1, 1)
    assert status.examples == ["etl.load", "etl.report", "ml"]
    assert airflow.asked == [("tasks", ("running", "queued")), ("runs", ("running", "queued"))]
    assert not status.idle


def test_an_idle_airflow_lets_the_hibernate_proceed() -> None:
    decision = decide(_busy(), DrainPolicy(), waiting_since=NOW, now=NOW)

    assert decision.decision == "proceed"
    assert "idle" in decision.reason


def test_running_work_makes_the_hibernate_wait_until_the_policy_deadline() -> None:
    decision = decide(_busy(running_task_instances=2), DrainPolicy(minutes=30), waiting_since=NOW, now=NOW)

    assert decision.decision == "wait"
    assert decision.deadline == NOW + timedelta(minutes=30)
    assert decision.check_again_at == NOW + timedelta(minutes=1)
    assert "2 running task instances" in decision.reason


def test_work_still_running_at_the_deadline_skips_the_hibernate() -> None:
    decision = decide(
        _busy(queued_dag_runs=1), DrainPolicy(minutes=30), waiting_since=NOW, now=NOW + timedelta(minutes=30)
    )

    assert decision.decision == "skip"
    assert "after waiting 30 minutes (mwaa-cp:drain=wait-30m)" in decision.reason


def test_work_that_finishes_before_the_deadline_lets_the_hibernate_proceed() -> None:
    decision = decide(_busy(), DrainPolicy(minutes=30), waiting_since=NOW, now=NOW + timedelta(minutes=12))

    assert decision.decision == "proceed"


def test_force_proceeds_and_says_what_is_lost() -> None:
    decision = decide(_busy(running_task_instances=3), DrainPolicy(mode="force"), waiting_since=NOW, now=NOW)

    assert decision.decision == "proceed"
    assert "mwaa-cp:drain=force" in decision.reason
    assert "3 running task instances" in decision.reason


def test_wait_zero_skips_at_once_when_anything_runs() -> None:
    assert decide(_busy(running_dag_runs=1), DrainPolicy(minutes=0), waiting_since=NOW, now=NOW).decision == "skip"


def test_the_next_check_is_never_after_the_deadline() -> None:
    decision = decide(
        _busy(running_dag_runs=1), DrainPolicy(minutes=5), waiting_since=NOW, now=NOW + timedelta(minutes=4, seconds=30)
    )

    assert decision.check_again_at == NOW + timedelta(minutes=5)
