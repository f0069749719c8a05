"""The one door for environment changes: record, lock, settle, apply once, then record or restore.

MWAA accepts one update at a time, only from AVAILABLE (or UPDATE_FAILED), and an update takes
10-30 minutes and may roll back. Every flow that changes an environment therefore starts the
``environment-change`` state machine with a :class:`ChangeRequest`; it is the only code that calls
UpdateEnvironment. Requests are recorded as pending; the execution that holds the environment's
lock applies every pending request in one UpdateEnvironment (a later request for the same field
supersedes an earlier one, and the earlier requester is told). Executions whose request another
execution already applied end as soon as they get the lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError
from pydantic import computed_field

from mwaa_control_plane.environments.change_records import (
    ChangeRecord,
    FieldChange,
    RequestOutcome,
    StoredRequest,
    Supersession,
)
from mwaa_control_plane.environments.change_request import (
    ARTIFACT_KINDS,
    ArtifactVersion,
    ChangeRequest,
    RequestedBy,
    fingerprint,
)
from mwaa_control_plane.environments.description import get_environment
from mwaa_control_plane.environments.limits import capacity_of, looks_redacted, refusals
from mwaa_control_plane.errors import (
    ChangeRefusedError,
    EnvironmentBusyError,
    EnvironmentStateError,
    NotFoundError,
    translate_client_error,
)
from mwaa_control_plane.objects import current_version
from mwaa_control_plane.payloads import Payload
from mwaa_control_plane.state import RecordKey, StateRepository

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client

    from mwaa_control_plane.environments.offhours.records import OffHoursRecord
    from mwaa_control_plane.environments.offhours.snapshot import SnapshotStore

FLOW = "environment-change"
UPDATABLE = ("AVAILABLE", "UPDATE_FAILED")
# States an environment leaves by itself: wait for them. Any other state (DELETED, CREATE_FAILED, ...) is final.
TRANSIENT = ("UPDATING", "CREATING", "CREATING_SNAPSHOT", "ROLLING_BACK", "PENDING", "MAINTENANCE", "UNAVAILABLE")
# The lock outlives a settle (<= 1 h) and a busy environment (<= 1 h); the apply step renews it for the update
# itself (retries for a busy environment <= 30 min, polls <= 90 min), so the lease never runs out mid-update.
LOCK_LEASE_SECONDS = 4 * 3600
SETTLE_LIMIT_SECONDS = 3600
BUSY_LIMIT_SECONDS = 3600
RESOLVED_TTL_SECONDS = 30 * 86400
_API_NAMES = {
    "environment_class": "EnvironmentClass",
    "min_workers": "MinWorkers",
    "max_workers": "MaxWorkers",
    "schedulers": "Schedulers",
    "min_webservers": "MinWebservers",
    "max_webservers": "MaxWebservers",
}
_ARTIFACT_API = {
    "requirements": ("RequirementsS3Path", "RequirementsS3ObjectVersion"),
    "plugins": ("PluginsS3Path", "PluginsS3ObjectVersion"),
    "startup": ("StartupScriptS3Path", "StartupScriptS3ObjectVersion"),
}
_OPTION = "airflow_configuration_options."


class RecordedRequest(Payload):
    request_id: str
    environment_name: str
    lock: RecordKey


class Readiness(Payload):
    state: Literal["ready", "wait", "resolved", "hibernated"]
    wait_seconds: int = 0
    reason: str = ""
    outcome: RequestOutcome | None = None


_SUBJECTS = {
    "succeeded": "MWAA control plane: environment updated",
    "failed": "MWAA control plane: environment update failed",
    "timed_out": "MWAA control plane: environment update still running",
}


class ChangeResult(Payload):
    environment_name: str
    status: Literal["succeeded", "failed", "timed_out"]
    notification: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def subject(self) -> str:
        return _SUBJECTS[self.status]


# ---------------------------------------------------------------------- helpers
def _refuse_if_needed(request_fields: dict[str, Any], environment: dict[str, Any], quota: int) -> None:
    problems = refusals(request_fields, capacity_of(environment), max_workers_quota=quota)
    if problems:
        raise ChangeRefusedError(f"{environment.get('Name', 'the environment')}: " + "; ".join(problems))


def _fixed_fields(request: ChangeRequest) -> dict[str, Any]:
    return {
        "subnet_ids": request.subnet_ids,
        "kms_key": request.kms_key,
        "endpoint_management": request.endpoint_management,
    }


def _release_announcement(repository: StateRepository, request: ChangeRequest) -> None:
    if request.fulfils is not None:
        repository.withdraw_announcement(request.environment_name, request.fulfils.source, request.fulfils.version_id)


def hibernation_of(repository: StateRepository, environment_name: str) -> OffHoursRecord | None:
    """The off-hours record of an environment that is hibernated (deleted, its snapshot kept), else None."""
    record = repository.off_hours_record(environment_name)
    return record if record is not None and record.state == "hibernated" and record.snapshot is not None else None


def _non_artifact_fields(request: ChangeRequest) -> list[str]:
    fields = {**request.requested_fields(), **{k: v for k, v in _fixed_fields(request).items() if v is not None}}
    return sorted(name for name in fields if name not in ARTIFACT_KINDS)


def _refuse_unless_artifacts_of_hibernated(repository: StateRepository, request: ChangeRequest) -> None:
    """An unknown environment stays NotFoundError; a hibernated one takes requirements, plugins and startup only."""
    record = hibernation_of(repository, request.environment_name)
    if record is None:
        raise NotFoundError(f"environment {request.environment_name} does not exist")
    others = _non_artifact_fields(request)
    if others:
        raise ChangeRefusedError(
            f"{request.environment_name} is hibernated (since {record.since:%Y-%m-%d %H:%M} UTC): only requirements,"
            f" plugins and startup changes are kept for its resume; ask for {', '.join(others)} once it is awake"
        )


# ---------------------------------------------------------------------- steps
def record_request(
    mwaa: MWAAClient, repository: StateRepository, request: ChangeRequest, request_id: str, *, max_workers_quota: int
) -> RecordedRequest:
    """Refuse what MWAA would refuse, then record ``request`` as pending for its environment."""
    try:
        try:
            environment = get_environment(mwaa, request.environment_name)
        except NotFoundError:
            _refuse_unless_artifacts_of_hibernated(repository, request)
        else:
            _refuse_if_needed({**request.requested_fields(), **_fixed_fields(request)}, environment, max_workers_quota)
        if not request.requested_fields():
            raise ChangeRefusedError("the request changes nothing: name at least one field to change")
    except (ChangeRefusedError, NotFoundError):
        _release_announcement(repository, request)  # a refused request must not hold the environment's updates back
        raise
    repository.add_change_request(request_id, request)
    # Only now: until the request is recorded, the announcement keeps a lock holder from applying without it.
    _release_announcement(repository, request)
    return RecordedRequest(
        request_id=request_id,
        environment_name=request.environment_name,
        lock=repository.environment_lock_key(request.environment_name),
    )


def prepare(
    mwaa: MWAAClient, repository: StateRepository, environment_name: str, request_id: str, waiting_since: datetime
) -> Readiness:
    """May the lock holder apply now? Wait for a settled burst, announced changes and AVAILABLE, all bounded."""
    own = repository.change_request(environment_name, request_id)
    if own is not None and own.outcome is not None:
        return Readiness(state="resolved", reason=own.outcome.detail, outcome=own.outcome)
    now = repository.clock.now()
    waited = (now - waiting_since).total_seconds()
    pending = repository.change_requests(environment_name)
    if pending:
        settle = max(r.request.settle_seconds for r in pending)
        quiet = (now - max(r.requested_at for r in pending)).total_seconds()
        if quiet < settle and waited < SETTLE_LIMIT_SECONDS:
            return Readiness(state="wait", wait_seconds=int(settle - quiet) + 1, reason="letting the requests settle")
    announced = repository.announcements(environment_name)
    if announced and waited < SETTLE_LIMIT_SECONDS:
        sources = ", ".join(a.source for a in announced)
        return Readiness(state="wait", wait_seconds=30, reason=f"waiting for announced changes: {sources}")
    try:
        status = get_environment(mwaa, environment_name).get("Status", "UNKNOWN")
    except NotFoundError:
        if hibernation_of(repository, environment_name) is None:
            raise
        return Readiness(state="hibernated", reason=f"{environment_name} is hibernated: its snapshot takes the change")
    if status in UPDATABLE:
        return Readiness(state="ready", reason=f"{environment_name} is {status}")
    if status not in TRANSIENT:
        raise EnvironmentStateError(f"environment {environment_name} is {status}; it cannot be updated")
    if waited >= BUSY_LIMIT_SECONDS + SETTLE_LIMIT_SECONDS:
        raise EnvironmentBusyError(
            f"environment {environment_name} stayed {status} for {int(waited // 60)} minutes; "
            "the change was not applied"
        )
    return Readiness(state="wait", wait_seconds=60, reason=f"{environment_name} is {status}")


def _merge(pending: list[StoredRequest]) -> tuple[dict[str, Any], list[Supersession]]:
    """Field -> value with the latest request winning, and who was superseded by whom."""
    merged: dict[str, Any] = {}
    source: dict[str, str] = {}
    for stored in pending:
        for name, value in stored.request.requested_fields().items():
            merged[name] = value
            source[name] = stored.request_id
    superseded = []
    for stored in pending:
        lost = sorted(n for n in stored.request.requested_fields() if source[n] != stored.request_id)
        if lost:
            by = sorted({source[n] for n in lost})
            superseded.append(
                Supersession(request_id=stored.request_id, requested_by=stored.request.requested_by, fields=lost, by=by)
            )
    return merged, superseded


def _artifact_now(environment: dict[str, Any], kind: str) -> ArtifactVersion | None:
    path_name, version_name = _ARTIFACT_API[kind]
    path = environment.get(path_name)
    return ArtifactVersion(s3_path=path, version=environment.get(version_name) or None) if path else None


def apply(
    mwaa: MWAAClient,
    repository: StateRepository,
    environment_name: str,
    change_id: str,
    *,
    owner: str,
    max_workers_quota: int,
) -> ChangeRecord:
    """One UpdateEnvironment with every pending request merged; only fields that differ from now are sent.

    First renews the environment lock for ``owner``: its lease then covers the whole update, and if the
    lock is no longer this execution's (EnvironmentLockedError), nothing is sent to MWAA.
    """
    repository.acquire_environment_lock(
        environment_name,
        owner=owner,
        flow=FLOW,
        purpose="apply pending change requests",
        lease_seconds=LOCK_LEASE_SECONDS,
    )
    clock = repository.clock
    pending = repository.change_requests(environment_name)
    record = ChangeRecord(
        change_id=change_id, environment_name=environment_name, status="updating", started_at=clock.now()
    )
    if not pending:
        return record.model_copy(update={"status": "nothing_pending", "detail": "no pending request"})
    record = record.model_copy(
        update={
            "request_ids": [r.request_id for r in pending],
            "requested_by": [r.request.requested_by for r in pending],
            "reasons": [r.request.reason for r in pending],
        }
    )
    merged, superseded = _merge(pending)
    record = record.model_copy(update={"superseded": superseded})
    environment = get_environment(mwaa, environment_name)
    adopted = _started_by_an_earlier_attempt(repository, environment, change_id)
    if adopted is not None:
        return adopted
    status = environment.get("Status", "UNKNOWN")
    if status not in UPDATABLE:
        raise EnvironmentBusyError(f"environment {environment_name} is {status}; UpdateEnvironment needs AVAILABLE")
    try:
        _refuse_if_needed(
            {k: v for k, v in merged.items() if not k.startswith(_OPTION)}, environment, max_workers_quota
        )
        arguments, changes, before, after = _update_arguments(environment, merged)
    except ChangeRefusedError as exc:
        return _resolve(repository, record.model_copy(update={"status": "refused", "detail": str(exc)}), pending)
    if not changes:
        detail = "every requested value is already in effect"
        return _resolve(repository, record.model_copy(update={"status": "unchanged", "detail": detail}), pending)
    strategies = [r.request.worker_replacement_strategy for r in pending if r.request.worker_replacement_strategy]
    if strategies:
        arguments["WorkerReplacementStrategy"] = strategies[-1]
    # Only artifacts this update changes can be put back; one the environment already ran was never touched.
    restore = sorted({k for r in pending if r.request.restore_on_failure for k in after if getattr(r.request, k)})
    record = record.model_copy(
        update={"changes": changes, "artifacts_before": before, "artifacts_after": after, "restore_on_failure": restore}
    )
    # Written before the call: if MWAA accepts the update but this attempt dies before it can say so (a timeout,
    # a crash), the retry finds this intent and adopts the update instead of sending a second one.
    repository.record_change(record)
    try:
        mwaa.update_environment(Name=environment_name, **arguments)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationException":
            # ValidationException means bad arguments or an environment that left AVAILABLE since it was
            # described (another update started): its status tells which, never the message text.
            now_status = get_environment(mwaa, environment_name).get("Status", "UNKNOWN")
            if now_status not in UPDATABLE:
                repository.record_change(record.model_copy(update={"status": "not_sent", "detail": now_status}))
                raise EnvironmentBusyError(f"environment {environment_name} is {now_status}; the change waits") from exc
            message = exc.response.get("Error", {}).get("Message", "")
            refused = record.model_copy(update={"status": "refused", "detail": f"MWAA refused the change: {message}"})
            return _resolve(repository, refused, pending)
        raise translate_client_error(exc) from exc
    return record


def _started_by_an_earlier_attempt(
    repository: StateRepository, environment: dict[str, Any], change_id: str
) -> ChangeRecord | None:
    """The update an earlier attempt of this step sent, when MWAA's last update began after its intent."""
    # Only this execution's own attempts can be adopted, and they all began within the lock's lease.
    recent = repository.change_history(
        str(environment.get("Name") or ""), since=repository.clock.now() - timedelta(seconds=LOCK_LEASE_SECONDS)
    )
    intents = [r for r in recent if r.change_id == change_id and r.status == "updating"]
    began = environment.get("LastUpdate", {}).get("CreatedAt")
    if not intents or not isinstance(began, datetime):
        return None
    intent = intents[-1]
    # The intent is written only after the environment was seen AVAILABLE, so an update that began after it
    # (allowing a second of clock skew) is the one this change sent.
    return intent if began >= intent.started_at - timedelta(seconds=1) else None


def apply_to_snapshot(
    repository: StateRepository, store: SnapshotStore, environment_name: str, change_id: str, *, owner: str
) -> ChangeResult:
    """Pin the pending requirements/plugins/startup versions in a hibernated environment's snapshot.

    The resume creates the environment from the snapshot, so it comes back with them. Requests that
    touch anything else (recorded before the environment was hibernated) are refused with the reason.
    """
    repository.acquire_environment_lock(
        environment_name,
        owner=owner,
        flow=FLOW,
        purpose="pin artifacts in the snapshot",
        lease_seconds=LOCK_LEASE_SECONDS,
    )
    hibernated = hibernation_of(repository, environment_name)
    if hibernated is None or hibernated.snapshot is None:
        raise EnvironmentStateError(f"environment {environment_name} is not hibernated; its snapshot cannot be changed")
    now = repository.clock.now()
    pending = repository.change_requests(environment_name)
    record = ChangeRecord(change_id=change_id, environment_name=environment_name, status="updating", started_at=now)
    lines: list[str] = []
    others = [r for r in pending if _non_artifact_fields(r.request)]
    if others:
        refused = record.model_copy(
            update={
                "status": "refused",
                "request_ids": [r.request_id for r in others],
                "requested_by": [r.request.requested_by for r in others],
                "reasons": [r.request.reason for r in others],
                "detail": f"{environment_name} was hibernated before the change could be applied; ask again once it"
                " is awake (only requirements, plugins and startup changes are kept while hibernated)",
            }
        )
        _resolve(repository, refused, others)
        lines.append(f"Refused for the hibernated environment: {refused.detail}. Requested by {_requesters(refused)}.")
    artifacts = [r for r in pending if r not in others]
    if not artifacts:
        return ChangeResult(environment_name=environment_name, status="failed", notification="\n".join(lines))
    merged, superseded = _merge(artifacts)
    snapshot = store.verify(hibernated.snapshot)
    changes, before, after = _artifact_changes(snapshot.create_arguments, merged)
    record = record.model_copy(
        update={
            "request_ids": [r.request_id for r in artifacts],
            "requested_by": [r.request.requested_by for r in artifacts],
            "reasons": [r.request.reason for r in artifacts],
            "superseded": superseded,
            "changes": changes,
            "artifacts_before": before,
            "artifacts_after": after,
        }
    )
    if not changes:
        _resolve(
            repository,
            record.model_copy(update={"status": "unchanged", "detail": "already in the snapshot"}),
            artifacts,
        )
        lines.append(f"{environment_name} (hibernated): every requested version is already in its snapshot.")
        return ChangeResult(environment_name=environment_name, status="succeeded", notification="\n".join(lines))
    pinned = store.update_artifacts(hibernated.snapshot, after)  # type: ignore[arg-type]  # keys are ArtifactKind
    target = hibernated.target
    if target is not None:
        target = target.model_copy(
            update={
                f"{kind}_{part}": getattr(version, attr)
                for kind, version in after.items()
                for part, attr in (("s3_path", "s3_path"), ("version", "version"))
            }
        )
    repository.put_off_hours_record(hibernated.model_copy(update={"snapshot": pinned, "target": target}))
    finished = _resolve(
        repository,
        record.model_copy(
            update={"status": "succeeded", "detail": "pinned in the snapshot of the hibernated environment"}
        ),
        artifacts,
    )
    # Not known-good yet: the environment has not run them. The validator checks DAGs against the new plugins.
    plugins = after.get("plugins")
    if plugins is not None:
        repository.set_plugin_modules(environment_name, plugins.modules)
    lines.insert(
        0,
        f"{environment_name} is hibernated: {_changes_text(finished)} pinned in its snapshot ({change_id});"
        " the environment comes back with them when it resumes.",
    )
    lines.append(f"Requested by {_requesters(finished)}.")
    return ChangeResult(
        environment_name=environment_name,
        status="succeeded",
        notification="\n".join(lines + _superseded_lines(finished)),
    )


def _artifact_changes(
    environment: dict[str, Any], merged: dict[str, Any]
) -> tuple[list[FieldChange], dict[str, ArtifactVersion], dict[str, ArtifactVersion]]:
    """The requested artifacts that differ from what ``environment`` (GetEnvironment or CreateEnvironment
    arguments: same field names) runs, with before/after for the record."""
    changes: list[FieldChange] = []
    before: dict[str, ArtifactVersion] = {}
    after: dict[str, ArtifactVersion] = {}
    for kind in ARTIFACT_KINDS:
        wanted: ArtifactVersion | None = merged.get(kind)
        if wanted is None:
            continue
        running = _artifact_now(environment, kind)
        if running is not None and (running.s3_path, running.version) == (wanted.s3_path, wanted.version):
            continue
        if running is not None:
            before[kind] = running
        after[kind] = wanted
        changes.append(
            FieldChange(
                field=kind,
                before=running.model_dump(exclude={"modules"}) if running else None,
                after=wanted.model_dump(exclude={"modules"}),
            )
        )
    return changes, before, after


def _update_arguments(
    environment: dict[str, Any], merged: dict[str, Any]
) -> tuple[dict[str, Any], list[FieldChange], dict[str, ArtifactVersion], dict[str, ArtifactVersion]]:
    """UpdateEnvironment's arguments for the fields that differ, with before/after for the record."""
    arguments: dict[str, Any] = {}
    changes: list[FieldChange] = []
    capacity = capacity_of(environment)
    for name, api_name in _API_NAMES.items():
        if name in merged and merged[name] != capacity[name]:
            arguments[api_name] = merged[name]
            changes.append(FieldChange(field=name, before=capacity[name], after=merged[name]))
    artifact_changes, before, after = _artifact_changes(environment, merged)
    for kind, wanted in after.items():
        path_name, version_name = _ARTIFACT_API[kind]
        arguments[path_name] = wanted.s3_path
        if wanted.version:
            arguments[version_name] = wanted.version
    changes.extend(artifact_changes)
    options = {k[len(_OPTION) :]: v for k, v in merged.items() if k.startswith(_OPTION)}
    if options:
        current: dict[str, str] = dict(environment.get("AirflowConfigurationOptions") or {})
        masked = sorted(k for k, v in current.items() if looks_redacted(v))
        if masked:
            # UpdateEnvironment replaces the whole map: writing a masked value back would destroy the real one.
            raise ChangeRefusedError(
                "GetEnvironment returned masked values for "
                + ", ".join(masked)
                + "; configuration options cannot be changed safely"
            )
        wanted_options = dict(current)
        for key, value in options.items():
            if value is None:
                wanted_options.pop(key, None)
            else:
                wanted_options[key] = value
        option_changes = [
            FieldChange(field=f"{_OPTION}{key}", before=fingerprint(current.get(key)), after=fingerprint(value))
            for key, value in sorted(options.items())
            if current.get(key) != value
        ]
        if option_changes:
            arguments["AirflowConfigurationOptions"] = wanted_options
            changes.extend(option_changes)
    return arguments, changes, before, after


def _resolve(repository: StateRepository, record: ChangeRecord, pending: list[StoredRequest]) -> ChangeRecord:
    """Give every request of ``record`` its outcome and keep the record in the history."""
    finished = record.model_copy(update={"finished_at": repository.clock.now()})
    superseded = {s.request_id: s for s in finished.superseded}
    status = {
        "succeeded": "applied",
        "unchanged": "unchanged",
        "refused": "refused",
        "failed": "failed",
        "timed_out": "failed",
    }.get(finished.status, "failed")
    for stored in pending:
        if stored.request_id not in finished.request_ids:
            continue
        lost = superseded.get(stored.request_id)
        own_fields = set(stored.request.requested_fields())
        fully_superseded = lost is not None and own_fields <= set(lost.fields)
        outcome = RequestOutcome(
            status="superseded" if fully_superseded and status == "applied" else status,
            change_id=finished.change_id,
            detail=finished.detail or f"change {finished.change_id} {finished.status}",
            superseded_fields=lost.fields if lost else [],
            superseded_by=lost.by if lost else [],
        )
        repository.resolve_change_request(stored, outcome, ttl_seconds=RESOLVED_TTL_SECONDS)
    repository.record_change(finished)
    return finished


def _pending_of(repository: StateRepository, record: ChangeRecord) -> list[StoredRequest]:
    return [r for r in repository.change_requests(record.environment_name) if r.request_id in record.request_ids]


def _who(requested_by: RequestedBy) -> str:
    return f"{requested_by.flow} ({requested_by.execution})" if requested_by.execution else requested_by.flow


def _requesters(record: ChangeRecord) -> str:
    return "; ".join(f"{_who(r)}: {reason}" for r, reason in zip(record.requested_by, record.reasons, strict=False))


def _superseded_lines(record: ChangeRecord) -> list[str]:
    return [
        f"Request {s.request_id} from {_who(s.requested_by)} was superseded "
        f"for {', '.join(s.fields)} by the later request {', '.join(s.by)}."
        for s in record.superseded
    ]


def _changes_text(record: ChangeRecord) -> str:
    return ", ".join(f"{c.field}: {c.before} -> {c.after}" for c in record.changes) or "nothing"


def record_success(repository: StateRepository, record: ChangeRecord) -> ChangeResult:
    """The update reached AVAILABLE: its artifact versions become the known-good ones; requesters are told."""
    name = record.environment_name
    if record.artifacts_after:
        known = repository.known_good(name)
        repository.set_known_good(
            name, known.model_copy(update={"artifacts": {**known.artifacts, **record.artifacts_after}})
        )
        plugins = record.artifacts_after.get("plugins")
        if plugins is not None:
            repository.set_plugin_modules(name, plugins.modules)
    finished = _resolve(repository, record.model_copy(update={"status": "succeeded"}), _pending_of(repository, record))
    lines = [
        f"{name} was updated ({finished.change_id}): {_changes_text(finished)}.",
        f"Requested by {_requesters(finished)}.",
    ]
    return ChangeResult(
        environment_name=name, status="succeeded", notification="\n".join(lines + _superseded_lines(finished))
    )


def restore_after_failure(
    s3: S3Client, mwaa: MWAAClient, repository: StateRepository, record: ChangeRecord, *, timed_out: bool = False
) -> ChangeResult:
    """UPDATE_FAILED (MWAA rolled back) or no end in sight: put the previous artifact versions back, report why."""
    name = record.environment_name
    environment = get_environment(mwaa, name)
    bucket = str(environment["SourceBucketArn"]).split(":::")[-1]
    restored: list[str] = []
    if not timed_out:
        for kind in record.restore_on_failure:
            restored.append(_restore_artifact(s3, bucket, kind, record))
    error = environment.get("LastUpdate", {}).get("Error", {})
    code = error.get("ErrorCode") or ("TIMED_OUT" if timed_out else "UNKNOWN")
    message = error.get("ErrorMessage") or (
        f"still {environment.get('Status')} after 90 minutes" if timed_out else "no error message from MWAA"
    )
    failed = record.model_copy(
        update={
            "status": "timed_out" if timed_out else "failed",
            "error_code": code,
            "error_message": message,
            "detail": f"{code}: {message}",
        }
    )
    finished = _resolve(repository, failed, _pending_of(repository, record))
    if timed_out:
        head = (
            f"Updating {name} did not finish in 90 minutes ({finished.change_id}); the control plane stopped watching."
        )
    else:
        head = f"Updating {name} failed and MWAA rolled it back ({finished.change_id}): {code}: {message}"
    lines = [
        head,
        f"Requested: {_changes_text(finished)}.",
        f"Requested by {_requesters(finished)}.",
        f"Restored in the source bucket: {', '.join(restored) or 'nothing to restore'}.",
    ]
    return ChangeResult(
        environment_name=name,
        status="timed_out" if timed_out else "failed",
        notification="\n".join(lines + _superseded_lines(finished)),
    )


def _restore_artifact(s3: S3Client, bucket: str, kind: str, record: ChangeRecord) -> str:
    applied = record.artifacts_after[kind]
    previous = record.artifacts_before.get(kind)
    if current_version(s3, bucket, applied.s3_path) != applied.version:
        return f"{kind} left as is (a newer version was staged since)"
    if previous is not None and not previous.version:
        return f"{kind} left as is (the environment ran it without a pinned object version)"
    if previous is not None and previous.s3_path != applied.s3_path:
        return f"{kind} left as is (the environment ran it from {previous.s3_path})"
    try:
        if previous is None:
            s3.delete_object(Bucket=bucket, Key=applied.s3_path)
            return f"{kind} removed (there was none before)"
        s3.copy_object(
            Bucket=bucket,
            Key=applied.s3_path,
            CopySource={"Bucket": bucket, "Key": applied.s3_path, "VersionId": previous.version or ""},
        )
    except ClientError as exc:
        raise translate_client_error(exc) from exc
    return f"{kind} -> {previous.version}"


def withdraw_request(
    repository: StateRepository, environment_name: str, request_id: str, change_id: str, reason: str
) -> RequestOutcome | None:
    """This execution ends without applying its request: resolve it as failed, so no later update applies it.

    Returns the outcome written, or None when the request was already resolved (or never recorded).
    """
    stored = repository.change_request(environment_name, request_id)
    if stored is None or stored.outcome is not None:
        return None
    outcome = RequestOutcome(status="failed", change_id=change_id, detail=f"not applied: {reason}"[:2000])
    repository.resolve_change_request(stored, outcome, ttl_seconds=RESOLVED_TTL_SECONDS)
    return outcome
