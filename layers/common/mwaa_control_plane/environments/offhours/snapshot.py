"""The hibernate snapshot: everything needed to create the environment again, stored encrypted and verified.

:func:`create_arguments_from` turns GetEnvironment's answer into CreateEnvironment's arguments
through a whitelist (object versions pinned, logging converted to the input shape, ``aws:``
tags left out because nobody may set them). AirflowConfigurationOptions are kept, as AWS's own
pause/resume sample does, but a value that looks redacted refuses the snapshot: writing it back
would break the environment. :class:`SnapshotStore` writes one JSON object per snapshot,
SSE-KMS with the control plane's key, in a versioned bucket, and reads back exactly that
version. The snapshot holds secret material: it is never logged and never put in a Step
Functions payload (payloads carry the :class:`SnapshotRef`).
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import Field, ValidationError

from mwaa_control_plane.environments.change_request import ArtifactKind, ArtifactVersion, Strict
from mwaa_control_plane.environments.limits import looks_redacted
from mwaa_control_plane.environments.offhours.airflow_state import AirflowState
from mwaa_control_plane.environments.offhours.capacity import Capacity
from mwaa_control_plane.errors import (
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    SnapshotIncompleteError,
    SnapshotNotVerifiedError,
    translate_client_error,
)
from mwaa_control_plane.observability import logger
from mwaa_control_plane.payloads import EnvironmentName, validation_problems

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SNAPSHOT_PREFIX = "snapshots"
REQUIRED = ("Name", "ExecutionRoleArn", "SourceBucketArn", "DagS3Path", "NetworkConfiguration")
# CreateEnvironment fields copied as GetEnvironment reports them (botocore model mwaa 2020-07-01).
COPIED = (
    "ExecutionRoleArn",
    "SourceBucketArn",
    "DagS3Path",
    "PluginsS3Path",
    "PluginsS3ObjectVersion",
    "RequirementsS3Path",
    "RequirementsS3ObjectVersion",
    "StartupScriptS3Path",
    "StartupScriptS3ObjectVersion",
    "EnvironmentClass",
    "MaxWorkers",
    "MinWorkers",
    "Schedulers",
    "MinWebservers",
    "MaxWebservers",
    "KmsKey",
    "AirflowVersion",
    "WeeklyMaintenanceWindowStart",
    "WebserverAccessMode",
    "EndpointManagement",
)
LOG_TYPES = ("DagProcessingLogs", "SchedulerLogs", "TaskLogs", "WebserverLogs", "WorkerLogs")
ARTIFACT_FIELDS: dict[ArtifactKind, tuple[str, str]] = {
    "requirements": ("RequirementsS3Path", "RequirementsS3ObjectVersion"),
    "plugins": ("PluginsS3Path", "PluginsS3ObjectVersion"),
    "startup": ("StartupScriptS3Path", "StartupScriptS3ObjectVersion"),
}
CAPACITY_ARGUMENTS = {
    "environment_class": "EnvironmentClass",
    "min_workers": "MinWorkers",
    "max_workers": "MaxWorkers",
    "schedulers": "Schedulers",
    "min_webservers": "MinWebservers",
    "max_webservers": "MaxWebservers",
}
_NAME = re.compile(r"^[a-zA-Z][0-9a-zA-Z\-_]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class SnapshotRef(Strict):
    """Where a snapshot is: this exact object version, and the checksum of what was written."""

    environment_name: EnvironmentName
    bucket: str
    key: str
    version_id: Annotated[str, Field(min_length=1)]
    sha256: Annotated[str, Field(pattern=_SHA256.pattern)]
    taken_at: datetime


class EnvironmentSnapshot(Strict):
    """One environment as it was before a hibernate: how to create it again, and its Airflow state."""

    format: Literal[1] = 1
    environment_name: EnvironmentName
    taken_at: datetime
    # repr=False: AirflowConfigurationOptions are secret material.
    create_arguments: Annotated[dict[str, Any], Field(repr=False)]
    """CreateEnvironment's keyword arguments, as :func:`create_arguments_from` built them."""
    airflow_state: Annotated[AirflowState | None, Field(repr=False)] = None


def create_arguments_from(environment: Mapping[str, Any], *, capacity: Capacity | None = None) -> dict[str, Any]:
    """CreateEnvironment's arguments from GetEnvironment (its ``Environment``, or the whole response).

    ``capacity`` replaces the class and counts (an environment that is scaled down comes back
    with the capacity recorded before). Raises SnapshotIncompleteError naming every problem
    (a missing field, an unpinned object version, a configuration value that looks redacted;
    never the value).
    """
    if "Environment" in environment and "Name" not in environment:
        environment = environment["Environment"]
    arguments: dict[str, Any] = {"Name": environment.get("Name")}
    for name in COPIED:
        if environment.get(name) not in (None, ""):
            arguments[name] = copy.deepcopy(environment[name])
    network = environment.get("NetworkConfiguration") or {}
    if network:
        arguments["NetworkConfiguration"] = {
            key: list(network[key]) for key in ("SubnetIds", "SecurityGroupIds") if network.get(key) is not None
        }
    options = environment.get("AirflowConfigurationOptions")
    if options:
        arguments["AirflowConfigurationOptions"] = dict(options)
    logging = _logging_input(environment.get("LoggingConfiguration"))
    if logging:
        arguments["LoggingConfiguration"] = logging
    arguments["Tags"] = _settable_tags(environment.get("Tags") or {})
    if capacity is not None:
        for field, argument in CAPACITY_ARGUMENTS.items():
            arguments[argument] = getattr(capacity, field)
    problems = create_argument_problems(arguments)
    if problems:
        raise SnapshotIncompleteError(
            f"environment {arguments.get('Name')!r} cannot be snapshotted: {'; '.join(problems)}", problems
        )
    return arguments


def create_argument_problems(arguments: Mapping[str, Any]) -> list[str]:
    """Why CreateEnvironment could not recreate the environment from ``arguments``; empty when complete."""
    problems = [f"{name} is missing" for name in REQUIRED if not arguments.get(name)]
    name = arguments.get("Name")
    if name and not (isinstance(name, str) and _NAME.match(name) and len(name) <= 80):
        problems.append("Name is not an MWAA environment name")
    network = arguments.get("NetworkConfiguration") or {}
    if network:
        if len(network.get("SubnetIds") or []) != 2:
            problems.append("NetworkConfiguration.SubnetIds must name exactly 2 subnets")
        if not 1 <= len(network.get("SecurityGroupIds") or []) <= 5:
            problems.append("NetworkConfiguration.SecurityGroupIds must name 1 to 5 security groups")
    for path_field, version_field in ARTIFACT_FIELDS.values():
        if arguments.get(path_field) and not arguments.get(version_field):
            problems.append(f"{path_field} has no {version_field}: the version the environment ran cannot be pinned")
    options = arguments.get("AirflowConfigurationOptions") or {}
    redacted = sorted(key for key, value in options.items() if not isinstance(value, str) or looks_redacted(value))
    if redacted:
        problems.append(
            f"AirflowConfigurationOptions {', '.join(redacted)} look redacted: writing them back would break the"
            " environment"
        )
    for log_type, setting in (arguments.get("LoggingConfiguration") or {}).items():
        if log_type not in LOG_TYPES or not isinstance(setting.get("Enabled"), bool):
            problems.append(f"LoggingConfiguration.{log_type} is not a log type with Enabled true or false")
    return problems


def create_arguments_for_resume(
    snapshot: EnvironmentSnapshot, current_tags: Mapping[str, str] | None
) -> dict[str, Any]:
    """CreateEnvironment's arguments at resume: the snapshot's, with the tags as they are now.

    The one place that decides which tags a resumed environment gets: ``current_tags`` (the
    tags as changed while the environment was hibernated) win over the snapshot's; None keeps
    the snapshot's. ``aws:`` tags are never sent (AWS refuses them).
    """
    arguments = copy.deepcopy(snapshot.create_arguments)
    if current_tags is not None:
        arguments["Tags"] = _settable_tags(current_tags)
    return arguments


def _settable_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in tags.items() if not key.lower().startswith("aws:")}


def _logging_input(output: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """GetEnvironment's LoggingConfiguration (with CloudWatchLogGroupArn) in CreateEnvironment's input shape."""
    converted: dict[str, dict[str, Any]] = {}
    for log_type in LOG_TYPES:
        setting = (output or {}).get(log_type)
        if not setting:
            continue
        entry: dict[str, Any] = {"Enabled": setting.get("Enabled")}
        if setting.get("LogLevel"):
            entry["LogLevel"] = setting["LogLevel"]
        converted[log_type] = entry
    return converted


class SnapshotStore:
    """Snapshots in the snapshot bucket (versioned, SSE-KMS with ``kms_key_id``), read back by exact version."""

    def __init__(self, s3: S3Client, bucket: str, kms_key_id: str) -> None:
        if not bucket or not kms_key_id:
            raise ConfigurationError("the snapshot store needs a bucket and a KMS key")
        self.s3 = s3
        self.bucket = bucket
        self.kms_key_id = kms_key_id

    @staticmethod
    def key_for(environment_name: str, taken_at: datetime) -> str:
        return f"{SNAPSHOT_PREFIX}/{environment_name}/{taken_at.astimezone(UTC):%Y-%m-%dT%H%M%SZ}.json"

    def save(self, snapshot: EnvironmentSnapshot) -> SnapshotRef:
        """Write ``snapshot`` as a new object version; its ref carries that version and the body's sha256."""
        body = snapshot.model_dump_json().encode()
        digest = hashlib.sha256(body).hexdigest()
        key = self.key_for(snapshot.environment_name, snapshot.taken_at)
        try:
            answer = self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=self.kms_key_id,
                Metadata={"sha256": digest},
            )
        except ClientError as exc:
            raise translate_client_error(exc, operation="S3 PutObject (snapshot)") from exc
        version = answer.get("VersionId")
        if not version or version == "null":
            raise ConfigurationError(f"snapshot bucket {self.bucket} must have versioning enabled")
        ref = SnapshotRef(
            environment_name=snapshot.environment_name,
            bucket=self.bucket,
            key=key,
            version_id=version,
            sha256=digest,
            taken_at=snapshot.taken_at,
        )
        logger.info(
            "snapshot saved",
            extra={"environment": ref.environment_name, "key": key, "version_id": version, "sha256": digest},
        )
        return ref

    def load(self, ref: SnapshotRef) -> EnvironmentSnapshot:
        """Exactly the version ``ref`` names; SnapshotNotVerifiedError unless it is the one written, encrypted."""
        try:
            answer = self.s3.get_object(Bucket=ref.bucket, Key=ref.key, VersionId=ref.version_id)
            body = answer["Body"].read()
        except ClientError as exc:
            error = translate_client_error(exc, operation="S3 GetObject (snapshot)")
            if isinstance(error, NotFoundError):
                raise SnapshotNotVerifiedError(f"snapshot {ref.key} version {ref.version_id} is not there") from exc
            raise error from exc
        if answer.get("ServerSideEncryption") != "aws:kms":
            raise SnapshotNotVerifiedError(f"snapshot {ref.key} version {ref.version_id} is not encrypted with KMS")
        if hashlib.sha256(body).hexdigest() != ref.sha256:
            raise SnapshotNotVerifiedError(f"snapshot {ref.key} version {ref.version_id} does not match its checksum")
        try:
            snapshot = EnvironmentSnapshot.model_validate_json(body)
        except ValidationError as exc:
            raise SnapshotNotVerifiedError(
                f"snapshot {ref.key} version {ref.version_id} cannot be read: {validation_problems(exc)}"
            ) from None
        if snapshot.environment_name != ref.environment_name:
            raise SnapshotNotVerifiedError(
                f"snapshot {ref.key} is of environment {snapshot.environment_name}, not {ref.environment_name}"
            )
        return snapshot

    def verify(self, ref: SnapshotRef) -> EnvironmentSnapshot:
        """Load ``ref`` and check it can recreate the environment: the gate before any DeleteEnvironment."""
        snapshot = self.load(ref)
        problems = create_argument_problems(snapshot.create_arguments)
        if snapshot.create_arguments.get("Name") != ref.environment_name:
            problems.append(f"its create arguments are for {snapshot.create_arguments.get('Name')!r}")
        if problems:
            raise SnapshotIncompleteError(
                f"snapshot {ref.key} version {ref.version_id} cannot recreate {ref.environment_name}:"
                f" {'; '.join(problems)}",
                problems,
            )
        logger.info(
            "snapshot verified",
            extra={"environment": ref.environment_name, "key": ref.key, "version_id": ref.version_id},
        )
        return snapshot

    def update_artifacts(self, ref: SnapshotRef, artifacts: Mapping[ArtifactKind, ArtifactVersion]) -> SnapshotRef:
        """A new version of the snapshot that pins ``artifacts`` (changed while hibernated); returns its ref."""
        unpinned = sorted(kind for kind, artifact in artifacts.items() if not artifact.version)
        if unpinned:
            raise InvalidInputError(f"artifacts without an object version cannot be pinned: {', '.join(unpinned)}")
        snapshot = self.verify(ref)
        arguments = copy.deepcopy(snapshot.create_arguments)
        for kind, artifact in artifacts.items():
            path_field, version_field = ARTIFACT_FIELDS[kind]
            arguments[path_field] = artifact.s3_path
            arguments[version_field] = artifact.version
        updated = self.save(snapshot.model_copy(update={"create_arguments": arguments}))
        logger.info(
            "snapshot artifacts updated",
            extra={"environment": ref.environment_name, "kinds": sorted(artifacts), "version_id": updated.version_id},
        )
        return updated
