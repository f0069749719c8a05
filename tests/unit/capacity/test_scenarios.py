"""The scenario files of tests/scenarios/worker-analysis: the exact cause, limit and recommendation of each.

The files are synthetic (``generate.py`` in that folder writes them, seeded): one per cause, a healthy case, and the
borderline and missing-data cases that must come out inconclusive rather than as a guess.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mwaa_control_plane.capacity import analyze, load_scenario
from mwaa_control_plane.errors import InvalidInputError
from tests.conftest import REPO

FOLDER = REPO / "tests" / "scenarios" / "worker-analysis"
D = Decimal

# file: (cause, limit, deciding rule, action, requested fields, delta at minimum, delta at MaxWorkers)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "healthy": ("healthy", None, "healthy", "none", None, None, None),
    "capacity-bound": ("capacity_bound", None, "capacity", "change", {"max_workers": 14}, D("0.00"), D("361.35")),
    "cpu-starvation": (
        "cpu_starvation",
        None,
        "cpu-starvation",
        "change",
        {"max_workers": 9, "airflow_configuration_options.celery.worker_autoscale": "7,7"},
        D("0.00"),
        D("240.90"),
    ),
    "memory-starvation": (
        "memory_starvation",
        None,
        "memory-starvation",
        "change",
        {"max_workers": 7, "airflow_configuration_options.celery.worker_autoscale": "3,3"},
        D("0.00"),
        D("120.45"),
    ),
    "concurrency-parallelism": (
        "concurrency_bound",
        "parallelism",
        "concurrency",
        "change",
        {"airflow_configuration_options.core.parallelism": "100"},
        D("0.00"),
        D("0.00"),
    ),
    "concurrency-pool": ("concurrency_bound", "pool:snowflake", "concurrency", "advice", None, None, None),
    "concurrency-max-active-runs": (
        "concurrency_bound",
        "max_active_runs_per_dag",
        "concurrency",
        "change",
        {"airflow_configuration_options.core.max_active_runs_per_dag": "50"},
        D("0.00"),
        D("0.00"),
    ),
    "concurrency-max-active-tasks": (
        "concurrency_bound",
        "max_active_tasks_per_dag",
        "concurrency",
        "change",
        {"airflow_configuration_options.core.max_active_tasks_per_dag": "40"},
        D("0.00"),
        D("0.00"),
    ),
    "concurrency-worker-autoscale": (
        "concurrency_bound",
        "worker_autoscale",
        "concurrency",
        "change",
        {"airflow_configuration_options.celery.worker_autoscale": "9,9"},
        D("0.00"),
        D("0.00"),
    ),
    "stranded": ("stranded", None, "stranded", "advice", None, None, None),
    "scheduler-down": (
        "scheduler_unhealthy",
        None,
        "scheduler-heartbeat",
        "change",
        {"schedulers": 3},
        D("80.30"),
        D("80.30"),
    ),
    "scheduler-dropping": ("scheduler_unhealthy", None, "scheduler-heartbeat", "advice", None, None, None),
    "over-provisioned": (
        "over_provisioned",
        None,
        "over-provisioned",
        "change",
        {"min_workers": 2},
        D("-321.20"),
        D("0.00"),
    ),
    # Must not be a guess.
    "missing-queue-metrics": ("inconclusive", None, "required-data", "none", None, None, None),
    "short-window": ("inconclusive", None, "required-data", "none", None, None, None),
    "borderline-cpu": ("inconclusive", None, "cpu-starvation", "none", None, None, None),
    "borderline-capacity": ("inconclusive", None, "capacity", "none", None, None, None),
    "contradictory-configuration": ("inconclusive", None, "consistency", "none", None, None, None),
    "backlog-without-resource-data": ("inconclusive", None, "unexplained-backlog", "none", None, None, None),
}


def test_every_scenario_file_has_its_expectation() -> None:
    assert {path.stem for path in FOLDER.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_scenario_diagnoses_its_cause_limit_and_recommendation(name: str) -> None:
    cause, limit, decided_by, action, fields, delta, delta_at_max = EXPECTED[name]

    report = analyze(load_scenario(FOLDER / f"{name}.json"))

    assert (report.cause, report.limit, report.decided_by) == (cause, limit, decided_by)
    recommendation = report.recommendation
    assert recommendation.action == action
    assert (recommendation.change.requested_fields() if recommendation.change else None) == fields
    assert (recommendation.cost.delta_monthly if recommendation.cost else None) == delta
    assert (recommendation.cost.delta_monthly_at_max if recommendation.cost else None) == delta_at_max


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_deciding_finding_cites_numbers(name: str) -> None:
    report = analyze(load_scenario(FOLDER / f"{name}.json"))

    assert any(isinstance(value, int | float) for value in report.top_finding.evidence.values())


def test_the_inconclusive_cases_say_which_data_was_missing_or_borderline() -> None:
    def summary(name: str) -> str:
        return analyze(load_scenario(FOLDER / f"{name}.json")).summary

    assert "QueuedTasks has data for 0 of 120 minutes" in summary("missing-queue-metrics")
    assert "The window is 10 minutes long" in summary("short-window")
    assert "not clearly starved: median 86.7 %" in summary("borderline-cpu")
    assert "RunningTasks was above the 25 slots" in summary("contradictory-configuration")
    assert "Not evaluated for lack of data: memory-starvation, cpu-starvation, concurrency" in summary(
        "backlog-without-resource-data"
    )


MALFORMED = {
    "wrong-type": [
        "environment.MinWorkers: Input should be a valid integer",
        "metrics[0].values[1]: Input should be a valid number",
    ],
    "misspelt-key": ["metric: Extra inputs are not permitted"],
    "unpaired-series": ["metrics[0]: 2 timestamps but 1 values: they go in pairs"],
    "naive-timestamp": ["window.start: Input should have timezone info"],
    "other-environment": ["metrics[0] is about environment 'prod', not 'dev'"],
    "missing-environment": ["environment: Field required"],
    "truncated": ["not JSON: Expecting property name enclosed in double quotes (line 3, column 1)"],
}


def test_every_malformed_file_has_its_expectation() -> None:
    assert {path.stem for path in (FOLDER / "malformed").glob("*.json")} == set(MALFORMED)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_file_is_refused_with_the_field_named(name: str) -> None:
    path: Path = FOLDER / "malformed" / f"{name}.json"

    with pytest.raises(InvalidInputError) as raised:
        load_scenario(path)

    message = str(raised.value)
    assert message.startswith(f"scenario {path}")
    for expected in MALFORMED[name]:
        assert expected in message
