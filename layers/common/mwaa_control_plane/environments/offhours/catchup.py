"""After a resume no DAG silently backfills: how many runs unpausing creates, and which DAGs stay paused.

Airflow 2 and 3 decide a DAG's next run from its newest *automated* run (DagModel.next_dagrun via
the timetable's next_dagrun_info); a recreated environment has none, so with catchup=True the first
run is the first interval at or after start_date and the scheduler creates every due one up to now,
with catchup=False only the latest. Airflow 3 defaults catchup to False and reads cron as trigger times.
Restoring the history through the REST API is not possible (it cannot create scheduled runs), so
the guard keeps each catchup=True DAG paused and reports the count, unless mwaa-cp:catchup=unpause.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mwaa_control_plane.airflow.models import Schedule
from mwaa_control_plane.environments.change_request import Strict
from mwaa_control_plane.environments.offhours.airflow_state import AirflowState, DagState, TimetableKind
from mwaa_control_plane.environments.offhours.tags import TAG_CATCHUP, CatchupPolicy

COUNT_LIMIT = 10_000
"""Counting stops here: a minutely schedule over years is "10000 or more" runs, not a minute of CPU."""


class CatchupDecision(Strict):
    """What the guard decided for one DAG after a resume; ``runs`` is None when it cannot be counted."""

    dag_id: str
    action: Literal["unpause", "keep-paused"]
    runs: int | None = None
    """Runs unpausing creates in the recreated environment (no history)."""
    missed_while_hibernated: int | None = None
    """Runs due since the DAG's last scheduled run: what a scheduler that kept its history would create."""
    reason: str


def runs_on_unpause(
    schedule: Schedule,
    start_date: datetime | None,
    end_date: datetime | None,
    catchup: bool,
    now: datetime,
    *,
    timezone: str | None = None,
    timetable: TimetableKind = "data-interval",
    limit: int = COUNT_LIMIT,
) -> int | None:
    """How many runs the scheduler creates when the DAG is unpaused with no run history (max_active_runs at a time).

    ``timetable`` is how the scheduler reads a cron or delta schedule: ``data-interval`` (a run
    when each interval ends: Airflow 2, and Airflow 3 with ``create_*_data_intervals``) or
    ``trigger`` (a run at each point: Airflow 3's default for cron). Cron points are taken in
    ``timezone`` (the DAG's; UTC when unknown). None when the schedule cannot be counted (a
    custom timetable, relativedelta); the count stops at ``limit``.
    """
    if schedule.kind in ("none", "asset"):
        return 0  # runs only when triggered or when an asset updates
    if schedule.kind == "continuous":
        return 1 if start_date is None or start_date <= now else 0
    if schedule.kind == "once":
        # OnceTimetable: one run at start_date, unless a previous automated run exists (gone with the database).
        return 1 if start_date is not None and start_date <= now and (end_date is None or start_date <= end_date) else 0
    if start_date is None:
        return 0  # no start date, no automated run (Airflow 2 refuses such a DAG; Airflow 3 waits)
    if schedule.kind == "cron" and schedule.cron:
        points = _cron_points(schedule.cron, _zone(timezone))
        if points is None:
            return None
        return _count(points, start_date, end_date, catchup, now, timetable, limit, aligned=True)
    if schedule.kind == "delta" and schedule.delta_seconds and schedule.delta_seconds > 0:
        delta = timedelta(seconds=schedule.delta_seconds)
        return _count(_DeltaPoints(delta), start_date, end_date, catchup, now, timetable, limit, aligned=False)
    return None


def guard(captured_state: AirflowState, policy: CatchupPolicy, now: datetime) -> list[CatchupDecision]:
    """Per captured DAG: unpause it, or keep it paused (with the runs unpausing would create and why).

    A DAG paused before the hibernate stays paused. An unpaused one is unpaused again unless
    unpausing would re-run history: catchup=True with runs due, an ``@once`` DAG that had run,
    or a schedule the guard cannot count while catchup is on. ``mwaa-cp:catchup=unpause``
    unpauses those too, and the reason still says how many runs that creates.
    """
    return [_decide(dag, captured_state, policy, now) for dag in captured_state.dags]


def dags_to_unpause(decisions: Sequence[CatchupDecision]) -> set[str]:
    """The DAG ids ``airflow_state.restore(..., unpause=...)`` may unpause."""
    return {decision.dag_id for decision in decisions if decision.action == "unpause"}


def _decide(dag: DagState, state: AirflowState, policy: CatchupPolicy, now: datetime) -> CatchupDecision:
    decision = _decision(dag, state, policy, now)
    missed = _missed(dag, state, now)
    return decision.model_copy(update={"missed_while_hibernated": missed}) if missed is not None else decision


def _missed(dag: DagState, state: AirflowState, now: datetime) -> int | None:
    details, last = dag.details, dag.last_scheduled_run
    if details is None or last is None or details.schedule.kind not in ("cron", "delta"):
        return None
    timetable = state.delta_timetable if details.schedule.kind == "delta" else state.cron_timetable
    if timetable == "data-interval" and last.data_interval_end is not None:
        after = last.data_interval_end
    else:
        moment = last.run_after or last.logical_date or last.data_interval_end
        if moment is None:
            return None
        after = moment + timedelta(microseconds=1)
    return runs_on_unpause(
        details.schedule, after, details.end_date, True, now, timezone=details.timezone, timetable=timetable
    )


def _decision(dag: DagState, state: AirflowState, policy: CatchupPolicy, now: datetime) -> CatchupDecision:
    if dag.is_paused:
        return CatchupDecision(dag_id=dag.dag_id, action="keep-paused", runs=0, reason="was paused before hibernating")
    details = dag.details
    if details is None:
        return _held(dag.dag_id, None, f"its schedule could not be read ({dag.note or 'no details'})", policy)
    catchup = details.catchup if details.catchup is not None else state.catchup_by_default
    schedule = details.schedule
    timetable = state.delta_timetable if schedule.kind == "delta" else state.cron_timetable
    runs = runs_on_unpause(
        schedule, details.start_date, details.end_date, catchup, now, timezone=details.timezone, timetable=timetable
    )
    count = _count_text(runs)
    if schedule.kind == "once" and dag.last_scheduled_run is not None and runs:
        return _held(dag.dag_id, runs, "an @once DAG that already ran: unpausing runs it again", policy)
    if runs is None:
        if catchup:
            return _held(dag.dag_id, None, f"catchup=True and its schedule '{schedule.text}' cannot be counted", policy)
        return CatchupDecision(dag_id=dag.dag_id, action="unpause", runs=None, reason="catchup=False: no backfill")
    if catchup and runs > 0 and schedule.kind in ("cron", "delta"):
        since = details.start_date.isoformat() if details.start_date else "its start date"
        return _held(dag.dag_id, runs, f"catchup=True: unpausing creates {count} since {since}", policy)
    return CatchupDecision(
        dag_id=dag.dag_id, action="unpause", runs=runs, reason=f"unpausing creates {count}, no backfill"
    )


def _held(dag_id: str, runs: int | None, why: str, policy: CatchupPolicy) -> CatchupDecision:
    if policy == "unpause":
        return CatchupDecision(dag_id=dag_id, action="unpause", runs=runs, reason=f"{why}; unpaused by {TAG_CATCHUP}")
    return CatchupDecision(
        dag_id=dag_id,
        action="keep-paused",
        runs=runs,
        reason=f"{why}; kept paused ({TAG_CATCHUP}=keep-paused): unpause it by hand when that is wanted",
    )


def _count_text(runs: int | None) -> str:
    if runs is None:
        return "an unknown number of runs"
    if runs >= COUNT_LIMIT:
        return f"{COUNT_LIMIT} or more runs"
    return f"{runs} run" if runs == 1 else f"{runs} runs"


# -- counting --------------------------------------------------------------------------------------------------------


class _Points(ABC):
    """The schedule's points in time; ``aligned`` schedules (cron) have fixed points, deltas start anywhere."""

    @abstractmethod
    def next_after(self, moment: datetime) -> datetime: ...

    @abstractmethod
    def at_or_after(self, moment: datetime) -> datetime: ...

    @abstractmethod
    def at_or_before(self, moment: datetime) -> datetime: ...


class _DeltaPoints(_Points):
    def __init__(self, delta: timedelta) -> None:
        self.delta = delta

    def next_after(self, moment: datetime) -> datetime:
        return moment + self.delta

    def at_or_after(self, moment: datetime) -> datetime:
        return moment

    def at_or_before(self, moment: datetime) -> datetime:
        return moment


class _CronPoints(_Points):
    def __init__(self, expression: str, zone: ZoneInfo) -> None:
        self.expression = expression
        self.zone = zone

    def _iter(self, start: datetime) -> object:
        from croniter import croniter  # type: ignore[import-untyped]  # croniter ships no type information

        return croniter(self.expression, start.astimezone(self.zone))

    def next_after(self, moment: datetime) -> datetime:
        return _utc(self._iter(moment).get_next(datetime))  # type: ignore[attr-defined]

    def at_or_after(self, moment: datetime) -> datetime:
        return self.next_after(moment - timedelta(microseconds=1))

    def at_or_before(self, moment: datetime) -> datetime:
        return _utc(self._iter(moment + timedelta(microseconds=1)).get_prev(datetime))  # type: ignore[attr-defined]


def _cron_points(expression: str, zone: ZoneInfo) -> _CronPoints | None:
    from croniter import croniter

    try:
        croniter(expression)
    except Exception:  # croniter raises several classes for an expression it refuses
        return None
    return _CronPoints(expression, zone)


def _count(
    points: _Points,
    start_date: datetime,
    end_date: datetime | None,
    catchup: bool,
    now: datetime,
    timetable: TimetableKind,
    limit: int,
    *,
    aligned: bool,
) -> int:
    """Replay the scheduler from an empty history: each run's start follows the previous one until one is not due."""
    if timetable == "trigger":
        # A run at each point, created when the point has come; without catchup only the latest.
        first = points.at_or_after(start_date)
        if not catchup:
            latest = points.at_or_before(now)
            first = max(first, latest) if aligned else max(first, now)
        due = 0
        point = first
        while point <= now and (end_date is None or point <= end_date) and due < limit:
            due += 1
            point = points.next_after(point)
        return due
    # Data intervals: a run when its interval ends; without catchup the first interval is the latest complete one.
    first = points.at_or_after(start_date)
    if not catchup:
        first = max(first, _latest_complete_start(points, now, aligned))
    due = 0
    start = first
    while (end_date is None or start <= end_date) and due < limit:
        end = points.next_after(start)
        if end > now:
            break
        due += 1
        start = end
    return due


def _latest_complete_start(points: _Points, now: datetime, aligned: bool) -> datetime:
    if not aligned:
        assert isinstance(points, _DeltaPoints)
        return now - points.delta
    last = points.at_or_before(now)
    # The interval that ends at the latest point: CronDataIntervalTimetable._skip_to_latest.
    return points.at_or_before(last - timedelta(microseconds=1))


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
