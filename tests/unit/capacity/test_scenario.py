"""The scenario file: the issue's schema, strict about types, tolerant about what is missing, clear when malformed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mwaa_control_plane.capacity.scenario import Scenario, load_scenario, parse_scenario
from mwaa_control_plane.errors import InvalidInputError
from tests.unit.capacity.builders import document

# The example of issue #10, verbatim apart from the elided series.
ISSUE_EXAMPLE: dict[str, Any] = {
    "environment": {
        "Name": "dev",
        "EnvironmentClass": "mw1.small",
        "MinWorkers": 1,
        "MaxWorkers": 5,
        "Schedulers": 2,
        "AirflowVersion": "2.10.3",
        "AirflowConfigurationOptions": {"celery.worker_autoscale": "5,5"},
    },
    "window": {"start": "2026-11-30T10:00:00Z", "end": "2026-11-30T12:00:00Z"},
    "metrics": [
        {
            "namespace": "AWS/MWAA",
            "name": "QueuedTasks",
            "dimensions": {"Environment": "dev"},
            "stat": "Maximum",
            "period": 60,
            "timestamps": ["2026-11-30T10:00:00Z", "2026-11-30T10:01:00Z"],
            "values": [0, 3],
        }
    ],
    "airflow": {
        "pools": [{"name": "default_pool", "slots": 128, "running": 10, "queued": 0}],
        "running_tasks": 10,
        "queued_tasks": 40,
    },
}


def _problems(data: dict[str, Any]) -> str:
    with pytest.raises(InvalidInputError) as raised:
        parse_scenario(json.dumps(data))
    return str(raised.value)


def _changed(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(ISSUE_EXAMPLE)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def test_the_issues_example_is_a_valid_scenario() -> None:
    scenario = parse_scenario(json.dumps(ISSUE_EXAMPLE))

    assert scenario.environment.Name == "dev"
    assert scenario.metrics[0].values == [0.0, 3.0]
    assert scenario.airflow is not None and scenario.airflow.queued_tasks == 40
    assert scenario.environment.capacity().per_worker == 5


def test_the_metrics_and_the_airflow_block_may_be_missing() -> None:
    data = {key: value for key, value in ISSUE_EXAMPLE.items() if key not in ("metrics", "airflow")}

    scenario = parse_scenario(json.dumps(data))

    assert scenario.metrics == []
    assert scenario.airflow is None


def test_other_getenvironment_fields_are_ignored_so_a_pasted_answer_works() -> None:
    data = _changed(["environment", "Arn"], "arn:aws:airflow:us-east-1:123456789012:environment/dev")
    data["environment"]["NetworkConfiguration"] = {"SubnetIds": ["subnet-1", "subnet-2"]}

    scenario = parse_scenario(json.dumps(data))

    assert "Arn" not in scenario.environment.model_dump()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["environment", "MinWorkers"], "1", "environment.MinWorkers: Input should be a valid integer"),
        (["environment", "MaxWorkers"], 5.0, "environment.MaxWorkers: Input should be a valid integer"),
        (["environment", "EnvironmentClass"], "mw1.huge", "environment.EnvironmentClass: Input should be"),
        (["metrics", 0, "values", 1], "3", "metrics[0].values[1]: Input should be a valid number"),
        (["metrics", 0, "values", 1], True, "metrics[0].values[1]: Input should be a valid number"),
        (
            ["metrics", 0, "timestamps", 0],
            "2026-11-30T10:00:00",
            "metrics[0].timestamps[0]: Input should have timezone",
        ),
        (["metrics", 0, "timestamps", 0], "yesterday", "metrics[0].timestamps[0]: Input should be a valid datetime"),
        (["metrics", 0, "period"], 90, "metrics[0].period: 90 is not a CloudWatch period"),
        (
            ["metrics", 0, "dimensions"],
            {"Environment": 7},
            "metrics[0].dimensions.Environment: Input should be a valid string",
        ),
        (["airflow", "pools", 0, "slots"], -2, "airflow.pools[0].slots: Input should be greater than or equal to -1"),
        (["airflow", "running_tasks"], -1, "airflow.running_tasks: Input should be greater than or equal to 0"),
        (["window", "end"], "2026-11-30T09:00:00Z", "window: end (2026-11-30T09:00:00+00:00) is not after start"),
    ],
)
def test_a_malformed_value_is_named_by_its_place_in_the_file(path: list[Any], value: Any, expected: str) -> None:
    assert expected in _problems(_changed(path, value))


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    data = _changed(["environment", "MinWorkers"], "1")
    data["metrics"][0]["values"][0] = "x"

    problems = _problems(data)

    assert "environment.MinWorkers" in problems
    assert "metrics[0].values[0]" in problems


def test_an_unknown_key_is_refused_so_a_typo_is_not_silently_missing_data() -> None:
    data = copy.deepcopy(ISSUE_EXAMPLE)
    data["metric"] = data.pop("metrics")

    assert "metric: Extra inputs are not permitted" in _problems(data)


def test_timestamps_and_values_go_in_pairs() -> None:
    data = _changed(["metrics", 0, "values"], [0, 3, 4])

    assert "metrics[0]: 2 timestamps but 3 values: they go in pairs" in _problems(data)


def test_a_timestamp_may_not_appear_twice_in_a_series() -> None:
    data = _changed(["metrics", 0, "timestamps"], ["2026-11-30T10:00:00Z", "2026-11-30T10:00:00+00:00"])

    assert "metrics[0]: timestamps[1] (2026-11-30T10:00:00+00:00) appears twice" in _problems(data)


def test_a_metric_of_another_environment_is_refused() -> None:
    data = _changed(["metrics", 0, "dimensions"], {"Environment": "prod"})

    assert "metrics[0] is about environment 'prod', not 'dev'" in _problems(data)


def test_the_same_metric_and_statistic_twice_is_refused() -> None:
    data = copy.deepcopy(ISSUE_EXAMPLE)
    data["metrics"].append(copy.deepcopy(data["metrics"][0]))

    assert "metrics[1] repeats metrics[0]" in _problems(data)


def test_min_workers_above_max_workers_is_refused() -> None:
    assert "MinWorkers (6) is greater than MaxWorkers (5)" in _problems(_changed(["environment", "MinWorkers"], 6))


def test_an_unreadable_capacity_option_is_refused_with_its_name() -> None:
    data = _changed(["environment", "AirflowConfigurationOptions"], {"celery.worker_autoscale": "five"})

    assert "celery.worker_autoscale 'five' is not 'max,min'" in _problems(data)


def test_a_pool_listed_twice_is_refused() -> None:
    pool = {"name": "default_pool", "slots": 128}
    data = _changed(["airflow", "pools"], [pool, pool])

    assert "pools listed twice: default_pool" in _problems(data)


def test_text_that_is_not_json_says_where_it_breaks() -> None:
    with pytest.raises(InvalidInputError, match=r"not JSON: .*\(line 1, column 8\)"):
        parse_scenario('{"a": 1')


def test_a_json_value_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="a scenario is a JSON object, not list"):
        parse_scenario("[]")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        load_scenario(tmp_path / "absent.json")


def test_a_scenario_written_to_json_reads_back_the_same() -> None:
    scenario = Scenario.model_validate_json(json.dumps(document(queued=2.0, running=5.0, cpu=40.0)))

    assert parse_scenario(scenario.to_json()) == scenario


def test_a_metric_queried_without_data_is_kept_as_an_empty_series() -> None:
    data = _changed(["metrics", 0, "timestamps"], [])
    data["metrics"][0]["values"] = []

    scenario = parse_scenario(json.dumps(data))

    assert scenario.metrics[0].values == []
