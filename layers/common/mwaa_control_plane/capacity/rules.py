"""The diagnosis rules: each one reads the per-minute signals, decides, and cites the numbers it decided on.

A rule returns a :class:`Finding` with a status:

- ``fires``: its condition holds; the finding names the cause (and, for concurrency_bound, the limit);
- ``clear``: its condition does not hold;
- ``borderline``: the numbers sit in the grey band just below the threshold (the diagnosis then says inconclusive
  rather than pick a side);
- ``not_evaluated``: the data it needs is missing (the finding says which).

The thresholds are the constants below, each with its reason; docs/worker-analysis.md has the rule table. The order
in which the rules decide is :data:`mwaa_control_plane.capacity.diagnosis.PRECEDENCE`.

"Backlog minutes" are the minutes in which tasks wait: QueuedTasks (waiting for a worker slot) plus starving tasks
(TasksStarving, else the pools' PoolStarvingTasks: waiting for a pool slot). Backlog minutes at most
:data:`BACKLOG_GAP_MINUTES` apart form one episode; the backlog is *sustained* when an episode lasts at least
:data:`BACKLOG_MIN_MINUTES` minutes, so the few minutes of queue each time MWAA scales out do not add up to one.
The rules then read every backlog minute of the window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict

from mwaa_control_plane.capacity.configuration import Capacity
from mwaa_control_plane.capacity.scenario import AirflowSnapshot, Scenario
from mwaa_control_plane.capacity.series import SIGNALS, Observations, Values, longest_run, median, observe, percentile

Cause = Literal[
    "capacity_bound",
    "cpu_starvation",
    "memory_starvation",
    "concurrency_bound",
    "stranded",
    "scheduler_unhealthy",
    "over_provisioned",
    "healthy",
    "inconclusive",
]
Status = Literal["fires", "clear", "borderline", "not_evaluated"]
Number = int | float | str | None

# --- thresholds ------------------------------------------------------------------------------------------------

MIN_WINDOW_MINUTES = 15
"""Shorter windows cannot show a sustained backlog or a 15-minute stranded queue."""
MIN_COVERAGE = 0.5
"""QueuedTasks and RunningTasks must cover half the window's minutes, or nothing can be concluded."""
BACKLOG_MIN_MINUTES = 10
"""A backlog is sustained when one episode lasts this long: two of the console's 300 s alarm periods."""
BACKLOG_GAP_MINUTES = 2
"""Minutes without waiting tasks that still belong to the same episode (a queue that flickers to 0 and back)."""
MAJORITY = 0.5
"""A condition "holds during the backlog" when it holds in at least half of the backlog minutes."""
BORDERLINE_SHARE = 0.25
"""... and is borderline when it holds in a quarter to a half of them."""
SLOTS_FULL = 0.9
"""Running tasks at 90 % of the slots count as full (tasks finish and start between samples)."""
STARVATION_PERCENT = 90.0
"""Issue #10: worker CPU or memory "above ~90 %"; the console alarms at 95 % on BaseWorker."""
STARVATION_BORDERLINE_PERCENT = 85.0
STRANDED_MINUTES = 15
"""AWS's dashboard sample: queued but nothing running over 900 s."""
STRANDED_BORDERLINE_MINUTES = 10
AGE_RISING = 0.5
"""The oldest task's age must grow at least 0.5 s per second of the stranded run (1.0 = nothing dequeued)."""
HEARTBEAT_GAP_MINUTES = 10
"""The console's alarm: SchedulerHeartbeat sum below 1 for 2 of 2 periods of 300 s, missing data breaching."""
HEARTBEAT_BORDERLINE_GAP_MINUTES = 5
PUBLICATION_LAG_MINUTES = 3
"""The window's last minutes may not be in CloudWatch yet: silence there is not a missing heartbeat."""
HEARTBEAT_RECENT_MINUTES = 15
"""Heartbeats of the window's last 15 minutes are compared with the minutes before."""
HEARTBEAT_BASELINE_MINUTES = 30
HEARTBEAT_LOST_SCHEDULERS = 0.8
"""Dropping: the rate fell by at least 0.8 of one scheduler's share (one of N schedulers stopped)."""
HEARTBEAT_BORDERLINE_LOST = 0.5
PARALLELISM_FULL = 0.95
IDLE_RESOURCES_PERCENT = 60.0
"""worker_autoscale is the limit only when both CPU and memory leave room (median below 60 %)."""
OVER_PROVISIONED_MARGIN = 2
"""MinWorkers at least two workers above the peak need, and at least twice it, is "far above"."""
OVER_PROVISIONED_MIN_MINUTES = 60
CLEARED_MINUTES = 15
"""A backlog is over when no task waited during the window's last 15 minutes."""


class Finding(BaseModel):
    """What one rule found: its status, the cause it names when it fires, the message and the numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    status: Status
    cause: Cause | None = None
    limit: str | None = None
    message: str
    evidence: dict[str, Number] = {}


def _round(value: float | None, digits: int = 1) -> float | int | None:
    if value is None:
        return None
    rounded = round(value, digits)
    return int(rounded) if float(rounded).is_integer() else rounded


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _percent(share: float) -> int | float | None:
    return _round(share * 100)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Context:
    """The scenario, its capacity and its signals, with the derived series every rule shares."""

    scenario: Scenario
    capacity: Capacity
    observations: Observations

    @cached_property
    def queued(self) -> Values:
        return self.observations["queued"].values

    @cached_property
    def running(self) -> Values:
        return self.observations["running"].values

    @cached_property
    def waiting(self) -> Values:
        return self.observations.waiting()

    @cached_property
    def workers(self) -> Values:
        return self.observations.workers(self.capacity)

    @cached_property
    def backlog(self) -> list[int]:
        """Minutes in which at least one task waited (queued for a worker or starving for a pool)."""
        return [m for m, value in enumerate(self.waiting) if value is not None and value >= 1]

    @cached_property
    def queue_backlog(self) -> list[int]:
        """Minutes in which at least one task was queued for a worker slot."""
        return [m for m, value in enumerate(self.queued) if value is not None and value >= 1]

    @cached_property
    def longest_episode(self) -> int:
        """Minutes of the longest backlog episode (backlog minutes at most BACKLOG_GAP_MINUTES apart)."""
        return _longest_episode(self.backlog)

    @cached_property
    def longest_queue_episode(self) -> int:
        return _longest_episode(self.queue_backlog)

    @property
    def sustained_backlog(self) -> bool:
        return self.longest_episode >= BACKLOG_MIN_MINUTES

    @property
    def airflow(self) -> AirflowSnapshot | None:
        return self.scenario.airflow

    def slots(self, minute: int) -> float:
        """Task slots of the workers up that minute (all of MaxWorkers when the count is unknown)."""
        workers = self.workers[minute]
        return self.capacity.max_slots if workers is None else workers * self.capacity.per_worker

    def over(self, minutes: Sequence[int], values: Values) -> list[float | None]:
        return [values[m] for m in minutes]

    def cleared(self) -> bool:
        """No task waited during the window's last :data:`CLEARED_MINUTES` minutes (with data for them)."""
        tail = self.waiting[-CLEARED_MINUTES:]
        return any(value is not None for value in tail) and all(value is None or value < 1 for value in tail)


def _longest_episode(minutes: Sequence[int]) -> int:
    best, first, previous = 0, None, None
    for minute in minutes:
        if first is None or previous is None or minute - previous > BACKLOG_GAP_MINUTES + 1:
            first = minute
        previous = minute
        best = max(best, minute - first + 1)
    return best


def context_of(scenario: Scenario) -> Context:
    return Context(scenario=scenario, capacity=scenario.environment.capacity(), observations=observe(scenario))


Rule = Callable[[Context], Finding]


# --- data ------------------------------------------------------------------------------------------------------


def required_data(context: Context) -> Finding:
    """The queue metrics must cover the window: without them no cause can be told from another."""
    minutes = context.observations.minutes
    evidence: dict[str, Number] = {"window_minutes": minutes, "required_coverage_percent": _percent(MIN_COVERAGE)}
    if minutes < MIN_WINDOW_MINUTES:
        return Finding(
            rule="required-data",
            status="fires",
            cause="inconclusive",
            message=f"The window is {minutes} minutes long; the analysis needs at least {MIN_WINDOW_MINUTES}.",
            evidence=evidence | {"minimum_window_minutes": MIN_WINDOW_MINUTES},
        )
    short = []
    for name, metric in (("queued", "QueuedTasks"), ("running", "RunningTasks")):
        points = context.observations[name].points
        evidence[f"{metric}_minutes"] = points
        if points < MIN_COVERAGE * minutes:
            short.append(f"{metric} has data for {points} of {minutes} minutes (searched: {SIGNALS[name].describe()})")
    if short:
        return Finding(
            rule="required-data",
            status="fires",
            cause="inconclusive",
            message="Not enough queue data to tell one cause from another: " + "; ".join(short) + ".",
            evidence=evidence,
        )
    return Finding(
        rule="required-data",
        status="clear",
        message="QueuedTasks and RunningTasks cover the window.",
        evidence=evidence,
    )


def consistency(context: Context) -> Finding:
    """The metrics must fit the recorded configuration; if they do not, the configuration changed or is wrong."""
    capacity = context.capacity
    limit = capacity.max_slots * 1.1 + 1
    over_slots = [m for m, value in enumerate(context.running) if value is not None and value > limit]
    over_workers = [
        m for m, value in enumerate(context.workers) if value is not None and value > capacity.max_workers + 0.5
    ]
    evidence: dict[str, Number] = {
        "max_workers": capacity.max_workers,
        "tasks_per_worker": capacity.per_worker,
        "max_slots": capacity.max_slots,
        "peak_running": _round(max((v for v in context.running if v is not None), default=None)),
        "peak_workers": _round(max((v for v in context.workers if v is not None), default=None)),
    }
    problems = []
    if len(over_slots) >= 5:
        problems.append(
            f"RunningTasks was above the {capacity.max_slots} slots that MaxWorkers {capacity.max_workers} x "
            f"{capacity.per_worker} tasks per worker ({capacity.tasks_per_worker.source}) allow, in "
            f"{len(over_slots)} minutes"
        )
    if len(over_workers) >= 5:
        problems.append(f"more than MaxWorkers {capacity.max_workers} workers ran in {len(over_workers)} minutes")
    if problems:
        return Finding(
            rule="consistency",
            status="fires",
            cause="inconclusive",
            message="The metrics contradict the recorded configuration: "
            + "; ".join(problems)
            + ". Was the environment changed during the window, or is a configuration option missing?",
            evidence=evidence | {"minutes_over_slots": len(over_slots), "minutes_over_max_workers": len(over_workers)},
        )
    return Finding(
        rule="consistency", status="clear", message="The metrics fit the recorded configuration.", evidence=evidence
    )


def _no_backlog(rule: str, context: Context, more: str = "") -> Finding:
    return Finding(
        rule=rule,
        status="clear",
        message=f"No sustained backlog (longest {context.longest_episode} minutes; {len(context.backlog)} minutes "
        f"with waiting tasks in all){more}.",
        evidence={"backlog_minutes": len(context.backlog), "longest_backlog_minutes": context.longest_episode},
    )


# --- scheduler and worker health -------------------------------------------------------------------------------


def scheduler_heartbeat(context: Context) -> Finding:
    """scheduler_unhealthy: heartbeats missing for 10 minutes, or dropping by one scheduler's share."""
    observations = context.observations
    heartbeat = observations["heartbeat"]
    schedulers = context.capacity.schedulers
    if not heartbeat.present:
        return Finding(
            rule="scheduler-heartbeat",
            status="not_evaluated",
            message="SchedulerHeartbeat (AmazonMWAA, Function=Scheduler) is not in the data: scheduler health "
            "was not judged.",
        )
    last = observations.latest_airflow_minute
    if last is None:
        return Finding(
            rule="scheduler-heartbeat",
            status="not_evaluated",
            message="No AmazonMWAA metric has a datapoint in the window: Airflow's metrics were not published or "
            "not gathered (or the scheduler, which publishes most of them, was down all along). Scheduler health "
            "was not judged.",
        )
    # Missing data is breaching, as in the console's alarm, except in the last minutes CloudWatch may not have
    # received yet. The scheduler publishes most AmazonMWAA metrics, so they all stop with it: a longer silence
    # at the end of the window counts.
    end = max(last, observations.minutes - 1 - PUBLICATION_LAG_MINUTES)
    rate = [heartbeat.values[m] or 0.0 for m in range(end + 1)]
    gap, gap_start = longest_run([value < 1 for value in rate])
    evidence: dict[str, Number] = {
        "schedulers": schedulers,
        "longest_gap_minutes": gap,
        "gap_start": _iso(observations.time(gap_start)) if gap else None,
    }
    status: Status = "clear"
    reasons = []
    if gap >= HEARTBEAT_GAP_MINUTES:
        status = "fires"
        reasons.append(f"no scheduler heartbeat for {gap} minutes from {_iso(observations.time(gap_start))}")
    elif gap >= HEARTBEAT_BORDERLINE_GAP_MINUTES:
        status = "borderline"
        reasons.append(f"no scheduler heartbeat for {gap} minutes (an alarm needs {HEARTBEAT_GAP_MINUTES})")
    if len(rate) >= HEARTBEAT_RECENT_MINUTES + HEARTBEAT_BASELINE_MINUTES:
        baseline = median(rate[:-HEARTBEAT_RECENT_MINUTES]) or 0.0
        recent = median(rate[-HEARTBEAT_RECENT_MINUTES:]) or 0.0
        lost = (baseline - recent) / (baseline / schedulers) if baseline > 0 else 0.0
        evidence |= {
            "baseline_per_minute": _round(baseline),
            "recent_per_minute": _round(recent),
            "schedulers_lost": _round(lost, 2),
        }
        if lost >= HEARTBEAT_LOST_SCHEDULERS:
            status = "fires"
            reasons.append(
                f"heartbeats fell from {_round(baseline)} to {_round(recent)} a minute over the last "
                f"{HEARTBEAT_RECENT_MINUTES} minutes: about {_round(lost, 1)} of {schedulers} schedulers' worth"
            )
        elif lost >= HEARTBEAT_BORDERLINE_LOST and status != "fires":
            status = "borderline"
            reasons.append(
                f"heartbeats fell from {_round(baseline)} to {_round(recent)} a minute ({_round(lost, 2)} of one "
                f"scheduler's share; {HEARTBEAT_LOST_SCHEDULERS} would count as dropping)"
            )
    # The schedulers' CPU where it matters: during the gap, else over the recent minutes compared.
    scheduler_cpu = observations["scheduler_cpu"].values
    if gap >= HEARTBEAT_BORDERLINE_GAP_MINUTES:
        cpu_minutes = range(gap_start, gap_start + gap)
    elif "recent_per_minute" in evidence:
        cpu_minutes = range(len(rate) - HEARTBEAT_RECENT_MINUTES, len(rate))
    else:
        cpu_minutes = range(observations.minutes)
    cpu = median(scheduler_cpu[m] for m in cpu_minutes)
    if cpu is not None:
        evidence["median_scheduler_cpu_percent"] = _round(cpu)
    if status == "clear":
        return Finding(
            rule="scheduler-heartbeat",
            status="clear",
            message=f"Scheduler heartbeats are steady (longest gap {gap} minutes).",
            evidence=evidence,
        )
    return Finding(
        rule="scheduler-heartbeat",
        status=status,
        cause="scheduler_unhealthy" if status == "fires" else None,
        message="Scheduler unhealthy: " + "; ".join(reasons) + "." if status == "fires" else "; ".join(reasons) + ".",
        evidence=evidence,
    )


def stranded(context: Context) -> Finding:
    """stranded: tasks queued while nothing runs for 15 minutes, the oldest task's age rising."""
    flags = [
        queued is not None and queued >= 1 and running is not None and running < 0.5
        for queued, running in zip(context.queued, context.running, strict=True)
    ]
    run, start = longest_run(flags)
    evidence: dict[str, Number] = {"stranded_minutes": run, "required_minutes": STRANDED_MINUTES}
    if run < STRANDED_BORDERLINE_MINUTES:
        return Finding(
            rule="stranded",
            status="clear",
            message=f"Queued tasks never waited with nothing running for {STRANDED_BORDERLINE_MINUTES} minutes "
            f"(longest: {run}).",
            evidence=evidence,
        )
    observations = context.observations
    minutes = range(start, start + run)
    evidence |= {
        "from": _iso(observations.time(start)),
        "to": _iso(observations.time(start + run)),
        "peak_queued": _round(max(context.queued[m] or 0.0 for m in minutes)),
    }
    ages = [
        (m, observations["oldest_age"].values[m]) for m in minutes if observations["oldest_age"].values[m] is not None
    ]
    age_note = ""
    rising: bool | None = None
    if len(ages) >= 2:
        (first, first_age), (last, last_age) = ages[0], ages[-1]
        assert first_age is not None
        assert last_age is not None
        rise = last_age - first_age
        rising = rise >= AGE_RISING * (last - first) * 60
        evidence |= {"oldest_age_start_s": _round(first_age), "oldest_age_end_s": _round(last_age)}
    else:
        age_note = " ApproximateAgeOfOldestTask is not in the data: judged on QueuedTasks and RunningTasks alone, as "
        age_note += "AWS's dashboard sample does."
    span = f"{run} minutes from {evidence['from']}"
    if run >= STRANDED_MINUTES and rising is False:
        return Finding(
            rule="stranded",
            status="borderline",
            message=f"Tasks were queued with nothing running for {span}, yet the oldest task's age did not rise "
            f"({evidence['oldest_age_start_s']} s to {evidence['oldest_age_end_s']} s): the data contradicts itself.",
            evidence=evidence,
        )
    if run >= STRANDED_MINUTES:
        age_text = "" if rising is None else f"; the oldest task aged from {evidence['oldest_age_start_s']} s to "
        age_text += "" if rising is None else f"{evidence['oldest_age_end_s']} s"
        return Finding(
            rule="stranded",
            status="fires",
            cause="stranded",
            message=f"Stranded: up to {evidence['peak_queued']} tasks queued while none ran for {span}{age_text}. "
            "Nothing picks tasks up: worker or scheduler health, not capacity." + age_note,
            evidence=evidence,
        )
    return Finding(
        rule="stranded",
        status="borderline",
        message=f"Tasks were queued with nothing running for {span} (stranded needs {STRANDED_MINUTES}).",
        evidence=evidence,
    )


# --- resources and capacity ------------------------------------------------------------------------------------


def _starvation(context: Context, resource: Literal["cpu", "memory"]) -> Finding:
    rule = f"{resource}-starvation"
    cause: Cause = "cpu_starvation" if resource == "cpu" else "memory_starvation"
    label = "CPU" if resource == "cpu" else "memory"
    backlog = context.backlog
    if not context.sustained_backlog:
        return _no_backlog(rule, context)
    capacity = context.capacity
    below = [
        m
        for m in backlog
        if context.running[m] is not None and (context.running[m] or 0) < SLOTS_FULL * context.slots(m)
    ]
    share_below = _share(len(below), len(backlog))
    evidence: dict[str, Number] = {
        "backlog_minutes": len(backlog),
        "minutes_below_slots": len(below),
        "median_running": _round(median(context.over(backlog, context.running))),
        "median_slots": _round(median([context.slots(m) for m in backlog])),
        "tasks_per_worker": capacity.per_worker,
    }
    if share_below < MAJORITY:
        return Finding(
            rule=rule,
            status="clear",
            message=f"The workers' slots were full in {len(backlog) - len(below)} of {len(backlog)} backlog minutes: "
            "not starvation.",
            evidence=evidence,
        )
    utilisation = context.observations.worker_utilisation(resource)
    values = context.over(backlog, utilisation.values)
    typical = median(values)
    if typical is None:
        return Finding(
            rule=rule,
            status="not_evaluated",
            message=f"Worker {label} (AWS/MWAA {'CPUUtilization' if resource == 'cpu' else 'MemoryUtilization'}, "
            f"Cluster=BaseWorker/AdditionalWorker) is not in the data for the backlog: {label} starvation cannot be "
            "ruled out.",
            evidence=evidence,
        )
    peak = max(v for v in values if v is not None)
    evidence |= {
        f"median_worker_{resource}_percent": _round(typical),
        f"peak_worker_{resource}_percent": _round(peak),
        "threshold_percent": _round(STARVATION_PERCENT),
    }
    running_text = (
        f"running tasks stayed below the slots (median {evidence['median_running']} of {evidence['median_slots']})"
    )
    if typical >= STARVATION_PERCENT:
        return Finding(
            rule=rule,
            status="fires",
            cause=cause,
            message=f"Worker {label} starvation: median worker {label} {_round(typical)} % (peak {_round(peak)} %) "
            f"during {len(backlog)} backlog minutes while {running_text}. More workers of this class will not help: "
            "fewer tasks per worker or a larger class will.",
            evidence=evidence,
        )
    if typical >= STARVATION_BORDERLINE_PERCENT:
        return Finding(
            rule=rule,
            status="borderline",
            message=f"Worker {label} was high but not clearly starved: median {_round(typical)} % during the backlog "
            f"(starvation from {_round(STARVATION_PERCENT)} %) while {running_text}.",
            evidence=evidence,
        )
    return Finding(
        rule=rule,
        status="clear",
        message=f"Worker {label} left room: median {_round(typical)} % during the backlog.",
        evidence=evidence,
    )


def memory_starvation(context: Context) -> Finding:
    """memory_starvation: worker memory at 90 % or more while tasks wait and the slots are not full."""
    return _starvation(context, "memory")


def cpu_starvation(context: Context) -> Finding:
    """cpu_starvation: worker CPU at 90 % or more while tasks wait and the slots are not full."""
    return _starvation(context, "cpu")


def required_workers(context: Context, minutes: Sequence[int]) -> tuple[int, float | None]:
    """(workers, p95 demand): ceil(p95 of running + queued over ``minutes`` / tasks per worker), MWAA's formula."""
    demand = [
        None
        if context.running[m] is None or context.queued[m] is None
        else (context.running[m] or 0) + (context.queued[m] or 0)
        for m in minutes
    ]
    peak = percentile(demand, 95)
    if peak is None:
        return context.capacity.min_workers, None
    return max(1, math.ceil(peak / context.capacity.per_worker)), peak


def capacity(context: Context) -> Finding:
    """capacity_bound: tasks queued while every worker up to MaxWorkers has its slots full."""
    backlog = context.queue_backlog
    cap = context.capacity
    if context.longest_queue_episode < BACKLOG_MIN_MINUTES:
        return Finding(
            rule="capacity",
            status="clear",
            message=f"No sustained queue (longest {context.longest_queue_episode} minutes; {len(backlog)} minutes "
            "with queued tasks in all).",
            evidence={"queue_backlog_minutes": len(backlog), "longest_queue_minutes": context.longest_queue_episode},
        )
    full = [m for m in backlog if (context.running[m] or 0) >= SLOTS_FULL * cap.max_slots]
    share = _share(len(full), len(backlog))
    needed, demand = required_workers(context, backlog)
    at_max = [
        m for m in backlog if context.workers[m] is not None and (context.workers[m] or 0) >= cap.max_workers - 0.5
    ]
    known_workers = [m for m in backlog if context.workers[m] is not None]
    evidence: dict[str, Number] = {
        "queue_backlog_minutes": len(backlog),
        "minutes_full_at_max": len(full),
        "share_full_percent": _percent(share),
        "max_workers": cap.max_workers,
        "tasks_per_worker": cap.per_worker,
        "max_slots": cap.max_slots,
        "median_running": _round(median(context.over(backlog, context.running))),
        "peak_queued": _round(max((context.queued[m] or 0) for m in backlog)),
        "p95_demand": _round(demand),
        "required_workers": needed,
        "minutes_at_max_workers": len(at_max) if known_workers else None,
    }
    age = max(
        (v for v in context.over(backlog, context.observations["oldest_age"].values) if v is not None), default=None
    )
    if age is not None:
        evidence["peak_oldest_age_s"] = _round(age)
    slots_text = f"{cap.max_workers} workers x {cap.per_worker} tasks = {cap.max_slots} slots"
    if share >= MAJORITY:
        return Finding(
            rule="capacity",
            status="fires",
            cause="capacity_bound",
            message=f"Capacity bound: tasks queued for {len(backlog)} minutes and in {len(full)} of them the "
            f"{slots_text} at MaxWorkers were full (running at least {_round(SLOTS_FULL * cap.max_slots)}); the "
            f"p95 demand of {_round(demand)} tasks needs {needed} workers.",
            evidence=evidence,
        )
    if share >= BORDERLINE_SHARE:
        return Finding(
            rule="capacity",
            status="borderline",
            message=f"The {slots_text} were full in {len(full)} of {len(backlog)} queued minutes "
            f"({_percent(share)} %; capacity bound from {_percent(MAJORITY)} %).",
            evidence=evidence,
        )
    return Finding(
        rule="capacity",
        status="clear",
        message=f"The slots at MaxWorkers were full in only {len(full)} of {len(backlog)} queued minutes.",
        evidence=evidence,
    )


# --- concurrency limits ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Limit:
    limit: str
    message: str
    evidence: dict[str, Number]


def _pool_limit(context: Context, minutes: Sequence[int]) -> _Limit | None:
    """A pool with no open slot while tasks starve for one (metrics), or full while tasks wait on it (Airflow)."""
    candidates: list[tuple[float, _Limit]] = []
    airflow = context.airflow
    slots = {pool.name: pool.slots for pool in airflow.pools} if airflow is not None else {}
    for name, signals in context.observations.pools.items():
        open_slots = context.over(minutes, signals["open"].values)
        known_open = [v for v in open_slots if v is not None]
        if not known_open:
            continue
        closed = sum(v <= 0 for v in known_open)
        starving_signal = signals["starving"] if signals["starving"].present else context.observations["starving"]
        starving = median(context.over(minutes, starving_signal.values))
        if _share(closed, len(minutes)) >= MAJORITY and starving:
            candidates.append(
                (
                    starving,
                    _Limit(
                        f"pool:{name}",
                        f"pool {name} had no open slot in {closed} of {len(minutes)} minutes while a median of "
                        f"{_round(starving)} tasks starved for a slot",
                        {
                            "pool": name,
                            "pool_slots": slots.get(name),
                            "minutes_pool_full": closed,
                            "median_starving": _round(starving),
                        },
                    ),
                )
            )
    if not candidates and airflow is not None:
        starving = median(context.over(minutes, context.observations.starving().values))
        for pool in airflow.pools:
            if pool.slots < 0:
                continue
            held = pool.scheduled or 0
            if pool.running + pool.queued >= pool.slots and (held > 0 or (starving or 0) > 0):
                waiting = held or starving or 0
                candidates.append(
                    (
                        waiting,
                        _Limit(
                            f"pool:{pool.name}",
                            f"pool {pool.name} was full when Airflow was asked ({pool.running} running + {pool.queued} "
                            f"queued of {pool.slots} slots) with "
                            + (
                                f"{held} tasks scheduled for it"
                                if held
                                else f"a median of {_round(starving)} tasks starving"
                            ),
                            {
                                "pool": pool.name,
                                "pool_slots": pool.slots,
                                "pool_running": pool.running,
                                "pool_queued": pool.queued,
                                "pool_scheduled": pool.scheduled,
                                "median_starving": _round(starving),
                            },
                        ),
                    )
                )
    if not candidates:
        return None
    return max(candidates, key=lambda item: item[0])[1]


def _parallelism_limit(context: Context, minutes: Sequence[int]) -> _Limit | None:
    cap = context.capacity
    open_slots = context.observations["open_slots"]
    total = cap.parallelism_total
    setting = f"core.parallelism {cap.parallelism.value} ({cap.parallelism.source}) x {cap.schedulers} schedulers"
    evidence: dict[str, Number] = {
        "parallelism": cap.parallelism.value,
        "parallelism_source": cap.parallelism.source,
        "schedulers": cap.schedulers,
        "median_running": _round(median(context.over(minutes, context.running))),
    }
    if open_slots.present:
        values = [v for v in context.over(minutes, open_slots.values) if v is not None]
        closed = sum(v <= 0 for v in values)
        if values and _share(closed, len(minutes)) >= MAJORITY:
            return _Limit(
                "parallelism",
                f"the executor had no open slot (AmazonMWAA OpenSlots 0) in {closed} of {len(minutes)} minutes: "
                f"{setting} is reached",
                evidence | {"minutes_executor_full": closed},
            )
        return None
    if total is None:
        return None
    at_limit = [m for m in minutes if (context.running[m] or 0) >= PARALLELISM_FULL * total]
    if _share(len(at_limit), len(minutes)) >= MAJORITY:
        return _Limit(
            "parallelism",
            f"running tasks stayed at the environment's parallelism ({setting} = {total}) in {len(at_limit)} of "
            f"{len(minutes)} minutes",
            evidence | {"parallelism_total": total, "minutes_at_parallelism": len(at_limit)},
        )
    return None


def _dag_limits(context: Context) -> _Limit | None:
    """A DAG at max_active_runs with runs queued, or at max_active_tasks with tasks scheduled (Airflow's counts)."""
    airflow = context.airflow
    if airflow is None or not airflow.dags:
        return None
    cap = context.capacity
    runs = [
        dag
        for dag in airflow.dags
        if dag.queued_runs > 0
        and dag.running_runs >= (dag.max_active_runs or cap.max_active_runs_per_dag.value or math.inf)
    ]
    if runs:
        dag = max(runs, key=lambda d: d.queued_runs)
        own = dag.max_active_runs is not None
        limit = dag.max_active_runs if own else cap.max_active_runs_per_dag.value
        source = (
            "the DAG's max_active_runs"
            if own
            else f"core.max_active_runs_per_dag, {cap.max_active_runs_per_dag.source}"
        )
        return _Limit(
            "max_active_runs_per_dag",
            f"DAG {dag.dag_id} had {dag.running_runs} runs running, its limit of {limit} ({source}), and "
            f"{dag.queued_runs} runs queued behind them",
            {
                "dag_id": dag.dag_id,
                "running_runs": dag.running_runs,
                "queued_runs": dag.queued_runs,
                "dag_running_tasks": dag.running,
                "running_tasks": airflow.running_tasks,
                "limit": limit,
            },
        )
    tasks = [
        dag
        for dag in airflow.dags
        if dag.scheduled > 0
        and dag.running + dag.queued >= (dag.max_active_tasks or cap.max_active_tasks_per_dag.value or math.inf)
    ]
    if tasks:
        dag = max(tasks, key=lambda d: d.scheduled)
        own = dag.max_active_tasks is not None
        limit = dag.max_active_tasks if own else cap.max_active_tasks_per_dag.value
        source = (
            "the DAG's max_active_tasks"
            if own
            else f"core.max_active_tasks_per_dag, {cap.max_active_tasks_per_dag.source}"
        )
        return _Limit(
            "max_active_tasks_per_dag",
            f"DAG {dag.dag_id} had {dag.running + dag.queued} tasks running or queued, its limit of {limit} "
            f"({source}), and {dag.scheduled} more scheduled behind them",
            {
                "dag_id": dag.dag_id,
                "running": dag.running,
                "queued": dag.queued,
                "scheduled": dag.scheduled,
                "limit": limit,
            },
        )
    return None


def _worker_autoscale_limit(context: Context, minutes: Sequence[int]) -> _Limit | None:
    """Each worker full at its celery.worker_autoscale while its CPU and memory leave room."""
    cap = context.capacity
    if cap.per_worker >= cap.class_tasks_per_worker:
        return None
    known = [m for m in minutes if context.workers[m] is not None]
    if not known:
        return None
    full = [m for m in known if (context.running[m] or 0) >= SLOTS_FULL * context.slots(m)]
    cpu = median(context.over(minutes, context.observations.worker_utilisation("cpu").values))
    memory = median(context.over(minutes, context.observations.worker_utilisation("memory").values))
    if cpu is None or memory is None or _share(len(full), len(minutes)) < MAJORITY:
        return None
    if max(cpu, memory) >= IDLE_RESOURCES_PERCENT:
        return None
    return _Limit(
        "worker_autoscale",
        f"each worker ran its {cap.per_worker} tasks (celery.worker_autoscale, below the {cap.class_tasks_per_worker} "
        f"{cap.environment_class} runs by default) in {len(full)} of {len(minutes)} minutes while worker CPU "
        f"({_round(cpu)} %) and memory ({_round(memory)} %) left room",
        {
            "tasks_per_worker": cap.per_worker,
            "class_tasks_per_worker": cap.class_tasks_per_worker,
            "median_worker_cpu_percent": _round(cpu),
            "median_worker_memory_percent": _round(memory),
            "minutes_workers_full": len(full),
        },
    )


def _held_at_snapshot(airflow: AirflowSnapshot | None) -> int:
    if airflow is None:
        return 0
    held = (airflow.scheduled_tasks or 0) + sum(pool.scheduled or 0 for pool in airflow.pools)
    return held + sum(dag.scheduled + dag.queued_runs for dag in airflow.dags)


def concurrency(context: Context) -> Finding:
    """concurrency_bound: tasks wait with idle slots and workers below MaxWorkers; names the limit that holds them.

    Limits are tried in this order, each on direct evidence: a pool (no open slot while tasks starve), parallelism
    (the executor's OpenSlots at 0, or running at parallelism x schedulers), a DAG's max_active_runs, a DAG's
    max_active_tasks (Airflow's per-DAG counts), celery.worker_autoscale (workers full at a lowered per-worker
    concurrency while CPU and memory are idle). Without a backlog in the metrics, Airflow's counts alone can show
    tasks held in ``scheduled`` by a pool or a DAG limit (nothing waits in a queue then).
    """
    cap = context.capacity
    backlog = context.backlog
    airflow = context.airflow
    held = _held_at_snapshot(airflow)
    if context.sustained_backlog:
        minutes = backlog
        idle = [
            m
            for m in minutes
            if context.running[m] is not None and (context.running[m] or 0) < SLOTS_FULL * cap.max_slots
        ]
        workers = median(context.over(minutes, context.workers))
        evidence: dict[str, Number] = {
            "backlog_minutes": len(minutes),
            "minutes_with_idle_slots": len(idle),
            "max_slots": cap.max_slots,
            "median_running": _round(median(context.over(minutes, context.running))),
            "median_waiting": _round(median(context.over(minutes, context.waiting))),
            "median_workers": _round(workers),
            "max_workers": cap.max_workers,
        }
        if _share(len(idle), len(minutes)) < MAJORITY:
            return Finding(
                rule="concurrency",
                status="clear",
                message="The slots at MaxWorkers were full during the backlog: not a concurrency limit.",
                evidence=evidence,
            )
        if workers is not None and workers >= cap.max_workers - 0.5:
            return Finding(
                rule="concurrency",
                status="clear",
                message=f"Workers were at MaxWorkers ({cap.max_workers}) during the backlog: not a concurrency limit.",
                evidence=evidence,
            )
        found = (
            _pool_limit(context, minutes)
            or _parallelism_limit(context, minutes)
            or _dag_limits(context)
            or _worker_autoscale_limit(context, minutes)
        )
        median_running = evidence["median_running"]
        where = (
            f"tasks waited for {len(minutes)} minutes with idle slots "
            f"(median running {median_running} of {cap.max_slots})"
        )
    elif held > 0:
        tail = list(range(max(0, context.observations.minutes - BACKLOG_MIN_MINUTES), context.observations.minutes))
        running_now = airflow.running_tasks if airflow is not None and airflow.running_tasks is not None else None
        evidence = {"held_when_asked": held, "running_when_asked": running_now, "max_slots": cap.max_slots}
        if running_now is not None and running_now >= SLOTS_FULL * cap.max_slots:
            return Finding(
                rule="concurrency",
                status="clear",
                message="Tasks were held while the slots were full: not a concurrency limit.",
                evidence=evidence,
            )
        found = _pool_limit(context, tail) or _parallelism_limit(context, tail) or _dag_limits(context)
        where = f"Airflow held {held} tasks or runs back while slots were idle"
    else:
        return _no_backlog("concurrency", context, " and nothing held back")
    if found is not None:
        return Finding(
            rule="concurrency",
            status="fires",
            cause="concurrency_bound",
            limit=found.limit,
            message=f"Concurrency bound ({found.limit}): {where}; {found.message}.",
            evidence=evidence | found.evidence,
        )
    missing = []
    if not context.observations["open_slots"].present:
        missing.append("the executor's OpenSlots")
    if not context.observations.pools and not (airflow and airflow.pools):
        missing.append("pool metrics or Airflow's pools")
    if not (airflow and airflow.dags):
        missing.append("Airflow's per-DAG counts")
    text = f"{where}, but no limit matches"
    if missing:
        text += f" (not in the data: {', '.join(missing)})"
    return Finding(
        rule="concurrency",
        status="not_evaluated" if missing else "clear",
        message=text + ".",
        evidence=evidence,
    )


# --- cost ------------------------------------------------------------------------------------------------------


def over_provisioned(context: Context) -> Finding:
    """over_provisioned: MinWorkers at least 2 above (and twice) the peak need over at least an hour without backlog."""
    cap = context.capacity
    if context.sustained_backlog:
        return Finding(
            rule="over-provisioned",
            status="clear",
            message=f"Tasks waited for {context.longest_episode} minutes in a row: not over-provisioned.",
            evidence={"backlog_minutes": len(context.backlog), "longest_backlog_minutes": context.longest_episode},
        )
    both = [
        m
        for m in range(context.observations.minutes)
        if context.running[m] is not None and context.queued[m] is not None
    ]
    if len(both) < OVER_PROVISIONED_MIN_MINUTES:
        return Finding(
            rule="over-provisioned",
            status="not_evaluated",
            message=f"Only {len(both)} minutes of queue data: sizing MinWorkers needs {OVER_PROVISIONED_MIN_MINUTES}.",
            evidence={"minutes_with_data": len(both)},
        )
    demand = [(context.running[m] or 0) + (context.queued[m] or 0) for m in both]
    peak_demand = max(demand)
    peak_need = max(1, math.ceil(peak_demand / cap.per_worker))
    evidence: dict[str, Number] = {
        "min_workers": cap.min_workers,
        "peak_demand": _round(peak_demand),
        "median_demand": _round(median(demand)),
        "tasks_per_worker": cap.per_worker,
        "peak_need_workers": peak_need,
        "minutes_with_data": len(both),
    }
    if cap.min_workers - peak_need >= OVER_PROVISIONED_MARGIN and cap.min_workers >= 2 * peak_need:
        return Finding(
            rule="over-provisioned",
            status="fires",
            cause="over_provisioned",
            message=f"Over-provisioned: MinWorkers is {cap.min_workers} but at most {_round(peak_demand)} tasks ran "
            f"or waited at once over {len(both)} minutes, which {peak_need} worker(s) of {cap.per_worker} tasks "
            "cover; the workers above that always run and always bill.",
            evidence=evidence,
        )
    return Finding(
        rule="over-provisioned",
        status="clear",
        message=f"MinWorkers {cap.min_workers} is not far above the peak need of {peak_need} worker(s).",
        evidence=evidence,
    )
