"""Gather a live environment into a :class:`~mwaa_control_plane.capacity.scenario.Scenario`: the analysis's input.

Three sources, in this order:

1. ``GetEnvironment``: class, worker and scheduler counts, Airflow version, and of the configuration options only
   the ones the analysis reads (:data:`~mwaa_control_plane.capacity.scenario.CAPACITY_OPTIONS`): the others may hold
   secrets and never enter a scenario.
2. Airflow, through the project's :class:`~mwaa_control_plane.airflow.AirflowClient` (anything with the three
   methods of :class:`AirflowCounts`): pools, task instances running / queued / scheduled and DAG runs running /
   queued, counted per DAG. A failing call becomes a note in the scenario, never a failed gather: the analysis
   then says what it lacked.
3. ``GetMetricData`` for every metric of :func:`metric_queries` (the pools' metrics need the pool names from step
   2), in as few calls as the API allows: up to 500 queries per call, following ``NextToken`` when a call returns
   more datapoints than one answer holds. Every query is written into the scenario, an empty one too ("queried,
   no data" is information: no scheduler heartbeat, no additional worker).

Throttling and AWS errors of steps 1 and 3 are raised as the control plane's errors (``ThrottledError`` is
retried by the state machine); an unknown environment is ``NotFoundError``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from mwaa_control_plane.capacity.scenario import (
    CAPACITY_OPTIONS,
    AirflowSnapshot,
    DagSnapshot,
    EnvironmentSnapshot,
    Metric,
    PoolSnapshot,
    Scenario,
    Window,
)
from mwaa_control_plane.errors import ControlPlaneError, InvalidInputError, translate_client_error
from mwaa_control_plane.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_mwaa import MWAAClient

    from mwaa_control_plane.airflow.models import DagRun, Pool, TaskInstance

MAX_QUERIES_PER_CALL = 500
"""GetMetricData accepts at most 500 MetricDataQuery structures per request."""
_ENVIRONMENT_FIELDS = (
    "Name",
    "EnvironmentClass",
    "MinWorkers",
    "MaxWorkers",
    "Schedulers",
    "MinWebservers",
    "MaxWebservers",
    "AirflowVersion",
    "Status",
)


class AirflowCounts(Protocol):
    """What the gather step asks Airflow (:class:`~mwaa_control_plane.airflow.AirflowClient` implements it)."""

    def list_pools(self) -> list[Pool]: ...
    def list_task_instances(self, states: Sequence[str]) -> list[TaskInstance]: ...
    def list_dag_runs(self, states: Sequence[str]) -> list[DagRun]: ...


@dataclass(frozen=True)
class MetricQuery:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str


@dataclass(frozen=True)
class GatherResult:
    scenario: Scenario
    metric_data_calls: int
    """GetMetricData requests made (what ``make bench`` counts per alarm)."""
    queries: int


def metric_queries(environment: str, pools: Sequence[str] = ()) -> list[MetricQuery]:
    """Every metric the rules read (docs/worker-analysis.md § Metrics), each with the statistic they prefer."""
    env = (("Environment", environment),)

    def mwaa(name: str, stat: str, **dimensions: str) -> MetricQuery:
        return MetricQuery("AWS/MWAA", name, env + tuple(dimensions.items()), stat)

    def airflow(name: str, stat: str, **dimensions: str) -> MetricQuery:
        return MetricQuery("AmazonMWAA", name, env + tuple(dimensions.items()), stat)

    queries = [
        mwaa("QueuedTasks", "Maximum"),
        mwaa("RunningTasks", "Maximum"),
        mwaa("ApproximateAgeOfOldestTask", "Maximum"),
        airflow("QueuedTasks", "Maximum", Function="Executor"),
        airflow("RunningTasks", "Maximum", Function="Executor"),
        airflow("OpenSlots", "Minimum", Function="Executor"),
        airflow("SchedulerHeartbeat", "Sum", Function="Scheduler"),
        airflow("TasksStarving", "Maximum", Function="Scheduler"),
    ]
    for cluster in ("BaseWorker", "AdditionalWorker", "Scheduler"):
        queries.append(mwaa("CPUUtilization", "Average", Cluster=cluster))
        queries.append(mwaa("MemoryUtilization", "Average", Cluster=cluster))
    for cluster in ("BaseWorker", "AdditionalWorker"):
        queries.append(mwaa("CPUUtilization", "SampleCount", Cluster=cluster))
    for pool in pools:
        queries.append(airflow("PoolOpenSlots", "Minimum", Pool=pool))
        queries.append(airflow("PoolStarvingTasks", "Maximum", Pool=pool))
        queries.append(airflow("PoolRunningSlots", "Maximum", Pool=pool))
        queries.append(airflow("PoolQueuedSlots", "Maximum", Pool=pool))
    return queries


def fetch_metrics(
    cloudwatch: CloudWatchClient, queries: Sequence[MetricQuery], *, start: datetime, end: datetime, period: int
) -> tuple[list[Metric], int, list[str]]:
    """(metrics in query order, GetMetricData calls made, notes): 500 queries per call, every page followed."""
    values: dict[str, list[tuple[datetime, float]]] = {f"m{index}": [] for index in range(len(queries))}
    notes: list[str] = []
    calls = 0
    for first in range(0, len(queries), MAX_QUERIES_PER_CALL):
        batch = list(enumerate(queries))[first : first + MAX_QUERIES_PER_CALL]
        request: dict[str, Any] = {
            "MetricDataQueries": [
                {
                    "Id": f"m{index}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": query.namespace,
                            "MetricName": query.name,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in query.dimensions],
                        },
                        "Period": period,
                        "Stat": query.stat,
                    },
                    "ReturnData": True,
                }
                for index, query in batch
            ],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            try:
                answer = cloudwatch.get_metric_data(**request)
            except ClientError as error:
                raise translate_client_error(error, operation="GetMetricData") from None
            calls += 1
            for result in answer.get("MetricDataResults", []):
                identifier = result.get("Id", "")
                if identifier in values:
                    values[identifier].extend(zip(result.get("Timestamps", []), result.get("Values", []), strict=True))
                status = result.get("StatusCode")
                if status in ("Forbidden", "InternalError"):
                    notes.append(f"GetMetricData answered {status} for {identifier}: its data may be missing")
            token = answer.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    metrics = []
    for index, query in enumerate(queries):
        points = sorted(dict(values[f"m{index}"]).items())
        metrics.append(
            Metric(
                namespace=query.namespace,
                name=query.name,
                dimensions=dict(query.dimensions),
                stat=query.stat,
                period=period,
                timestamps=[timestamp for timestamp, _ in points],
                values=[float(value) for _, value in points],
            )
        )
    return metrics, calls, sorted(set(notes))


def environment_snapshot(mwaa: MWAAClient, name: str) -> EnvironmentSnapshot:
    """GetEnvironment reduced to what the analysis reads; configuration options other than the capacity ones dropped."""
    try:
        environment: dict[str, Any] = dict(mwaa.get_environment(Name=name)["Environment"])
    except ClientError as error:
        raise translate_client_error(error, operation="GetEnvironment") from None
    options = environment.get("AirflowConfigurationOptions") or {}
    fields = {key: environment[key] for key in _ENVIRONMENT_FIELDS if environment.get(key) is not None}
    fields["AirflowConfigurationOptions"] = {key: options[key] for key in CAPACITY_OPTIONS if key in options}
    try:
        return EnvironmentSnapshot.model_validate(fields)
    except ValueError as error:
        raise InvalidInputError(f"environment {name} cannot be analysed: {error}") from None


def airflow_snapshot(airflow: AirflowCounts) -> tuple[AirflowSnapshot | None, list[str]]:
    """Airflow's pools and per-DAG task and run counts; each call that fails becomes a note instead."""
    notes: list[str] = []
    pools: list[PoolSnapshot] = []
    answered = False
    try:
        pools = [
            PoolSnapshot(
                name=pool.name,
                slots=pool.slots,
                running=pool.running_slots or 0,
                queued=pool.queued_slots or 0,
            )
            for pool in airflow.list_pools()
        ]
        answered = True
    except ControlPlaneError as error:
        notes.append(f"Airflow's pools were not gathered: {type(error).__name__}: {error}")
    tasks: Counter[tuple[str, str]] = Counter()
    states: Counter[str] = Counter()
    tasks_known = False
    try:
        for instance in airflow.list_task_instances(("running", "queued", "scheduled")):
            state = instance.state or ""
            tasks[(instance.dag_id, state)] += 1
            states[state] += 1
        tasks_known = answered = True
    except ControlPlaneError as error:
        notes.append(f"Airflow's task instances were not gathered: {type(error).__name__}: {error}")
    runs: Counter[tuple[str, str]] = Counter()
    runs_known = False
    try:
        for run in airflow.list_dag_runs(("running", "queued")):
            runs[(run.dag_id, run.state or "")] += 1
        runs_known = answered = True
    except ControlPlaneError as error:
        notes.append(f"Airflow's DAG runs were not gathered: {type(error).__name__}: {error}")
    if not answered:
        return None, notes
    dag_ids = sorted({dag for dag, _ in tasks} | {dag for dag, _ in runs}) if tasks_known and runs_known else []
    if tasks_known != runs_known:
        notes.append("Per-DAG counts left out: Airflow answered for task instances or DAG runs, not both.")
    dags = [
        DagSnapshot(
            dag_id=dag,
            running=tasks[(dag, "running")],
            queued=tasks[(dag, "queued")],
            scheduled=tasks[(dag, "scheduled")],
            running_runs=runs[(dag, "running")],
            queued_runs=runs[(dag, "queued")],
        )
        for dag in dag_ids
    ]
    snapshot = AirflowSnapshot(
        pools=pools,
        running_tasks=states["running"] if tasks_known else None,
        queued_tasks=states["queued"] if tasks_known else None,
        scheduled_tasks=states["scheduled"] if tasks_known else None,
        dags=dags,
    )
    return snapshot, notes


def gather(
    environment: str,
    *,
    mwaa: MWAAClient,
    cloudwatch: CloudWatchClient,
    start: datetime,
    end: datetime,
    airflow: AirflowCounts | None = None,
    period: int = 60,
    description: str | None = None,
) -> GatherResult:
    """The scenario of ``environment`` over [start, end) (see the module docstring for what is asked and how)."""
    window = Window(start=start, end=end)
    snapshot = environment_snapshot(mwaa, environment)
    notes: list[str] = []
    block: AirflowSnapshot | None = None
    if airflow is None:
        notes.append("Airflow was not asked: no pools, task or DAG-run counts.")
    else:
        block, airflow_notes = airflow_snapshot(airflow)
        notes += airflow_notes
    pools = [pool.name for pool in block.pools] if block is not None else []
    queries = metric_queries(environment, pools)
    metrics, calls, metric_notes = fetch_metrics(cloudwatch, queries, start=start, end=end, period=period)
    notes += metric_notes
    logger.info(
        "worker analysis data gathered",
        extra={"environment": environment, "metric_data_calls": calls, "queries": len(queries), "notes": len(notes)},
    )
    scenario = Scenario(
        description=description,
        environment=snapshot,
        window=window,
        metrics=metrics,
        airflow=block,
        notes=notes,
    )
    return GatherResult(scenario=scenario, metric_data_calls=calls, queries=len(queries))
