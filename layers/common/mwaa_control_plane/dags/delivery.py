"""DAG delivery, step by step: accept the event, sync the validated version, verify it, roll it back.

(Validation itself is in ``validate_step``, so that only its Lambda loads the validator.)

Every step takes its collaborators (S3 and MWAA clients, the state store, an Airflow
reader, a clock) as arguments. Ordering is enforced twice: the first step refuses events
older than the newest one seen for the key (S3 ``sequencer``), and the steps that write to
the MWAA bucket re-check under a per-key lock that no newer event has come since, so an
older version can never overwrite a newer one, whatever order executions run in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import ClientError

from mwaa_control_plane.clock import Clock
from mwaa_control_plane.dags.events import Action, ArtifactKind, DeliveryDecision, DeliveryRequest
from mwaa_control_plane.errors import (
    THROTTLING_CODES,
    UNAVAILABLE_CODES,
    NotFoundError,
    ServiceUnavailableError,
    ThrottledError,
)
from mwaa_control_plane.payloads import Payload
from mwaa_control_plane.state import KeyLock, StateStore

if TYPE_CHECKING:
    # Annotations only: the steps that never talk to Airflow do not load its client at cold start.
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client

    from mwaa_control_plane.airflow.reader import AirflowReader

AIRFLOW_DAGS_FOLDER = "/usr/local/airflow/dags"
# MWAA's timings (mwaa-facts.md): S3 -> workers every ~30 s; new files listed every 300 s; changed
# files re-parsed every 30 s; a parse may take up to 50 s (dag_file_processor_timeout).
SYNC_INTERVAL = 30
DAG_DIR_LIST_INTERVAL = 300
MIN_FILE_PROCESS_INTERVAL = 30
PARSE_MARGIN = 60
VERIFY_POLL_SECONDS = 30


class EnvironmentTarget(Payload):
    """Where an environment reads its files from, from GetEnvironment."""

    name: str
    status: str
    airflow_version: str
    source_bucket: str
    dag_s3_path: str
    requirements_s3_path: str | None = None
    requirements_version: str | None = None
    plugins_s3_path: str | None = None
    plugins_version: str | None = None
    startup_s3_path: str | None = None
    startup_version: str | None = None
    dag_dir_list_interval: int = DAG_DIR_LIST_INTERVAL
    last_update_error_code: str | None = None
    last_update_error_message: str | None = None

    def artifact(self, kind: ArtifactKind) -> tuple[str | None, str | None]:
        """S3 path and object version the environment runs for requirements.txt, plugins.zip or startup.sh."""
        return {
            ArtifactKind.REQUIREMENTS: (self.requirements_s3_path, self.requirements_version),
            ArtifactKind.PLUGINS: (self.plugins_s3_path, self.plugins_version),
            ArtifactKind.STARTUP: (self.startup_s3_path, self.startup_version),
        }[kind]


class ValidationOutcome(Payload):
    request: DeliveryRequest
    verdict: Literal["pass", "fail", "gone"]
    report_key: str | None = None
    dag_ids: list[str] = []
    modules: list[str] = []  # plugins.zip: the modules it makes importable
    errors: int = 0
    warnings: int = 0
    notification: str = ""


class Verification(Payload):
    state: Literal["pending", "registered", "import_error", "gave_up", "skipped"] = "pending"
    wait_seconds: int
    deadline: str
    synced_at: str
    attempts: int = 0
    detail: str = ""


class SyncOutcome(Payload):
    request: DeliveryRequest
    outcome: Literal["synced", "superseded", "deleted"]
    mwaa_key: str
    mwaa_version_id: str | None = None
    previous_version_id: str | None = None
    dag_ids: list[str] = []
    previous_dag_ids: list[str] = []
    verification: Verification | None = None
    notification: str = ""


# ---------------------------------------------------------------------- helpers
def translate_client_error(exc: ClientError) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in THROTTLING_CODES:
        return ThrottledError(f"{code}: {exc}")
    if code in UNAVAILABLE_CODES:
        return ServiceUnavailableError(f"{code}: {exc}")
    if code == "ResourceNotFoundException":
        return NotFoundError(str(exc.response.get("Error", {}).get("Message", exc)))
    return exc


def object_pk(request: DeliveryRequest) -> str:
    return f"object#{request.key}"


def describe_environment(mwaa: MWAAClient, name: str) -> EnvironmentTarget:
    """GetEnvironment, reduced to what delivery needs. Raises NotFoundError for an unknown environment."""
    try:
        env = mwaa.get_environment(Name=name)["Environment"]
    except ClientError as exc:
        raise translate_client_error(exc) from exc
    options = env.get("AirflowConfigurationOptions") or {}
    listed = options.get("scheduler.dag_dir_list_interval") or options.get("dag_processor.refresh_interval")
    error = env.get("LastUpdate", {}).get("Error", {})
    return EnvironmentTarget(
        name=name,
        status=env.get("Status", "UNKNOWN"),
        airflow_version=env.get("AirflowVersion", "2.10.3"),
        source_bucket=env["SourceBucketArn"].split(":::")[-1],
        dag_s3_path=env.get("DagS3Path", "dags").strip("/"),
        requirements_s3_path=env.get("RequirementsS3Path"),
        requirements_version=env.get("RequirementsS3ObjectVersion"),
        plugins_s3_path=env.get("PluginsS3Path"),
        plugins_version=env.get("PluginsS3ObjectVersion"),
        startup_s3_path=env.get("StartupScriptS3Path"),
        startup_version=env.get("StartupScriptS3ObjectVersion"),
        dag_dir_list_interval=int(str(listed)) if str(listed or "").isdigit() else DAG_DIR_LIST_INTERVAL,
        last_update_error_code=error.get("ErrorCode"),
        last_update_error_message=error.get("ErrorMessage"),
    )


def mwaa_key(target: EnvironmentTarget, request: DeliveryRequest) -> str:
    """Where ``request`` lives in the environment's source bucket."""
    if request.kind is ArtifactKind.DAG:
        return f"{target.dag_s3_path}/{request.relative_path}"
    configured, _ = target.artifact(request.kind)
    return configured or request.relative_path


def dag_index(store: StateStore, environment: str) -> dict[str, str]:
    """dag_id -> relative path of the file that owns it, for ``environment``."""
    return {dag_id: str(item["path"]) for dag_id, item in store.query(f"dagindex#{environment}").items()}


# ---------------------------------------------------------------------- steps
# An update waits until no event came for this long, and no artifact is still being validated.
QUIET_SECONDS = 60
IN_FLIGHT_SECONDS = 15 * 60


def accept_event(store: StateStore, decision: DeliveryDecision) -> DeliveryDecision:
    """Record the event's sequencer for its key; a duplicate or older event becomes a skip.

    Also notes the environment's last activity and, for artifacts, that one is in flight, so a
    coalesced environment update waits for the whole burst (see ``environment_update``).
    """
    request = decision.request
    if decision.decision != "deliver" or request is None:
        return decision
    advanced = store.advance_sequencer(
        object_pk(request),
        "latest",
        request.sequencer,
        {"version_id": request.version_id, "action": request.action.value},
    )
    if not advanced:
        return decision.model_copy(
            update={"decision": "skip", "reason": "duplicate or older event: a newer one was seen for this key"}
        )
    now = store.clock.now().isoformat()
    store.put(f"env#{request.environment_name}", "activity", {"last_event_at": now})
    if request.kind is not ArtifactKind.DAG and request.action is Action.CREATED:
        store.put(
            f"inflight#{request.environment_name}",
            request.key,
            {"version_id": request.version_id, "since": now},
            ttl_seconds=IN_FLIGHT_SECONDS,
        )
    return decision


def clear_in_flight(store: StateStore, request: DeliveryRequest) -> None:
    """The artifact version is staged, rejected or gone: it no longer holds the environment update back."""
    item = store.get(f"inflight#{request.environment_name}", request.key)
    if item is not None and item.get("version_id") == request.version_id:
        store.delete(f"inflight#{request.environment_name}", request.key)


def still_latest(store: StateStore, request: DeliveryRequest) -> bool:
    return store.sequencer(object_pk(request), "latest") == request.sequencer


def current_version(s3: S3Client, bucket: str, key: str) -> str | None:
    try:
        return s3.head_object(Bucket=bucket, Key=key).get("VersionId")
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise translate_client_error(exc) from exc


def _verification(target: EnvironmentTarget, *, new_file: bool, now: datetime) -> Verification:
    first_wait = SYNC_INTERVAL + (target.dag_dir_list_interval if new_file else MIN_FILE_PROCESS_INTERVAL)
    bound = SYNC_INTERVAL + target.dag_dir_list_interval + PARSE_MARGIN
    return Verification(
        wait_seconds=first_wait,
        deadline=(now + timedelta(seconds=max(bound, first_wait + PARSE_MARGIN))).isoformat(),
        synced_at=now.isoformat(),
    )


def sync_dag_file(
    s3: S3Client, mwaa: MWAAClient, store: StateStore, clock: Clock, validated: ValidationOutcome, owner: str
) -> SyncOutcome:
    """Copy exactly the validated version into the environment's DAG folder, unless a newer event came since."""
    request = validated.request
    target = describe_environment(mwaa, request.environment_name)
    destination = mwaa_key(target, request)
    with KeyLock(store, object_pk(request), owner):
        if not still_latest(store, request):
            return SyncOutcome(request=request, outcome="superseded", mwaa_key=destination)
        previous = current_version(s3, target.source_bucket, destination)
        index = dag_index(store, request.environment_name)
        previous_ids = sorted(d for d, path in index.items() if path == request.relative_path)
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
        _reindex(store, request, previous_ids, validated.dag_ids)
    verification = _verification(target, new_file=previous is None, now=clock.now())
    if request.kind is not ArtifactKind.DAG or not request.relative_path.endswith((".py", ".zip")):
        verification = verification.model_copy(update={"state": "skipped", "detail": "not a DAG file"})
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


def _reindex(store: StateStore, request: DeliveryRequest, old: list[str], new: list[str]) -> None:
    pk = f"dagindex#{request.environment_name}"
    for dag_id in set(old) - set(new):
        store.delete(pk, dag_id)
    for dag_id in new:
        store.put(pk, dag_id, {"path": request.relative_path, "version_id": request.version_id})


def propagate_deletion(
    s3: S3Client, mwaa: MWAAClient, store: StateStore, request: DeliveryRequest, owner: str
) -> SyncOutcome:
    """Delete the file from the environment's DAG folder (a delete marker: older versions stay for rollback)."""
    target = describe_environment(mwaa, request.environment_name)
    destination = mwaa_key(target, request)
    with KeyLock(store, object_pk(request), owner):
        if not still_latest(store, request):
            return SyncOutcome(request=request, outcome="superseded", mwaa_key=destination)
        previous = current_version(s3, target.source_bucket, destination)
        try:
            s3.delete_object(Bucket=target.source_bucket, Key=destination)
        except ClientError as exc:
            raise translate_client_error(exc) from exc
        index = dag_index(store, request.environment_name)
        removed = sorted(d for d, path in index.items() if path == request.relative_path)
        _reindex(store, request, removed, [])
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
    s3: S3Client, mwaa: MWAAClient, store: StateStore, synced: SyncOutcome, owner: str
) -> SyncOutcome:
    """Restore the version the environment had before (or delete a new file) after an import error."""
    request = synced.request
    target = describe_environment(mwaa, request.environment_name)
    with KeyLock(store, object_pk(request), owner):
        current = current_version(s3, target.source_bucket, synced.mwaa_key)
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
            _reindex(store, request, synced.dag_ids, synced.previous_dag_ids)
            note = f"restored the previous version {synced.previous_version_id}"
        else:
            s3.delete_object(Bucket=target.source_bucket, Key=synced.mwaa_key)
            _reindex(store, request, synced.dag_ids, [])
            note = "the file was new, so it was removed again"
    detail = synced.verification.detail if synced.verification else ""
    message = (
        f"{request.key} (version {request.version_id}) passed validation but Airflow on "
        f"{request.environment_name} failed to import it; {note}.\nImport error:\n{detail}"
    )
    return synced.model_copy(update={"notification": message})
