"""How one environment is doing: MWAA's view plus Airflow's DAGs and import errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mwaa_control_plane.airflow.models import Dag, DagImportError
from mwaa_control_plane.environments.health import MAX_NAMED_IMPORT_ERRORS, check_environment_health
from mwaa_control_plane.errors import NotFoundError, ThrottledError

from .fakes import FakeAirflow, FakeMwaa

AVAILABLE = {
    "Status": "AVAILABLE",
    "AirflowVersion": "2.10.3",
    "EnvironmentClass": "mw1.medium",
    "MinWorkers": 2,
    "MaxWorkers": 5,
    "Schedulers": 2,
    "LastUpdate": {"Status": "SUCCESS"},
}

DAGS = [
    Dag(dag_id="etl", is_paused=False),
    Dag(dag_id="reports", is_paused=True),
    Dag(dag_id="cleanup", is_paused=True),
]


def import_error(filename: str) -> DagImportError:
    return DagImportError(filename=filename, stack_trace="ModuleNotFoundError: No module named 'pandas'")


def check(environment: dict, airflow: FakeAirflow | None = None):
    return check_environment_health(
        FakeMwaa({"dev-analytics": environment}),  # type: ignore[arg-type]
        airflow or FakeAirflow(DAGS),
        "dev-analytics",
    )


def test_an_available_environment_without_import_errors_is_healthy() -> None:
    health = check(AVAILABLE)

    assert health.healthy is True
    assert health.problems == []


def test_the_report_carries_the_environment_configuration() -> None:
    health = check(AVAILABLE)

    assert (health.environment_name, health.status, health.airflow_version) == ("dev-analytics", "AVAILABLE", "2.10.3")
    assert (health.environment_class, health.min_workers, health.max_workers, health.schedulers) == (
        "mw1.medium",
        2,
        5,
        2,
    )


def test_dags_and_paused_dags_are_counted() -> None:
    health = check(AVAILABLE)

    assert (health.dag_count, health.paused_dag_count) == (3, 2)


def test_import_errors_make_the_environment_unhealthy() -> None:
    health = check(AVAILABLE, FakeAirflow(DAGS, [import_error("/usr/local/airflow/dags/b.py")]))

    assert health.healthy is False
    assert health.import_error_count == 1
    assert health.import_error_files == ["/usr/local/airflow/dags/b.py"]
    assert health.problems == ["1 DAG file(s) fail to import"]


def test_import_error_files_are_sorted_deduplicated_and_capped_while_the_count_stays_exact() -> None:
    errors = [import_error(f"/dags/f{i:03}.py") for i in reversed(range(MAX_NAMED_IMPORT_ERRORS + 5))]
    errors.append(import_error("/dags/f000.py"))

    health = check(AVAILABLE, FakeAirflow(DAGS, errors))

    assert health.import_error_count == MAX_NAMED_IMPORT_ERRORS + 6
    assert health.import_error_files == [f"/dags/f{i:03}.py" for i in range(MAX_NAMED_IMPORT_ERRORS)]


def test_a_failed_last_update_is_a_problem() -> None:
    failed = {
        **AVAILABLE,
        "LastUpdate": {
            "Status": "FAILED",
            "Error": {"ErrorCode": "INCORRECT_CONFIGURATION", "ErrorMessage": "requirements.txt failed to install"},
        },
    }

    health = check(failed)

    assert health.healthy is False
    assert health.problems == ["last update failed: INCORRECT_CONFIGURATION: requirements.txt failed to install"]


def test_an_update_failed_environment_is_still_asked_about_its_dags() -> None:
    # UPDATE_FAILED rolled back to the previous configuration: Airflow is up and can answer.
    airflow = FakeAirflow(DAGS)

    health = check({**AVAILABLE, "Status": "UPDATE_FAILED"}, airflow)

    assert airflow.calls == ["list_dags", "list_import_errors"]
    assert health.dag_count == 3


@pytest.mark.parametrize("status", ["CREATING", "UPDATING", "DELETING", "UNAVAILABLE", "CREATE_FAILED"])
def test_an_environment_that_is_not_available_is_unhealthy(status: str) -> None:
    health = check({**AVAILABLE, "Status": status})

    assert health.healthy is False
    assert health.problems == [f"environment is {status}, not AVAILABLE"]


@pytest.mark.parametrize("status", ["CREATING", "UPDATING", "UNAVAILABLE"])
def test_airflow_is_not_queried_when_the_environment_is_not_available(status: str) -> None:
    airflow = FakeAirflow(DAGS, [import_error("/dags/b.py")])

    health = check({**AVAILABLE, "Status": status}, airflow)

    assert airflow.calls == []
    assert (health.dag_count, health.import_error_count) == (0, 0)


def test_every_problem_is_listed() -> None:
    environment = {**AVAILABLE, "Status": "UNAVAILABLE", "LastUpdate": {"Status": "FAILED"}}

    health = check(environment)

    assert len(health.problems) == 2
    assert health.problems[0] == "environment is UNAVAILABLE, not AVAILABLE"
    assert health.problems[1].startswith("last update failed")


def test_an_environment_deleted_since_the_state_machine_described_it_is_a_not_found_error() -> None:
    with pytest.raises(NotFoundError):
        check_environment_health(FakeMwaa({}), FakeAirflow(DAGS), "dev-analytics")  # type: ignore[arg-type]


def test_throttled_get_environment_becomes_a_throttled_error_for_the_asl_retrier() -> None:
    mwaa = FakeMwaa({"dev-analytics": AVAILABLE})
    mwaa.errors["dev-analytics"] = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetEnvironment"
    )
    with pytest.raises(ThrottledError):
        check_environment_health(mwaa, FakeAirflow(DAGS), "dev-analytics")  # type: ignore[arg-type]
