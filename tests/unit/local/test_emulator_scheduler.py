"""The emulated scheduler: timetables as Airflow 2 and 3 read a schedule, and the runs unpausing creates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mwaa_control_plane.clock import ManualClock
from mwaa_cp_local import mwaa
from mwaa_cp_local.mwaa import scheduler
from mwaa_cp_local.mwaa.airflow import parse_dag_file
from mwaa_cp_local.mwaa.scheduler import DagSchedule, Restriction, RunInfo, create_runs, timetable_for
from tests.unit.local.airflow_env import Env, available, with_dag

JAN_1 = datetime(2025, 1, 1, tzinfo=UTC)
DEC_1 = datetime(2025, 12, 1, tzinfo=UTC)


def scheduled(
    schedule: str | None,
    *,
    at: datetime,
    catchup: bool,
    airflow3: bool = False,
    start: datetime | None = JAN_1,
    end: datetime | None = None,
    last: RunInfo | None = None,
    timezone: Any = UTC,
) -> list[RunInfo]:
    """The runs the scheduler creates at ``at`` for a DAG first seen then, with no limit on active runs."""
    timetable = timetable_for(schedule, None, timezone, data_intervals=not airflow3)
    assert timetable is not None
    state = DagSchedule(cursor=at, last=last)
    runs = create_runs(
        state, timetable, Restriction(start, end, catchup), until=at, max_active_runs=10**6, run_seconds=60
    )
    return [run.info for run in runs]


# ------------------------------------------------------------------------------- timetables


def test_airflow_2_catchup_creates_one_run_per_complete_interval_since_start_date() -> None:
    runs = scheduled("@daily", at=DEC_1, catchup=True)
    assert len(runs) == 334
    assert (runs[0].logical_date, runs[-1].logical_date) == (JAN_1, datetime(2025, 11, 30, tzinfo=UTC))


def test_airflow_2_runs_cover_an_interval_and_are_due_when_it_ends() -> None:
    first = scheduled("0 2 * * *", at=datetime(2025, 1, 2, 3, tzinfo=UTC), catchup=True)[0]
    assert (first.data_interval_start, first.data_interval_end) == (
        datetime(2025, 1, 1, 2, tzinfo=UTC),
        datetime(2025, 1, 2, 2, tzinfo=UTC),
    )
    assert first.logical_date == first.data_interval_start
    assert first.run_after == first.data_interval_end


def test_airflow_2_without_catchup_creates_only_the_latest_complete_interval() -> None:
    runs = scheduled("@daily", at=DEC_1 + timedelta(hours=10), catchup=False)
    assert [(run.data_interval_start, run.data_interval_end) for run in runs] == [(DEC_1 - timedelta(days=1), DEC_1)]


def test_airflow_2_catchup_continues_from_the_end_of_the_last_scheduled_run() -> None:
    last = RunInfo(datetime(2025, 11, 20, tzinfo=UTC), datetime(2025, 11, 21, tzinfo=UTC), JAN_1, JAN_1)
    runs = scheduled("@daily", at=DEC_1, catchup=True, last=last)
    assert len(runs) == 10
    assert runs[0].logical_date == datetime(2025, 11, 21, tzinfo=UTC)


def test_without_catchup_a_gap_after_the_last_scheduled_run_is_skipped() -> None:
    last = RunInfo(datetime(2025, 11, 20, tzinfo=UTC), datetime(2025, 11, 21, tzinfo=UTC), JAN_1, JAN_1)
    runs = scheduled("@daily", at=DEC_1, catchup=False, last=last)
    assert [run.logical_date for run in runs] == [datetime(2025, 11, 30, tzinfo=UTC)]


def test_end_date_bounds_catchup_to_intervals_starting_by_it() -> None:
    runs = scheduled("@daily", at=DEC_1, catchup=True, end=datetime(2025, 1, 10, tzinfo=UTC))
    assert [run.logical_date.day for run in runs] == list(range(1, 11))


def test_a_start_date_between_fire_times_starts_at_the_next_one() -> None:
    runs = scheduled("@monthly", at=DEC_1, catchup=True, start=datetime(2025, 1, 15, tzinfo=UTC))
    assert runs[0].logical_date == datetime(2025, 2, 1, tzinfo=UTC)
    assert len(runs) == 10  # February to November: November's interval ends at December 1st, "now"
    assert runs[-1].logical_date == datetime(2025, 11, 1, tzinfo=UTC)


def test_airflow_3_creates_a_run_at_each_fire_time_with_the_fire_time_as_logical_date() -> None:
    runs = scheduled("@daily", at=DEC_1, catchup=True, airflow3=True)
    assert len(runs) == 335  # 2025-01-01 to 2025-12-01 inclusive: a trigger fires at its time, not an interval later
    assert all(run.logical_date == run.run_after == run.data_interval_end for run in runs)


def test_airflow_3_without_catchup_creates_only_the_latest_fire_time() -> None:
    runs = scheduled("0 2 * * *", at=DEC_1 + timedelta(hours=10), catchup=False, airflow3=True)
    assert [run.logical_date for run in runs] == [DEC_1 + timedelta(hours=2)]


def test_once_runs_a_single_time_at_start_date_whatever_catchup() -> None:
    runs = scheduled("@once", at=DEC_1, catchup=False)
    assert [run.logical_date for run in runs] == [JAN_1]


def test_no_schedule_has_no_timetable() -> None:
    assert timetable_for(None, None, UTC, data_intervals=True) is None


def test_a_cron_string_croniter_refuses_has_no_timetable() -> None:
    assert timetable_for("every day", None, UTC, data_intervals=True) is None


def test_a_timedelta_schedule_on_airflow_2_covers_intervals_from_start_date() -> None:
    timetable = timetable_for(None, timedelta(hours=6), UTC, data_intervals=True)
    assert timetable is not None
    state = DagSchedule(cursor=JAN_1 + timedelta(days=1))
    runs = create_runs(
        state, timetable, Restriction(JAN_1, None, True), until=state.cursor, max_active_runs=100, run_seconds=60
    )
    assert [run.info.data_interval_start.hour for run in runs] == [0, 6, 12, 18]


def test_a_cron_in_a_dst_zone_keeps_its_local_time_across_the_change() -> None:
    paris = ZoneInfo("Europe/Paris")
    runs = scheduled(
        "0 6 * * *",
        at=datetime(2025, 4, 2, tzinfo=UTC),
        catchup=True,
        start=datetime(2025, 3, 28, tzinfo=paris),
        timezone=paris,
    )
    local_hours = {run.logical_date.astimezone(paris).hour for run in runs}
    utc_hours = sorted({run.logical_date.hour for run in runs})
    assert local_hours == {6}
    assert utc_hours == [4, 5]


def test_no_more_runs_than_max_active_runs_exist_until_earlier_ones_finish() -> None:
    timetable = timetable_for("@daily", None, UTC, data_intervals=True)
    assert timetable is not None
    state = DagSchedule(cursor=DEC_1)
    restriction = Restriction(JAN_1, None, True)
    first = create_runs(state, timetable, restriction, until=DEC_1, max_active_runs=16, run_seconds=60)
    later = create_runs(
        state, timetable, restriction, until=DEC_1 + timedelta(seconds=60), max_active_runs=16, run_seconds=60
    )
    assert (len(first), len(later)) == (16, 16)
    assert {run.created_at for run in later} == {DEC_1 + timedelta(seconds=60)}


def test_the_scheduler_refuses_to_create_more_runs_than_its_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler, "MAX_SCHEDULED_RUNS", 5)
    with pytest.raises(scheduler.SchedulerLimitError, match="stops at 5 scheduled runs"):
        scheduled("@daily", at=DEC_1, catchup=True)


# ------------------------------------------------------------------------------- reading the DAG file


def test_catchup_and_dates_are_read_from_the_dag_and_its_default_args() -> None:
    source = """
from datetime import datetime
from airflow import DAG
default_args = {"owner": "data", "start_date": datetime(2025, 1, 1), "end_date": datetime(2025, 6, 30)}
with DAG("report", default_args=default_args, schedule="0 2 * * *", catchup=True) as dag:
    pass
"""
    (dag,) = parse_dag_file("report.py", source).dags
    assert (dag.catchup, dag.start_date, dag.end_date) == (True, datetime(2025, 1, 1), datetime(2025, 6, 30))


def test_the_dags_own_start_date_wins_over_default_args() -> None:
    source = """
from datetime import datetime
from airflow import DAG
with DAG("report", start_date=datetime(2025, 3, 1), default_args={"start_date": datetime(2024, 1, 1)}) as dag:
    pass
"""
    (dag,) = parse_dag_file("report.py", source).dags
    assert dag.start_date == datetime(2025, 3, 1)


def test_pendulum_and_zoneinfo_start_dates_keep_their_time_zone() -> None:
    source = """
import pendulum
from datetime import datetime
from zoneinfo import ZoneInfo
from airflow import DAG
START = pendulum.datetime(2025, 1, 1, tz="Europe/Paris")
DAG("first", start_date=START)
DAG("second", start_date=datetime(2025, 1, 1, tzinfo=ZoneInfo("America/New_York")))
DAG("third", start_date=pendulum.datetime(2025, 1, 1))
"""
    zones = {dag.dag_id: dag.start_date.tzinfo for dag in parse_dag_file("zones.py", source).dags if dag.start_date}
    assert zones == {"first": ZoneInfo("Europe/Paris"), "second": ZoneInfo("America/New_York"), "third": UTC}


def test_a_start_date_computed_at_runtime_is_marked_unresolved_not_guessed() -> None:
    source = """
from airflow import DAG
from airflow.utils.dates import days_ago
with DAG("report", default_args={"start_date": days_ago(2)}, schedule="@daily") as dag:
    pass
"""
    (dag,) = parse_dag_file("report.py", source).dags
    assert (dag.start_date, dag.start_date_unresolved) == (None, True)


def test_a_timedelta_schedule_is_read() -> None:
    source = "from datetime import timedelta\nfrom airflow import DAG\nDAG('report', schedule=timedelta(hours=6))\n"
    (dag,) = parse_dag_file("report.py", source).dags
    assert (dag.schedule, dag.schedule_delta) == (None, timedelta(hours=6))


def test_task_ids_belong_to_the_dag_whose_block_defines_them() -> None:
    source = """
from airflow import DAG
from airflow.decorators import dag, task
from airflow.operators.empty import EmptyOperator

with DAG("first") as first:
    EmptyOperator(task_id="extract")
    EmptyOperator(task_id="load")

@dag(schedule=None)
def second():
    @task
    def transform():
        pass

    @task(task_id="publish_report")
    def publish():
        pass

    transform() >> publish()
"""
    tasks = {dag.dag_id: dag.task_ids for dag in parse_dag_file("two.py", source).dags}
    assert tasks == {"first": ("extract", "load"), "second": ("transform", "publish_report")}


# ------------------------------------------------------------------------------- through the REST API

# Created (the clock starts 2026-01-01) with every day of 2025 complete: 365 intervals to catch up on.
CATCHUP_DAG = """
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
with DAG("daily_report", start_date=datetime(2025, 1, 1), schedule="@daily", {options}) as dag:
    EmptyOperator(task_id="build")
"""


def dag_env(s3: Any, clock: ManualClock, options: str = "", version: str = "2.10.3", **create: Any) -> Env:
    return with_dag(available(s3, clock, version, **create), CATCHUP_DAG.format(options=options))


def test_a_paused_dag_gets_no_scheduled_runs(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=True")
    clock.advance(3 * 86400)
    assert env.runs()["total_entries"] == 0


def test_unpausing_a_catchup_dag_schedules_every_interval_since_start_date(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=True, max_active_runs=1000")
    env.unpause("daily_report")
    runs = env.runs("daily_report", limit=100, offset=300)
    assert runs["total_entries"] == 365
    assert [run["execution_date"] for run in runs["dag_runs"]][-1] == "2025-12-31T00:00:00+00:00"


def test_catchup_creates_max_active_runs_at_a_time(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=True")
    env.unpause("daily_report")
    assert env.runs()["total_entries"] == 16
    clock.advance(mwaa.settings().timings.dag_run_seconds)
    assert env.runs()["total_entries"] == 32


def test_unpausing_a_dag_without_catchup_schedules_only_the_latest_interval(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=False")
    env.unpause("daily_report")
    (run,) = env.runs()["dag_runs"]
    assert (run["execution_date"], run["data_interval_end"]) == (
        "2025-12-31T00:00:00+00:00",
        "2026-01-01T00:00:00+00:00",
    )


def test_airflow_2_catches_up_by_default(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock)
    env.unpause("daily_report")
    assert env.runs()["total_entries"] == 16  # catching up, max_active_runs at a time


def test_airflow_3_does_not_catch_up_by_default(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, version="3.0.6")
    env.unpause("daily_report")
    assert [run["logical_date"] for run in env.runs()["dag_runs"]] == ["2026-01-01T00:00:00Z"]


def test_catchup_by_default_can_be_configured(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, AirflowConfigurationOptions={"scheduler.catchup_by_default": "False"})
    env.unpause("daily_report")
    assert env.runs()["total_entries"] == 1


def test_a_dag_unpaused_at_creation_is_scheduled_without_being_unpaused(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=False, is_paused_upon_creation=False")
    assert env.runs()["total_entries"] == 1


def test_dags_are_paused_at_creation_can_be_configured_off(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=False", AirflowConfigurationOptions={"core.dags_are_paused_at_creation": "False"})
    assert env.runs()["total_entries"] == 1


def test_scheduled_runs_show_their_type_and_interval_as_airflow_2_does(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=False")
    env.unpause("daily_report")
    (run,) = env.runs()["dag_runs"]
    assert run["run_type"] == "scheduled"
    assert run["external_trigger"] is False
    assert run["dag_run_id"] == "scheduled__2025-12-31T00:00:00+00:00"
    assert (run["logical_date"], run["data_interval_start"]) == (run["execution_date"], run["execution_date"])


def test_scheduled_runs_on_airflow_3_are_triggered_by_the_timetable(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=False", version="3.0.6")
    env.unpause("daily_report")
    (run,) = env.runs()["dag_runs"]
    assert (run["run_type"], run["triggered_by"]) == ("scheduled", "timetable")
    assert run["run_after"] == run["logical_date"] == "2026-01-01T00:00:00Z"


def test_a_paused_gap_is_caught_up_from_the_last_scheduled_run(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=True, max_active_runs=1000")
    env.unpause("daily_report")
    env.pause("daily_report")
    clock.advance(10 * 86400)
    env.unpause("daily_report")
    assert env.runs()["total_entries"] == 365 + 10


def test_without_catchup_a_paused_gap_gets_only_its_latest_interval(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=False")
    env.unpause("daily_report")
    env.pause("daily_report")
    clock.advance(10 * 86400)
    env.unpause("daily_report")
    assert env.runs()["total_entries"] == 2


def test_an_unpaused_dag_gets_a_run_as_each_interval_ends(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=False")
    env.unpause("daily_report")
    clock.advance(2 * 86400)
    assert env.runs()["total_entries"] == 3


def test_a_dag_with_an_unreadable_start_date_is_never_scheduled(s3: Any, clock: ManualClock) -> None:
    source = CATCHUP_DAG.replace("datetime(2025, 1, 1)", "days_ago(3)").format(options="catchup=True")
    env = with_dag(available(s3, clock), source)
    env.unpause("daily_report")
    assert env.runs()["total_entries"] == 0


def test_runs_can_be_filtered_by_state_across_dags(s3: Any, clock: ManualClock) -> None:
    env = dag_env(s3, clock, "catchup=True")
    env.unpause("daily_report")
    clock.advance(mwaa.settings().timings.dag_run_seconds)
    running = env.runs(state=["running", "queued"])
    assert running["total_entries"] == 16
    assert {run["state"] for run in running["dag_runs"]} == {"running"}
