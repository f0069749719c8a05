"""The hibernate snapshot: GetEnvironment to CreateEnvironment arguments, stored SSE-KMS, read back and verified."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mwaa_control_plane.environments.change_request import ArtifactVersion
from mwaa_control_plane.environments.offhours.airflow_state import AirflowState
from mwaa_control_plane.environments.offhours.capacity import Capacity
from mwaa_control_plane.environments.offhours.snapshot import (
    EnvironmentSnapshot,
    SnapshotRef,
    SnapshotStore,
    create_arguments_for_resume,
    create_arguments_from,
)
from mwaa_control_plane.errors import (
    ConfigurationError,
    InvalidInputError,
    SnapshotIncompleteError,
    SnapshotNotVerifiedError,
)
from tests.unit.aws import ENVIRONMENT, REGION, create_versioned_bucket, environment

BUCKET = "mwaa-cp-snapshots"
TAKEN_AT = datetime(2026, 1, 14, 20, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::123456789012:role/mwaa-dev"
SECRET = "postgresql://user:hunter2@db/airflow"


def _get_environment(**overrides: Any) -> dict[str, Any]:
    """A GetEnvironment ``Environment`` with everything CreateEnvironment needs, and what it must not get."""
    fields: dict[str, Any] = {
        "Arn": f"arn:aws:airflow:{REGION}:123456789012:environment/{ENVIRONMENT}",
        "CreatedAt": datetime(2025, 6, 1, tzinfo=UTC),
        "ExecutionRoleArn": ROLE,
        "ServiceRoleArn": "arn:aws:iam::123456789012:role/aws-service-role/airflow.amazonaws.com/x",
        "WebserverUrl": "abc.airflow.us-east-1.on.aws",
        "NetworkConfiguration": {"SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]},
        "RequirementsS3Path": "requirements.txt",
        "RequirementsS3ObjectVersion": "req-v1",
        "PluginsS3Path": "plugins.zip",
        "PluginsS3ObjectVersion": "plug-v1",
        "AirflowConfigurationOptions": {"core.default_timezone": "utc", "secrets.backend_kwargs": SECRET},
        "LoggingConfiguration": {
            "TaskLogs": {
                "Enabled": True,
                "LogLevel": "INFO",
                "CloudWatchLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:airflow-dev-Task",
            },
            "WorkerLogs": {"Enabled": False, "LogLevel": "WARNING"},
        },
        "WeeklyMaintenanceWindowStart": "SUN:03:30",
        "WebserverAccessMode": "PRIVATE_ONLY",
        "EndpointManagement": "SERVICE",
        "KmsKey": "arn:aws:kms:us-east-1:123456789012:key/abc",
        "Tags": {"team": "data", "mwaa-cp:off-hours": "hibernate", "aws:cloudformation:stack-name": "mwaa-dev"},
        "LastUpdate": {"Status": "SUCCESS"},
        "CeleryExecutorQueue": "arn:aws:sqs:us-east-1:123456789012:airflow-celery",
    }
    return environment(**{**fields, **overrides})


@pytest.fixture
def aws() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        create_versioned_bucket(s3, BUCKET)
        key_id = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]
        yield s3, key_id


@pytest.fixture
def store(aws: tuple[Any, str]) -> SnapshotStore:
    s3, key_id = aws
    return SnapshotStore(s3, BUCKET, key_id)


def _snapshot(**overrides: Any) -> EnvironmentSnapshot:
    return EnvironmentSnapshot(
        environment_name=ENVIRONMENT,
        taken_at=TAKEN_AT,
        create_arguments=create_arguments_from(_get_environment(**overrides)),
        airflow_state=AirflowState(airflow_version="2.10.3", captured_at=TAKEN_AT),
    )


# -- GetEnvironment -> CreateEnvironment -----------------------------------------------------------------------------


def test_the_create_arguments_are_the_whitelisted_fields_of_get_environment() -> None:
    arguments = create_arguments_from(_get_environment())

    assert arguments == {
        "Name": ENVIRONMENT,
        "ExecutionRoleArn": ROLE,
        "SourceBucketArn": "arn:aws:s3:::airflow-dev",
        "DagS3Path": "dags",
        "NetworkConfiguration": {"SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]},
        "RequirementsS3Path": "requirements.txt",
        "RequirementsS3ObjectVersion": "req-v1",
        "PluginsS3Path": "plugins.zip",
        "PluginsS3ObjectVersion": "plug-v1",
        "AirflowConfigurationOptions": {"core.default_timezone": "utc", "secrets.backend_kwargs": SECRET},
        "EnvironmentClass": "mw1.small",
        "MinWorkers": 1,
        "MaxWorkers": 10,
        "Schedulers": 2,
        "MinWebservers": 2,
        "MaxWebservers": 2,
        "KmsKey": "arn:aws:kms:us-east-1:123456789012:key/abc",
        "AirflowVersion": "2.10.3",
        "LoggingConfiguration": {
            "TaskLogs": {"Enabled": True, "LogLevel": "INFO"},
            "WorkerLogs": {"Enabled": False, "LogLevel": "WARNING"},
        },
        "WeeklyMaintenanceWindowStart": "SUN:03:30",
        "Tags": {"team": "data", "mwaa-cp:off-hours": "hibernate"},
        "WebserverAccessMode": "PRIVATE_ONLY",
        "EndpointManagement": "SERVICE",
    }


def test_the_whole_get_environment_response_is_accepted_too() -> None:
    assert create_arguments_from({"Environment": _get_environment()})["Name"] == ENVIRONMENT


def test_the_create_arguments_are_accepted_by_create_environment_as_botocore_models_it() -> None:
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    model = get_session().get_service_model("mwaa").operation_model("CreateEnvironment").input_shape

    report = ParamValidator().validate(create_arguments_from(_get_environment()), model)

    assert not report.has_errors(), report.generate_report()


def test_a_recorded_capacity_replaces_the_scaled_down_one() -> None:
    recorded = Capacity(
        environment_class="mw1.medium", min_workers=2, max_workers=8, schedulers=3, min_webservers=2, max_webservers=3
    )

    arguments = create_arguments_from(_get_environment(), capacity=recorded)

    assert (arguments["EnvironmentClass"], arguments["MinWorkers"], arguments["MaxWebservers"]) == ("mw1.medium", 2, 3)


def test_a_redacted_configuration_value_refuses_the_snapshot_naming_only_the_option() -> None:
    env = _get_environment(AirflowConfigurationOptions={"smtp.smtp_password": "****", "core.x": "fine"})

    with pytest.raises(SnapshotIncompleteError) as refused:
        create_arguments_from(env)

    assert "AirflowConfigurationOptions smtp.smtp_password look redacted" in str(refused.value)
    assert "****" not in str(refused.value)


def test_an_artifact_without_its_object_version_cannot_be_pinned() -> None:
    env = _get_environment()
    del env["RequirementsS3ObjectVersion"]

    with pytest.raises(SnapshotIncompleteError, match="RequirementsS3Path has no RequirementsS3ObjectVersion"):
        create_arguments_from(env)


def test_every_missing_required_field_is_named() -> None:
    env = _get_environment()
    del env["ExecutionRoleArn"], env["NetworkConfiguration"]

    with pytest.raises(SnapshotIncompleteError) as refused:
        create_arguments_from(env)

    assert refused.value.problems == ["ExecutionRoleArn is missing", "NetworkConfiguration is missing"]


def test_the_tags_at_resume_are_the_current_ones_when_they_changed_while_hibernated() -> None:
    snapshot = _snapshot()

    arguments = create_arguments_for_resume(snapshot, {"team": "ml", "aws:cloudformation:stack-name": "x"})

    assert arguments["Tags"] == {"team": "ml"}
    assert snapshot.create_arguments["Tags"] == {"team": "data", "mwaa-cp:off-hours": "hibernate"}


def test_without_current_tags_the_snapshots_tags_are_used() -> None:
    assert create_arguments_for_resume(_snapshot(), None)["Tags"] == {"team": "data", "mwaa-cp:off-hours": "hibernate"}


def test_a_snapshot_never_shows_its_configuration_in_its_repr() -> None:
    assert SECRET not in repr(_snapshot())


# -- the store -------------------------------------------------------------------------------------------------------


def test_a_saved_snapshot_is_encrypted_with_the_kms_key_and_versioned(
    store: SnapshotStore, aws: tuple[Any, str]
) -> None:
    s3, key_id = aws

    ref = store.save(_snapshot())

    head = s3.head_object(Bucket=BUCKET, Key=ref.key, VersionId=ref.version_id)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert key_id in head["SSEKMSKeyId"]
    assert ref.key == f"snapshots/{ENVIRONMENT}/2026-01-14T200000Z.json"
    assert ref.environment_name == ENVIRONMENT


def test_a_saved_snapshot_reads_back_equal(store: SnapshotStore) -> None:
    snapshot = _snapshot()

    assert store.load(store.save(snapshot)) == snapshot


def test_verify_returns_the_snapshot_that_can_recreate_the_environment(store: SnapshotStore) -> None:
    ref = store.save(_snapshot())

    assert store.verify(ref).create_arguments["Name"] == ENVIRONMENT


def test_a_snapshot_overwritten_in_place_is_still_read_at_its_own_version(store: SnapshotStore) -> None:
    first = store.save(_snapshot())
    store.save(_snapshot(DagS3Path="other"))

    assert store.load(first).create_arguments["DagS3Path"] == "dags"


def test_a_body_that_does_not_match_the_checksum_is_not_verified(store: SnapshotStore) -> None:
    ref = store.save(_snapshot())
    wrong = ref.model_copy(update={"sha256": "0" * 64})

    with pytest.raises(SnapshotNotVerifiedError, match="does not match its checksum"):
        store.verify(wrong)


def test_a_missing_version_is_not_verified(store: SnapshotStore) -> None:
    ref = store.save(_snapshot())

    with pytest.raises(SnapshotNotVerifiedError, match="is not there"):
        store.verify(ref.model_copy(update={"version_id": "nope"}))


def test_an_unencrypted_object_is_not_verified(store: SnapshotStore, aws: tuple[Any, str]) -> None:
    s3, _ = aws
    ref = store.save(_snapshot())
    body = s3.get_object(Bucket=BUCKET, Key=ref.key, VersionId=ref.version_id)["Body"].read()
    plain = s3.put_object(Bucket=BUCKET, Key=ref.key, Body=body)["VersionId"]

    with pytest.raises(SnapshotNotVerifiedError, match="not encrypted with KMS"):
        store.verify(ref.model_copy(update={"version_id": plain}))


def test_an_unreadable_body_is_not_verified_and_the_error_shows_no_value(
    store: SnapshotStore, aws: tuple[Any, str]
) -> None:
    s3, key_id = aws
    body = json.dumps({"environment_name": ENVIRONMENT, "secret": SECRET}).encode()
    version = s3.put_object(
        Bucket=BUCKET, Key="snapshots/x.json", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id
    )["VersionId"]
    ref = SnapshotRef(
        environment_name=ENVIRONMENT,
        bucket=BUCKET,
        key="snapshots/x.json",
        version_id=version,
        sha256=hashlib.sha256(body).hexdigest(),
        taken_at=TAKEN_AT,
    )

    with pytest.raises(SnapshotNotVerifiedError) as refused:
        store.verify(ref)

    assert "cannot be read" in str(refused.value)
    assert SECRET not in str(refused.value)


def test_a_snapshot_that_cannot_recreate_the_environment_is_incomplete(store: SnapshotStore) -> None:
    snapshot = _snapshot()
    broken = snapshot.model_copy(update={"create_arguments": {**snapshot.create_arguments, "ExecutionRoleArn": ""}})

    with pytest.raises(SnapshotIncompleteError, match="ExecutionRoleArn is missing"):
        store.verify(store.save(broken))


def test_a_snapshot_of_another_environment_is_not_verified(store: SnapshotStore) -> None:
    ref = store.save(_snapshot())

    with pytest.raises(SnapshotNotVerifiedError, match="not other-env"):
        store.verify(ref.model_copy(update={"environment_name": "other-env"}))


def test_an_unversioned_bucket_is_a_configuration_error(aws: tuple[Any, str]) -> None:
    s3, key_id = aws
    s3.create_bucket(Bucket="plain")

    with pytest.raises(ConfigurationError, match="versioning"):
        SnapshotStore(s3, "plain", key_id).save(_snapshot())


def test_artifacts_changed_while_hibernated_are_pinned_in_a_new_version(store: SnapshotStore) -> None:
    ref = store.save(_snapshot())

    updated = store.update_artifacts(
        ref,
        {
            "requirements": ArtifactVersion(s3_path="requirements.txt", version="req-v2"),
            "startup": ArtifactVersion(s3_path="startup.sh", version="start-v1"),
        },
    )

    arguments = store.verify(updated).create_arguments
    assert (arguments["RequirementsS3ObjectVersion"], arguments["StartupScriptS3Path"]) == ("req-v2", "startup.sh")
    assert arguments["PluginsS3ObjectVersion"] == "plug-v1"
    assert updated.key == ref.key
    assert updated.version_id != ref.version_id
    assert store.load(ref).create_arguments["RequirementsS3ObjectVersion"] == "req-v1"


def test_an_artifact_without_a_version_is_not_pinned(store: SnapshotStore) -> None:
    ref = store.save(_snapshot())

    with pytest.raises(InvalidInputError, match="plugins"):
        store.update_artifacts(ref, {"plugins": ArtifactVersion(s3_path="plugins.zip")})
