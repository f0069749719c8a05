"""Scenarios built in code for the rule tests: one-minute series from constants, lists or functions of the minute."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from mwaa_control_plane.capacity.scenario import Scenario

START = datetime(2026, 11, 30, 10, tzinfo=UTC)
NAME = "dev"
Shape = float | Sequence[float | None] | Callable[[int], float | None] | None


def stamp(minute: int) -> str:
    return (START + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")


def values_of(shape: Shape, minutes: int) -> list[float | None]:
    if shape is None:
        return [None] * minutes
    if callable(shape):
        return [shape(m) for m in range(minutes)]
    if isinstance(shape, int | float):
        return [float(shape)] * minutes
    return list(shape)


def metric(
    namespace: str, name: str, shape: Shape, *, stat: str = "Maximum", minutes: int = 120, period: int = 60, **dims: str
) -> dict[str, Any]:
    values = values_of(shape, minutes)
    points = [(m, v) for m, v in enumerate(values) if v is not None]
    return {
        "namespace": namespace,
        "name": name,
        "dimensions": {"Environment": NAME, **dims},
        "stat": stat,
        "period": period,
        "timestamps": [stamp(m * period // 60) for m, _ in points],
        "values": [v for _, v in points],
    }


def environment(**fields: Any) -> dict[str, Any]:
    return {"Name": NAME, "EnvironmentClass": "mw1.small", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2} | fields


def document(
    *,
    minutes: int = 120,
    env: dict[str, Any] | None = None,
    queued: Shape = 0.0,
    running: Shape = 0.0,
    age: Shape = None,
    cpu: Shape = None,
    memory: Shape = None,
    additional: Shape = None,
    additional_cpu: Shape = None,
    heartbeat: Shape = None,
    scheduler_cpu: Shape = None,
    open_slots: Shape = None,
    starving: Shape = None,
    pools: dict[str, dict[str, Shape]] | None = None,
    airflow: dict[str, Any] | None = None,
    extra: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A scenario document (the JSON shape) with the given series; None leaves a metric out."""
    mwaa, airflow_ns = "AWS/MWAA", "AmazonMWAA"
    metrics = []
    for name, shape in (("QueuedTasks", queued), ("RunningTasks", running), ("ApproximateAgeOfOldestTask", age)):
        if shape is not None:
            metrics.append(metric(mwaa, name, shape, minutes=minutes))
    if cpu is not None:
        metrics.append(metric(mwaa, "CPUUtilization", cpu, stat="Average", minutes=minutes, Cluster="BaseWorker"))
    if memory is not None:
        metrics.append(metric(mwaa, "MemoryUtilization", memory, stat="Average", minutes=minutes, Cluster="BaseWorker"))
    if additional is not None:
        counts = [v if v else None for v in values_of(additional, minutes)]
        metrics.append(
            metric(mwaa, "CPUUtilization", counts, stat="SampleCount", minutes=minutes, Cluster="AdditionalWorker")
        )
    if additional_cpu is not None:
        metrics.append(
            metric(mwaa, "CPUUtilization", additional_cpu, stat="Average", minutes=minutes, Cluster="AdditionalWorker")
        )
    if scheduler_cpu is not None:
        metrics.append(
            metric(mwaa, "CPUUtilization", scheduler_cpu, stat="Average", minutes=minutes, Cluster="Scheduler")
        )
    if heartbeat is not None:
        metrics.append(
            metric(airflow_ns, "SchedulerHeartbeat", heartbeat, stat="Sum", minutes=minutes, Function="Scheduler")
        )
    if open_slots is not None:
        metrics.append(
            metric(airflow_ns, "OpenSlots", open_slots, stat="Minimum", minutes=minutes, Function="Executor")
        )
    if starving is not None:
        metrics.append(metric(airflow_ns, "TasksStarving", starving, minutes=minutes, Function="Scheduler"))
    for pool, series in (pools or {}).items():
        for name, shape in series.items():
            stat = "Minimum" if name == "PoolOpenSlots" else "Maximum"
            metrics.append(metric(airflow_ns, name, shape, stat=stat, minutes=minutes, Pool=pool))
    metrics.extend(extra)
    result: dict[str, Any] = {
        "environment": env or environment(),
        "window": {"start": stamp(0), "end": stamp(minutes)},
        "metrics": metrics,
    }
    if airflow is not None:
        result["airflow"] = airflow
    return result


def scenario(**kwargs: Any) -> Scenario:
    """The scenario of :func:`document`, validated the way a file is (through JSON)."""
    import json

    return Scenario.model_validate_json(json.dumps(document(**kwargs)))


def during(first: int, last: int, inside: float, outside: float = 0.0) -> Callable[[int], float]:
    """``inside`` for minutes first..last-1, ``outside`` otherwise."""
    return lambda m: inside if first <= m < last else outside
