"""The workload simulator, end to end: simulate into the local CloudWatch, gather as the flow does, analyse.

Each workload file of ``mwaa_cp_local/mwaa/workloads`` runs on an emulated environment created with the
configuration the file suggests; ``gather`` then reads GetEnvironment, Airflow through InvokeRestApi and
GetMetricData from moto, exactly as the worker-analysis flow will, and ``analyze`` must name the cause the
pattern was written for.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from mwaa_control_plane.airflow import AirflowClient
from mwaa_control_plane.capacity import analyze
from mwaa_control_plane.capacity.gather import gather
from mwaa_control_plane.clock import ManualClock, get_clock
from mwaa_cp_local import mwaa
from mwaa_cp_local.mwaa.workload import WORKLOADS, Configuration, Workload, simulate, summary
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment
from tests.unit.local.airflow_env import REGION, Env, available

NAME = "analytics"


def _environment(s3: Any, clock: ManualClock, workload: Workload) -> Env:
    assert workload.environment is not None
    return available(s3, clock, **workload.environment.create_arguments())


def _diagnose(env: Env, clock: ManualClock, workload: str | Workload) -> tuple[Any, mwaa.SimulationResult]:
    """Simulate the last ``minutes`` up to now, then gather and analyse that window as the flow would."""
    assert env.name == NAME
    return _diagnose_env(clock, workload)


def _diagnose_env(clock: ManualClock, workload: str | Workload) -> tuple[Any, mwaa.SimulationResult]:
    end = clock.now().replace(second=0, microsecond=0)
    result = mwaa.simulate_workload(REGION, NAME, workload, end=end)
    minutes = len(result.minutes)
    mwaa_client = boto3.client("mwaa", region_name=REGION)
    gathered = gather(
        NAME,
        mwaa=mwaa_client,
        cloudwatch=boto3.client("cloudwatch", region_name=REGION),
        start=end - timedelta(minutes=minutes),
        end=end,
        airflow=AirflowClient(mwaa_client, NAME, clock=clock),
    )
    return analyze(gathered.scenario), result


@pytest.mark.parametrize(
    ("workload", "cause", "limit"),
    [
        ("nightly-etl", "capacity_bound", None),
        ("ml-batch", "cpu_starvation", None),
        ("pandas-reports", "memory_starvation", None),
        ("pool-limited", "concurrency_bound", "pool:snowflake"),
        ("stranded-workers", "stranded", None),
        ("scheduler-outage", "scheduler_unhealthy", None),
        ("quiet-day", "over_provisioned", None),
        ("steady", "healthy", None),
    ],
)
def test_each_workload_file_is_diagnosed_as_the_cause_it_was_written_for(
    s3: Any, clock: ManualClock, workload: str, cause: str, limit: str | None
) -> None:
    pattern = Workload.named(workload)
    env = _environment(s3, clock, pattern)

    report, result = _diagnose(env, clock, workload)

    assert (report.cause, report.limit) == (cause, limit), (report.summary, summary(result))


@pytest.mark.parametrize(
    ("option", "limit"),
    [
        ({"core.parallelism": "4"}, "parallelism"),
        ({"core.max_active_runs_per_dag": "2"}, "max_active_runs_per_dag"),
        ({"core.max_active_tasks_per_dag": "4"}, "max_active_tasks_per_dag"),
    ],
)
def test_an_airflow_limit_holding_tasks_back_is_named(
    s3: Any, clock: ManualClock, option: dict[str, str], limit: str
) -> None:
    # Given a DAG run of 6 tasks every 5 minutes on ten small workers' worth of slots, held back by one option
    available(s3, clock, EnvironmentClass="mw1.small", MinWorkers=1, MaxWorkers=10, AirflowConfigurationOptions=option)
    workload = Workload.model_validate(
        {
            "minutes": 60,
            "arrivals": [
                {"at_minute": 0, "dag_id": "partner_feeds", "tasks": 6, "duration_minutes": 12, "every_minutes": 5}
            ],
        }
    )

    report, result = _diagnose_env(clock, workload)

    assert (report.cause, report.limit) == ("concurrency_bound", limit), (report.summary, summary(result))


def test_airflow_3_answers_the_gather_step_the_same_way(s3: Any, clock: ManualClock) -> None:
    pattern = Workload.named("pool-limited")
    assert pattern.environment is not None
    available(s3, clock, "3.0.6", **pattern.environment.create_arguments())

    report, _ = _diagnose_env(clock, pattern)

    assert (report.cause, report.limit) == ("concurrency_bound", "pool:snowflake")
    assert report.data.airflow_block
    assert [note for note in report.notes if "Airflow" in note] == []


def test_a_cpu_heavy_workload_runs_fewer_tasks_than_slots_at_full_cpu(s3: Any, clock: ManualClock) -> None:
    pattern = Workload.named("ml-batch")
    env = _environment(s3, clock, pattern)

    report, result = _diagnose(env, clock, pattern)

    evidence = report.top_finding.evidence
    assert evidence["median_worker_cpu_percent"] == 100
    assert evidence["median_running"] < 0.9 * evidence["median_slots"]
    assert summary(result)["peak_workers"] == 4


def test_the_pool_shows_in_airflow_as_the_simulation_left_it(s3: Any, clock: ManualClock) -> None:
    env = _environment(s3, clock, Workload.named("pool-limited"))
    end = clock.now().replace(second=0, microsecond=0)
    mwaa.simulate_workload(REGION, NAME, "pool-limited", start=end - timedelta(minutes=30), end=end)

    pools = {pool["name"]: pool for pool in env.ok("GET", "/pools")["pools"]}
    scheduled = env.ok("GET", "/dags/~/dagRuns/~/taskInstances", {"state": ["scheduled"]})

    snowflake = pools["snowflake"]
    assert (snowflake["slots"], snowflake["running_slots"] + snowflake["queued_slots"]) == (4, 4)
    assert snowflake["open_slots"] == 0
    assert scheduled["total_entries"] > 0
    assert {ti["pool"] for ti in scheduled["task_instances"]} == {"snowflake"}


def test_the_metrics_land_at_the_windows_timestamps(s3: Any, clock: ManualClock) -> None:
    _environment(s3, clock, Workload.named("steady"))
    end = clock.now().replace(second=0, microsecond=0)
    start = end - timedelta(minutes=20)

    mwaa.simulate_workload(REGION, NAME, "steady", start=start, end=end)

    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/MWAA",
                        "MetricName": "RunningTasks",
                        "Dimensions": [{"Name": "Environment", "Value": NAME}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=start - timedelta(hours=1),
        EndTime=end + timedelta(hours=1),
    )
    timestamps = answer["MetricDataResults"][0]["Timestamps"]
    assert len(timestamps) == 20
    assert min(timestamps) == start
    assert max(timestamps) == end - timedelta(minutes=1)


def test_the_hook_publishes_up_to_the_local_runtimes_virtual_now() -> None:
    with LocalAws() as aws:
        create_environment(aws, "dev-etl", MinWorkers=1, MaxWorkers=5)

        result = mwaa.simulate_workload(aws, "dev-etl", "nightly-etl")

        assert aws.clock is not None
        assert result.start is not None
        assert result.end is not None
        assert result.end <= aws.clock.now()  # the virtual now, to the minute (the clock runs on meanwhile)
        assert (result.end.second, result.end.microsecond) == (0, 0)
        assert result.end - result.start == timedelta(minutes=120)
        gathered = gather(
            "dev-etl",
            mwaa=aws.client("mwaa"),
            cloudwatch=aws.client("cloudwatch"),
            start=result.start,
            end=result.end,
            airflow=AirflowClient(aws.client("mwaa"), "dev-etl", clock=get_clock()),
        )
    assert analyze(gathered.scenario).cause == "capacity_bound"


def test_an_unknown_environment_is_refused_before_anything_is_published(aws: None) -> None:
    with pytest.raises(Exception, match="dev-gone does not exist"):
        mwaa.simulate_workload(REGION, "dev-gone", "steady")

    metrics = boto3.client("cloudwatch", region_name=REGION).list_metrics(Namespace="AWS/MWAA")["Metrics"]
    assert metrics == []


# --------------------------------------------------------------------------------------------- the model alone


def _configuration(**overrides: Any) -> Configuration:
    environment = {"EnvironmentClass": "mw1.small", "MinWorkers": 1, "MaxWorkers": 5, "Schedulers": 2}
    return Configuration.of(environment | overrides)


def _burst(**arrival: Any) -> Workload:
    return Workload.model_validate(
        {
            "minutes": 30,
            "arrivals": [{"at_minute": 0, "dag_id": "burst", "tasks": 20, "duration_minutes": 20, **arrival}],
        }
    )


def test_workers_come_up_after_the_scale_out_delay() -> None:
    result = simulate(_burst(), _configuration())

    workers = [minute.workers for minute in result.minutes]
    assert workers[:3] == [1, 1, 1]
    assert workers[3] == 4  # ceil(20 / 5): three more after the 3-minute delay


def test_extra_workers_leave_after_the_scale_in_delay_once_idle() -> None:
    workload = Workload.model_validate(
        {"minutes": 40, "arrivals": [{"at_minute": 0, "dag_id": "burst", "tasks": 20, "duration_minutes": 10}]}
    )

    minutes = simulate(workload, _configuration()).minutes

    # The first five tasks end at minute 10 (the need falls to 3 workers), the rest at 13 (idle):
    # the three extra workers stay until the need has been lower for the 5-minute scale-in delay.
    assert [m.running for m in minutes[9:14]] == [20, 15, 15, 15, 0]
    assert [m.workers for m in minutes[13:16]] == [4, 4, 1]


def test_celery_worker_autoscale_sets_the_tasks_per_worker() -> None:
    configuration = _configuration(AirflowConfigurationOptions={"celery.worker_autoscale": "2,2"}, MaxWorkers=3)

    result = simulate(_burst(), configuration)

    assert max(minute.running for minute in result.minutes) == 6


def test_parallelism_holds_tasks_in_scheduled_not_queued() -> None:
    configuration = _configuration(AirflowConfigurationOptions={"core.parallelism": "3"}, Schedulers=2)

    minute = simulate(_burst(), configuration).minutes[10]

    assert minute.running + minute.queued == 6
    assert minute.open_slots == 0
    assert minute.scheduled == 14
    assert minute.starving == 0  # not a pool: Airflow's TasksStarving stays 0


def test_max_active_runs_keeps_later_runs_queued() -> None:
    workload = Workload.model_validate(
        {
            "minutes": 20,
            "dags": [{"dag_id": "burst", "max_active_runs": 1}],
            "arrivals": [
                {"at_minute": 0, "dag_id": "burst", "tasks": 1, "duration_minutes": 30, "every_minutes": 1},
            ],
        }
    )

    result = simulate(workload, _configuration())

    states = [run.state for run in result.load.runs]
    assert states.count("running") == 1
    assert states.count("queued") == 19


def test_tasks_queued_past_the_timeout_are_failed() -> None:
    workload = Workload.model_validate(
        {
            "minutes": 40,
            "arrivals": [{"at_minute": 0, "dag_id": "a", "tasks": 1, "duration_minutes": 5}],
            "incidents": [{"kind": "workers_unhealthy", "from_minute": 0}],
        }
    )

    result = simulate(workload, _configuration())

    assert result.failed == 1
    assert result.minutes[29].queued == 1
    assert result.minutes[30].queued == 0


def test_a_scheduler_down_stops_heartbeats_and_scheduling() -> None:
    workload = Workload.model_validate(
        {
            "minutes": 30,
            "arrivals": [{"at_minute": 12, "dag_id": "late", "tasks": 3, "duration_minutes": 2}],
            "incidents": [{"kind": "scheduler_down", "from_minute": 10, "to_minute": 20}],
        }
    )

    minutes = simulate(workload, _configuration()).minutes

    assert [m.schedulers_up for m in minutes[9:21]] == [2] + [0] * 10 + [2]
    assert all(m.running == 0 and m.queued == 0 for m in minutes[10:20])
    assert minutes[20].running == 3


def test_one_scheduler_down_halves_the_heartbeat() -> None:
    workload = Workload.model_validate(
        {
            "minutes": 20,
            "arrivals": [{"at_minute": 0, "dag_id": "a", "tasks": 1, "duration_minutes": 1}],
            "incidents": [{"kind": "scheduler_down", "from_minute": 5, "schedulers": 1}],
        }
    )

    minutes = simulate(workload, _configuration()).minutes

    assert (minutes[4].schedulers_up, minutes[5].schedulers_up) == (2, 1)


def test_a_memory_heavy_task_is_not_taken_where_it_does_not_fit() -> None:
    result = simulate(_burst(memory_gb=0.5, tasks=5), _configuration(MaxWorkers=1))

    minute = result.minutes[5]
    assert minute.running == 3  # 0.4 GB baseline + 3 x 0.5 GB of 2 GB; a fourth would not fit
    assert minute.base_memory == (95.0,)


def test_the_same_workload_gives_the_same_metrics() -> None:
    workload = Workload.named("nightly-etl")

    assert simulate(workload, _configuration()) == simulate(workload, _configuration())


# --------------------------------------------------------------------------------------------- the file


def test_every_workload_file_is_valid_and_suggests_an_environment() -> None:
    files = sorted(WORKLOADS.glob("*.json"))

    assert len(files) >= 4
    for path in files:
        workload = Workload.from_file(path)
        assert workload.environment is not None, path.name
        assert workload.description, path.name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"minutes": 10}, "minutes"),
        ({"arrivals": [{"at_minute": 0, "dag_id": "a", "tasks": 0, "duration_minutes": 1}]}, "tasks"),
        ({"arrivals": [{"at_minute": 0, "dag_id": "a", "tasks": 1, "duration_minutes": 1, "pool": "p"}]}, "pools"),
        ({"arrival": []}, "arrival"),
        ({"incidents": [{"kind": "meteor"}]}, "kind"),
        ({"incidents": [{"kind": "scheduler_down", "from_minute": 20, "to_minute": 10}]}, "to_minute"),
        ({"incidents": [{"kind": "workers_unhealthy", "schedulers": 1}]}, "scheduler_down only"),
    ],
)
def test_a_malformed_workload_is_refused_with_the_field_named(change: dict[str, Any], message: str) -> None:
    document = {"minutes": 30, "arrivals": []} | change

    with pytest.raises(ValidationError, match=message):
        Workload.model_validate(document)
