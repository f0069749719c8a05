"""Running work as the drain check sees it: task instances across DAGs, held runs, DAG details."""

from __future__ import annotations

from typing import Any

from mwaa_control_plane.clock import ManualClock
from mwaa_cp_local import mwaa
from tests.unit.local.airflow_env import Env, available, with_dag

ETL = """
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
with DAG("etl", start_date=datetime(2025, 1, 1), schedule=None, catchup=False) as dag:
    EmptyOperator(task_id="extract") >> EmptyOperator(task_id="load")
"""
NIGHTLY = ETL.replace("schedule=None", 'schedule="0 2 * * *"')
EVERYWHERE = "/dags/~/dagRuns/~/taskInstances"
ACTIVE = {"state": ["running", "queued"]}


def etl(s3: Any, clock: ManualClock, version: str = "2.10.3", **create: Any) -> Env:
    return with_dag(available(s3, clock, version, **create), ETL)


def trigger(env: Env, run_id: str | None = None) -> str:
    airflow3 = env.ok("GET", "/version")["version"].startswith("3.")
    body: dict[str, Any] = {"logical_date": None} if airflow3 else {}
    if run_id is not None:
        body["dag_run_id"] = run_id
    run: dict[str, Any] = env.ok("POST", "/dags/etl/dagRuns", body=body)
    return str(run["dag_run_id"])


def task_states(env: Env, query: dict[str, Any] | None = None) -> list[tuple[str, Any]]:
    answer = env.ok("GET", EVERYWHERE, query)
    return sorted((ti["task_id"], ti["state"]) for ti in answer["task_instances"])


# ------------------------------------------------------------------------------- task instances


def test_a_running_run_shows_its_task_instances_running(s3: Any, clock: ManualClock) -> None:
    env = etl(s3, clock)
    env.unpause("etl")
    trigger(env)
    assert task_states(env, ACTIVE) == [("extract", "running"), ("load", "running")]


def test_task_instances_of_a_finished_run_are_not_active(s3: Any, clock: ManualClock) -> None:
    env = etl(s3, clock)
    env.unpause("etl")
    trigger(env)
    clock.advance(mwaa.settings().timings.dag_run_seconds)
    assert task_states(env, ACTIVE) == []
    assert task_states(env) == [("extract", "success"), ("load", "success")]


def test_a_queued_run_of_a_paused_dag_has_task_instances_without_state(s3: Any, clock: ManualClock) -> None:
    env = etl(s3, clock)
    trigger(env)
    assert task_states(env, ACTIVE) == []
    assert task_states(env) == [("extract", None), ("load", None)]


def test_a_held_run_stays_running_for_the_held_duration(s3: Any, clock: ManualClock) -> None:
    env = etl(s3, clock)
    mwaa.hold_runs("analytics", "etl", 3600)
    env.unpause("etl")
    trigger(env)
    clock.advance(3599)
    assert len(task_states(env, ACTIVE)) == 2
    clock.advance(1)
    assert task_states(env, ACTIVE) == []


def test_a_hold_can_keep_task_instances_queued(s3: Any, clock: ManualClock) -> None:
    env = etl(s3, clock)
    mwaa.hold_runs("analytics", "etl", 600, task_state="queued")
    env.unpause("etl")
    trigger(env)
    assert task_states(env, {"state": ["queued"]}) == [("extract", "queued"), ("load", "queued")]


def test_holds_end_with_the_emulator_reset(s3: Any, clock: ManualClock) -> None:
    env = etl(s3, clock)
    mwaa.hold_runs("analytics", "etl", 3600)
    mwaa.reset()
    env.unpause("etl")
    trigger(env)
    clock.advance(mwaa.settings().timings.dag_run_seconds)
    assert task_states(env, ACTIVE) == []


def test_task_instances_of_one_run_are_listed_by_its_ids(s3: Any, clock: ManualClock) -> None:
    env = etl(s3, clock)
    run_id = trigger(env, "nightly-1")  # InvokeRestApi paths hold 64 characters: a generated run id is too long
    answer = env.ok("GET", f"/dags/etl/dagRuns/{run_id}/taskInstances")
    assert answer["total_entries"] == 2
    assert {ti["dag_run_id"] for ti in answer["task_instances"]} == {run_id}


def test_task_instances_of_an_unknown_run_are_a_404(s3: Any, clock: ManualClock) -> None:
    env = etl(s3, clock)
    status, body = env.rest("GET", "/dags/etl/dagRuns/nope/taskInstances")
    assert (status, body["title"]) == (404, "DAGRun not found")


def test_v1_task_instances_carry_the_stable_api_fields(s3: Any, clock: ManualClock) -> None:
    env = etl(s3, clock)
    env.unpause("etl")
    trigger(env)
    ti = env.ok("GET", EVERYWHERE)["task_instances"][0]
    assert {"execution_date", "try_number", "pool", "queue", "hostname", "operator", "sla_miss"} <= set(ti)
    assert ti["start_date"] is not None


def test_v2_task_instances_carry_id_logical_date_and_run_after(s3: Any, clock: ManualClock) -> None:
    env = etl(s3, clock, "3.0.6")
    env.unpause("etl")
    trigger(env)
    ti = env.ok("GET", EVERYWHERE, ACTIVE)["task_instances"][0]
    assert {"id", "logical_date", "run_after", "scheduled_when", "dag_version"} <= set(ti)
    assert "execution_date" not in ti
    assert ti["state"] == "running"


# ------------------------------------------------------------------------------- DAG details


def test_v1_dag_details_show_catchup_dates_and_the_cron_schedule(s3: Any, clock: ManualClock) -> None:
    env = with_dag(available(s3, clock), NIGHTLY)
    details = env.ok("GET", "/dags/etl/details")
    assert details["catchup"] is False
    assert details["start_date"] == "2025-01-01T00:00:00+00:00"
    assert details["end_date"] is None
    assert details["schedule_interval"] == {"__type": "CronExpression", "value": "0 2 * * *"}
    assert (details["is_paused"], details["timezone"]) == (True, "UTC")


def test_v1_dag_details_show_a_timedelta_schedule(s3: Any, clock: ManualClock) -> None:
    source = ETL.replace("schedule=None", "schedule=timedelta(hours=6)").replace(
        "from datetime import datetime", "from datetime import datetime, timedelta"
    )
    env = with_dag(available(s3, clock), source)
    schedule = env.ok("GET", "/dags/etl/details")["schedule_interval"]
    assert schedule == {"__type": "TimeDelta", "days": 0, "seconds": 21600, "microseconds": 0}


def test_dag_details_report_the_catchup_default_when_the_file_does_not_set_it(s3: Any, clock: ManualClock) -> None:
    env = with_dag(available(s3, clock), NIGHTLY.replace(", catchup=False", ""))
    assert env.ok("GET", "/dags/etl/details")["catchup"] is True


def test_v2_dag_details_show_the_timetable_summary_and_airflow_3_catchup_default(s3: Any, clock: ManualClock) -> None:
    env = with_dag(available(s3, clock, "3.0.6"), NIGHTLY.replace(", catchup=False", ""))
    details = env.ok("GET", "/dags/etl/details")
    assert (details["timetable_summary"], details["catchup"]) == ("0 2 * * *", False)
    assert details["start_date"] == "2025-01-01T00:00:00Z"


def test_dag_details_of_an_unknown_dag_are_a_404(s3: Any, clock: ManualClock) -> None:
    env = etl(s3, clock)
    status, body = env.rest("GET", "/dags/nope/details")
    assert (status, body["title"]) == (404, "DAG not found")
