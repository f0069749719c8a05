"""Gathering a live environment into a scenario: GetEnvironment, GetMetricData (moto's CloudWatch), Airflow's counts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mwaa_control_plane.airflow.models import DagRun, Pool, TaskInstance
from mwaa_control_plane.capacity import analyze
from mwaa_control_plane.capacity.gather import MAX_QUERIES_PER_CALL, gather, metric_queries
from mwaa_control_plane.errors import AirflowApiError, NotFoundError, ThrottledError
from tests.unit.aws import FakeMwaa, client_error, environment

NAME = "dev-analytics"
START = datetime(2026, 11, 30, 10, tzinfo=UTC)
END = START + timedelta(minutes=30)


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


class CountingCloudWatch:
    """Passes GetMetricData on and records each request's query count."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.requests: list[int] = []

    def get_metric_data(self, **request: Any) -> Any:
        self.requests.append(len(request["MetricDataQueries"]))
        return self.inner.get_metric_data(**request)


class FakeAirflow:
    def __init__(self, *, fail: str | None = None) -> None:
        self.fail = fail

    def _check(self, what: str) -> None:
        if self.fail == what:
            raise AirflowApiError("Airflow said no", status=403)

    def list_pools(self) -> list[Pool]:
        self._check("pools")
        return [
            Pool(name="default_pool", slots=128, running_slots=6, queued_slots=2),
            Pool(name="etl", slots=4, running_slots=4),
        ]

    def list_task_instances(self, states: Sequence[str]) -> list[TaskInstance]:
        self._check("tasks")
        assert tuple(states) == ("running", "queued", "scheduled")
        tasks = [TaskInstance(dag_id="load", task_id=f"t{i}", state="running") for i in range(6)]
        tasks += [TaskInstance(dag_id="load", task_id=f"q{i}", state="queued") for i in range(2)]
        tasks += [TaskInstance(dag_id="report", task_id=f"s{i}", state="scheduled") for i in range(5)]
        return tasks

    def list_dag_runs(self, states: Sequence[str]) -> list[DagRun]:
        self._check("runs")
        return [
            DagRun(dag_id="load", run_id="r1", state="running"),
            DagRun(dag_id="report", run_id="r2", state="queued"),
        ]


def _publish(cloudwatch: Any, *, queued: float, running: float, workers: int, cpu: float) -> None:
    """A minute-by-minute half hour as MWAA publishes it: additional workers each sample their CPU once a minute."""
    env = {"Name": "Environment", "Value": NAME}
    data: list[tuple[str, dict[str, Any]]] = []
    for minute in range(30):
        at = START + timedelta(minutes=minute, seconds=20)
        data.append(("AWS/MWAA", {"MetricName": "QueuedTasks", "Dimensions": [env], "Timestamp": at, "Value": queued}))
        data.append(
            ("AWS/MWAA", {"MetricName": "RunningTasks", "Dimensions": [env], "Timestamp": at, "Value": running})
        )
        for cluster, count in (("BaseWorker", 1), ("AdditionalWorker", workers - 1)):
            dims = [env, {"Name": "Cluster", "Value": cluster}]
            for _ in range(count):
                data.append(
                    ("AWS/MWAA", {"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": at, "Value": cpu})
                )
        scheduler = [env, {"Name": "Function", "Value": "Scheduler"}]
        data.append(
            (
                "AmazonMWAA",
                {"MetricName": "SchedulerHeartbeat", "Dimensions": scheduler, "Timestamp": at, "Value": 24.0},
            )
        )
    for namespace in ("AWS/MWAA", "AmazonMWAA"):
        batch = [datum for ns, datum in data if ns == namespace]
        for first in range(0, len(batch), 500):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch[first : first + 500])


def _gather(cloudwatch: Any, mwaa: Any = None, airflow: Any = None) -> Any:
    mwaa = mwaa or FakeMwaa(
        environment(
            Name=NAME,
            MaxWorkers=3,
            AirflowConfigurationOptions={
                "celery.worker_autoscale": "5,5",
                "secrets.backend_kwargs": '{"connections_prefix": "/airflow/connections"}',
                "smtp.smtp_password": "hunter2",
            },
        )
    )
    return gather(NAME, mwaa=mwaa, cloudwatch=cloudwatch, start=START, end=END, airflow=airflow)


def test_the_gathered_scenario_carries_the_metrics_as_cloudwatch_answered(cloudwatch: Any) -> None:
    _publish(cloudwatch, queued=12.0, running=15.0, workers=3, cpu=60.0)

    result = _gather(cloudwatch)

    by_key = {(m.namespace, m.name, m.dimensions.get("Cluster"), m.stat): m for m in result.scenario.metrics}
    queued = by_key[("AWS/MWAA", "QueuedTasks", None, "Maximum")]
    assert queued.values == [12.0] * 30
    assert queued.timestamps[0] == START
    assert by_key[("AWS/MWAA", "CPUUtilization", "AdditionalWorker", "SampleCount")].values == [2.0] * 30
    assert by_key[("AWS/MWAA", "CPUUtilization", "AdditionalWorker", "Average")].values == [60.0] * 30
    # Queried without data is kept, empty: no ApproximateAgeOfOldestTask was published.
    assert by_key[("AWS/MWAA", "ApproximateAgeOfOldestTask", None, "Maximum")].values == []


def test_only_the_capacity_options_enter_the_scenario(cloudwatch: Any) -> None:
    result = _gather(cloudwatch)

    assert result.scenario.environment.AirflowConfigurationOptions == {"celery.worker_autoscale": "5,5"}
    assert "hunter2" not in result.scenario.to_json()


def test_a_gathered_scenario_is_analysed_like_a_file(cloudwatch: Any) -> None:
    # Three workers of five tasks at MaxWorkers 3, all full, twelve queued for the whole half hour.
    _publish(cloudwatch, queued=12.0, running=15.0, workers=3, cpu=60.0)

    report = analyze(_gather(cloudwatch).scenario)

    assert report.cause == "capacity_bound"
    assert report.findings[0].evidence["minutes_at_max_workers"] == 30
    assert report.recommendation.change is not None
    assert report.recommendation.change.max_workers == 6  # ceil(27 / 5)


def test_all_queries_go_in_one_call_when_they_fit(cloudwatch: Any) -> None:
    counting = CountingCloudWatch(cloudwatch)

    result = _gather(counting)

    assert result.metric_data_calls == 1
    assert counting.requests == [result.queries] == [len(metric_queries(NAME))]


def test_more_than_500_queries_are_split_into_as_few_calls_as_allowed(cloudwatch: Any) -> None:
    counting = CountingCloudWatch(cloudwatch)

    class ManyPools(FakeAirflow):
        def list_pools(self) -> list[Pool]:
            return [Pool(name=f"pool{i}", slots=4) for i in range(130)]

    result = _gather(counting, airflow=ManyPools())

    assert result.queries == len(metric_queries(NAME)) + 4 * 130 == 536
    assert counting.requests == [MAX_QUERIES_PER_CALL, result.queries - MAX_QUERIES_PER_CALL]
    assert result.metric_data_calls == 2


def test_every_page_of_an_answer_is_followed() -> None:
    class Paged:
        def __init__(self) -> None:
            self.tokens: list[str | None] = []

        def get_metric_data(self, **request: Any) -> Any:
            self.tokens.append(request.get("NextToken"))
            minute = 0 if "NextToken" not in request else 1
            return {
                "MetricDataResults": [
                    {"Id": "m0", "Timestamps": [START + timedelta(minutes=minute)], "Values": [float(minute + 1)]}
                ],
                **({"NextToken": "page-2"} if minute == 0 else {}),
            }

    paged = Paged()

    result = _gather(paged)

    assert paged.tokens == [None, "page-2"]
    assert result.metric_data_calls == 2
    assert result.scenario.metrics[0].values == [1.0, 2.0]


def test_throttling_of_getmetricdata_is_the_retryable_error() -> None:
    class Throttled:
        def get_metric_data(self, **request: Any) -> Any:
            raise client_error("Throttling", "Rate exceeded", operation="GetMetricData")

    with pytest.raises(ThrottledError, match="GetMetricData"):
        _gather(Throttled())


def test_an_unknown_environment_is_not_found(cloudwatch: Any) -> None:
    with pytest.raises(NotFoundError, match="Environment dev-analytics not found"):
        _gather(cloudwatch, mwaa=FakeMwaa(environment(Name="other")))


def test_airflows_counts_are_gathered_per_dag_and_pool(cloudwatch: Any) -> None:
    result = _gather(cloudwatch, airflow=FakeAirflow())

    airflow = result.scenario.airflow
    assert airflow is not None
    assert [(p.name, p.slots, p.running, p.queued) for p in airflow.pools] == [
        ("default_pool", 128, 6, 2),
        ("etl", 4, 4, 0),
    ]
    assert (airflow.running_tasks, airflow.queued_tasks, airflow.scheduled_tasks) == (6, 2, 5)
    assert [(d.dag_id, d.running, d.queued, d.scheduled, d.running_runs, d.queued_runs) for d in airflow.dags] == [
        ("load", 6, 2, 0, 1, 0),
        ("report", 0, 0, 5, 0, 1),
    ]
    pool_metrics = {(m.name, m.dimensions.get("Pool")) for m in result.scenario.metrics if "Pool" in m.dimensions}
    assert ("PoolOpenSlots", "etl") in pool_metrics
    assert ("PoolStarvingTasks", "default_pool") in pool_metrics


def test_a_failing_airflow_call_becomes_a_note_not_a_failed_gather(cloudwatch: Any) -> None:
    result = _gather(cloudwatch, airflow=FakeAirflow(fail="tasks"))

    airflow = result.scenario.airflow
    assert airflow is not None and airflow.running_tasks is None and airflow.dags == []
    assert len(airflow.pools) == 2
    assert result.scenario.notes == [
        "Airflow's task instances were not gathered: AirflowApiError: Airflow said no",
        "Per-DAG counts left out: Airflow answered for task instances or DAG runs, not both.",
    ]


def test_without_airflow_the_scenario_says_so(cloudwatch: Any) -> None:
    result = _gather(cloudwatch)

    assert result.scenario.airflow is None
    assert result.scenario.notes == ["Airflow was not asked: no pools, task or DAG-run counts."]
