"""DAG delivery, step by step: accept the event, sync the validated version, verify it, roll it back.

(Validation is in ``validate_step``, so that only its Lambda loads the validator; requirements.txt,
plugins.zip and startup.sh are staged in ``staging`` and applied by the environment-change flow.)

Every step takes its collaborators (S3 and MWAA clients, the state repository, an Airflow
reader, a clock) as arguments. Ordering is enforced twice: the first step refuses events
older than the newest one seen for the key (S3 ``sequencer``), and the steps that write to
the MWAA bucket re-check under a per-key lock that no newer event has come since, so an
older version can never overwrite a newer one, whatever order executions run in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from mwaa_control_plane.clock import Clock
from mwaa_control_plane.dags.events import Action, ArtifactKind, DeliveryDecision, DeliveryRequest
from mwaa_control_plane.dags.payloads import SyncOutcome, ValidationOutcome, Verification
from mwaa_control_plane.environments.description import HIBERNATED, EnvironmentTarget, describe_environment
from mwaa_control_plane.errors import translate_client_error
from mwaa_control_plane.objects import current_version
from mwaa_control_plane.state import ObjectEvent, StateRepository

if TYPE_CHECKING:
    # Annotations only: the steps that never talk to Airflow do not load its client at cold start.
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client

    from mwaa_control_plane.airflow.reader import AirflowReader

AIRFLOW_DAGS_FOLDER = "/usr/local/airflow/dags"
# MWAA's timings (docs/mwaa-facts.md): S3 -> workers every ~30 s; new files listed every 300 s; changed
# files re-parsed every 30 s; a parse may take up to 50 s (dag_file_processor_timeout).
SYNC_INTERVAL = 30
MIN_FILE_PROCESS_INTERVAL = 30
PARSE_MARGIN = 60
VERIFY_POLL_SECONDS = 30


# ---------------------------------------------------------------------- helpers
def mwaa_key(target: EnvironmentTarget, request: DeliveryRequest) -> str:
    """Where ``request`` lives in the environment's source bucket."""
    if request.kind is ArtifactKind.DAG:
        return f"{target.dag_s3_path}/{request.relative_path}"
    configured, _ = target.artifact(request.kind)
    return configured or request.relative_path


# ---------------------------------------------------------------------- steps
def accept_event(repository: StateRepository, decision: DeliveryDecision) -> DeliveryDecision:
    """Record the event's sequencer for its key; a duplicate or older event becomes a skip.

    A created artifact is announced to the environment-change flow, so a coalesced update waits for it.
    """
    request = decision.request
    if decision.decision != "deliver" or request is None:
        return decision
    event = ObjectEvent(sequencer=request.sequencer, version_id=request.version_id, action=request.action.value)
    if not repository.advance_object_event(request.key, event):
        return decision.model_copy(
            update={"decision": "skip", "reason": "duplicate or older event: a newer one was seen for this key"}
        )
    if request.kind is not ArtifactKind.DAG and request.action is Action.CREATED:
        repository.announce_change(request.environment_name, request.key, request.version_id)
    return decision


def withdraw_announcement(repository: StateRepository, request: DeliveryRequest) -> None:
    """The artifact version was requested, rejected or is gone: it no longer holds the environment update back."""
    repository.withdraw_announcement(request.environment_name, request.key, request.version_id)


def still_latest(repository: StateRepository, request: DeliveryRequest) -> bool:
    return repository.latest_sequencer(request.key) == request.sequencer


def _verification(target: EnvironmentTarget, *, new_file: bool, now: datetime) -> Verification:
    first_wait = SYNC_INTERVAL + (target.dag_dir_list_interval if new_file else MIN_FILE_PROCESS_INTERVAL)
    bound = SYNC_INTERVAL + target.dag_dir_list_interval + PARSE_MARGIN
    return Verification(
        wait_seconds=first_wait,
        deadline=(now + timedelta(seconds=max(bound, first_wait + PARSE_MARGIN))).isoformat(),
        synced_at=now.isoformat(),
    )


def sync_dag_file(
    s3: S3Client, mwaa: MWAAClient, repository: StateRepository, clock: Clock, validated: ValidationOutcome, owner: str
) -> SyncOutcome:
    """Copy exactly the validated version into the environment's DAG folder, unless a newer event came since."""
    request = validated.request
    target = describe_environment(mwaa, request.environment_name, repository=repository)
    destination = mwaa_key(target, request)
    with repository.object_lock(request.key, owner):
        if not still_latest(repository, request):
            return SyncOutcome(request=request, outcome="superseded", mwaa_key=destination)
        previous = current_version(s3, target.source_bucket, destination)
        previous_ids = _dag_ids_of(repository, request)
        try:
            copied = s3.copy_object(
                Bucket=target.source_bucket,
                Key=destination,
                CopySource={
                    "Bucket": request.staging_bucket,
                    "Key": request.key,
                    "VersionId": request.version_id or "",
                },
                MetadataDirective="REPLACE",
                Metadata={"staging-version-id": request.version_id or "", "staging-sequencer": request.sequencer},
            )
        except ClientError as exc:
            raise translate_client_error(exc) from exc
        _reindex(repository, request, previous_ids, validated.dag_ids)
    verification = _verification(target, new_file=previous is None, now=clock.now())
    if request.kind is not ArtifactKind.DAG or not request.relative_path.endswith((".py", ".zip")):
        verification = verification.model_copy(update={"state": "skipped", "detail": "not a DAG file"})
    elif target.status == HIBERNATED:
        # The bucket stays while off-hours keeps the environment deleted: the file is there when it resumes,
        # and the resume's report names every file Airflow then fails to import.
        detail = "the environment is hibernated: Airflow imports the file when it resumes"
        verification = verification.model_copy(update={"state": "deferred", "detail": detail})
    return SyncOutcome(
        request=request,
        outcome="synced",
        mwaa_key=destination,
        mwaa_version_id=copied.get("VersionId"),
        previous_version_id=previous,
        dag_ids=validated.dag_ids,
        previous_dag_ids=previous_ids,
        verification=verification,
    )


def _dag_ids_of(repository: StateRepository, request: DeliveryRequest) -> list[str]:
    index = repository.dag_index(request.environment_name)
    return sorted(d for d, entry in index.items() if entry.path == request.relative_path)


def _reindex(repository: StateRepository, request: DeliveryRequest, old: list[str], new: list[str]) -> None:
    repository.index_dags(request.environment_name, request.relative_path, request.version_id, old=old, new=new)


def propagate_deletion(
    s3: S3Client, mwaa: MWAAClient, repository: StateRepository, request: DeliveryRequest, owner: str
) -> SyncOutcome:
    """Delete the file from the environment's DAG folder (a delete marker: older versions stay for rollback)."""
    target = describe_environment(mwaa, request.environment_name, repository=repository)
    destination = mwaa_key(target, request)
    with repository.object_lock(request.key, owner):
        if not still_latest(repository, request):
            return SyncOutcome(request=request, outcome="superseded", mwaa_key=destination)
        previous = current_version(s3, target.source_bucket, destination)
        try:
            s3.delete_object(Bucket=target.source_bucket, Key=destination)
        except ClientError as exc:
            raise translate_client_error(exc) from exc
        removed = _dag_ids_of(repository, request)
        _reindex(repository, request, removed, [])
    return SyncOutcome(
        request=request,
        outcome="deleted",
        mwaa_key=destination,
        previous_version_id=previous,
        previous_dag_ids=removed,
        notification=f"{destination} deleted from {request.environment_name}" if previous else "",
    )


def _matches(path: str | None, relative: str) -> bool:
    """Is ``path`` (REST: absolute on the workers; CLI < 2.4.3: relative to the DAGs folder) this file?

    Exact matches only: ``team/etl.py`` must never be taken for ``etl.py``.
    """
    return path is not None and path in (f"{AIRFLOW_DAGS_FOLDER}/{relative}", relative)


def verify_dag_file(airflow: AirflowReader, clock: Clock, synced: SyncOutcome) -> SyncOutcome:
    """One verification poll: has Airflow registered the file's DAGs, or reported an import error for it?"""
    verification = synced.verification
    if verification is None or verification.state != "pending":
        return synced
    relative = synced.request.relative_path
    synced_at = datetime.fromisoformat(verification.synced_at)
    errors = [e for e in airflow.list_import_errors() if _matches(e.filename, relative)]
    fresh = [e for e in errors if e.timestamp is None or e.timestamp >= synced_at]
    attempts = verification.attempts + 1
    now = clock.now()
    if fresh:
        state, detail = "import_error", fresh[0].stack_trace[-2000:]
    elif not synced.dag_ids:
        # No DAG known statically (helper module, dynamic generation): the first poll comes after a full
        # parse cycle, so no import error by then is success, and the DAG list is not needed.
        state, detail = "registered", "no import error after a full parse cycle"
    else:
        registered = {d.dag_id for d in airflow.list_dags() if _matches(d.fileloc, relative)}
        expected = set(synced.dag_ids)
        if expected <= registered:
            state, detail = "registered", f"registered: {', '.join(sorted(expected))}"
        elif now >= datetime.fromisoformat(verification.deadline):
            missing = sorted(expected - registered)
            state, detail = "gave_up", f"not registered in time: {', '.join(missing) or 'no DAG seen'}"
        else:
            state, detail = "pending", f"waiting for {', '.join(sorted(expected - registered)) or 'a parse'}"
    return synced.model_copy(
        update={
            "verification": verification.model_copy(
                update={"state": state, "attempts": attempts, "detail": detail, "wait_seconds": VERIFY_POLL_SECONDS}
            )
        }
    )


def roll_back_dag_file(
    s3: S3Client, mwaa: MWAAClient, repository: StateRepository, synced: SyncOutcome, owner: str
) -> SyncOutcome:
    """Restore the version the environment had before (or delete a new file) after an import error."""
    request = synced.request
    target = describe_environment(mwaa, request.environment_name, repository=repository)
    with repository.object_lock(request.key, owner):
        current = current_version(s3, target.source_bucket, synced.mwaa_key)
        try:
            if current != synced.mwaa_version_id:
                note = "a newer version was synced since; nothing rolled back"
            elif synced.previous_version_id:
                s3.copy_object(
                    Bucket=target.source_bucket,
                    Key=synced.mwaa_key,
                    CopySource={
                        "Bucket": target.source_bucket,
                        "Key": synced.mwaa_key,
                        "VersionId": synced.previous_version_id,
                    },
                )
                _reindex(repository, request, synced.dag_ids, synced.previous_dag_ids)
                note = f"restored the previous version {synced.previous_version_id}"
            else:
                s3.delete_object(Bucket=target.source_bucket, Key=synced.mwaa_key)
                _reindex(repository, request, synced.dag_ids, [])
                note = "the file was new, so it was removed again"
        except ClientError as exc:
            raise translate_client_error(exc) from exc
    detail = synced.verification.detail if synced.verification else ""
    message = (
        f"{request.key} (version {request.version_id}) passed validation but Airflow on "
        f"{request.environment_name} failed to import it; {note}.\nImport error:\n{detail}"
    )
    return synced.model_copy(update={"notification": message})
