"""Counting the runs an unpause creates without history, the way Airflow 2 and 3 schedule them, and the guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mwaa_control_plane.airflow.models import DagDetails, DagRun, Schedule, schedule_from_summary
from mwaa_control_plane.environments.offhours.airflow_state import AirflowState, DagState
from mwaa_control_plane.environments.offhours.catchup import (
    COUNT_LIMIT,
    dags_to_unpause,
    guard,
    runs_on_unpause,
)

NOW = datetime(2026, 1, 14, 20, 0, tzinfo=UTC)
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
DAILY = schedule_from_summary("0 0 * * *")
SIX_HOURS = schedule_from_summary("6:00:00")


# -- cron ------------------------------------------------------------------------------------------------------------


def test_with_catchup_airflow_2_creates_one_run_per_complete_interval_since_the_start_date() -> None:
    # [Jan 1, Jan 2) ... [Jan 13, Jan 14): the interval of Jan 14 has not ended at 20:00.
    assert runs_on_unpause(DAILY, JAN_1, None, True, NOW) == 13


def test_with_catchup_airflow_3_trigger_times_create_a_run_at_each_point_including_today() -> None:
    assert runs_on_unpause(DAILY, JAN_1, None, True, NOW, timetable="trigger") == 14


@pytest.mark.parametrize("timetable", ["data-interval", "trigger"])
def test_without_catchup_only_the_latest_run_is_created(timetable: str) -> None:
    assert runs_on_unpause(DAILY, JAN_1, None, False, NOW, timetable=timetable) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize("timetable", ["data-interval", "trigger"])
def test_a_start_date_in_the_future_creates_nothing(timetable: str) -> None:
    later = NOW + timedelta(days=3)

    assert runs_on_unpause(DAILY, later, None, True, NOW, timetable=timetable) == 0  # type: ignore[arg-type]


def test_a_start_date_between_points_aligns_to_the_next_point() -> None:
    assert runs_on_unpause(DAILY, JAN_1 + timedelta(hours=10), None, True, NOW) == 12


def test_the_end_date_stops_the_runs() -> None:
    end = datetime(2026, 1, 5, tzinfo=UTC)

    assert runs_on_unpause(DAILY, JAN_1, end, True, NOW) == 5
    assert runs_on_unpause(DAILY, JAN_1, end, True, NOW, timetable="trigger") == 5


def test_without_catchup_a_start_date_after_the_latest_interval_waits_for_its_own() -> None:
    start = datetime(2026, 1, 14, tzinfo=UTC)

    assert runs_on_unpause(DAILY, start, None, False, NOW) == 0  # [Jan 14, Jan 15) has not ended


def test_cron_points_are_taken_in_the_dags_time_zone() -> None:
    at_nine = schedule_from_summary("0 9 * * *")
    start = datetime(2026, 1, 14, tzinfo=UTC)
    now = datetime(2026, 1, 14, 8, 30, tzinfo=UTC)  # 09:30 in Berlin, 08:30 in UTC

    assert runs_on_unpause(at_nine, start, None, True, now, timezone="Europe/Berlin", timetable="trigger") == 1
    assert runs_on_unpause(at_nine, start, None, True, now, timezone="UTC", timetable="trigger") == 0


def test_an_unknown_time_zone_counts_in_utc() -> None:
    assert runs_on_unpause(DAILY, JAN_1, None, True, NOW, timezone="Timezone('+01:00')") == 13


def test_counting_stops_at_the_limit() -> None:
    minutely = schedule_from_summary("* * * * *")

    assert runs_on_unpause(minutely, JAN_1, None, True, NOW, limit=500) == 500


def test_an_expression_croniter_refuses_cannot_be_counted() -> None:
    assert runs_on_unpause(Schedule(kind="cron", text="61 * * * *", cron="61 * * * *"), JAN_1, None, True, NOW) is None


# -- timedelta -------------------------------------------------------------------------------------------------------


def test_a_delta_schedule_with_catchup_creates_a_run_per_elapsed_interval() -> None:
    start = datetime(2026, 1, 14, tzinfo=UTC)

    assert runs_on_unpause(SIX_HOURS, start, None, True, NOW) == 3  # 0-6, 6-12, 12-18; 18-24 is not over
    assert runs_on_unpause(SIX_HOURS, start, None, True, NOW, timetable="trigger") == 4  # 0, 6, 12, 18


def test_a_delta_schedule_is_not_aligned_to_the_clock() -> None:
    start = datetime(2026, 1, 14, 1, 30, tzinfo=UTC)

    assert runs_on_unpause(SIX_HOURS, start, None, True, NOW) == 3  # 1:30-7:30, 7:30-13:30, 13:30-19:30


@pytest.mark.parametrize("timetable", ["data-interval", "trigger"])
def test_a_delta_schedule_without_catchup_creates_one_run(timetable: str) -> None:
    assert runs_on_unpause(SIX_HOURS, JAN_1, None, False, NOW, timetable=timetable) == 1  # type: ignore[arg-type]


# -- other schedules -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("summary", "start", "expected"),
    [
        (None, JAN_1, 0),
        ("Dataset", JAN_1, 0),
        ("@continuous", JAN_1, 1),
        ("@once", JAN_1, 1),
        ("@once", NOW + timedelta(days=1), 0),
        ("relativedelta(months=+1)", JAN_1, None),
        ("MyTimetable: every full moon", JAN_1, None),
    ],
)
def test_schedules_without_intervals(summary: str | None, start: datetime, expected: int | None) -> None:
    assert runs_on_unpause(schedule_from_summary(summary), start, None, True, NOW) == expected


def test_a_time_schedule_without_a_start_date_creates_nothing() -> None:
    assert runs_on_unpause(DAILY, None, None, True, NOW) == 0


# -- the guard -------------------------------------------------------------------------------------------------------


def _dag(
    dag_id: str,
    *,
    paused: bool = False,
    catchup: bool | None = True,
    summary: str | None = "0 0 * * *",
    last_run: DagRun | None = None,
    details: bool = True,
) -> DagState:
    return DagState(
        dag_id=dag_id,
        is_paused=paused,
        details=DagDetails(
            dag_id=dag_id, catchup=catchup, start_date=JAN_1, schedule=schedule_from_summary(summary), timezone="UTC"
        )
        if details
        else None,
        last_scheduled_run=last_run,
        note=None if details else "the path is 70 characters long",
    )


def _state(*dags: DagState, catchup_by_default: bool = True) -> AirflowState:
    return AirflowState(
        airflow_version="2.10.3", captured_at=NOW, dags=list(dags), catchup_by_default=catchup_by_default
    )


def test_a_dag_that_was_paused_stays_paused() -> None:
    [decision] = guard(_state(_dag("d", paused=True)), "unpause", NOW)

    assert (decision.action, decision.reason) == ("keep-paused", "was paused before hibernating")


def test_a_catchup_dag_is_kept_paused_with_the_number_of_runs_it_would_create() -> None:
    [decision] = guard(_state(_dag("sales_daily")), "keep-paused", NOW)

    assert decision.action == "keep-paused"
    assert decision.runs == 13
    assert decision.reason.startswith("catchup=True: unpausing creates 13 runs since 2026-01-01T00:00:00+00:00")
    assert "mwaa-cp:catchup=keep-paused" in decision.reason


def test_the_unpause_policy_unpauses_a_catchup_dag_and_still_says_how_many_runs() -> None:
    [decision] = guard(_state(_dag("sales_daily")), "unpause", NOW)

    assert decision.action == "unpause"
    assert "13 runs" in decision.reason
    assert decision.reason.endswith("unpaused by mwaa-cp:catchup")


def test_a_dag_without_catchup_is_unpaused() -> None:
    [decision] = guard(_state(_dag("d", catchup=False)), "keep-paused", NOW)

    assert (decision.action, decision.runs) == ("unpause", 1)


def test_a_dag_whose_catchup_is_unknown_follows_the_environments_default() -> None:
    airflow_3 = _state(_dag("d", catchup=None), catchup_by_default=False)

    assert guard(airflow_3, "keep-paused", NOW)[0].action == "unpause"
    assert guard(_state(_dag("d", catchup=None)), "keep-paused", NOW)[0].action == "keep-paused"


def test_an_once_dag_that_already_ran_is_kept_paused() -> None:
    ran = DagRun(dag_id="d", run_id="scheduled__2026-01-01", run_type="scheduled")

    [held] = guard(_state(_dag("d", summary="@once", last_run=ran)), "keep-paused", NOW)
    [fresh] = guard(_state(_dag("d", summary="@once")), "keep-paused", NOW)

    assert held.action == "keep-paused"
    assert "already ran" in held.reason
    assert fresh.action == "unpause"


def test_a_manual_only_dag_is_unpaused_with_catchup() -> None:
    [decision] = guard(_state(_dag("d", summary=None)), "keep-paused", NOW)

    assert (decision.action, decision.runs) == ("unpause", 0)


def test_a_catchup_dag_whose_schedule_cannot_be_counted_is_kept_paused() -> None:
    [decision] = guard(_state(_dag("d", summary="MyTimetable")), "keep-paused", NOW)

    assert decision.action == "keep-paused"
    assert decision.runs is None
    assert "'MyTimetable' cannot be counted" in decision.reason


def test_a_dag_whose_details_could_not_be_read_is_kept_paused() -> None:
    [decision] = guard(_state(_dag("d", details=False)), "keep-paused", NOW)

    assert decision.action == "keep-paused"
    assert "the path is 70 characters long" in decision.reason


def test_the_runs_missed_while_hibernated_are_counted_from_the_last_scheduled_run() -> None:
    last = DagRun(
        dag_id="d",
        run_id="scheduled__2026-01-12",
        run_type="scheduled",
        data_interval_start=datetime(2026, 1, 12, tzinfo=UTC),
        data_interval_end=datetime(2026, 1, 13, tzinfo=UTC),
    )

    [decision] = guard(_state(_dag("d", last_run=last)), "keep-paused", NOW)

    assert decision.runs == 13
    assert decision.missed_while_hibernated == 1  # [Jan 13, Jan 14)


def test_the_count_is_shown_as_at_least_the_limit_when_it_stops_there() -> None:
    minutely = _dag("d", summary="* * * * *")

    [decision] = guard(_state(minutely), "keep-paused", NOW)

    assert decision.runs == COUNT_LIMIT
    assert f"{COUNT_LIMIT} or more runs" in decision.reason


def test_only_unpaused_decisions_are_handed_to_restore() -> None:
    decisions = guard(_state(_dag("a"), _dag("b", catchup=False), _dag("c", paused=True)), "keep-paused", NOW)

    assert dags_to_unpause(decisions) == {"b"}
