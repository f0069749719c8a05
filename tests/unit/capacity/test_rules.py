"""Each rule on its own: when it fires, when it is borderline, when its data is missing, and the numbers it cites."""

from __future__ import annotations

from typing import Any

from mwaa_control_plane.capacity.rules import (
    Finding,
    Rule,
    capacity,
    concurrency,
    consistency,
    context_of,
    cpu_starvation,
    memory_starvation,
    over_provisioned,
    required_data,
    scheduler_heartbeat,
    stranded,
)
from tests.unit.capacity.builders import during, environment, scenario


def _run(rule: Rule, **kwargs: Any) -> Finding:
    return rule(context_of(scenario(**kwargs)))


# --- required data and consistency ------------------------------------------------------------------------------


def test_a_window_shorter_than_fifteen_minutes_is_not_enough() -> None:
    finding = _run(required_data, minutes=10, queued=1.0, running=1.0)

    assert finding.status == "fires"
    assert finding.evidence["window_minutes"] == 10


def test_missing_running_tasks_names_what_was_searched() -> None:
    finding = _run(required_data, running=None)

    assert finding.status == "fires"
    assert "RunningTasks has data for 0 of 120 minutes" in finding.message
    assert "AmazonMWAA RunningTasks (Function=Executor)" in finding.message


def test_queue_data_for_less_than_half_the_window_is_not_enough() -> None:
    finding = _run(required_data, queued=lambda m: 1.0 if m < 50 else None)

    assert finding.status == "fires"
    assert finding.evidence["QueuedTasks_minutes"] == 50


def test_queue_data_over_the_window_is_enough() -> None:
    assert _run(required_data).status == "clear"


def test_running_above_the_slots_contradicts_the_configuration() -> None:
    finding = _run(consistency, running=during(60, 120, 40.0, 10.0))

    assert finding.status == "fires"
    assert "above the 25 slots that MaxWorkers 5 x 5 tasks per worker" in finding.message
    assert finding.evidence["minutes_over_slots"] == 60


def test_more_workers_than_max_workers_contradicts_the_configuration() -> None:
    finding = _run(consistency, additional=during(10, 20, 6.0))

    assert finding.status == "fires"
    assert finding.evidence["minutes_over_max_workers"] == 10


def test_metrics_within_the_configuration_are_consistent() -> None:
    assert _run(consistency, running=25.0, additional=4.0).status == "clear"


# --- scheduler heartbeat ----------------------------------------------------------------------------------------


def test_without_the_heartbeat_metric_scheduler_health_is_not_judged() -> None:
    assert _run(scheduler_heartbeat).status == "not_evaluated"


def test_a_heartbeat_series_without_any_airflow_data_is_not_judged() -> None:
    finding = _run(scheduler_heartbeat, heartbeat=[None] * 120)

    assert finding.status == "not_evaluated"
    assert "No AmazonMWAA metric has a datapoint" in finding.message


def test_ten_minutes_without_a_heartbeat_is_an_unhealthy_scheduler() -> None:
    finding = _run(
        scheduler_heartbeat, heartbeat=lambda m: None if 40 <= m < 52 else 24.0, open_slots=100.0, scheduler_cpu=50.0
    )

    assert finding.status == "fires"
    assert finding.cause == "scheduler_unhealthy"
    assert finding.evidence["longest_gap_minutes"] == 12
    assert finding.evidence["gap_start"] == "2026-11-30T10:40:00Z"
    assert "no scheduler heartbeat for 12 minutes from 2026-11-30T10:40:00Z" in finding.message


def test_a_six_minute_gap_is_borderline() -> None:
    finding = _run(scheduler_heartbeat, heartbeat=lambda m: 0.0 if 40 <= m < 46 else 24.0)

    assert finding.status == "borderline"


def test_heartbeats_halving_with_two_schedulers_is_one_scheduler_lost() -> None:
    finding = _run(scheduler_heartbeat, heartbeat=lambda m: 24.0 if m < 105 else 12.0)

    assert finding.status == "fires"
    assert finding.evidence["baseline_per_minute"] == 24
    assert finding.evidence["recent_per_minute"] == 12
    assert finding.evidence["schedulers_lost"] == 1


def test_a_quarter_fewer_heartbeats_is_borderline() -> None:
    finding = _run(scheduler_heartbeat, heartbeat=lambda m: 24.0 if m < 105 else 18.0)

    assert finding.status == "borderline"
    assert finding.evidence["schedulers_lost"] == 0.5


def test_steady_heartbeats_are_clear() -> None:
    assert _run(scheduler_heartbeat, heartbeat=24.0).status == "clear"


def test_the_last_minutes_of_the_window_are_publication_lag_not_a_gap() -> None:
    finding = _run(scheduler_heartbeat, heartbeat=lambda m: 24.0 if m < 117 else None)

    assert finding.status == "clear"


def test_airflows_metrics_all_stopping_with_the_scheduler_is_a_gap() -> None:
    finding = _run(
        scheduler_heartbeat, heartbeat=lambda m: 24.0 if m < 90 else None, open_slots=lambda m: 50.0 if m < 90 else None
    )

    assert finding.status == "fires"
    assert finding.evidence["longest_gap_minutes"] == 27  # minutes 90 to 116; the last three may be in transit


def test_the_schedulers_cpu_during_the_gap_is_cited() -> None:
    finding = _run(
        scheduler_heartbeat,
        heartbeat=lambda m: None if m >= 90 else 24.0,
        open_slots=9.0,
        scheduler_cpu=during(90, 120, 97.0, 50.0),
    )

    assert finding.evidence["median_scheduler_cpu_percent"] == 97


# --- stranded ---------------------------------------------------------------------------------------------------


def _stranded(**kwargs: Any) -> Finding:
    shape = {"queued": during(60, 80, 5.0), "running": during(0, 60, 4.0)}
    return _run(stranded, **(shape | kwargs))


def test_queued_with_nothing_running_and_the_age_rising_is_stranded() -> None:
    finding = _stranded(age=lambda m: 60.0 * (m - 60) if 60 <= m < 80 else 0.0)

    assert finding.status == "fires"
    assert finding.cause == "stranded"
    assert finding.evidence["stranded_minutes"] == 20
    assert finding.evidence["oldest_age_end_s"] == 1140


def test_without_the_age_stranded_is_judged_on_queue_and_running_alone() -> None:
    finding = _stranded()

    assert finding.status == "fires"
    assert "judged on QueuedTasks and RunningTasks alone" in finding.message


def test_an_age_that_does_not_rise_contradicts_a_stranded_queue() -> None:
    finding = _stranded(age=30.0)

    assert finding.status == "borderline"
    assert "contradicts itself" in finding.message


def test_twelve_minutes_with_nothing_running_is_borderline() -> None:
    assert _stranded(queued=during(60, 72, 5.0)).status == "borderline"


def test_a_queue_that_runs_is_not_stranded() -> None:
    assert _run(stranded, queued=3.0, running=2.0).status == "clear"


# --- starvation -------------------------------------------------------------------------------------------------


def _starved(**kwargs: Any) -> dict[str, Any]:
    # mw1.medium, 2 workers (no additional): 20 slots, 8 running, 12 queued from minute 20.
    base = {
        "env": environment(EnvironmentClass="mw1.medium", MinWorkers=2, MaxWorkers=6),
        "queued": during(20, 120, 12.0),
        "running": 8.0,
        "additional": 0.0,
        "cpu": 50.0,
        "memory": 50.0,
    }
    return base | kwargs


def test_worker_cpu_above_ninety_percent_while_slots_stay_free_is_cpu_starvation() -> None:
    finding = _run(cpu_starvation, **_starved(cpu=95.0))

    assert finding.status == "fires"
    assert finding.cause == "cpu_starvation"
    assert finding.evidence["median_worker_cpu_percent"] == 95
    assert finding.evidence["median_slots"] == 20
    assert "More workers of this class will not help" in finding.message


def test_worker_memory_above_ninety_percent_is_memory_starvation() -> None:
    finding = _run(memory_starvation, **_starved(memory=93.0))

    assert finding.status == "fires"
    assert finding.cause == "memory_starvation"


def test_cpu_at_eighty_seven_percent_is_borderline() -> None:
    assert _run(cpu_starvation, **_starved(cpu=87.0)).status == "borderline"


def test_without_worker_cpu_starvation_cannot_be_ruled_out() -> None:
    finding = _run(cpu_starvation, **_starved(cpu=None))

    assert finding.status == "not_evaluated"
    assert "cannot be ruled out" in finding.message


def test_full_slots_are_not_starvation_whatever_the_cpu() -> None:
    finding = _run(cpu_starvation, **_starved(running=20.0, cpu=99.0))

    assert finding.status == "clear"
    assert "slots were full" in finding.message


def test_high_cpu_without_a_backlog_is_not_starvation() -> None:
    assert _run(cpu_starvation, **_starved(queued=0.0, cpu=99.0)).status == "clear"


# --- capacity ---------------------------------------------------------------------------------------------------


def test_a_queue_while_every_slot_at_max_workers_is_full_is_capacity_bound() -> None:
    finding = _run(capacity, queued=during(30, 120, 20.0), running=during(30, 120, 25.0, 5.0), additional=4.0)

    assert finding.status == "fires"
    assert finding.cause == "capacity_bound"
    assert finding.evidence["queue_backlog_minutes"] == 90
    assert finding.evidence["p95_demand"] == 45
    assert finding.evidence["required_workers"] == 9
    assert finding.evidence["minutes_at_max_workers"] == 90


def test_slots_full_in_a_third_of_the_queued_minutes_is_borderline() -> None:
    finding = _run(capacity, queued=during(0, 120, 5.0), running=lambda m: 25.0 if m % 3 == 0 else 18.0)

    assert finding.status == "borderline"
    assert finding.evidence["share_full_percent"] == 33.3


def test_queues_of_a_few_minutes_at_each_scale_out_are_not_sustained() -> None:
    finding = _run(capacity, queued=lambda m: 8.0 if m % 30 < 5 else 0.0, running=25.0)

    assert finding.status == "clear"
    assert finding.evidence["longest_queue_minutes"] == 5


# --- concurrency ------------------------------------------------------------------------------------------------


def _held(**kwargs: Any) -> dict[str, Any]:
    # mw1.medium up to 5 workers = 50 slots; 6 running, 15 waiting from minute 10, one worker.
    base = {
        "env": environment(EnvironmentClass="mw1.medium"),
        "queued": during(10, 120, 15.0),
        "running": 6.0,
        "additional": 0.0,
        "cpu": 30.0,
        "memory": 40.0,
    }
    return base | kwargs


def test_a_pool_without_open_slots_while_tasks_starve_is_the_limit() -> None:
    finding = _run(
        concurrency,
        **_held(queued=0.0, pools={"snowflake": {"PoolOpenSlots": 0.0, "PoolStarvingTasks": during(5, 120, 12.0)}}),
    )

    assert finding.status == "fires"
    assert finding.limit == "pool:snowflake"
    assert finding.evidence["median_starving"] == 12


def test_a_full_pool_with_tasks_scheduled_for_it_is_the_limit_from_airflows_counts() -> None:
    airflow = {"pools": [{"name": "etl", "slots": 4, "running": 4, "queued": 0, "scheduled": 9}]}

    finding = _run(concurrency, **_held(airflow=airflow))

    assert finding.limit == "pool:etl"
    assert finding.evidence["pool_scheduled"] == 9


def test_an_executor_without_open_slots_is_the_parallelism_limit() -> None:
    finding = _run(concurrency, **_held(open_slots=during(10, 120, 0.0, 5.0)))

    assert finding.limit == "parallelism"
    assert finding.evidence["minutes_executor_full"] == 110


def test_running_at_parallelism_times_schedulers_is_the_parallelism_limit() -> None:
    env = environment(EnvironmentClass="mw1.medium", AirflowConfigurationOptions={"core.parallelism": "3"})

    finding = _run(concurrency, **_held(env=env))

    assert finding.limit == "parallelism"
    assert finding.evidence["parallelism_total"] == 6


def test_a_dag_at_max_active_runs_with_runs_queued_is_the_limit_without_any_queue_metric() -> None:
    airflow = {
        "running_tasks": 16,
        "dags": [{"dag_id": "backfill", "running": 16, "running_runs": 16, "queued_runs": 30}],
    }

    finding = _run(concurrency, **_held(queued=0.0, running=16.0, airflow=airflow))

    assert finding.limit == "max_active_runs_per_dag"
    assert finding.evidence["queued_runs"] == 30
    assert "core.max_active_runs_per_dag, Airflow's default" in finding.message


def test_a_dag_at_its_own_max_active_tasks_is_named_as_the_dags_own() -> None:
    airflow = {"dags": [{"dag_id": "fanout", "running": 3, "queued": 1, "scheduled": 20, "max_active_tasks": 4}]}

    finding = _run(concurrency, **_held(airflow=airflow))

    assert finding.limit == "max_active_tasks_per_dag"
    assert "the DAG's max_active_tasks" in finding.message


def test_workers_full_at_a_lowered_worker_autoscale_with_idle_cpu_is_the_limit() -> None:
    env = environment(
        EnvironmentClass="mw1.large",
        MinWorkers=2,
        MaxWorkers=10,
        AirflowConfigurationOptions={"celery.worker_autoscale": "4,4"},
    )

    finding = _run(concurrency, **_held(env=env, running=8.0))

    assert finding.limit == "worker_autoscale"
    assert finding.evidence["class_tasks_per_worker"] == 20


def test_idle_slots_without_evidence_of_a_limit_name_what_is_missing() -> None:
    finding = _run(concurrency, **_held())

    assert finding.status == "not_evaluated"
    assert "no limit matches" in finding.message
    assert "the executor's OpenSlots" in finding.message


def test_full_slots_at_max_workers_are_not_a_concurrency_limit() -> None:
    assert _run(concurrency, **_held(running=50.0, additional=4.0)).status == "clear"


def test_workers_at_max_workers_are_not_a_concurrency_limit() -> None:
    finding = _run(concurrency, **_held(additional=4.0))

    assert finding.status == "clear"
    assert "Workers were at MaxWorkers" in finding.message


# --- over-provisioned -------------------------------------------------------------------------------------------


def _idle(**kwargs: Any) -> dict[str, Any]:
    return {
        "env": environment(EnvironmentClass="mw1.medium", MinWorkers=6, MaxWorkers=10),
        "running": during(30, 40, 14.0, 3.0),
    } | kwargs


def test_min_workers_far_above_the_peak_need_is_over_provisioned() -> None:
    finding = _run(over_provisioned, **_idle())

    assert finding.status == "fires"
    assert finding.cause == "over_provisioned"
    assert finding.evidence["peak_demand"] == 14
    assert finding.evidence["peak_need_workers"] == 2


def test_min_workers_two_above_but_not_twice_the_need_is_not_far_above() -> None:
    assert _run(over_provisioned, **_idle(running=during(30, 40, 35.0, 3.0))).status == "clear"


def test_a_backlog_rules_out_over_provisioning() -> None:
    assert _run(over_provisioned, **_idle(queued=during(30, 50, 3.0))).status == "clear"


def test_sizing_min_workers_needs_an_hour_of_data() -> None:
    finding = _run(over_provisioned, **_idle(minutes=45, running=3.0))

    assert finding.status == "not_evaluated"
    assert finding.evidence["minutes_with_data"] == 45
