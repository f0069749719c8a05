"""The emulated Airflow scheduler: which scheduled runs a DAG gets, and when, catchup included.

Airflow asks a DAG's timetable for the next run (``Timetable.next_dagrun_info``) with the last
scheduled run's data interval, the DAG's ``start_date``/``end_date`` and ``catchup``; the
scheduler creates that run once its ``run_after`` has passed, and stops creating runs while
``max_active_runs`` of them are unfinished. The timetables here follow Airflow's own code:

* Airflow 2 turns a cron string or preset into ``CronDataIntervalTimetable`` (a run covers one
  interval, its logical date is the interval's start, it is created when the interval ends) and
  a ``timedelta`` (also the default schedule) into ``DeltaDataIntervalTimetable``.
* Airflow 3 turns them into ``CronTriggerTimetable`` / ``DeltaTriggerTimetable`` (a run at each
  fire time, logical date = data interval = fire time), unless ``[scheduler]
  create_cron_data_intervals`` / ``create_delta_data_intervals`` say otherwise.
* ``@once`` runs once at ``start_date``; ``None`` never.

Cron times are computed on naive local times in the DAG's time zone and localised afterwards,
as Airflow's ``CronMixin`` does, because croniter alone gets DST transitions wrong.
"""

from __future__ import annotations

import functools
import heapq
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

# airflow.utils.dates.cron_presets: expanded before croniter sees the expression.
CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@midnight": "0 0 * * *",
}
# The most scheduled runs the emulator creates for one DAG; past it, it refuses instead of miscounting.
MAX_SCHEDULED_RUNS = 100_000


class SchedulerLimitError(Exception):
    """The emulator would have to create more runs than it allows: a test setup to change, not a count to trust."""


@dataclass(frozen=True)
class RunInfo:
    """One run a timetable asks for: Airflow's ``DagRunInfo``."""

    data_interval_start: datetime
    data_interval_end: datetime
    logical_date: datetime
    # The earliest moment the scheduler creates the run (``run_after`` / ``next_dagrun_create_after``).
    run_after: datetime


@dataclass(frozen=True)
class Restriction:
    """Airflow's ``TimeRestriction``: the DAG's start and end dates, and whether it catches up."""

    earliest: datetime | None
    latest: datetime | None
    catchup: bool


class Timetable(Protocol):
    def next_run(self, last: RunInfo | None, restriction: Restriction, now: datetime) -> RunInfo | None:
        """The run after ``last`` (the latest scheduled run), as the scheduler would decide it at ``now``."""
        ...


def _interval(start: datetime, end: datetime, run_after: datetime | None = None) -> RunInfo:
    return RunInfo(start, end, start, end if run_after is None else run_after)


class _Cron:
    """Airflow's CronMixin: next and previous fire times, DST handled on naive local times."""

    def __init__(self, expression: str, timezone: tzinfo) -> None:
        from croniter import croniter  # type: ignore[import-untyped]  # croniter ships no type information

        self.expression = CRON_PRESETS.get(expression, expression)
        self.timezone = timezone
        # One parsed expression moved around with set_current: parsing dominates the cost of a step.
        self._cron = croniter(self.expression)
        # Expressions that fire every hour are shifted by elapsed time, not by wall clock (Airflow's
        # _covers_every_hour): otherwise a DST fold would skip or repeat an hour of runs.
        self._every_hour = self._cron.expanded[1] == ["*"]
        self._steps: dict[tuple[datetime, bool], datetime] = {}
        # Shared by every environment (cached per expression and zone); a step moves the croniter's state.
        self._lock = threading.Lock()

    def _naive(self, moment: datetime) -> datetime:
        return moment.astimezone(self.timezone).replace(tzinfo=None)

    def _aware(self, naive: datetime) -> datetime:
        return naive.replace(tzinfo=self.timezone).astimezone(UTC)

    def _step(self, current: datetime, forward: bool) -> datetime:
        key = (current, forward)
        known = self._steps.get(key)
        if known is not None:
            return known
        naive = self._naive(current)
        with self._lock:
            self._cron.set_current(naive, force=True)
            scheduled: datetime = self._cron.get_next(datetime) if forward else self._cron.get_prev(datetime)
        every_hour = current.astimezone(UTC) + (scheduled - naive)
        result = every_hour if self._every_hour else self._aware(scheduled)
        if len(self._steps) > 4096:
            self._steps.clear()
        self._steps[key] = result
        return result

    def get_next(self, current: datetime) -> datetime:
        return self._step(current, forward=True)

    def get_prev(self, current: datetime) -> datetime:
        return self._step(current, forward=False)

    def align_to_next(self, current: datetime) -> datetime:
        """``current`` when it is a fire time, else the next one."""
        following = self.get_next(current)
        return current if self.get_prev(following) == current else following

    def align_to_prev(self, current: datetime) -> datetime:
        """``current`` when it is a fire time, else the previous one."""
        previous = self.get_prev(current)
        return current if self.get_next(previous) == current else previous


@functools.lru_cache(maxsize=256)
def _cron(expression: str, timezone: tzinfo) -> _Cron:
    return _Cron(expression, timezone)


class CronDataIntervalTimetable:
    """Airflow 2's timetable for cron strings: one run per complete interval, logical date = its start."""

    def __init__(self, expression: str, timezone: tzinfo) -> None:
        self.cron = _cron(expression, timezone)

    def _skip_to_latest(self, earliest: datetime | None, now: datetime) -> datetime:
        # The start of the latest interval that has ended by now (the one starting now if now is a boundary).
        last_start = self.cron.get_prev(now)
        next_start = self.cron.get_next(last_start)
        new_start = last_start if next_start == now else self.cron.get_prev(last_start)
        return new_start if earliest is None else max(new_start, self.cron.align_to_next(earliest))

    def next_run(self, last: RunInfo | None, restriction: Restriction, now: datetime) -> RunInfo | None:
        earliest = restriction.earliest
        if not restriction.catchup:
            earliest = self._skip_to_latest(earliest, now)
        elif earliest is not None:
            earliest = self.cron.align_to_next(earliest)
        if last is None:
            if earliest is None:
                return None
            start = earliest
        else:
            previous_end = self.cron.align_to_prev(last.data_interval_end)
            start = previous_end if earliest is None else max(previous_end, earliest)
        if restriction.latest is not None and start > restriction.latest:
            return None
        return _interval(start, self.cron.get_next(start))


class DeltaDataIntervalTimetable:
    """Airflow 2's timetable for a timedelta schedule (and its default one day): intervals from start_date."""

    def __init__(self, delta: timedelta) -> None:
        self.delta = delta

    def next_run(self, last: RunInfo | None, restriction: Restriction, now: datetime) -> RunInfo | None:
        earliest = restriction.earliest
        if not restriction.catchup:
            latest_start = now - self.delta
            earliest = latest_start if earliest is None else max(latest_start, earliest)
        if last is None:
            if earliest is None:
                return None
            start = earliest
        else:
            start = last.data_interval_end if earliest is None else max(last.data_interval_end, earliest)
        if restriction.latest is not None and start > restriction.latest:
            return None
        return _interval(start, start + self.delta)


class _TriggerTimetable:
    """Airflow 3's trigger timetables: a run at each fire time, with a zero-length data interval."""

    def get_next(self, current: datetime) -> datetime:
        raise NotImplementedError

    def align_to_next(self, current: datetime) -> datetime:
        raise NotImplementedError

    def align_to_prev(self, current: datetime) -> datetime:
        raise NotImplementedError

    def first_run(self, now: datetime) -> datetime:
        raise NotImplementedError

    def next_run(self, last: RunInfo | None, restriction: Restriction, now: datetime) -> RunInfo | None:
        if restriction.catchup:
            if last is not None:
                fire = self.get_next(last.data_interval_end)
            elif restriction.earliest is None:
                fire = self.first_run(now)
            else:
                fire = self.align_to_next(restriction.earliest)
        else:
            candidates = [self.align_to_prev(now)]
            if last is not None:
                candidates.append(self.get_next(last.data_interval_end))
            elif restriction.earliest is None:
                candidates.append(self.first_run(now))
            if restriction.earliest is not None:
                candidates.append(self.align_to_next(restriction.earliest))
            fire = max(candidates)
        if restriction.latest is not None and restriction.latest < fire:
            return None
        return _interval(fire, fire)


class CronTriggerTimetable(_TriggerTimetable):
    def __init__(self, expression: str, timezone: tzinfo) -> None:
        self.cron = _cron(expression, timezone)

    def get_next(self, current: datetime) -> datetime:
        return self.cron.get_next(current)

    def align_to_next(self, current: datetime) -> datetime:
        return self.cron.align_to_next(current)

    def align_to_prev(self, current: datetime) -> datetime:
        return self.cron.align_to_prev(current)

    def first_run(self, now: datetime) -> datetime:
        # run_immediately=False, as Airflow's code reads it: the past fire time if it is recent enough.
        past, following = self.cron.align_to_prev(now), self.cron.align_to_next(now)
        buffer = max((following - past) / 10, timedelta(minutes=5))
        return past if now - past <= buffer else following


class DeltaTriggerTimetable(_TriggerTimetable):
    def __init__(self, delta: timedelta) -> None:
        self.delta = delta

    def get_next(self, current: datetime) -> datetime:
        return current + self.delta

    def align_to_next(self, current: datetime) -> datetime:
        return current

    def align_to_prev(self, current: datetime) -> datetime:
        return current

    def first_run(self, now: datetime) -> datetime:
        return now


class OnceTimetable:
    """``@once``: one run at start_date (or as soon as the DAG is seen without one), catchup or not."""

    def next_run(self, last: RunInfo | None, restriction: Restriction, now: datetime) -> RunInfo | None:
        if last is not None:
            return None
        run_after = restriction.earliest or now
        if restriction.latest is not None and run_after > restriction.latest:
            return None
        return _interval(run_after, run_after)


def timetable_for(
    schedule: str | None, delta: timedelta | None, timezone: tzinfo, *, data_intervals: bool
) -> Timetable | None:
    """The timetable Airflow builds from a DAG's ``schedule``; None for no schedule or one the emulator cannot run.

    ``data_intervals``: Airflow 2, or ``[scheduler] create_cron_data_intervals`` on Airflow 3.
    """
    if delta is not None:
        if delta <= timedelta():
            return None
        return DeltaDataIntervalTimetable(delta) if data_intervals else DeltaTriggerTimetable(delta)
    if schedule is None or schedule == "@continuous":
        # "@continuous" starts a new run as soon as the last ends; nothing here needs it, so it is not emulated.
        return None
    if schedule == "@once":
        return OnceTimetable()
    try:
        return (
            CronDataIntervalTimetable(schedule, timezone)
            if data_intervals
            else CronTriggerTimetable(schedule, timezone)
        )
    except Exception:  # whatever croniter refuses makes the DAG fail to import on Airflow: nothing is scheduled
        return None


# --------------------------------------------------------------------------------------------
# The scheduler loop for one DAG
# --------------------------------------------------------------------------------------------


@dataclass
class DagSchedule:
    """What the scheduler has done for one DAG: how far it has looked, its last run, its unfinished runs."""

    cursor: datetime
    last: RunInfo | None = None
    created: int = 0
    # End times of the runs it created that may still be unfinished (a heap).
    finishes: list[datetime] = field(default_factory=list)


@dataclass(frozen=True)
class CreatedRun:
    info: RunInfo
    created_at: datetime


def create_runs(
    schedule: DagSchedule,
    timetable: Timetable,
    restriction: Restriction,
    *,
    until: datetime,
    max_active_runs: int,
    run_seconds: float,
) -> list[CreatedRun]:
    """The runs the scheduler creates between ``schedule.cursor`` and ``until`` while the DAG is unpaused.

    A run is created once its ``run_after`` has passed and fewer than ``max_active_runs`` runs
    are unfinished; each created run runs for ``run_seconds``. Moves the cursor to ``until``.
    """
    created: list[CreatedRun] = []
    moment = schedule.cursor
    slots = max(1, max_active_runs)
    while moment <= until:
        while schedule.finishes and schedule.finishes[0] <= moment:
            heapq.heappop(schedule.finishes)
        if len(schedule.finishes) >= slots:
            moment = schedule.finishes[0]
            continue
        info = timetable.next_run(schedule.last, restriction, moment)
        if info is None or info.run_after > until:
            break
        if info.run_after > moment:
            # Decided again when it is due: without catchup the decision depends on the time it is taken.
            moment = info.run_after
            continue
        if schedule.last is not None and info.logical_date <= schedule.last.logical_date:
            break  # a timetable that does not move forward would loop: Airflow would not create it twice either
        if schedule.created >= MAX_SCHEDULED_RUNS:
            raise SchedulerLimitError(
                f"the emulated scheduler stops at {MAX_SCHEDULED_RUNS} scheduled runs per DAG; "
                "use a later start_date or catchup=False in the test"
            )
        created.append(CreatedRun(info, moment))
        schedule.last = info
        schedule.created += 1
        heapq.heappush(schedule.finishes, moment + timedelta(seconds=run_seconds))
    schedule.cursor = max(schedule.cursor, until)
    return created


__all__ = [
    "CRON_PRESETS",
    "MAX_SCHEDULED_RUNS",
    "CreatedRun",
    "CronDataIntervalTimetable",
    "CronTriggerTimetable",
    "DagSchedule",
    "DeltaDataIntervalTimetable",
    "DeltaTriggerTimetable",
    "OnceTimetable",
    "Restriction",
    "RunInfo",
    "SchedulerLimitError",
    "Timetable",
    "create_runs",
    "timetable_for",
]
