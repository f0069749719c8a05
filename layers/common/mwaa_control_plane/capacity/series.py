"""From a scenario's metrics to the per-minute series the rules read, under CloudWatch's real names for MWAA.

Each signal the rules need is found by namespace, metric name and dimensions (docs/mwaa-facts.md § CloudWatch
metrics; the pool metrics from MWAA's user guide, "Apache Airflow environment metrics in CloudWatch"):

=================== =============================================================================================
signal              metric (first match wins; statistic preference in brackets)
=================== =============================================================================================
queued              ``AWS/MWAA`` QueuedTasks {Environment}; else ``AmazonMWAA`` QueuedTasks {Function=Executor}
                    [Maximum, Average]
running             the same for RunningTasks [Maximum, Average]
oldest_age          ``AWS/MWAA`` ApproximateAgeOfOldestTask {Environment} [Maximum, Average] (seconds)
base_cpu, ...       ``AWS/MWAA`` CPUUtilization / MemoryUtilization {Environment, Cluster=BaseWorker,
                    AdditionalWorker or Scheduler} [Average, Maximum] (percent)
base_workers,       ``AWS/MWAA`` CPUUtilization {Cluster=BaseWorker / AdditionalWorker} [SampleCount]: container
additional_workers  metrics are sampled once a minute per worker, so the SampleCount over one minute is the number
                    of workers (over a longer period it is divided by the period's minutes)
heartbeat           ``AmazonMWAA`` SchedulerHeartbeat {Function=Scheduler} [Sum], as heartbeats per minute
open_slots          ``AmazonMWAA`` OpenSlots {Function=Executor} [Minimum, Average, Maximum]
starving            ``AmazonMWAA`` TasksStarving {Function=Scheduler} [Maximum, Average]; the spelling
                    StarvingTasks is accepted too (Airflow's name is ``scheduler.tasks.starving``)
pool_*              ``AmazonMWAA`` PoolOpenSlots [Minimum, Average, Maximum], PoolRunningSlots, PoolQueuedSlots,
                    PoolStarvingTasks [Maximum, Average] {Pool=<name>}
=================== =============================================================================================

Every series is placed on a one-minute grid from the window's start. A datapoint's timestamp is the start of its
period (as CloudWatch reports it) and covers the whole period: a gauge keeps its value for each minute, a Sum or
SampleCount is divided evenly. Finer periods (high resolution) are reduced to the minute by their statistic (the
maximum of Maximums, the sum of Sums, the mean of Averages). Datapoints outside the window are ignored. A minute
without a datapoint is ``None``: the rules decide what a missing minute means for each signal.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from mwaa_control_plane.capacity.configuration import Capacity
from mwaa_control_plane.capacity.scenario import Metric, Scenario

GRID_SECONDS = 60
Kind = Literal["gauge", "total"]
Values = tuple[float | None, ...]


@dataclass(frozen=True)
class Selector:
    """A metric the signal accepts: namespace, names, fixed dimensions; ``variable`` names a free dimension."""

    namespace: str
    names: tuple[str, ...]
    dimensions: Mapping[str, str] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()
    variable: str | None = None

    def matches(self, metric: Metric) -> bool:
        if metric.namespace != self.namespace or metric.name not in self.names:
            return False
        dims = metric.dimensions
        if "Environment" not in dims or any(dims.get(key) != value for key, value in self.dimensions.items()):
            return False
        allowed = {"Environment", *self.dimensions, *self.optional, *([self.variable] if self.variable else [])}
        return set(dims) <= allowed and (self.variable is None or self.variable in dims)

    def describe(self) -> str:
        dims = ", ".join(f"{k}={v}" for k, v in self.dimensions.items()) or "Environment"
        return f"{self.namespace} {' or '.join(self.names)} ({dims})"


@dataclass(frozen=True)
class SignalSpec:
    selectors: tuple[Selector, ...]
    stats: tuple[str, ...]
    kind: Kind = "gauge"

    def describe(self) -> str:
        return "; ".join(selector.describe() for selector in self.selectors) + f" [{', '.join(self.stats)}]"


_MWAA, _AIRFLOW = "AWS/MWAA", "AmazonMWAA"
_EXECUTOR, _SCHEDULER = {"Function": "Executor"}, {"Function": "Scheduler"}
_GAUGE_COUNT = ("Maximum", "Average")
_UTILISATION = ("Average", "Maximum")


def _queue(name: str) -> SignalSpec:
    return SignalSpec((Selector(_MWAA, (name,)), Selector(_AIRFLOW, (name,), _EXECUTOR)), _GAUGE_COUNT)


def _cluster(metric: str, cluster: str, stats: tuple[str, ...], kind: Kind = "gauge") -> SignalSpec:
    return SignalSpec((Selector(_MWAA, (metric,), {"Cluster": cluster}),), stats, kind)


def _pool(name: str, stats: tuple[str, ...] = _GAUGE_COUNT) -> SignalSpec:
    return SignalSpec((Selector(_AIRFLOW, (name,), optional=frozenset({"Function"}), variable="Pool"),), stats)


SIGNALS: dict[str, SignalSpec] = {
    "queued": _queue("QueuedTasks"),
    "running": _queue("RunningTasks"),
    "oldest_age": SignalSpec((Selector(_MWAA, ("ApproximateAgeOfOldestTask",)),), _GAUGE_COUNT),
    "base_cpu": _cluster("CPUUtilization", "BaseWorker", _UTILISATION),
    "additional_cpu": _cluster("CPUUtilization", "AdditionalWorker", _UTILISATION),
    "base_memory": _cluster("MemoryUtilization", "BaseWorker", _UTILISATION),
    "additional_memory": _cluster("MemoryUtilization", "AdditionalWorker", _UTILISATION),
    "scheduler_cpu": _cluster("CPUUtilization", "Scheduler", _UTILISATION),
    "scheduler_memory": _cluster("MemoryUtilization", "Scheduler", _UTILISATION),
    "base_workers": _cluster("CPUUtilization", "BaseWorker", ("SampleCount",), "total"),
    "additional_workers": _cluster("CPUUtilization", "AdditionalWorker", ("SampleCount",), "total"),
    "heartbeat": SignalSpec((Selector(_AIRFLOW, ("SchedulerHeartbeat",), _SCHEDULER),), ("Sum",), "total"),
    "open_slots": SignalSpec((Selector(_AIRFLOW, ("OpenSlots",), _EXECUTOR),), ("Minimum", "Average", "Maximum")),
    "starving": SignalSpec((Selector(_AIRFLOW, ("TasksStarving", "StarvingTasks"), _SCHEDULER),), _GAUGE_COUNT),
}
POOL_SIGNALS: dict[str, SignalSpec] = {
    "open": _pool("PoolOpenSlots", ("Minimum", "Average", "Maximum")),
    "running": _pool("PoolRunningSlots"),
    "queued": _pool("PoolQueuedSlots"),
    "starving": _pool("PoolStarvingTasks"),
}


@dataclass(frozen=True)
class Signal:
    """One signal on the minute grid; ``source`` is the metric it came from (None: not in the data)."""

    name: str
    values: Values
    source: str | None = None

    @property
    def present(self) -> bool:
        return self.source is not None

    @property
    def points(self) -> int:
        return sum(value is not None for value in self.values)

    def at(self, minute: int) -> float | None:
        return self.values[minute]


@dataclass(frozen=True)
class Observations:
    """The scenario's metrics on a one-minute grid, by signal; pools by name."""

    start: datetime
    minutes: int
    signals: Mapping[str, Signal]
    pools: Mapping[str, Mapping[str, Signal]]
    used: tuple[str, ...]
    unused: tuple[str, ...]
    latest_airflow_minute: int | None
    """The last minute any ``AmazonMWAA`` metric has a datapoint in (None: that namespace has none)."""

    def __getitem__(self, name: str) -> Signal:
        return self.signals[name]

    def time(self, minute: int) -> datetime:
        return self.start + timedelta(seconds=GRID_SECONDS * minute)

    def starving(self) -> Signal:
        """Tasks starving for a pool: the scheduler's TasksStarving, else the pools' PoolStarvingTasks summed."""
        direct = self.signals["starving"]
        if direct.present:
            return direct
        pools = [signals["starving"] for signals in self.pools.values() if signals["starving"].present]
        if not pools:
            return direct
        values = tuple(_sum_known(signal.values[m] for signal in pools) for m in range(self.minutes))
        return Signal("starving", values, "sum of PoolStarvingTasks")

    def waiting(self) -> Values:
        """Tasks waiting per minute: queued for a worker plus starving for a pool (None where QueuedTasks is)."""
        starving = self.starving()
        return tuple(
            None if queued is None else queued + (starving.values[m] or 0.0)
            for m, queued in enumerate(self.signals["queued"].values)
        )

    def workers(self, capacity: Capacity) -> Values:
        """Workers up per minute: base plus additional; None where it cannot be known.

        Base workers come from the BaseWorker SampleCount, else MinWorkers; additional workers from the
        AdditionalWorker SampleCount, where a minute without a sample means none ran. Without that metric the
        count is known only when MinWorkers equals MaxWorkers.
        """
        base, additional = self.signals["base_workers"], self.signals["additional_workers"]
        counts: list[float | None] = []
        for minute in range(self.minutes):
            sampled = base.values[minute]
            base_count = float(capacity.min_workers) if sampled is None else sampled
            if additional.present:
                counts.append(base_count + (additional.values[minute] or 0.0))
            elif capacity.min_workers == capacity.max_workers:
                counts.append(float(capacity.max_workers))
            else:
                counts.append(None)
        return tuple(counts)

    def worker_utilisation(self, resource: Literal["cpu", "memory"]) -> Signal:
        """The busier of the BaseWorker and AdditionalWorker clusters each minute (percent)."""
        clusters = [self.signals[f"base_{resource}"], self.signals[f"additional_{resource}"]]
        present = [signal for signal in clusters if signal.present]
        if not present:
            return Signal(f"worker_{resource}", (None,) * self.minutes)
        values = tuple(_max_known(signal.values[m] for signal in present) for m in range(self.minutes))
        return Signal(f"worker_{resource}", values, " and ".join(signal.source or "" for signal in present))


def _sum_known(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def _max_known(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return max(known) if known else None


def _reduce(stat: str, kind: Kind) -> Callable[[list[float]], float]:
    if kind == "total":
        return sum
    if stat == "Maximum":
        return max
    if stat == "Minimum":
        return min
    return statistics.fmean


def place_on_grid(metric: Metric, start: datetime, minutes: int, kind: Kind) -> Values:
    """The metric's datapoints on the minute grid (see the module docstring for the rules)."""
    if metric.period >= GRID_SECONDS:
        span = metric.period // GRID_SECONDS
        grid: list[float | None] = [None] * minutes
        for timestamp, value in zip(metric.timestamps, metric.values, strict=True):
            first = math.floor((timestamp - start).total_seconds() / GRID_SECONDS)
            share = value / span if kind == "total" else value
            for minute in range(first, first + span):
                if 0 <= minute < minutes:
                    grid[minute] = share
        return tuple(grid)
    buckets: list[list[float]] = [[] for _ in range(minutes)]
    for timestamp, value in zip(metric.timestamps, metric.values, strict=True):
        minute = math.floor((timestamp - start).total_seconds() / GRID_SECONDS)
        if 0 <= minute < minutes:
            buckets[minute].append(value)
    reduce = _reduce(metric.stat, kind)
    return tuple(reduce(bucket) if bucket else None for bucket in buckets)


def _choose(spec: SignalSpec, metrics: Sequence[Metric]) -> Metric | None:
    ranked = [
        (s_index, spec.stats.index(metric.stat), index)
        for index, metric in enumerate(metrics)
        for s_index, selector in enumerate(spec.selectors)
        if selector.matches(metric) and metric.stat in spec.stats
    ]
    return metrics[min(ranked)[2]] if ranked else None


def observe(scenario: Scenario) -> Observations:
    """The scenario's metrics as per-minute signals (see the module docstring)."""
    start = scenario.window.start
    minutes = max(1, math.ceil(scenario.window.seconds / GRID_SECONDS))
    metrics = scenario.metrics
    used: list[Metric] = []
    signals: dict[str, Signal] = {}
    for name, spec in SIGNALS.items():
        chosen = _choose(spec, metrics)
        if chosen is None:
            signals[name] = Signal(name, (None,) * minutes)
            continue
        used.append(chosen)
        signals[name] = Signal(name, place_on_grid(chosen, start, minutes, spec.kind), chosen.label())

    pool_names = sorted(
        {
            metric.dimensions["Pool"]
            for metric in metrics
            for spec in POOL_SIGNALS.values()
            if spec.selectors[0].matches(metric)
        }
    )
    pools: dict[str, dict[str, Signal]] = {}
    for pool in pool_names:
        of_pool = [metric for metric in metrics if metric.dimensions.get("Pool") == pool]
        pools[pool] = {}
        for name, spec in POOL_SIGNALS.items():
            chosen = _choose(spec, of_pool)
            if chosen is None:
                pools[pool][name] = Signal(name, (None,) * minutes)
                continue
            used.append(chosen)
            pools[pool][name] = Signal(name, place_on_grid(chosen, start, minutes, spec.kind), chosen.label())

    latest: int | None = None
    for metric in metrics:
        if metric.namespace != _AIRFLOW:
            continue
        for timestamp in metric.timestamps:
            minute = math.floor((timestamp - start).total_seconds() / GRID_SECONDS) + metric.period // GRID_SECONDS
            minute = min(minutes, minute) - 1
            if minute >= 0 and (latest is None or minute > latest):
                latest = minute
    used_keys = {metric.key for metric in used}
    return Observations(
        start=start,
        minutes=minutes,
        signals=signals,
        pools=pools,
        used=tuple(metric.label() for metric in used),
        unused=tuple(metric.label() for metric in metrics if metric.key not in used_keys),
        latest_airflow_minute=latest,
    )


# --- small statistics the rules share -----------------------------------------------------------------------


def known(values: Iterable[float | None]) -> list[float]:
    return [value for value in values if value is not None]


def median(values: Iterable[float | None]) -> float | None:
    data = known(values)
    return statistics.median(data) if data else None


def percentile(values: Iterable[float | None], percent: float) -> float | None:
    """Nearest-rank percentile of the known values (p95 of 120 minutes is the 114th smallest)."""
    data = sorted(known(values))
    if not data:
        return None
    rank = max(1, math.ceil(percent / 100 * len(data)))
    return data[rank - 1]


def longest_run(flags: Sequence[bool]) -> tuple[int, int]:
    """(length, first index) of the longest run of True; (0, -1) when there is none."""
    best, best_start, length, start = 0, -1, 0, 0
    for index, flag in enumerate(flags):
        if flag:
            if length == 0:
                start = index
            length += 1
            if length > best:
                best, best_start = length, start
        else:
            length = 0
    return best, best_start
