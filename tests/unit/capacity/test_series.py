"""From metrics to per-minute signals: CloudWatch's names for MWAA, statistic preference, periods, worker counts."""

from __future__ import annotations

import json

from mwaa_control_plane.capacity.scenario import Scenario
from mwaa_control_plane.capacity.series import observe, percentile
from tests.unit.capacity.builders import document, environment, metric, scenario


def _with(*metrics: dict[str, object], minutes: int = 30, **env: object) -> Scenario:
    data = document(minutes=minutes, queued=None, running=None, env=environment(**env) if env else None)
    data["metrics"] = list(metrics)
    return Scenario.model_validate_json(json.dumps(data))


def test_the_queue_comes_from_aws_mwaa_before_amazonmwaa_executor() -> None:
    observed = observe(
        _with(
            metric("AmazonMWAA", "QueuedTasks", 9.0, minutes=30, Function="Executor"),
            metric("AWS/MWAA", "QueuedTasks", 4.0, minutes=30),
        )
    )

    assert observed["queued"].values[0] == 4.0
    assert observed["queued"].source == "AWS/MWAA QueuedTasks (Environment=dev) Maximum/60s"


def test_amazonmwaa_executor_metrics_stand_in_when_aws_mwaa_has_none() -> None:
    observed = observe(_with(metric("AmazonMWAA", "RunningTasks", 7.0, minutes=30, Function="Executor")))

    assert observed["running"].values[5] == 7.0


def test_the_preferred_statistic_wins_whatever_the_order_in_the_file() -> None:
    observed = observe(
        _with(
            metric("AWS/MWAA", "QueuedTasks", 2.0, stat="Average", minutes=30),
            metric("AWS/MWAA", "QueuedTasks", 6.0, stat="Maximum", minutes=30),
        )
    )

    assert observed["queued"].values[0] == 6.0


def test_database_cpu_is_never_taken_for_worker_cpu() -> None:
    observed = observe(
        _with(metric("AWS/MWAA", "CPUUtilization", 99.0, stat="Average", minutes=30, DatabaseRole="WRITER"))
    )

    assert not observed["base_cpu"].present
    assert observed.unused == ("AWS/MWAA CPUUtilization (DatabaseRole=WRITER, Environment=dev) Average/60s",)


def test_both_spellings_of_starving_tasks_are_accepted() -> None:
    observed = observe(_with(metric("AmazonMWAA", "StarvingTasks", 3.0, minutes=30, Function="Scheduler")))

    assert observed.starving().values[0] == 3.0


def test_pool_starving_tasks_stand_in_for_the_schedulers_count() -> None:
    observed = observe(
        _with(
            metric("AmazonMWAA", "PoolStarvingTasks", 2.0, minutes=30, Pool="a"),
            metric("AmazonMWAA", "PoolStarvingTasks", 5.0, minutes=30, Pool="b"),
        )
    )

    assert set(observed.pools) == {"a", "b"}
    assert observed.starving().values[0] == 7.0


def test_a_five_minute_gauge_covers_its_five_minutes() -> None:
    observed = observe(_with(metric("AWS/MWAA", "QueuedTasks", [1.0, 2.0, 3.0], period=300, minutes=3), minutes=15))

    assert observed["queued"].values == (1.0,) * 5 + (2.0,) * 5 + (3.0,) * 5


def test_a_five_minute_sample_count_is_divided_into_workers_per_minute() -> None:
    data = metric("AWS/MWAA", "CPUUtilization", [10.0, 15.0], stat="SampleCount", period=300, minutes=2)
    data["dimensions"]["Cluster"] = "AdditionalWorker"

    observed = observe(_with(data, minutes=10))

    assert observed["additional_workers"].values == (2.0,) * 5 + (3.0,) * 5


def test_high_resolution_points_are_reduced_to_the_minute_by_their_statistic() -> None:
    data = metric("AWS/MWAA", "QueuedTasks", [1.0, 5.0, 2.0, 0.0], period=30, minutes=4)
    data["timestamps"] = [
        "2026-11-30T10:00:00Z",
        "2026-11-30T10:00:30Z",
        "2026-11-30T10:01:00Z",
        "2026-11-30T10:01:30Z",
    ]

    observed = observe(_with(data, minutes=2))

    assert observed["queued"].values == (5.0, 2.0)


def test_points_outside_the_window_are_ignored() -> None:
    data = metric("AWS/MWAA", "QueuedTasks", 3.0, minutes=2)
    data["timestamps"] = ["2026-11-30T09:59:00Z", "2026-11-30T10:30:00Z"]

    observed = observe(_with(data, minutes=30))

    assert observed["queued"].points == 0


def test_workers_are_min_workers_plus_the_additional_sample_count() -> None:
    observed = observe(scenario(minutes=3, additional=[0.0, 2.0, 1.0], env=environment(MinWorkers=2)))

    assert observed.workers(scenario(minutes=3, env=environment(MinWorkers=2)).environment.capacity()) == (
        2.0,
        4.0,
        3.0,
    )


def test_workers_are_unknown_without_the_additional_worker_count_unless_min_equals_max() -> None:
    autoscaled = scenario(minutes=2)
    fixed = scenario(minutes=2, env=environment(MinWorkers=3, MaxWorkers=3))

    assert observe(autoscaled).workers(autoscaled.environment.capacity()) == (None, None)
    assert observe(fixed).workers(fixed.environment.capacity()) == (3.0, 3.0)


def test_worker_utilisation_is_the_busier_cluster_each_minute() -> None:
    observed = observe(scenario(minutes=2, cpu=[40.0, 40.0], additional_cpu=[None, 90.0]))

    assert observed.worker_utilisation("cpu").values == (40.0, 90.0)


def test_the_last_minute_amazonmwaa_published_is_known() -> None:
    observed = observe(scenario(minutes=20, heartbeat=lambda m: 24.0 if m < 12 else None))

    assert observed.latest_airflow_minute == 11


def test_percentiles_are_nearest_rank() -> None:
    assert percentile(range(1, 121), 95) == 114
    assert percentile([None, None], 95) is None
