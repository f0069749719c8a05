"""The proposal: a change request through the one door, its monthly cost at list prices, bounded by the ceiling."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mwaa_control_plane.capacity.diagnosis import diagnose
from mwaa_control_plane.capacity.recommendation import Recommendation, cost_delta, recommend
from mwaa_control_plane.capacity.scenario import EnvironmentSnapshot
from tests.unit.capacity.builders import during, environment, scenario

D = Decimal


def _recommend(ceiling: int = 25, **kwargs: Any) -> Recommendation:
    case = scenario(**kwargs)
    return recommend(case, diagnose(case), max_workers_ceiling=ceiling, execution="arn:aws:states:exec")


def _capacity_bound(**kwargs: Any) -> dict[str, Any]:
    # mw1.small up to 5 workers: 25 slots full; p95 demand 25 + 20 = 45 tasks = 9 workers.
    return {"queued": during(30, 120, 20.0), "running": during(30, 120, 25.0, 5.0), "additional": 4.0} | kwargs


def test_capacity_bound_raises_max_workers_to_what_the_p95_demand_needs() -> None:
    recommendation = _recommend(**_capacity_bound())

    assert recommendation.action == "change"
    assert recommendation.change is not None
    assert recommendation.change.max_workers == 9
    assert recommendation.change.requested_by.flow == "worker-analysis"
    assert recommendation.change.requested_by.execution == "arn:aws:states:exec"
    assert recommendation.change.reason.startswith("worker-analysis: capacity_bound. Raise MaxWorkers from 5 to 9")
    assert recommendation.auto_applicable is True
    assert recommendation.capped_by_ceiling is False


def test_more_max_workers_cost_nothing_at_minimum_and_the_added_workers_at_most() -> None:
    recommendation = _recommend(**_capacity_bound())

    assert recommendation.cost is not None
    assert recommendation.cost.delta_monthly == D("0.00")
    assert recommendation.cost.delta_monthly_at_max == D("160.60")  # 4 more workers x 0.055 USD x 730 h


def test_the_ceiling_bounds_the_workers_asked_for() -> None:
    recommendation = _recommend(ceiling=7, **_capacity_bound())

    assert recommendation.change is not None
    assert recommendation.change.max_workers == 7
    assert recommendation.capped_by_ceiling is True


def test_at_the_ceiling_there_is_advice_but_no_change() -> None:
    recommendation = _recommend(ceiling=5, **_capacity_bound())

    assert recommendation.action == "advice"
    assert recommendation.change is None
    assert "already at the ceiling of 5 workers" in recommendation.summary


def test_a_capacity_bound_micro_moves_to_small_with_the_counts_small_needs() -> None:
    env = environment(EnvironmentClass="mw1.micro", MinWorkers=1, MaxWorkers=1, Schedulers=1)
    recommendation = _recommend(env=env, queued=during(30, 120, 6.0), running=during(30, 120, 3.0, 1.0))

    assert recommendation.change is not None
    fields = recommendation.change.requested_fields()
    assert fields == {
        "environment_class": "mw1.small",
        "schedulers": 2,
        "min_webservers": 2,
        "max_webservers": 2,
        "min_workers": 1,
        "max_workers": 2,
    }
    assert recommendation.auto_applicable is False
    assert recommendation.cost is not None and recommendation.cost.delta_monthly == D("146.00")  # (0.49 - 0.29) x 730


def _starved(**kwargs: Any) -> dict[str, Any]:
    return {
        "env": environment(EnvironmentClass="mw1.medium", MinWorkers=2, MaxWorkers=6),
        "queued": during(20, 120, 12.0),
        "running": 8.0,
        "additional": 0.0,
        "cpu": 96.0,
        "memory": 50.0,
    } | kwargs


def test_cpu_starvation_lowers_tasks_per_worker_and_keeps_the_slots_with_more_workers() -> None:
    recommendation = _recommend(**_starved())

    assert recommendation.change is not None
    options = recommendation.change.airflow_configuration_options
    assert options is not None and options.set == {"celery.worker_autoscale": "7,7"}  # 10 x 70 / 96
    assert recommendation.change.max_workers == 9  # 60 slots / 7
    assert recommendation.auto_applicable is False
    assert any("Alternatively move to mw1.large" in advice for advice in recommendation.advice)


def test_a_starved_worker_already_at_one_task_gets_a_larger_class_instead() -> None:
    env = environment(
        EnvironmentClass="mw1.medium",
        MinWorkers=2,
        MaxWorkers=6,
        AirflowConfigurationOptions={"celery.worker_autoscale": "1,1"},
    )
    recommendation = _recommend(**_starved(env=env, running=1.0, additional=0.0, queued=during(20, 120, 3.0)))

    assert recommendation.change is not None
    assert recommendation.change.environment_class == "mw1.large"
    options = recommendation.change.airflow_configuration_options
    assert options is not None and options.set == {"celery.worker_autoscale": "1,1"}


def test_over_provisioned_lowers_min_workers_with_the_exact_saving() -> None:
    env = environment(EnvironmentClass="mw1.medium", MinWorkers=6, MaxWorkers=10)
    recommendation = _recommend(env=env, running=during(30, 40, 14.0, 3.0))

    assert recommendation.change is not None
    assert recommendation.change.requested_fields() == {"min_workers": 2}
    assert recommendation.auto_applicable is True
    assert recommendation.cost is not None
    assert recommendation.cost.delta_monthly == D("-321.20")  # 4 fewer always-on workers x 0.11 x 730
    assert recommendation.cost.delta_monthly_at_max == D("0.00")


def test_a_pool_limit_is_advice_since_pools_are_not_environment_configuration() -> None:
    recommendation = _recommend(
        env=environment(EnvironmentClass="mw1.medium"),
        running=6.0,
        additional=0.0,
        cpu=30.0,
        memory=30.0,
        pools={"etl": {"PoolOpenSlots": 0.0, "PoolStarvingTasks": 8.0}},
        airflow={"pools": [{"name": "etl", "slots": 4, "running": 4}]},
    )

    assert recommendation.action == "advice"
    assert recommendation.change is None
    assert recommendation.summary.startswith("Raise pool etl's slots from 4 to at least 12")


def test_the_parallelism_limit_is_raised_to_cover_the_slots_at_max_workers() -> None:
    env = environment(EnvironmentClass="mw1.medium", AirflowConfigurationOptions={"core.parallelism": "3"})
    recommendation = _recommend(
        env=env, queued=during(10, 120, 15.0), running=6.0, additional=0.0, cpu=30.0, memory=30.0
    )

    assert recommendation.change is not None
    options = recommendation.change.airflow_configuration_options
    assert options is not None and options.set == {"core.parallelism": "25"}  # 50 slots / 2 schedulers
    assert recommendation.cost is not None and recommendation.cost.delta_monthly == D("0.00")


def test_max_active_runs_is_raised_only_as_far_as_the_slots_take_the_runs() -> None:
    airflow = {
        "running_tasks": 32,
        "dags": [{"dag_id": "backfill", "running": 32, "running_runs": 16, "queued_runs": 40}],
    }
    recommendation = _recommend(
        env=environment(EnvironmentClass="mw1.medium"), running=32.0, additional=2.0, airflow=airflow
    )

    assert recommendation.change is not None
    options = recommendation.change.airflow_configuration_options
    # 50 slots - 32 running = 18 free, at 2 tasks a run: 9 more runs.
    assert options is not None and options.set == {"core.max_active_runs_per_dag": "25"}


def test_a_dags_own_max_active_tasks_gets_advice_for_the_dag() -> None:
    airflow = {"dags": [{"dag_id": "fanout", "running": 4, "scheduled": 20, "max_active_tasks": 4}]}
    recommendation = _recommend(
        env=environment(EnvironmentClass="mw1.medium"),
        queued=during(10, 120, 5.0),
        running=6.0,
        additional=0.0,
        airflow=airflow,
    )

    assert recommendation.action == "advice"
    assert "Raise max_active_tasks of DAG fanout from 4 to 24" in recommendation.summary


def test_a_lowered_worker_autoscale_is_raised_towards_the_class_default() -> None:
    env = environment(
        EnvironmentClass="mw1.large",
        MinWorkers=2,
        MaxWorkers=10,
        AirflowConfigurationOptions={"celery.worker_autoscale": "4,4"},
    )
    recommendation = _recommend(
        env=env, queued=during(10, 120, 15.0), running=8.0, additional=0.0, cpu=20.0, memory=28.0
    )

    assert recommendation.change is not None
    options = recommendation.change.airflow_configuration_options
    assert options is not None and options.set == {"celery.worker_autoscale": "10,10"}  # 4 x 70 / 28


def test_a_busy_scheduler_gets_one_more_scheduler() -> None:
    recommendation = _recommend(
        heartbeat=lambda m: None if m >= 90 else 24.0, open_slots=9.0, scheduler_cpu=during(90, 120, 97.0, 50.0)
    )

    assert recommendation.change is not None
    assert recommendation.change.requested_fields() == {"schedulers": 3}
    assert recommendation.cost is not None and recommendation.cost.delta_monthly == D("40.15")  # 0.055 x 730


@pytest.mark.parametrize(
    "kwargs",
    [
        {"queued": during(60, 120, 5.0), "running": during(0, 60, 4.0)},  # stranded
        {"queued": None, "running": None},  # inconclusive
        {"running": 3.0},  # healthy
    ],
)
def test_causes_without_a_capacity_fix_propose_no_change(kwargs: dict[str, Any]) -> None:
    recommendation = _recommend(**kwargs)

    assert recommendation.change is None
    assert recommendation.cost is None


def test_a_change_the_environment_change_flow_would_refuse_is_not_proposed() -> None:
    # MaxWorkers 30 is above the ceiling the refusal rules check as the quota: lowering MinWorkers is refused.
    env = environment(EnvironmentClass="mw1.medium", MinWorkers=6, MaxWorkers=30)
    recommendation = _recommend(env=env, running=during(30, 40, 14.0, 3.0))

    assert recommendation.change is None
    assert recommendation.summary == (
        "No change proposed, the environment-change flow would refuse it (mw1.medium allows 1 to 25 workers, not 30; "
        "request min_workers and max_workers accordingly): Lower MinWorkers from 6 to 2: the peak demand of 14 tasks "
        "needs 2; MaxWorkers 30 still covers a peak."
    )


def test_the_cost_of_a_class_change_counts_the_base_fee() -> None:
    env = EnvironmentSnapshot.model_validate(
        {"Name": "dev", "EnvironmentClass": "mw1.small", "MinWorkers": 2, "MaxWorkers": 4}
    )

    delta = cost_delta(env, {"environment_class": "mw1.medium"})

    assert delta.delta_monthly == D("222.65")  # (0.74 - 0.49) x 730 + (0.11 - 0.055) x 730
