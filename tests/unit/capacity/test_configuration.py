"""The configured capacity: tasks per worker, slots, and the concurrency limits, each with where it comes from."""

from __future__ import annotations

import pytest

from mwaa_control_plane.capacity.configuration import Capacity, capacity_of, worker_autoscale
from mwaa_control_plane.environments.change_request import EnvironmentClass
from mwaa_control_plane.errors import InvalidInputError


def _capacity(klass: EnvironmentClass = "mw1.small", options: dict[str, str] | None = None, **counts: int) -> Capacity:
    return capacity_of(
        klass,
        min_workers=counts.get("min_workers", 1),
        max_workers=counts.get("max_workers", 5),
        schedulers=counts.get("schedulers", 2),
        options=options or {},
    )


@pytest.mark.parametrize(
    ("klass", "per_worker"),
    [
        ("mw1.micro", 3),
        ("mw1.small", 5),
        ("mw1.medium", 10),
        ("mw1.large", 20),
        ("mw1.xlarge", 40),
        ("mw1.2xlarge", 80),
    ],
)
def test_tasks_per_worker_default_to_the_classes_figures(klass: EnvironmentClass, per_worker: int) -> None:
    capacity = _capacity(klass)

    assert capacity.per_worker == per_worker
    assert capacity.tasks_per_worker.source == f"{klass} default (docs/mwaa-facts.md)"


def test_celery_worker_autoscale_overrides_the_class_default_with_its_maximum() -> None:
    capacity = _capacity("mw1.large", {"celery.worker_autoscale": "8,4"}, max_workers=3)

    assert capacity.per_worker == 8
    assert capacity.class_tasks_per_worker == 20
    assert capacity.max_slots == 24
    assert capacity.tasks_per_worker.source == "configured (celery.worker_autoscale)"


def test_unset_limits_take_mwaas_defaults_and_say_where_they_come_from() -> None:
    capacity = _capacity()

    assert capacity.parallelism.value == 10000
    assert "MWAA user guide" in capacity.parallelism.source
    assert capacity.max_active_tasks_per_dag.value == 10000
    assert capacity.max_active_runs_per_dag.value == 16
    assert "Airflow's default" in capacity.max_active_runs_per_dag.source


def test_parallelism_applies_per_scheduler() -> None:
    capacity = _capacity(options={"core.parallelism": "16"}, schedulers=3)

    assert capacity.parallelism_total == 48
    assert capacity.parallelism.source == "configured (core.parallelism)"


def test_parallelism_zero_means_unlimited() -> None:
    assert _capacity(options={"core.parallelism": "0"}).parallelism_total is None


def test_the_old_dag_concurrency_name_is_read_as_max_active_tasks_per_dag() -> None:
    capacity = _capacity(options={"core.dag_concurrency": "12"})

    assert capacity.max_active_tasks_per_dag.value == 12
    assert capacity.max_active_tasks_per_dag.source == "configured (core.dag_concurrency)"


@pytest.mark.parametrize("value", ["5", "5,6", "a,b", "0,0", "5,5,5", ""])
def test_a_worker_autoscale_that_is_not_max_min_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"celery\.worker_autoscale"):
        worker_autoscale(value)


def test_an_unreadable_limit_is_an_input_error_naming_the_option() -> None:
    with pytest.raises(InvalidInputError, match=r"core\.parallelism 'lots' is not a whole number"):
        _capacity(options={"core.parallelism": "lots"})
