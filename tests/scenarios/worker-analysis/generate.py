"""Writes the worker-analysis scenario files in this folder: synthetic, seeded, never anyone's recorded data.

Each scenario is a two-hour window at 60 s (2026-11-30 10:00 to 12:00 UTC) shaped like what MWAA publishes for
the situation it stands for: ramps when DAG runs start, noise on every gauge, workers that autoscale with a delay.
The files are committed; run this script only to change them (``python tests/scenarios/worker-analysis/generate.py``)
and review the diff: ``test_scenarios.py`` pins what each file must diagnose.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
START = datetime(2026, 11, 30, 10, tzinfo=UTC)
MINUTES = 120
Series = list[float | None]


def _stamp(minute: int) -> str:
    return (START + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")


def ramp(start: float, end: float, first: int, last: int, minute: int) -> float:
    """``start`` before ``first``, ``end`` after ``last``, linear between."""
    if minute <= first:
        return start
    if minute >= last:
        return end
    return start + (end - start) * (minute - first) / (last - first)


class Scenario:
    """Builds one scenario file: environment, window, metrics with noise, optional Airflow block."""

    def __init__(self, name: str, seed: int, environment: dict[str, Any], description: str) -> None:
        self.name = name
        self.random = random.Random(seed)
        self.environment = {"Name": name, "AirflowVersion": "2.10.3", **environment}
        self.description = description
        self.metrics: list[dict[str, Any]] = []
        self.airflow: dict[str, Any] | None = None
        self.minutes = MINUTES
        """The window's length; the series always span two hours, datapoints past the window are dropped."""

    def noise(
        self, value: float, spread: float, *, low: float = 0.0, high: float = math.inf, whole: bool = False
    ) -> float:
        noisy = min(high, max(low, value + self.random.gauss(0, spread)))
        return float(round(noisy)) if whole else round(noisy, 1)

    def series(self, shape: Callable[[int], float | None], spread: float = 0.0, **bounds: Any) -> Series:
        values: Series = []
        for minute in range(MINUTES):
            value = shape(minute)
            values.append(None if value is None else self.noise(value, spread, **bounds))
        return values

    def metric(
        self, namespace: str, name: str, dimensions: dict[str, str], stat: str, values: Sequence[float | None]
    ) -> None:
        points = [(minute, value) for minute, value in enumerate(values) if value is not None and minute < self.minutes]
        self.metrics.append(
            {
                "namespace": namespace,
                "name": name,
                "dimensions": {"Environment": self.name, **dimensions},
                "stat": stat,
                "period": 60,
                "timestamps": [_stamp(minute) for minute, _ in points],
                "values": [value for _, value in points],
            }
        )

    def queue(self, queued: Series, running: Series, age: Series | None = None) -> None:
        self.metric("AWS/MWAA", "QueuedTasks", {}, "Maximum", queued)
        self.metric("AWS/MWAA", "RunningTasks", {}, "Maximum", running)
        if age is not None:
            self.metric("AWS/MWAA", "ApproximateAgeOfOldestTask", {}, "Maximum", age)

    def workers(self, base: int, additional: Series, cpu: Series, memory: Series) -> None:
        """Worker clusters: CPU and memory averages, and the SampleCount that counts the workers."""
        self.metric("AWS/MWAA", "CPUUtilization", {"Cluster": "BaseWorker"}, "Average", cpu)
        self.metric("AWS/MWAA", "MemoryUtilization", {"Cluster": "BaseWorker"}, "Average", memory)
        self.metric("AWS/MWAA", "CPUUtilization", {"Cluster": "BaseWorker"}, "SampleCount", [float(base)] * MINUTES)
        extra_cpu = [None if not count else value for count, value in zip(additional, cpu, strict=True)]
        extra_memory = [None if not count else value for count, value in zip(additional, memory, strict=True)]
        self.metric("AWS/MWAA", "CPUUtilization", {"Cluster": "AdditionalWorker"}, "Average", extra_cpu)
        self.metric("AWS/MWAA", "MemoryUtilization", {"Cluster": "AdditionalWorker"}, "Average", extra_memory)
        counts = [count if count else None for count in additional]
        self.metric("AWS/MWAA", "CPUUtilization", {"Cluster": "AdditionalWorker"}, "SampleCount", counts)

    def heartbeat(self, per_minute: Series) -> None:
        self.metric("AmazonMWAA", "SchedulerHeartbeat", {"Function": "Scheduler"}, "Sum", per_minute)

    def airflow_metric(self, name: str, function: str, values: Series) -> None:
        self.metric("AmazonMWAA", name, {"Function": function}, "Maximum" if name != "OpenSlots" else "Minimum", values)

    def write(self) -> Path:
        document: dict[str, Any] = {
            "description": self.description,
            "environment": self.environment,
            "window": {"start": _stamp(0), "end": _stamp(self.minutes)},
            "metrics": self.metrics,
        }
        if self.airflow is not None:
            document["airflow"] = self.airflow
        path = HERE / f"{self.name}.json"
        # One metric per line: the files stay diffable without a line per datapoint.
        lines = ["{"]
        for index, (key, value) in enumerate(document.items()):
            last = index == len(document) - 1
            if key == "metrics":
                body = ",\n".join(f"    {json.dumps(metric)}" for metric in value)
                lines.append(f'  "metrics": [\n{body}\n  ]' + ("" if last else ","))
            else:
                lines.append(f"  {json.dumps(key)}: {json.dumps(value)}" + ("" if last else ","))
        lines.append("}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def steady_heartbeat(scenario: Scenario, schedulers: int = 2) -> Series:
    return scenario.series(lambda m: 12.0 * schedulers, 1.0, low=0, whole=True)


# --- one function per scenario ---------------------------------------------------------------------------------


def healthy() -> Scenario:
    s = Scenario(
        "healthy",
        101,
        {"EnvironmentClass": "mw1.small", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2},
        "Hourly DAG runs at 10:05 and 11:05: short queues while MWAA adds workers, then back to one worker.",
    )

    def load(m: int) -> float:
        phase = m % 60
        return ramp(0, 14, 4, 8, phase) if phase < 30 else ramp(14, 1, 30, 38, phase)

    def workers(m: int) -> float:
        return max(0.0, math.ceil(load(max(0, m - 2)) / 5) - 1)

    running = s.series(lambda m: min(load(m), 5 * (1 + workers(m))), 0.8, low=0, whole=True)
    queued = [
        s.noise(excess, 0.5, low=1, whole=True) if excess >= 1 else 0.0
        for excess in (max(0.0, load(m) - 5 * (1 + workers(m))) for m in range(MINUTES))
    ]
    additional = [workers(m) for m in range(MINUTES)]
    s.queue(queued, running, s.series(lambda m: 20 if queued[m] else 0, 5, low=0, whole=True))
    s.workers(1, additional, s.series(lambda m: 25 + 2.5 * load(m), 4, low=1, high=100), s.series(lambda m: 40, 3))
    s.heartbeat(steady_heartbeat(s))
    s.airflow = {
        "pools": [{"name": "default_pool", "slots": 128, "running": 2, "queued": 0}],
        "running_tasks": 2,
        "queued_tasks": 0,
    }
    return s


def capacity_bound() -> Scenario:
    s = Scenario(
        "capacity-bound",
        202,
        {"EnvironmentClass": "mw1.small", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2},
        "A month-end batch from 10:20: five workers of five tasks run flat out, the queue grows to 40 and "
        "the oldest task waits 25 minutes.",
    )
    backlog = lambda m: ramp(0, 40, 20, 60, m) if m < 105 else ramp(40, 10, 105, 119, m)  # noqa: E731
    additional = [ramp(0, 4, 18, 23, m) // 1 for m in range(MINUTES)]
    running = s.series(lambda m: min(25.0, 5 * (1 + additional[m]) if m > 15 else 6), 0.6, low=0, high=25, whole=True)
    queued = s.series(lambda m: backlog(m) if m >= 20 else 0, 1.5, low=0, whole=True)
    age = s.series(lambda m: ramp(0, 1500, 20, 110, m) if m >= 20 else 0, 20, low=0, whole=True)
    s.queue(queued, running, age)
    s.workers(1, additional, s.series(lambda m: 68 if m > 18 else 30, 5, high=100), s.series(lambda m: 55, 3))
    s.heartbeat(steady_heartbeat(s))
    s.airflow = {
        "pools": [{"name": "default_pool", "slots": 128, "running": 25, "queued": 38}],
        "running_tasks": 25,
        "queued_tasks": 38,
    }
    return s


def cpu_starvation() -> Scenario:
    s = Scenario(
        "cpu-starvation",
        303,
        {"EnvironmentClass": "mw1.medium", "MinWorkers": 2, "MaxWorkers": 6, "Schedulers": 2},
        "Pandas transforms from 10:15: four workers at 96 % CPU start tasks slowly; 16 of 40 slots run while "
        "20 tasks queue.",
    )
    additional = [ramp(0, 2, 15, 20, m) // 1 for m in range(MINUTES)]
    running = s.series(lambda m: 16 if m >= 15 else 6, 1.5, low=0, whole=True)
    queued = s.series(lambda m: ramp(0, 20, 15, 30, m) if m >= 15 else 0, 2, low=0, whole=True)
    s.queue(queued, running, s.series(lambda m: ramp(0, 900, 15, 119, m), 15, low=0, whole=True))
    s.workers(2, additional, s.series(lambda m: 96 if m >= 16 else 45, 1.5, high=100), s.series(lambda m: 62, 4))
    s.heartbeat(steady_heartbeat(s))
    return s


def memory_starvation() -> Scenario:
    s = Scenario(
        "memory-starvation",
        404,
        {"EnvironmentClass": "mw1.small", "MinWorkers": 1, "MaxWorkers": 4, "Schedulers": 2},
        "Large XCom payloads from 10:30: worker memory at 95 %, tasks restarting, 8 of 20 slots used while "
        "tasks queue.",
    )
    additional = [ramp(0, 3, 30, 34, m) // 1 for m in range(MINUTES)]
    running = s.series(lambda m: 8 if m >= 30 else 3, 1.2, low=0, whole=True)
    queued = s.series(lambda m: 10 if m >= 32 else 0, 2, low=0, whole=True)
    s.queue(queued, running, s.series(lambda m: ramp(0, 600, 32, 119, m), 10, low=0, whole=True))
    s.workers(
        1, additional, s.series(lambda m: 50, 6, high=100), s.series(lambda m: 95 if m >= 31 else 60, 1.5, high=100)
    )
    s.heartbeat(steady_heartbeat(s))
    return s


def concurrency_parallelism() -> Scenario:
    s = Scenario(
        "concurrency-parallelism",
        505,
        {
            "EnvironmentClass": "mw1.large",
            "MinWorkers": 2,
            "MaxWorkers": 10,
            "Schedulers": 2,
            "AirflowConfigurationOptions": {"core.parallelism": "16"},
        },
        "core.parallelism was set to 16 on an environment of up to 200 slots: from 10:10 running stays at 32 "
        "(16 x 2 schedulers), the executor has no open slot, 60 tasks queue.",
    )
    running = s.series(lambda m: 32 if m >= 10 else 12, 0.4, low=0, high=32, whole=True)
    queued = s.series(lambda m: ramp(0, 60, 10, 40, m) if m >= 10 else 0, 3, low=0, whole=True)
    s.queue(queued, running, s.series(lambda m: ramp(0, 1200, 10, 119, m), 20, low=0, whole=True))
    s.workers(2, [0.0] * MINUTES, s.series(lambda m: 38, 5, high=100), s.series(lambda m: 45, 3))
    s.heartbeat(steady_heartbeat(s))
    s.airflow_metric("OpenSlots", "Executor", s.series(lambda m: 0 if m >= 11 else 4, 0, low=0, whole=True))
    return s


def concurrency_pool() -> Scenario:
    s = Scenario(
        "concurrency-pool",
        606,
        {"EnvironmentClass": "mw1.medium", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2},
        "Every Snowflake task goes through the 4-slot pool 'snowflake': from 10:05 about 18 tasks starve for it "
        "while one worker runs 4 to 6 tasks.",
    )
    starving = s.series(lambda m: ramp(0, 18, 5, 25, m) if m >= 5 else 0, 1.5, low=0, whole=True)
    running = s.series(lambda m: 5, 0.7, low=0, whole=True)
    queued = s.series(lambda m: 0.3, 0.5, low=0, whole=True)
    s.queue(queued, running, s.series(lambda m: 0, 0, low=0, whole=True))
    s.workers(1, [0.0] * MINUTES, s.series(lambda m: 30, 4, high=100), s.series(lambda m: 42, 3))
    s.heartbeat(steady_heartbeat(s))
    s.airflow_metric("TasksStarving", "Scheduler", starving)
    s.airflow_metric("OpenSlots", "Executor", s.series(lambda m: 9990, 1, whole=True))
    pool = {"Pool": "snowflake"}
    s.metric(
        "AmazonMWAA", "PoolOpenSlots", pool, "Minimum", s.series(lambda m: 0 if m >= 5 else 2, 0, low=0, whole=True)
    )
    s.metric("AmazonMWAA", "PoolStarvingTasks", pool, "Maximum", starving)
    s.airflow = {
        "pools": [
            {"name": "default_pool", "slots": 128, "running": 1, "queued": 0},
            {"name": "snowflake", "slots": 4, "running": 4, "queued": 0, "scheduled": 17},
        ],
        "running_tasks": 5,
        "queued_tasks": 0,
        "scheduled_tasks": 17,
    }
    return s


def concurrency_max_active_runs() -> Scenario:
    s = Scenario(
        "concurrency-max-active-runs",
        707,
        {"EnvironmentClass": "mw1.medium", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2},
        "A backfill of orders_daily created 56 runs: 16 run (max_active_runs_per_dag's default) and 40 wait "
        "queued as DAG runs; their tasks never reach the executor's queue.",
    )
    running = s.series(lambda m: 16, 1, low=0, whole=True)
    s.queue(s.series(lambda m: 0.2, 0.4, low=0, whole=True), running, s.series(lambda m: 0, 0, whole=True))
    s.workers(
        1,
        [ramp(0, 1, 2, 4, m) // 1 for m in range(MINUTES)],
        s.series(lambda m: 35, 4, high=100),
        s.series(lambda m: 40, 3),
    )
    s.heartbeat(steady_heartbeat(s))
    s.airflow = {
        "pools": [{"name": "default_pool", "slots": 128, "running": 16, "queued": 0}],
        "running_tasks": 16,
        "queued_tasks": 0,
        "scheduled_tasks": 0,
        "dags": [
            {"dag_id": "orders_daily", "running": 16, "running_runs": 16, "queued_runs": 40},
            {"dag_id": "refresh_dims", "running": 0, "running_runs": 0, "queued_runs": 0},
        ],
    }
    return s


def concurrency_max_active_tasks() -> Scenario:
    s = Scenario(
        "concurrency-max-active-tasks",
        808,
        {
            "EnvironmentClass": "mw1.large",
            "MinWorkers": 1,
            "MaxWorkers": 5,
            "Schedulers": 2,
            "AirflowConfigurationOptions": {"core.max_active_tasks_per_dag": "10"},
        },
        "The wide_fanout DAG maps 40 tasks but core.max_active_tasks_per_dag is 10: ten run or queue at a time, "
        "the rest wait scheduled, while 90 slots stay idle.",
    )
    running = s.series(lambda m: 9 if m >= 8 else 2, 0.7, low=0, whole=True)
    queued = s.series(lambda m: 2 if m >= 8 else 0, 0.6, low=0, whole=True)
    s.queue(queued, running, s.series(lambda m: 30 if m >= 8 else 0, 8, low=0, whole=True))
    s.workers(1, [0.0] * MINUTES, s.series(lambda m: 28, 4, high=100), s.series(lambda m: 35, 3))
    s.heartbeat(steady_heartbeat(s))
    s.airflow_metric("OpenSlots", "Executor", s.series(lambda m: 9985, 2, whole=True))
    s.airflow = {
        "pools": [{"name": "default_pool", "slots": 128, "running": 9, "queued": 1}],
        "running_tasks": 9,
        "queued_tasks": 1,
        "scheduled_tasks": 30,
        "dags": [{"dag_id": "wide_fanout", "running": 9, "queued": 1, "scheduled": 30, "running_runs": 1}],
    }
    return s


def concurrency_worker_autoscale() -> Scenario:
    s = Scenario(
        "concurrency-worker-autoscale",
        909,
        {
            "EnvironmentClass": "mw1.large",
            "MinWorkers": 2,
            "MaxWorkers": 10,
            "Schedulers": 2,
            "AirflowConfigurationOptions": {"celery.worker_autoscale": "4,4"},
        },
        "celery.worker_autoscale 4,4 (kept from an mw1.small) on mw1.large: three workers run 4 tasks each at "
        "25 % CPU while 30 tasks queue.",
    )
    running = s.series(lambda m: 12 if m >= 12 else 5, 0.3, low=0, high=12, whole=True)
    queued = s.series(lambda m: ramp(0, 30, 12, 30, m) if m >= 12 else 0, 2, low=0, whole=True)
    s.queue(queued, running, s.series(lambda m: ramp(0, 800, 12, 119, m), 10, low=0, whole=True))
    s.workers(
        2,
        [1.0 if m >= 12 else 0.0 for m in range(MINUTES)],
        s.series(lambda m: 25, 3, high=100),
        s.series(lambda m: 30, 3),
    )
    s.heartbeat(steady_heartbeat(s))
    return s


def stranded() -> Scenario:
    s = Scenario(
        "stranded",
        1010,
        {"EnvironmentClass": "mw1.small", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2},
        "From 10:40 the worker stops taking tasks (its container stays up): nothing runs, 3 to 25 tasks queue, "
        "the oldest task ages past 45 minutes.",
    )
    running = s.series(lambda m: 4 if m < 38 else ramp(4, 0, 38, 40, m), 0.5, low=0, whole=True)
    running = [value if m < 40 else 0.0 for m, value in enumerate(running)]
    queued = s.series(lambda m: ramp(3, 25, 40, 119, m) if m >= 40 else 0, 1, low=0, whole=True)
    queued = [value if m < 40 else max(1.0, value or 0) for m, value in enumerate(queued)]
    age = s.series(lambda m: 60 * (m - 40) + 30 if m >= 40 else 0, 5, low=0, whole=True)
    s.queue(queued, running, age)
    s.workers(
        1, [0.0] * MINUTES, s.series(lambda m: 35 if m < 40 else 3, 2, low=0, high=100), s.series(lambda m: 40, 2)
    )
    s.heartbeat(steady_heartbeat(s))
    return s


def scheduler_down() -> Scenario:
    s = Scenario(
        "scheduler-down",
        1111,
        {"EnvironmentClass": "mw1.medium", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2},
        "The schedulers choke on DAG parsing from 11:20 (CPU at 98 %): no heartbeat for 40 minutes, running "
        "tasks finish and nothing new starts.",
    )
    heartbeat = [value if m < 80 else None for m, value in enumerate(steady_heartbeat(s))]
    s.heartbeat(heartbeat)
    running = s.series(lambda m: 6 if m < 80 else ramp(6, 0, 80, 95, m), 0.6, low=0, whole=True)
    queued = s.series(lambda m: 2 if m < 80 else 4, 0.5, low=1, whole=True)
    s.queue(queued, running, s.series(lambda m: 30 if m < 80 else 30 + 60 * (m - 80), 5, low=0, whole=True))
    s.workers(1, [0.0] * MINUTES, s.series(lambda m: 30, 4, high=100), s.series(lambda m: 40, 3))
    s.metric(
        "AWS/MWAA",
        "CPUUtilization",
        {"Cluster": "Scheduler"},
        "Average",
        s.series(lambda m: 98 if m >= 70 else 60, 1, high=100),
    )
    # The scheduler publishes the executor's metrics too: they stop with it.
    s.airflow_metric("OpenSlots", "Executor", s.series(lambda m: 9994 if m < 80 else None, 1, whole=True))
    return s


def scheduler_dropping() -> Scenario:
    s = Scenario(
        "scheduler-dropping",
        1212,
        {"EnvironmentClass": "mw1.medium", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2},
        "One of two schedulers stops at 11:42: heartbeats fall from about 24 to 12 a minute; its CPU was normal.",
    )
    s.heartbeat(s.series(lambda m: 24 if m < 102 else 12, 1, low=0, whole=True))
    s.queue(s.series(lambda m: 0.4, 0.5, low=0, whole=True), s.series(lambda m: 4, 1, low=0, whole=True))
    s.workers(1, [0.0] * MINUTES, s.series(lambda m: 30, 4, high=100), s.series(lambda m: 40, 3))
    s.metric("AWS/MWAA", "CPUUtilization", {"Cluster": "Scheduler"}, "Average", s.series(lambda m: 45, 5, high=100))
    return s


def over_provisioned() -> Scenario:
    s = Scenario(
        "over-provisioned",
        1313,
        {"EnvironmentClass": "mw1.medium", "MinWorkers": 6, "MaxWorkers": 10, "Schedulers": 2},
        "Six workers always up for a load that peaks at 14 tasks (two workers of ten tasks) and never queues.",
    )
    load = lambda m: 4 + 9 * max(0.0, math.sin(math.pi * (m - 20) / 40)) if 20 <= m < 60 else 3  # noqa: E731
    s.queue(
        s.series(lambda m: 0, 0, whole=True),
        s.series(load, 0.6, low=0, high=14, whole=True),
        s.series(lambda m: 0, 0, whole=True),
    )
    s.workers(6, [0.0] * MINUTES, s.series(lambda m: 12, 3, low=1), s.series(lambda m: 30, 2))
    s.heartbeat(steady_heartbeat(s))
    return s


# --- cases that must come out inconclusive ---------------------------------------------------------------------


def missing_queue_metrics() -> Scenario:
    s = Scenario(
        "missing-queue-metrics",
        1414,
        {"EnvironmentClass": "mw1.small", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2},
        "Only the worker CPU and memory were recorded: no QueuedTasks, no RunningTasks.",
    )
    s.workers(1, [0.0] * MINUTES, s.series(lambda m: 80, 5, high=100), s.series(lambda m: 50, 3))
    return s


def borderline_cpu() -> Scenario:
    s = Scenario(
        "borderline-cpu",
        1515,
        {"EnvironmentClass": "mw1.medium", "MinWorkers": 2, "MaxWorkers": 6, "Schedulers": 2},
        "Tasks queue with idle slots while worker CPU hovers at 87 %: high, but below the 90 % that names starvation.",
    )
    running = s.series(lambda m: 14 if m >= 20 else 6, 1.2, low=0, whole=True)
    queued = s.series(lambda m: 12 if m >= 22 else 0, 2, low=0, whole=True)
    s.queue(queued, running, s.series(lambda m: ramp(0, 500, 22, 119, m), 10, low=0, whole=True))
    s.workers(
        2,
        [1.0 if m >= 22 else 0.0 for m in range(MINUTES)],
        s.series(lambda m: 87 if m >= 20 else 40, 0.8, high=100),
        s.series(lambda m: 55, 3),
    )
    s.heartbeat(steady_heartbeat(s))
    return s


def borderline_capacity() -> Scenario:
    s = Scenario(
        "borderline-capacity",
        1616,
        {"EnvironmentClass": "mw1.small", "MinWorkers": 1, "MaxWorkers": 4, "Schedulers": 2},
        "Waves of work keep a queue for an hour; all 20 slots at MaxWorkers are full in only about a third of "
        "the queued minutes.",
    )
    wave = lambda m: 20 if (m // 10) % 3 == 0 else 15  # noqa: E731
    additional = [3.0 if m >= 15 else 1.0 for m in range(MINUTES)]
    running = s.series(lambda m: wave(m) if m >= 15 else 8, 0.3, low=0, high=20, whole=True)
    queued = s.series(lambda m: 6 if 15 <= m < 105 else 0, 1, low=0, whole=True)
    queued = [max(1.0, v or 0) if 15 <= m < 105 else v for m, v in enumerate(queued)]
    s.queue(queued, running, s.series(lambda m: 300 if 15 <= m < 105 else 0, 20, low=0, whole=True))
    s.workers(1, additional, s.series(lambda m: 55, 5, high=100), s.series(lambda m: 50, 3))
    s.heartbeat(steady_heartbeat(s))
    return s


def contradictory_configuration() -> Scenario:
    s = Scenario(
        "contradictory-configuration",
        1717,
        {"EnvironmentClass": "mw1.small", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2},
        "RunningTasks reaches 40 although MaxWorkers 5 x 5 tasks allow 25: the recorded configuration is not "
        "the one the metrics came from (celery.worker_autoscale missing from the file).",
    )
    running = s.series(lambda m: 40 if m >= 30 else 10, 1, low=0, whole=True)
    queued = s.series(lambda m: 15 if m >= 30 else 0, 2, low=0, whole=True)
    s.queue(queued, running, s.series(lambda m: ramp(0, 600, 30, 119, m), 10, low=0, whole=True))
    s.workers(
        1,
        [4.0 if m >= 30 else 1.0 for m in range(MINUTES)],
        s.series(lambda m: 70, 5, high=100),
        s.series(lambda m: 60, 3),
    )
    s.heartbeat(steady_heartbeat(s))
    return s


def backlog_without_resource_data() -> Scenario:
    s = Scenario(
        "backlog-without-resource-data",
        1818,
        {"EnvironmentClass": "mw1.medium", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2},
        "Tasks queue with slots to spare, but only the queue metrics were recorded: CPU and memory starvation "
        "cannot be ruled out and no limit shows in the data.",
    )
    running = s.series(lambda m: 12 if m >= 25 else 4, 1, low=0, whole=True)
    queued = s.series(lambda m: 15 if m >= 25 else 0, 2, low=0, whole=True)
    s.queue(queued, running, s.series(lambda m: ramp(0, 700, 25, 119, m), 10, low=0, whole=True))
    s.heartbeat(steady_heartbeat(s))
    return s


def short_window() -> Scenario:
    s = Scenario(
        "short-window",
        1919,
        {"EnvironmentClass": "mw1.small", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2},
        "Only ten minutes were recorded.",
    )
    s.minutes = 10
    s.queue(s.series(lambda m: 20, 2, low=0, whole=True), s.series(lambda m: 25, 0, whole=True))
    return s


SCENARIOS = (
    healthy,
    capacity_bound,
    cpu_starvation,
    memory_starvation,
    concurrency_parallelism,
    concurrency_pool,
    concurrency_max_active_runs,
    concurrency_max_active_tasks,
    concurrency_worker_autoscale,
    stranded,
    scheduler_down,
    scheduler_dropping,
    over_provisioned,
    missing_queue_metrics,
    borderline_cpu,
    borderline_capacity,
    contradictory_configuration,
    backlog_without_resource_data,
    short_window,
)


def main() -> None:
    for build in SCENARIOS:
        print(build().write().relative_to(HERE.parents[2]))


if __name__ == "__main__":
    main()
