"""requirements.txt, plugins.zip and startup.sh: staged, then applied with one coalesced UpdateEnvironment.

A burst of uploads must not become a burst of 20-minute environment updates. Each
validated artifact is copied into the MWAA bucket and recorded as *pending* for its
environment; one execution at a time holds the environment's update lock and applies
everything pending in a single UpdateEnvironment, then looks again for what arrived
meanwhile. The others end at once ("coalesced"). On UPDATE_FAILED, MWAA keeps running
the previous versions, so the MWAA bucket is put back to those known-good versions too,
and the error from ``LastUpdate`` is reported.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from mwaa_control_plane.dags.delivery import (
    IN_FLIGHT_SECONDS,
    QUIET_SECONDS,
    ValidationOutcome,
    clear_in_flight,
    current_version,
    describe_environment,
    mwaa_key,
    object_pk,
    still_latest,
    translate_client_error,
)
from mwaa_control_plane.dags.events import ArtifactKind
from mwaa_control_plane.errors import BurstInProgressError, EnvironmentBusyError, InvalidInputError
from mwaa_control_plane.payloads import Payload
from mwaa_control_plane.state import KeyLock, StateStore

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client

# An update may take 30 minutes and wait for a busy environment first; the lock outlives both.
UPDATE_LOCK_SECONDS = 4 * 3600
_UPDATABLE = ("AVAILABLE", "UPDATE_FAILED")
_PARAMETERS = {
    ArtifactKind.REQUIREMENTS: ("RequirementsS3Path", "RequirementsS3ObjectVersion"),
    ArtifactKind.PLUGINS: ("PluginsS3Path", "PluginsS3ObjectVersion"),
    ArtifactKind.STARTUP: ("StartupScriptS3Path", "StartupScriptS3ObjectVersion"),
}


class ArtifactVersion(Payload):
    s3_path: str
    version: str | None = None
    modules: list[str] = []


class StagedArtifact(Payload):
    environment_name: str
    kind: ArtifactKind
    outcome: Literal["staged", "superseded"]
    artifact: ArtifactVersion | None = None


class UpdateAttempt(Payload):
    environment_name: str
    outcome: Literal["updating", "nothing_pending"]
    applied: dict[str, ArtifactVersion] = {}
    before: dict[str, ArtifactVersion] = {}


class UpdateResult(Payload):
    environment_name: str
    outcome: Literal["succeeded", "failed"]
    more_pending: bool = False
    error_code: str | None = None
    error_message: str | None = None
    notification: str = ""


def _pending_pk(environment: str) -> str:
    return f"pending#{environment}"


def update_lock(environment: str) -> str:
    # The state machine releases this lock itself (DynamoDB DeleteItem on 'lock#update#<environment>', the key
    # StateStore.acquire_lock writes); the flow tests that update one environment twice depend on the two agreeing.
    return f"update#{environment}"


def stage_artifact(
    s3: S3Client, mwaa: MWAAClient, store: StateStore, validated: ValidationOutcome, owner: str
) -> StagedArtifact:
    """Copy the validated version into the MWAA bucket and record it as pending for the environment."""
    request = validated.request
    if request.kind is ArtifactKind.DAG:
        raise InvalidInputError("DAG-folder files are synced, not staged")
    target = describe_environment(mwaa, request.environment_name)
    destination = mwaa_key(target, request)
    with KeyLock(store, object_pk(request), owner):
        clear_in_flight(store, request)
        if not still_latest(store, request):
            return StagedArtifact(environment_name=request.environment_name, kind=request.kind, outcome="superseded")
        try:
            source = {"Bucket": request.staging_bucket, "Key": request.key, "VersionId": request.version_id or ""}
            copied = s3.copy_object(Bucket=target.source_bucket, Key=destination, CopySource=source)  # type: ignore[arg-type]
        except ClientError as exc:
            raise translate_client_error(exc) from exc
        # The modules the validator found in this very version: the zip is not downloaded a second time.
        artifact = ArtifactVersion(s3_path=destination, version=copied.get("VersionId"), modules=validated.modules)
        store.put(_pending_pk(request.environment_name), request.kind.value, artifact.model_dump(mode="json"))
    return StagedArtifact(
        environment_name=request.environment_name, kind=request.kind, outcome="staged", artifact=artifact
    )


def claim_update(store: StateStore, environment: str, owner: str) -> bool:
    """Become the one execution that applies pending artifacts to ``environment``; False if another is."""
    return store.acquire_lock(update_lock(environment), owner, UPDATE_LOCK_SECONDS)


def burst_in_progress(store: StateStore, environment: str) -> str | None:
    """Why the environment's uploads are not settled yet, or None when they are."""
    now = store.clock.now()
    activity = store.get(f"env#{environment}", "activity")
    if activity and (now - datetime.fromisoformat(activity["last_event_at"])).total_seconds() < QUIET_SECONDS:
        return f"an upload for {environment} arrived less than {QUIET_SECONDS} s ago"
    for key, item in store.query(f"inflight#{environment}").items():
        if (now - datetime.fromisoformat(item["since"])).total_seconds() < IN_FLIGHT_SECONDS:
            return f"{key} is still being validated"
    return None


def apply_pending(mwaa: MWAAClient, store: StateStore, environment: str, *, force: bool = False) -> UpdateAttempt:
    """One UpdateEnvironment with every pending artifact version.

    Refuses, retryably, while the burst is still arriving (unless ``force``) and unless the
    environment is AVAILABLE or UPDATE_FAILED.
    """
    if not force:
        reason = burst_in_progress(store, environment)
        if reason:
            raise BurstInProgressError(reason)
    pending = {
        kind: ArtifactVersion.model_validate(item) for kind, item in store.query(_pending_pk(environment)).items()
    }
    if not pending:
        return UpdateAttempt(environment_name=environment, outcome="nothing_pending")
    target = describe_environment(mwaa, environment)
    if target.status not in _UPDATABLE:
        raise EnvironmentBusyError(f"environment {environment} is {target.status}; UpdateEnvironment needs AVAILABLE")
    before = {kind.value: target.artifact(kind) for kind in _PARAMETERS}
    arguments: dict[str, Any] = {"Name": environment}
    for kind, artifact in pending.items():
        path_parameter, version_parameter = _PARAMETERS[ArtifactKind(kind)]
        arguments[path_parameter] = artifact.s3_path
        if artifact.version:
            arguments[version_parameter] = artifact.version
    try:
        mwaa.update_environment(**arguments)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ValidationException":
            # MWAA answers ValidationException both for bad arguments and for an environment that left AVAILABLE
            # since it was described (another update started): its status tells which, not the message text.
            status = describe_environment(mwaa, environment).status
            if status not in _UPDATABLE:
                raise EnvironmentBusyError(f"environment {environment} is {status}; UpdateEnvironment waits") from exc
        raise translate_client_error(exc) from exc
    return UpdateAttempt(
        environment_name=environment,
        outcome="updating",
        applied=pending,
        before={
            kind: ArtifactVersion(s3_path=path or pending[kind].s3_path, version=version)
            for kind, (path, version) in before.items()
            if kind in pending
        },
    )


def _drop_applied(store: StateStore, attempt: UpdateAttempt) -> bool:
    """Forget pending items that this attempt applied; True if newer ones arrived meanwhile."""
    current = {
        k: ArtifactVersion.model_validate(v) for k, v in store.query(_pending_pk(attempt.environment_name)).items()
    }
    more = False
    for kind, artifact in current.items():
        if kind in attempt.applied and attempt.applied[kind].version == artifact.version:
            store.delete(_pending_pk(attempt.environment_name), kind)
        else:
            more = True
    return more


def record_success(store: StateStore, attempt: UpdateAttempt) -> UpdateResult:
    """The update reached AVAILABLE: its versions are the new known-good ones."""
    plugins = attempt.applied.get(ArtifactKind.PLUGINS.value)
    if plugins is not None:
        store.put(f"env#{attempt.environment_name}", "plugins", {"modules": plugins.modules})
    store.put(
        f"env#{attempt.environment_name}",
        "knowngood",
        {k: v.model_dump(mode="json") for k, v in attempt.applied.items()},
    )
    more = _drop_applied(store, attempt)
    applied = ", ".join(f"{k} {v.version}" for k, v in attempt.applied.items())
    return UpdateResult(
        environment_name=attempt.environment_name,
        outcome="succeeded",
        more_pending=more,
        notification=f"{attempt.environment_name} updated: {applied}",
    )


def restore_known_good(s3: S3Client, mwaa: MWAAClient, store: StateStore, attempt: UpdateAttempt) -> UpdateResult:
    """UPDATE_FAILED: put the previous versions back as current objects and report MWAA's error."""
    target = describe_environment(mwaa, attempt.environment_name)
    restored: list[str] = []
    for kind, before in attempt.before.items():
        key = attempt.applied[kind].s3_path
        current = current_version(s3, target.source_bucket, key)
        if current != attempt.applied[kind].version:
            continue  # a newer version was staged since; leave it for the next update
        if before.version:
            s3.copy_object(
                Bucket=target.source_bucket,
                Key=key,
                CopySource={"Bucket": target.source_bucket, "Key": key, "VersionId": before.version},
            )
            restored.append(f"{kind} -> {before.version}")
        else:
            s3.delete_object(Bucket=target.source_bucket, Key=key)
            restored.append(f"{kind} removed (there was none before)")
    more = _drop_applied(store, attempt)
    code = target.last_update_error_code or "UNKNOWN"
    message = target.last_update_error_message or "no error message from MWAA"
    text = (
        f"Updating {attempt.environment_name} failed and MWAA rolled it back: {code}: {message}\n"
        f"Known-good versions restored in the MWAA bucket: {', '.join(restored) or 'nothing to restore'}.\n"
        "Fix the file in the staging bucket and upload it again."
    )
    return UpdateResult(
        environment_name=attempt.environment_name,
        outcome="failed",
        more_pending=more,
        error_code=code,
        error_message=message,
        notification=text,
    )
