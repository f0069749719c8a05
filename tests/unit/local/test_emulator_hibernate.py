"""Delete and create again, as hibernate and resume do: what a poller sees, and what comes back."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mwaa_control_plane.clock import ManualClock
from mwaa_cp_local import mwaa
from tests.unit.local.airflow_env import BUCKET, REGION, Env, create_request, with_dag

DAGS = """
from datetime import datetime
from airflow import DAG
DAG("paused_by_default", start_date=datetime(2025, 1, 1), schedule=None)
DAG("running_by_default", start_date=datetime(2025, 1, 1), schedule=None, is_paused_upon_creation=False)
"""
# Every field CreateEnvironment takes, set away from its default, as a snapshot would replay it.
FULL_CONFIGURATION: dict[str, Any] = {
    "PluginsS3Path": "plugins.zip",
    "RequirementsS3Path": "requirements.txt",
    "StartupScriptS3Path": "startup.sh",
    "AirflowConfigurationOptions": {"core.default_task_retries": "3", "secrets.backend_kwargs": '{"a": "b"}'},
    "EnvironmentClass": "mw1.medium",
    "MaxWorkers": 7,
    "MinWorkers": 2,
    "Schedulers": 3,
    "MinWebservers": 2,
    "MaxWebservers": 4,
    "KmsKey": "arn:aws:kms:us-east-1:123456789012:key/0f4c2b1a-1111-2222-3333-444455556666",
    "LoggingConfiguration": {
        "DagProcessingLogs": {"Enabled": True, "LogLevel": "WARNING"},
        "SchedulerLogs": {"Enabled": False, "LogLevel": "INFO"},
        "TaskLogs": {"Enabled": True, "LogLevel": "DEBUG"},
        "WebserverLogs": {"Enabled": True, "LogLevel": "ERROR"},
        "WorkerLogs": {"Enabled": False, "LogLevel": "CRITICAL"},
    },
    "WeeklyMaintenanceWindowStart": "TUE:02:30",
    "Tags": {"mwaa-cp:off-hours": "hibernate", "team": "data"},
    "WebserverAccessMode": "PUBLIC_ONLY",
    "EndpointManagement": "CUSTOMER",
}
CREATE_FIELDS = (
    "ExecutionRoleArn",
    "SourceBucketArn",
    "DagS3Path",
    "NetworkConfiguration",
    "PluginsS3Path",
    "PluginsS3ObjectVersion",
    "RequirementsS3Path",
    "RequirementsS3ObjectVersion",
    "StartupScriptS3Path",
    "StartupScriptS3ObjectVersion",
    "AirflowConfigurationOptions",
    "EnvironmentClass",
    "MaxWorkers",
    "MinWorkers",
    "Schedulers",
    "MinWebservers",
    "MaxWebservers",
    "KmsKey",
    "AirflowVersion",
    "WeeklyMaintenanceWindowStart",
    "Tags",
    "WebserverAccessMode",
    "EndpointManagement",
)


@pytest.fixture
def client(s3: Any) -> Any:
    return boto3.client("mwaa", region_name=REGION)


def status(client: Any, name: str = "analytics") -> str:
    value: str = client.get_environment(Name=name)["Environment"]["Status"]
    return value


def create_available(client: Any, clock: ManualClock, **options: Any) -> None:
    client.create_environment(**create_request(**options))
    clock.advance(mwaa.settings().create_seconds)
    assert status(client) == "AVAILABLE"


def delete_and_wait(client: Any, clock: ManualClock) -> None:
    client.delete_environment(Name="analytics")
    clock.advance(mwaa.settings().delete_seconds)


def create_from(description: dict[str, Any]) -> dict[str, Any]:
    """The CreateEnvironment arguments a snapshot rebuilds from GetEnvironment (the design's whitelist)."""
    arguments = {field: description[field] for field in CREATE_FIELDS if field in description}
    arguments["Name"] = description["Name"]
    arguments["LoggingConfiguration"] = {
        module: {"Enabled": value["Enabled"], "LogLevel": value["LogLevel"]}
        for module, value in description["LoggingConfiguration"].items()
    }
    return arguments


def versioned_artifacts(s3: Any) -> dict[str, str]:
    versions = {}
    for key, field in (
        ("plugins.zip", "Plugins"),
        ("requirements.txt", "Requirements"),
        ("startup.sh", "StartupScript"),
    ):
        body = b"PK\x05\x06" + b"\x00" * 18 if key.endswith(".zip") else b"pandas==2.2.3\n"
        versions[f"{field}S3ObjectVersion"] = s3.put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"]
    return versions


# ------------------------------------------------------------------------------- delete


def test_a_deleting_environment_answers_deleting_until_the_deletion_time_has_passed(
    client: Any, clock: ManualClock
) -> None:
    mwaa.configure(delete_seconds=1200)
    create_available(client, clock)
    client.delete_environment(Name="analytics")
    clock.advance(1199)
    assert status(client) == "DELETING"
    clock.advance(1)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_environment(Name="analytics")


def test_a_deleting_environment_still_holds_its_name(client: Any, clock: ManualClock) -> None:
    create_available(client, clock)
    client.delete_environment(Name="analytics")
    with pytest.raises(client.exceptions.ValidationException, match="already exists"):
        client.create_environment(**create_request())


def test_a_deleting_environment_serves_no_rest_api(client: Any, clock: ManualClock) -> None:
    create_available(client, clock)
    client.delete_environment(Name="analytics")
    with pytest.raises(client.exceptions.ValidationException, match="DELETING"):
        client.invoke_rest_api(Name="analytics", Path="/dags", Method="GET")


def test_a_deleted_environment_is_not_listed(client: Any, clock: ManualClock) -> None:
    create_available(client, clock)
    delete_and_wait(client, clock)
    assert client.list_environments()["Environments"] == []


# ------------------------------------------------------------------------------- create again


def test_an_environment_created_again_is_creating_then_available(client: Any, clock: ManualClock) -> None:
    create_available(client, clock)
    delete_and_wait(client, clock)
    client.create_environment(**create_request())
    clock.advance(mwaa.settings().create_seconds - 1)
    assert status(client) == "CREATING"
    clock.advance(1)
    assert status(client) == "AVAILABLE"


def test_the_default_creation_time_is_within_mwaas_twenty_to_thirty_minutes() -> None:
    assert 20 * 60 <= mwaa.settings().create_seconds <= 30 * 60


def test_an_environment_created_again_starts_with_an_empty_metadata_database(
    s3: Any, client: Any, clock: ManualClock
) -> None:
    create_available(client, clock)
    env = with_dag(Env(client, s3, clock), DAGS)
    env.ok("POST", "/variables", body={"key": "threshold", "value": "7"})
    env.ok("POST", "/pools", body={"name": "reports", "slots": 4})
    env.ok("POST", "/connections", body={"connection_id": "warehouse", "conn_type": "postgres"})
    env.unpause("paused_by_default")
    env.ok("POST", "/dags/paused_by_default/dagRuns", body={})
    delete_and_wait(client, clock)
    create_available(client, clock)
    assert env.ok("GET", "/variables")["total_entries"] == 0
    assert [pool["name"] for pool in env.ok("GET", "/pools")["pools"]] == ["default_pool"]
    assert env.ok("GET", "/connections")["total_entries"] == 0
    assert env.runs()["total_entries"] == 0


def test_an_environment_created_again_takes_pause_states_from_the_dag_files(
    s3: Any, client: Any, clock: ManualClock
) -> None:
    create_available(client, clock)
    env = with_dag(Env(client, s3, clock), DAGS)
    env.unpause("paused_by_default")
    env.pause("running_by_default")
    delete_and_wait(client, clock)
    create_available(client, clock)
    paused = {dag["dag_id"]: dag["is_paused"] for dag in env.ok("GET", "/dags")["dags"]}
    assert paused == {"paused_by_default": True, "running_by_default": False}


def test_get_environment_returns_every_createable_field_as_given(s3: Any, client: Any, clock: ManualClock) -> None:
    request = create_request(**FULL_CONFIGURATION, **versioned_artifacts(s3))
    client.create_environment(**request)
    described = create_from(client.get_environment(Name="analytics")["Environment"])
    assert described == request


def test_an_environment_recreated_from_its_description_describes_the_same(
    s3: Any, client: Any, clock: ManualClock
) -> None:
    create_available(client, clock, **FULL_CONFIGURATION, **versioned_artifacts(s3))
    before = create_from(client.get_environment(Name="analytics")["Environment"])
    delete_and_wait(client, clock)
    client.create_environment(**before)
    clock.advance(mwaa.settings().create_seconds)
    assert create_from(client.get_environment(Name="analytics")["Environment"]) == before


# ------------------------------------------------------------------------------- a failing create


def test_fail_next_create_ends_the_create_failed_with_the_error(client: Any, clock: ManualClock) -> None:
    mwaa.fail_next_create("analytics", "INCORRECT_CONFIGURATION", "You may need to check the execution role")
    client.create_environment(**create_request())
    assert status(client) == "CREATING"
    clock.advance(mwaa.settings().create_seconds)
    environment = client.get_environment(Name="analytics")["Environment"]
    assert environment["Status"] == "CREATE_FAILED"
    assert environment["LastUpdate"]["Status"] == "FAILED"
    assert environment["LastUpdate"]["Error"] == {
        "ErrorCode": "INCORRECT_CONFIGURATION",
        "ErrorMessage": "You may need to check the execution role",
    }


def test_fail_next_create_fails_only_the_next_create(client: Any, clock: ManualClock) -> None:
    mwaa.fail_next_create("analytics", "INTERNAL_ERROR", "boom")
    client.create_environment(**create_request())
    clock.advance(mwaa.settings().create_seconds)
    delete_and_wait(client, clock)
    create_available(client, clock)


def test_fail_next_create_leaves_other_environments_alone(client: Any, clock: ManualClock) -> None:
    mwaa.fail_next_create("other", "INTERNAL_ERROR", "boom")
    create_available(client, clock)


def test_a_create_failed_environment_must_be_deleted_before_its_name_is_reused(client: Any, clock: ManualClock) -> None:
    mwaa.fail_next_create("analytics", "INTERNAL_ERROR", "boom")
    client.create_environment(**create_request())
    clock.advance(mwaa.settings().create_seconds)
    with pytest.raises(ClientError, match="already exists"):
        client.create_environment(**create_request())
