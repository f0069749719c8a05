"""The fake MWAA API through boto3: lifecycle, validation, tokens, InvokeRestApi gatekeeping, server mode."""

from __future__ import annotations

import base64
import json
import socket
import sys
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from mwaa_control_plane.clock import ManualClock
from mwaa_cp_local import mwaa
from mwaa_cp_local.patches import Patches, install_mwaa

pytestmark = pytest.mark.usefixtures("clock")
REGION = "us-east-1"
BUCKET = "analytics-mwaa-source"
ROLE = "arn:aws:iam::123456789012:role/mwaa-execution"
NETWORK = {"SubnetIds": ["subnet-0aaa", "subnet-0bbb"], "SecurityGroupIds": ["sg-0aaa"]}


@pytest.fixture
def client(s3: Any) -> Any:
    return boto3.client("mwaa", region_name=REGION)


@pytest.fixture
def raw_client(s3: Any) -> Any:
    """A client that skips botocore's own parameter checks, so the service's validation is what answers."""
    return boto3.client("mwaa", region_name=REGION, config=Config(parameter_validation=False))


def create(client: Any, name: str = "analytics", **overrides: Any) -> str:
    request: dict[str, Any] = {
        "Name": name,
        "ExecutionRoleArn": ROLE,
        "SourceBucketArn": f"arn:aws:s3:::{BUCKET}",
        "DagS3Path": "dags",
        "NetworkConfiguration": NETWORK,
        **overrides,
    }
    arn: str = client.create_environment(**request)["Arn"]
    return arn


def available(client: Any, clock: ManualClock, name: str = "analytics", **overrides: Any) -> dict[str, Any]:
    create(client, name, **overrides)
    clock.advance(mwaa.settings().create_seconds)
    environment: dict[str, Any] = client.get_environment(Name=name)["Environment"]
    assert environment["Status"] == "AVAILABLE"
    return environment


def status(client: Any, name: str = "analytics") -> str:
    value: str = client.get_environment(Name=name)["Environment"]["Status"]
    return value


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


# ------------------------------------------------------------------------------- lifecycle


def test_a_new_environment_is_creating_until_the_creation_time_has_passed(client: Any, clock: ManualClock) -> None:
    create(client)
    clock.advance(1499)
    assert status(client) == "CREATING"
    clock.advance(1)
    assert status(client) == "AVAILABLE"


def test_get_environment_describes_the_environment_as_created(client: Any, clock: ManualClock) -> None:
    arn = create(client, AirflowVersion="2.8.1", EnvironmentClass="mw1.medium", MaxWorkers=4, Tags={"team": "data"})
    clock.advance(1500)
    environment = client.get_environment(Name="analytics")["Environment"]
    assert environment["Arn"] == arn == "arn:aws:airflow:us-east-1:123456789012:environment/analytics"
    assert environment["AirflowVersion"] == "2.8.1"
    assert environment["EnvironmentClass"] == "mw1.medium"
    assert (environment["MinWorkers"], environment["MaxWorkers"], environment["Schedulers"]) == (1, 4, 2)
    assert environment["Tags"] == {"team": "data"}
    assert environment["WebserverUrl"].endswith(".c2.us-east-1.airflow.amazonaws.com")
    assert environment["ServiceRoleArn"].endswith("AWSServiceRoleForAmazonMWAA")
    assert environment["CeleryExecutorQueue"].startswith("arn:aws:sqs:us-east-1:")
    assert environment["LastUpdate"]["Status"] == "SUCCESS"


def test_an_environment_without_an_airflow_version_gets_the_default(client: Any, clock: ManualClock) -> None:
    environment = available(client, clock)
    assert environment["AirflowVersion"] == mwaa.DEFAULT_AIRFLOW_VERSION


def test_list_environments_pages_through_names_with_next_token(client: Any) -> None:
    for index in range(5):
        create(client, f"env-{index}")
    first = client.list_environments(MaxResults=2)
    second = client.list_environments(MaxResults=2, NextToken=first["NextToken"])
    third = client.list_environments(MaxResults=2, NextToken=second["NextToken"])
    assert first["Environments"] + second["Environments"] + third["Environments"] == [f"env-{i}" for i in range(5)]
    assert "NextToken" not in third


def test_list_environments_refuses_more_than_25_results_a_page(raw_client: Any) -> None:
    with pytest.raises(ClientError) as error:
        raw_client.list_environments(MaxResults=26)
    assert error_code(error) == "ValidationException"


def test_an_update_is_updating_then_available_with_the_new_configuration(client: Any, clock: ManualClock) -> None:
    available(client, clock)
    client.update_environment(Name="analytics", MaxWorkers=6, WorkerReplacementStrategy="GRACEFUL")
    updating = client.get_environment(Name="analytics")["Environment"]
    assert updating["Status"] == "UPDATING"
    assert updating["LastUpdate"]["Status"] == "PENDING"
    clock.advance(900)
    environment = client.get_environment(Name="analytics")["Environment"]
    assert environment["Status"] == "AVAILABLE"
    assert environment["MaxWorkers"] == 6
    assert environment["LastUpdate"]["Status"] == "SUCCESS"
    assert environment["LastUpdate"]["WorkerReplacementStrategy"] == "GRACEFUL"


def test_an_update_is_refused_while_the_environment_is_updating(client: Any, clock: ManualClock) -> None:
    available(client, clock)
    client.update_environment(Name="analytics", MaxWorkers=6)
    with pytest.raises(ClientError) as error:
        client.update_environment(Name="analytics", MaxWorkers=7)
    assert error_code(error) == "ValidationException"
    assert "UPDATING" in str(error.value)


def test_an_update_is_refused_while_the_environment_is_creating(client: Any) -> None:
    create(client)
    with pytest.raises(ClientError) as error:
        client.update_environment(Name="analytics", MaxWorkers=6)
    assert error_code(error) == "ValidationException"


def test_a_failed_update_ends_update_failed_with_the_error_and_the_previous_configuration(
    client: Any, clock: ManualClock
) -> None:
    available(client, clock, MaxWorkers=3)
    mwaa.fail_next_update("analytics", "INCORRECT_CONFIGURATION", "startup script exited with code 1")
    client.update_environment(Name="analytics", MaxWorkers=8)
    clock.advance(900)
    assert status(client) == "ROLLING_BACK"
    clock.advance(300)
    environment = client.get_environment(Name="analytics")["Environment"]
    assert environment["Status"] == "UPDATE_FAILED"
    assert environment["MaxWorkers"] == 3
    assert environment["LastUpdate"]["Status"] == "FAILED"
    assert environment["LastUpdate"]["Error"] == {
        "ErrorCode": "INCORRECT_CONFIGURATION",
        "ErrorMessage": "startup script exited with code 1",
    }


def test_an_environment_in_update_failed_accepts_the_next_update(client: Any, clock: ManualClock) -> None:
    available(client, clock)
    mwaa.fail_next_update("analytics", "INTERNAL_ERROR", "boom")
    client.update_environment(Name="analytics", MaxWorkers=8)
    clock.advance(1200)
    client.update_environment(Name="analytics", MaxWorkers=9)
    clock.advance(900)
    environment = client.get_environment(Name="analytics")["Environment"]
    assert (environment["Status"], environment["MaxWorkers"]) == ("AVAILABLE", 9)
    assert "Error" not in environment["LastUpdate"]


def test_a_requirements_file_naming_an_uninstallable_package_fails_the_update(
    client: Any, s3: Any, clock: ManualClock
) -> None:
    available(client, clock)
    version = s3.put_object(Bucket=BUCKET, Key="requirements.txt", Body=b"this-package-does-not-exist==1.0\n")
    client.update_environment(
        Name="analytics", RequirementsS3Path="requirements.txt", RequirementsS3ObjectVersion=version["VersionId"]
    )
    clock.advance(1200)
    environment = client.get_environment(Name="analytics")["Environment"]
    assert environment["Status"] == "UPDATE_FAILED"
    assert (
        "No matching distribution found for this-package-does-not-exist"
        in (environment["LastUpdate"]["Error"]["ErrorMessage"])
    )
    assert "RequirementsS3Path" not in environment


def test_a_requirements_object_version_that_does_not_exist_fails_the_update(client: Any, clock: ManualClock) -> None:
    available(client, clock)
    client.update_environment(
        Name="analytics", RequirementsS3Path="requirements.txt", RequirementsS3ObjectVersion="no-such-version"
    )
    clock.advance(1200)
    environment = client.get_environment(Name="analytics")["Environment"]
    assert environment["Status"] == "UPDATE_FAILED"
    assert "requirements.txt" in environment["LastUpdate"]["Error"]["ErrorMessage"]


def test_installable_requirements_at_an_existing_version_update_successfully(
    client: Any, s3: Any, clock: ManualClock
) -> None:
    available(client, clock)
    version = s3.put_object(Bucket=BUCKET, Key="requirements.txt", Body=b"-c constraints.txt\nboto3==1.34.0\n")
    client.update_environment(
        Name="analytics", RequirementsS3Path="requirements.txt", RequirementsS3ObjectVersion=version["VersionId"]
    )
    clock.advance(900)
    environment = client.get_environment(Name="analytics")["Environment"]
    assert environment["Status"] == "AVAILABLE"
    assert environment["RequirementsS3ObjectVersion"] == version["VersionId"]


def test_the_uninstallable_packages_are_configurable(client: Any, s3: Any, clock: ManualClock) -> None:
    mwaa.configure(uninstallable_packages={"Broken_Pkg"})
    available(client, clock)
    s3.put_object(Bucket=BUCKET, Key="requirements.txt", Body=b"broken-pkg\n")
    client.update_environment(Name="analytics", RequirementsS3Path="requirements.txt")
    clock.advance(1200)
    assert status(client) == "UPDATE_FAILED"


def test_an_airflow_version_upgrade_passes_through_creating_snapshot(client: Any, clock: ManualClock) -> None:
    available(client, clock, AirflowVersion="2.8.1")
    client.update_environment(Name="analytics", AirflowVersion="2.10.3")
    seen: list[str] = []
    for _ in range(13):
        current = status(client)
        if not seen or seen[-1] != current:
            seen.append(current)
        clock.advance(100)
    assert seen == ["UPDATING", "CREATING_SNAPSHOT", "UPDATING", "AVAILABLE"]
    assert client.get_environment(Name="analytics")["Environment"]["AirflowVersion"] == "2.10.3"


def test_an_airflow_downgrade_is_refused(client: Any, clock: ManualClock) -> None:
    available(client, clock, AirflowVersion="2.10.3")
    with pytest.raises(ClientError) as error:
        client.update_environment(Name="analytics", AirflowVersion="2.8.1")
    assert error_code(error) == "ValidationException"


def test_durations_are_configurable(client: Any, clock: ManualClock) -> None:
    mwaa.configure(create_seconds=10, update_seconds=5, delete_seconds=1)
    create(client)
    clock.advance(10)
    client.update_environment(Name="analytics", MaxWorkers=2)
    clock.advance(5)
    assert status(client) == "AVAILABLE"


def test_a_deleted_environment_is_deleting_then_gone(client: Any, clock: ManualClock) -> None:
    available(client, clock)
    client.delete_environment(Name="analytics")
    assert status(client) == "DELETING"
    clock.advance(900)
    with pytest.raises(ClientError) as error:
        client.get_environment(Name="analytics")
    assert error_code(error) == "ResourceNotFoundException"
    assert client.list_environments()["Environments"] == []


def test_an_unknown_environment_is_resource_not_found(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException) as error:
        client.get_environment(Name="missing")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ResourceNotFoundException"


def test_tags_are_added_listed_and_removed_by_arn(client: Any) -> None:
    arn = create(client, Tags={"team": "data"})
    client.tag_resource(ResourceArn=arn, Tags={"cost-center": "42"})
    client.untag_resource(ResourceArn=arn, tagKeys=["team"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"cost-center": "42"}


def test_tagging_an_unknown_arn_is_resource_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as error:
        client.tag_resource(ResourceArn="arn:aws:airflow:us-east-1:123456789012:environment/nope", Tags={"a": "b"})
    assert error_code(error) == "ResourceNotFoundException"


# ------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Name": "1starts-with-a-digit"}, "pattern"),
        ({"Name": "has.a.dot"}, "pattern"),
        ({"Name": "a" * 81}, "length"),
        ({"NetworkConfiguration": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}}, "exactly 2"),
        (
            {"NetworkConfiguration": {"SubnetIds": ["subnet-1", "subnet-2", "subnet-3"], "SecurityGroupIds": ["sg-1"]}},
            "exactly 2",
        ),
        ({"NetworkConfiguration": {"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": []}}, "between 1 and 5"),
        (
            {
                "NetworkConfiguration": {
                    "SubnetIds": ["subnet-1", "subnet-2"],
                    "SecurityGroupIds": [f"sg-{i}" for i in range(6)],
                }
            },
            "between 1 and 5",
        ),
        ({"EnvironmentClass": "mw1.huge"}, "EnvironmentClass"),
        ({"MinWorkers": 0}, "MinWorkers"),
        ({"MaxWorkers": 26}, "MaxWorkers"),
        ({"MinWorkers": 5, "MaxWorkers": 4}, "must not exceed"),
        ({"Schedulers": 1}, "Schedulers"),
        ({"Schedulers": 6}, "Schedulers"),
        ({"EnvironmentClass": "mw1.micro", "Schedulers": 2}, "Schedulers"),
        ({"MinWebservers": 1}, "MinWebservers"),
        ({"MaxWebservers": 6}, "MaxWebservers"),
        ({"MinWebservers": 3, "MaxWebservers": 2}, "must not exceed"),
        ({"AirflowVersion": "1.10.12"}, "not supported"),
        ({"ExecutionRoleArn": "not-an-arn"}, "ExecutionRoleArn"),
        ({"WeeklyMaintenanceWindowStart": "SUN:03:15"}, "WeeklyMaintenanceWindowStart"),
    ],
)
def test_create_environment_rejects_invalid_input_with_a_validation_exception(
    raw_client: Any, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as error:
        create(raw_client, **({"Name": "analytics"} | overrides))
    assert error_code(error) == "ValidationException"
    assert message in error.value.response["Error"]["Message"]


def test_a_micro_environment_runs_one_scheduler_and_one_web_server_by_default(client: Any, clock: ManualClock) -> None:
    environment = available(client, clock, EnvironmentClass="mw1.micro")
    assert (environment["Schedulers"], environment["MinWebservers"], environment["MaxWebservers"]) == (1, 1, 1)
    assert environment["MaxWorkers"] == 1


def test_creating_an_environment_with_a_taken_name_is_a_validation_exception(client: Any) -> None:
    create(client)
    with pytest.raises(ClientError) as error:
        create(client)
    assert error_code(error) == "ValidationException"
    assert "already exists" in str(error.value)


def test_an_eleventh_environment_in_a_region_exceeds_the_quota(client: Any) -> None:
    for index in range(10):
        create(client, f"env-{index}")
    with pytest.raises(ClientError) as error:
        create(client, "env-10")
    assert error_code(error) == "ValidationException"
    assert "maximum number of environments (10)" in str(error.value)


@pytest.mark.parametrize(
    "change",
    [
        {"NetworkConfiguration": {"SubnetIds": ["subnet-9", "subnet-8"], "SecurityGroupIds": ["sg-1"]}},
        {"KmsKey": "alias/other"},
        {"EndpointManagement": "CUSTOMER"},
    ],
)
def test_an_update_cannot_change_subnets_kms_key_or_endpoint_management(
    client: Any, clock: ManualClock, change: dict[str, Any]
) -> None:
    # botocore cannot even serialize these members for UpdateEnvironment; other SDKs or raw
    # HTTP could, so the backend is called directly.
    from mwaa_cp_local.mwaa.models import ValidationException

    available(client, clock)
    with pytest.raises(ValidationException, match="cannot be changed"):
        mwaa.backend().update_environment({"Name": "analytics", **change})


def test_an_update_can_change_the_security_groups(client: Any, clock: ManualClock) -> None:
    available(client, clock)
    client.update_environment(Name="analytics", NetworkConfiguration={"SecurityGroupIds": ["sg-0ccc", "sg-0ddd"]})
    clock.advance(900)
    network = client.get_environment(Name="analytics")["Environment"]["NetworkConfiguration"]
    assert network == {"SubnetIds": NETWORK["SubnetIds"], "SecurityGroupIds": ["sg-0ccc", "sg-0ddd"]}


def test_updating_an_unknown_environment_is_resource_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as error:
        client.update_environment(Name="missing", MaxWorkers=2)
    assert error_code(error) == "ResourceNotFoundException"


# ------------------------------------------------------------------------------- tokens and the CLI


def test_a_cli_token_runs_commands_with_base64_stdout_and_stderr(client: Any, clock: ManualClock) -> None:
    available(client, clock, AirflowVersion="2.10.3")
    token = client.create_cli_token(Name="analytics")
    status_code, answer = mwaa.handle_cli_request(token["WebServerHostname"], f"Bearer {token['CliToken']}", "version")
    assert status_code == 200
    assert base64.b64decode(answer["stdout"]).decode() == "2.10.3\n"
    assert "Warning" in base64.b64decode(answer["stderr"]).decode()


def test_a_cli_token_expires_after_sixty_seconds(client: Any, clock: ManualClock) -> None:
    available(client, clock)
    token = client.create_cli_token(Name="analytics")
    clock.advance(60)
    status_code, _ = mwaa.handle_cli_request(token["WebServerHostname"], f"Bearer {token['CliToken']}", "version")
    assert status_code == 403


def test_the_cli_endpoint_refuses_an_unknown_token(client: Any, clock: ManualClock) -> None:
    available(client, clock)
    status_code, _ = mwaa.handle_cli_request("x.c2.us-east-1.airflow.amazonaws.com", "Bearer forged", "version")
    assert status_code == 403


def test_the_cli_endpoint_answers_503_while_the_environment_is_creating(client: Any) -> None:
    create(client)
    token = client.create_cli_token(Name="analytics")
    status_code, _ = mwaa.handle_cli_request(token["WebServerHostname"], f"Bearer {token['CliToken']}", "version")
    assert status_code == 503


def test_a_web_login_token_names_the_web_server(client: Any, clock: ManualClock) -> None:
    environment = available(client, clock)
    token = client.create_web_login_token(Name="analytics")
    assert token["WebServerHostname"] == environment["WebserverUrl"]
    assert token["WebToken"]


# ------------------------------------------------------------------------------- InvokeRestApi gatekeeping


def test_invoke_rest_api_is_refused_on_airflow_2_2_2(client: Any, clock: ManualClock) -> None:
    available(client, clock, AirflowVersion="2.2.2")
    with pytest.raises(ClientError) as error:
        client.invoke_rest_api(Name="analytics", Path="/dags", Method="GET")
    assert error_code(error) == "ValidationException"
    assert "2.4.3" in str(error.value)


def test_invoke_rest_api_is_refused_while_the_environment_is_creating(client: Any) -> None:
    create(client)
    with pytest.raises(ClientError) as error:
        client.invoke_rest_api(Name="analytics", Path="/dags", Method="GET")
    assert error_code(error) == "ValidationException"


def test_invoke_rest_api_on_an_unknown_environment_is_resource_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as error:
        client.invoke_rest_api(Name="missing", Path="/dags", Method="GET")
    assert error_code(error) == "ResourceNotFoundException"


def test_an_airflow_4xx_is_a_rest_api_client_exception_carrying_status_and_body(
    client: Any, clock: ManualClock
) -> None:
    available(client, clock)
    with pytest.raises(client.exceptions.RestApiClientException) as error:
        client.invoke_rest_api(Name="analytics", Path="/no/such/endpoint", Method="GET")
    assert error.value.response["RestApiStatusCode"] == 404
    assert error.value.response["RestApiResponse"]["title"] == "Not Found"


# ------------------------------------------------------------------------------- registration and server mode


def test_installing_the_service_puts_its_host_patterns_first(client: Any, clock: ManualClock) -> None:
    from moto import backend_index

    assert [service for service, _ in backend_index.backend_url_patterns[:2]] == ["mwaa", "mwaa"]
    available(client, clock)


def test_the_service_installed_after_mock_aws_started_serves_boto3() -> None:
    with mock_aws(), Patches() as patches:
        install_mwaa(patches)
        client = boto3.client("mwaa", region_name="eu-west-1")
        assert client.list_environments()["Environments"] == []


def test_undoing_the_install_removes_the_service_from_moto() -> None:
    from moto import backend_index

    patterns = backend_index.backend_url_patterns
    with Patches() as patches:
        install_mwaa(patches)
        assert "moto.mwaa" in sys.modules
    assert backend_index.backend_url_patterns is patterns
    assert "moto.mwaa" not in sys.modules


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_backend_serves_boto3_through_moto_server(clock: ManualClock) -> None:
    from moto.server import ThreadedMotoServer

    patches = Patches()
    install_mwaa(patches)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
        )
        endpoint = f"http://127.0.0.1:{port}"
        client = session.client("mwaa", endpoint_url=endpoint, config=Config(inject_host_prefix=False))
        arn = create(client, "served")
        assert status(client, "served") == "CREATING"
        clock.advance(1500)
        assert status(client, "served") == "AVAILABLE"
        assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {}
        response = client.invoke_rest_api(Name="served", Path="/variables", Method="GET")
        assert json.loads(json.dumps(response["RestApiResponse"])) == {"variables": [], "total_entries": 0}
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_environment(Name="missing")
    finally:
        server.stop()
        patches.undo()
