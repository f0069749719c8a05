"""The control plane's state in the stack's DynamoDB table, typed: one method per kind of record.

This module owns every key format; nothing else builds a ``pk`` or ``sk``. Items are
``{pk, sk, data}`` with the record as JSON under ``data`` (so pydantic models round-trip
without a type mapper); items that expire carry ``expires_at`` (the table's TTL attribute),
locks also carry ``owner`` and sequencers ``sequencer`` as top-level attributes, because
conditional writes compare them.

=====================================  ======================================  =================================
record                                 pk                                      sk
=====================================  ======================================  =================================
newest S3 event seen for a staging key  ``object#<key>``                        ``latest``
short lock on one staging key          ``object#<key>``                        ``lock``
the environment's lock (every flow)    ``env#<environment>``                   ``lock``
known-good artifact versions           ``env#<environment>``                   ``knowngood``
modules of the running plugins.zip     ``env#<environment>``                   ``plugins``
a change request and its outcome       ``change#<environment>``                ``request#<requested_at>#<id>``
an announced change (being validated)  ``change#<environment>``                ``announced#<source>``
applied changes, before and after      ``history#<environment>``               ``<applied_at>#<change_id>``
dag_id -> file that defines it         ``dagindex#<environment>``              ``<dag_id>``
off-hours state of an environment      ``offhours``                            ``env#<environment>``
capacity recorded before a scale-down  ``offhours#<environment>``              ``capacity#<recorded_at>``
last worker-analysis remediation       ``analysis#<environment>``              ``remediation``
a recommendation awaiting approval     ``analysis#<environment>``              ``approval#<execution name>``
=====================================  ======================================  =================================

Off-hours records also carry ``revision`` as a top-level number: each write is conditional on
the revision that was read, so two executions cannot both act on one reading.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from mwaa_control_plane.clock import Clock
from mwaa_control_plane.errors import (
    ConcurrentUpdateError,
    EnvironmentLockedError,
    OffHoursRecordConflictError,
    translate_client_error,
)

if TYPE_CHECKING:
    # Change-request models are loaded by the methods that use them: most handlers never touch one.
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from mwaa_control_plane.environments.change_records import ChangeRecord, KnownGood, RequestOutcome, StoredRequest
    from mwaa_control_plane.environments.change_request import ChangeRequest
    from mwaa_control_plane.environments.offhours.capacity import Capacity
    from mwaa_control_plane.environments.offhours.records import OffHoursRecord

CONDITION_FAILED = "ConditionalCheckFailedException"
# An artifact still in validation holds its environment's update back at most this long.
ANNOUNCEMENT_TTL_SECONDS = 15 * 60
# Longer than any environment-change execution can wait (lock 2 h, settle 1 h, busy 1 h, update 2 h).
PENDING_TTL_SECONDS = 2 * 86400
OFF_HOURS_PK = "offhours"


class Record(BaseModel):
    """Base of stored records: exact fields, so a stored item that does not match fails loudly."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordKey(Record):
    """A table key as values: what a state machine needs to release a lock without rebuilding its key."""

    pk: str
    sk: str


class LockHolder(Record):
    """Who holds a lock, for what, and until when; ``describe()`` is what a waiting flow is told."""

    owner: str
    flow: str
    purpose: str
    acquired_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        return (
            f"{self.flow} (execution {self.owner}) since {self.acquired_at.isoformat()} for "
            f"'{self.purpose}', lease until {self.expires_at.isoformat()}"
        )


class ObjectEvent(Record):
    """The newest event accepted for a staging key."""

    sequencer: str
    version_id: str | None = None
    action: str


class Announcement(Record):
    """A change on its way to the environment-change flow (an artifact still in validation)."""

    source: str
    version_id: str | None = None
    since: datetime


class DagIndexEntry(Record):
    path: str
    version_id: str | None = None


class StateRepository:
    """Typed access to the state table; every write that can race is conditional."""

    def __init__(self, dynamodb: DynamoDBClient, table: str, clock: Clock) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.clock = clock

    # ------------------------------------------------------------------ key formats (the only place)
    @staticmethod
    def _object(key: str) -> str:
        return f"object#{key}"

    @staticmethod
    def _environment(environment: str) -> str:
        return f"env#{environment}"

    @staticmethod
    def _changes(environment: str) -> str:
        return f"change#{environment}"

    @staticmethod
    def _request_sk(requested_at: datetime, request_id: str) -> str:
        return f"request#{requested_at.isoformat()}#{request_id}"

    @staticmethod
    def environment_lock_key(environment: str) -> RecordKey:
        """The key of the environment's lock, handed to state machines as values."""
        return RecordKey(pk=f"env#{environment}", sk="lock")

    # ------------------------------------------------------------------ raw access
    def _now(self) -> datetime:
        return self.clock.now()

    def _call(self, operation: str, call: Any, **kwargs: Any) -> Any:
        try:
            return call(TableName=self.table, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == CONDITION_FAILED:
                raise
            raise translate_client_error(exc, operation=f"DynamoDB {operation}") from exc

    def _get(self, pk: str, sk: str) -> dict[str, AttributeValueTypeDef] | None:
        answer = self._call("GetItem", self.dynamodb.get_item, Key=_key(pk, sk), ConsistentRead=True)
        item: dict[str, AttributeValueTypeDef] | None = answer.get("Item")
        return item

    def _read[R: BaseModel](self, model: type[R], pk: str, sk: str) -> R | None:
        item = self._get(pk, sk)
        if not item or "data" not in item:
            return None
        return model.model_validate_json(item["data"]["S"])

    def _write(self, pk: str, sk: str, record: BaseModel, *, ttl_seconds: int | None = None) -> None:
        item: dict[str, Any] = {**_key(pk, sk), "data": {"S": record.model_dump_json()}}
        if ttl_seconds is not None:
            item["expires_at"] = {"N": str(_epoch(self._now()) + ttl_seconds)}
        self._call("PutItem", self.dynamodb.put_item, Item=item)

    def _delete(self, pk: str, sk: str) -> None:
        self._call("DeleteItem", self.dynamodb.delete_item, Key=_key(pk, sk))

    def _query(self, pk: str, sk_prefix: str = "", *, sk_from: str = "") -> Iterator[tuple[str, str]]:
        """(sk, data) of every item of partition ``pk`` whose sk starts with ``sk_prefix`` (or is at least
        ``sk_from``), in sk order."""
        condition = "pk = :pk"
        values: dict[str, Any] = {":pk": {"S": pk}}
        if sk_prefix:
            condition, values[":prefix"] = "pk = :pk AND begins_with(sk, :prefix)", {"S": sk_prefix}
        elif sk_from:
            condition, values[":from"] = "pk = :pk AND sk >= :from", {"S": sk_from}
        paginator = self.dynamodb.get_paginator("query")
        try:
            for page in paginator.paginate(
                TableName=self.table,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                ConsistentRead=True,
            ):
                for item in page["Items"]:
                    if "data" in item:
                        yield item["sk"]["S"], item["data"]["S"]
        except ClientError as exc:
            raise translate_client_error(exc, operation="DynamoDB Query") from exc

    # ------------------------------------------------------------------ leases (both kinds of lock)
    def _acquire(self, key: RecordKey, holder: LockHolder) -> LockHolder | None:
        """Take the lease at ``key`` for ``holder``; None when taken (re-entrant per owner), else who holds it."""
        now = _epoch(self._now())
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={
                    **_key(key.pk, key.sk),
                    "owner": {"S": holder.owner},
                    "expires_at": {"N": str(_epoch(holder.expires_at))},
                    "data": {"S": holder.model_dump_json()},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR #o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":owner": {"S": holder.owner}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                raise translate_client_error(exc, operation="DynamoDB PutItem") from exc
            return self._holder(key) or holder.model_copy(update={"owner": "(released meanwhile)"})
        return None

    def _release(self, key: RecordKey, owner: str) -> bool:
        """Release the lease if ``owner`` still holds it; False when it had expired and been taken over."""
        try:
            self.dynamodb.delete_item(
                TableName=self.table,
                Key=_key(key.pk, key.sk),
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                raise translate_client_error(exc, operation="DynamoDB DeleteItem") from exc
            return False
        return True

    def _holder(self, key: RecordKey) -> LockHolder | None:
        item = self._get(key.pk, key.sk)
        if not item or int(item["expires_at"]["N"]) < _epoch(self._now()):
            return None
        if "data" in item:
            return LockHolder.model_validate_json(item["data"]["S"])
        # A lock written by hand or by an older version of the stack: name what is known.
        return LockHolder(
            owner=item["owner"]["S"],
            flow="unknown",
            purpose="unknown",
            acquired_at=self._now(),
            expires_at=datetime.fromtimestamp(int(item["expires_at"]["N"]), tz=self._now().tzinfo),
        )

    # ------------------------------------------------------------------ the environment lock
    def acquire_environment_lock(
        self, environment: str, *, owner: str, flow: str, purpose: str, lease_seconds: int
    ) -> LockHolder:
        """Take (or renew, for the same owner) the one lock every flow that changes ``environment`` takes.

        Returns the new holder record; raises EnvironmentLockedError naming the current holder when busy.
        """
        now = self._now()
        holder = LockHolder(
            owner=owner,
            flow=flow,
            purpose=purpose,
            acquired_at=now,
            expires_at=now + timedelta(seconds=lease_seconds),
        )
        current = self._acquire(self.environment_lock_key(environment), holder)
        if current is not None:
            raise EnvironmentLockedError(f"environment {environment} is locked by {current.describe()}")
        return holder

    def release_environment_lock(self, environment: str, owner: str) -> bool:
        return self._release(self.environment_lock_key(environment), owner)

    def environment_lock_holder(self, environment: str) -> LockHolder | None:
        """Who holds the environment's lock now, or None when it is free or its lease ran out."""
        return self._holder(self.environment_lock_key(environment))

    # ------------------------------------------------------------------ staging keys
    def advance_object_event(self, key: str, event: ObjectEvent) -> bool:
        """Record ``event`` for staging ``key`` only if its sequencer is newer than the stored one; False if not."""
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={
                    **_key(self._object(key), "latest"),
                    "sequencer": {"S": event.sequencer},
                    "data": {"S": event.model_dump_json()},
                },
                ConditionExpression="attribute_not_exists(sequencer) OR sequencer < :s",
                ExpressionAttributeValues={":s": {"S": event.sequencer}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == CONDITION_FAILED:
                return False
            raise translate_client_error(exc, operation="DynamoDB PutItem") from exc
        return True

    def latest_sequencer(self, key: str) -> str | None:
        item = self._get(self._object(key), "latest")
        return item["sequencer"]["S"] if item and "sequencer" in item else None

    @contextmanager
    def object_lock(self, key: str, owner: str, lease_seconds: int = 120) -> Iterator[None]:
        """A short lock on one staging key; raises ConcurrentUpdateError (retryable) when another holds it."""
        now = self._now()
        lock = RecordKey(pk=self._object(key), sk="lock")
        holder = LockHolder(
            owner=owner,
            flow="dag-delivery",
            purpose=f"write {key}",
            acquired_at=now,
            expires_at=now + timedelta(seconds=lease_seconds),
        )
        current = self._acquire(lock, holder)
        if current is not None:
            raise ConcurrentUpdateError(f"{key} is being changed by {current.owner}; retry later")
        try:
            yield
        finally:
            self._release(lock, owner)

    # ------------------------------------------------------------------ announced changes
    def announce_change(
        self, environment: str, source: str, version_id: str | None, ttl_seconds: int = ANNOUNCEMENT_TTL_SECONDS
    ) -> None:
        """Tell the environment-change flow that a change from ``source`` is on its way (it waits, bounded)."""
        record = Announcement(source=source, version_id=version_id, since=self._now())
        self._write(self._changes(environment), f"announced#{source}", record, ttl_seconds=ttl_seconds)

    def withdraw_announcement(self, environment: str, source: str, version_id: str | None) -> None:
        """``source``'s version was requested, rejected or is gone: stop holding the environment's update back."""
        current = self._read(Announcement, self._changes(environment), f"announced#{source}")
        if current is not None and current.version_id == version_id:
            self._delete(self._changes(environment), f"announced#{source}")

    def announcements(self, environment: str, *, max_age_seconds: int = ANNOUNCEMENT_TTL_SECONDS) -> list[Announcement]:
        """Announcements younger than ``max_age_seconds`` (TTL deletion is lazy, so age is checked here)."""
        now = self._now()
        found = [Announcement.model_validate_json(d) for _, d in self._query(self._changes(environment), "announced#")]
        return [a for a in found if (now - a.since).total_seconds() < max_age_seconds]

    # ------------------------------------------------------------------ change requests
    def add_change_request(self, request_id: str, request: ChangeRequest) -> StoredRequest:
        """Record ``request`` as pending (idempotent per ``request_id``: a retried step finds the first record)."""
        from mwaa_control_plane.environments.change_records import StoredRequest

        # Only the execution named ``request_id`` writes this record, and a step's retries run one after the
        # other, so reading first is enough: this write never races another.
        existing = self.change_request(request.environment_name, request_id)
        if existing is not None:
            return existing
        stored = StoredRequest(request_id=request_id, requested_at=self._now(), request=request)
        # A backstop: a request whose execution vanished (stopped by hand) expires instead of waiting forever
        # for an unrelated update to apply it. Executions resolve their own request long before.
        sk = self._request_sk(stored.requested_at, request_id)
        self._write(self._changes(request.environment_name), sk, stored, ttl_seconds=PENDING_TTL_SECONDS)
        return stored

    def change_requests(self, environment: str, *, pending_only: bool = True) -> list[StoredRequest]:
        """Requests for ``environment`` in the order they were made."""
        from mwaa_control_plane.environments.change_records import StoredRequest

        found = [StoredRequest.model_validate_json(d) for _, d in self._query(self._changes(environment), "request#")]
        if not pending_only:
            return found
        # TTL deletion is lazy: an expired pending request is gone for every reader right away.
        now = self._now()
        return [r for r in found if r.outcome is None and (now - r.requested_at).total_seconds() < PENDING_TTL_SECONDS]

    def change_request(self, environment: str, request_id: str) -> StoredRequest | None:
        for request in self.change_requests(environment, pending_only=False):
            if request.request_id == request_id:
                return request
        return None

    def resolve_change_request(self, stored: StoredRequest, outcome: RequestOutcome, *, ttl_seconds: int) -> None:
        """Attach the outcome; resolved requests expire after ``ttl_seconds`` (the history keeps the change)."""
        # Once resolved, a request keeps no configuration value in clear: only the history's fingerprints matter.
        resolved = stored.model_copy(update={"outcome": outcome, "request": stored.request.without_values()})
        self._write(
            self._changes(stored.request.environment_name),
            self._request_sk(stored.requested_at, stored.request_id),
            resolved,
            ttl_seconds=ttl_seconds,
        )

    # ------------------------------------------------------------------ history
    def record_change(self, record: ChangeRecord) -> None:
        self._write(f"history#{record.environment_name}", f"{record.started_at.isoformat()}#{record.change_id}", record)

    def change_history(self, environment: str, *, since: datetime | None = None) -> list[ChangeRecord]:
        """The recorded changes of ``environment`` (those started at ``since`` or later), oldest first."""
        from mwaa_control_plane.environments.change_records import ChangeRecord

        records = self._query(f"history#{environment}", sk_from=since.isoformat() if since else "")
        return [ChangeRecord.model_validate_json(d) for _, d in records]

    # ------------------------------------------------------------------ known-good artifacts, plugins
    def known_good(self, environment: str) -> KnownGood:
        from mwaa_control_plane.environments.change_records import KnownGood

        return self._read(KnownGood, self._environment(environment), "knowngood") or KnownGood()

    def set_known_good(self, environment: str, known: KnownGood) -> None:
        self._write(self._environment(environment), "knowngood", known)

    def plugin_modules(self, environment: str) -> list[str]:
        record = self._read(_PluginModules, self._environment(environment), "plugins")
        return record.modules if record else []

    def set_plugin_modules(self, environment: str, modules: list[str]) -> None:
        self._write(self._environment(environment), "plugins", _PluginModules(modules=modules))

    # ------------------------------------------------------------------ dag_id index
    def dag_index(self, environment: str) -> dict[str, DagIndexEntry]:
        """dag_id -> the file of ``environment`` that defines it."""
        return {sk: DagIndexEntry.model_validate_json(data) for sk, data in self._query(f"dagindex#{environment}")}

    def index_dags(
        self, environment: str, path: str, version_id: str | None, *, old: list[str], new: list[str]
    ) -> None:
        """The file at ``path`` used to define ``old`` and now defines ``new``."""
        for dag_id in set(old) - set(new):
            self._delete(f"dagindex#{environment}", dag_id)
        for dag_id in new:
            self._write(f"dagindex#{environment}", dag_id, DagIndexEntry(path=path, version_id=version_id))

    # ------------------------------------------------------------------ off-hours
    @staticmethod
    def _off_hours_sk(environment: str) -> str:
        return f"env#{environment}"

    def off_hours_record(self, environment: str) -> OffHoursRecord | None:
        """The environment's off-hours record, or None when the control plane never acted on it."""
        from mwaa_control_plane.environments.offhours.records import OffHoursRecord

        return self._read(OffHoursRecord, OFF_HOURS_PK, self._off_hours_sk(environment))

    def off_hours_records(self) -> list[OffHoursRecord]:
        """Every environment's off-hours record (hibernated ones included), by name."""
        from mwaa_control_plane.environments.offhours.records import OffHoursRecord

        return [OffHoursRecord.model_validate_json(data) for _, data in self._query(OFF_HOURS_PK, "env#")]

    def put_off_hours_record(self, record: OffHoursRecord) -> OffHoursRecord:
        """Write ``record`` if the stored one still has ``record.revision`` (0: none stored); returns it at +1.

        Raises OffHoursRecordConflictError when another execution wrote in between: read again and decide again.
        """
        stored = record.model_copy(update={"revision": record.revision + 1})
        try:
            # Stored revisions start at 1, so revision 0 matches only an environment without a record.
            self.dynamodb.put_item(
                TableName=self.table,
                Item={
                    **_key(OFF_HOURS_PK, self._off_hours_sk(record.environment_name)),
                    "revision": {"N": str(stored.revision)},
                    "data": {"S": stored.model_dump_json()},
                },
                ConditionExpression="attribute_not_exists(pk) OR revision = :expected",
                ExpressionAttributeValues={":expected": {"N": str(record.revision)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                raise translate_client_error(exc, operation="DynamoDB PutItem") from exc
            current = self.off_hours_record(record.environment_name)
            now = f"revision {current.revision} ({current.state})" if current else "deleted"
            raise OffHoursRecordConflictError(
                f"the off-hours record of {record.environment_name} changed since revision {record.revision}"
                f" was read: it is now {now}; read it again"
            ) from exc
        return stored

    def record_capacity(self, environment: str, capacity: Capacity) -> None:
        """Add ``capacity`` to the environment's history, stamped now (scale-up restores the latest)."""
        from mwaa_control_plane.environments.offhours.records import CapacityEntry

        now = self._now()
        entry = CapacityEntry(recorded_at=now, capacity=capacity)
        self._write(f"{OFF_HOURS_PK}#{environment}", f"capacity#{now.isoformat()}", entry)

    # ------------------------------------------------------------------ worker analysis
    @staticmethod
    def _analysis(environment: str) -> str:
        return f"analysis#{environment}"

    def last_remediation(self, environment: str) -> RemediationRecord | None:
        """The last change the worker analysis applied to ``environment`` (its cooldown), or None."""
        return self._read(RemediationRecord, self._analysis(environment), "remediation")

    def record_remediation(self, record: RemediationRecord) -> None:
        self._write(self._analysis(record.environment_name), "remediation", record)

    def put_pending_approval(self, approval: PendingApproval) -> None:
        """Store a recommendation's task token until it is answered or its timeout passes (TTL)."""
        ttl = max(int((approval.expires_at - self._now()).total_seconds()), 0) + 3600
        sk = f"approval#{approval.execution.rsplit(':', 1)[-1]}"
        self._write(self._analysis(approval.environment_name), sk, approval, ttl_seconds=ttl)

    def pending_approvals(self, environment: str) -> list[PendingApproval]:
        """The recommendations of ``environment`` stored for approval, oldest first (expired ones included
        until DynamoDB's TTL removes them: compare ``expires_at``)."""
        return [
            PendingApproval.model_validate_json(data)
            for _, data in self._query(self._analysis(environment), "approval#")
        ]

    def latest_capacity(self, environment: str) -> Capacity | None:
        """The capacity recorded last for ``environment``, or None."""
        from mwaa_control_plane.environments.offhours.records import CapacityEntry

        try:
            answer = self.dynamodb.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={
                    ":pk": {"S": f"{OFF_HOURS_PK}#{environment}"},
                    ":prefix": {"S": "capacity#"},
                },
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise translate_client_error(exc, operation="DynamoDB Query") from exc
        items = answer.get("Items", [])
        if not items or "data" not in items[0]:
            return None
        return CapacityEntry.model_validate_json(items[0]["data"]["S"]).capacity


class RemediationRecord(Record):
    """The last change the worker analysis applied to an environment: its cooldown starts at ``applied_at``."""

    environment_name: str
    applied_at: datetime
    change_id: str
    mode: str
    cause: str
    result: str


class PendingApproval(Record):
    """A recommendation waiting for ``mwaa-cp approve`` / ``reject``: the Step Functions task token and what it
    would change (expires with the approval timeout)."""

    environment_name: str
    execution: str
    task_token: str
    requested_at: datetime
    expires_at: datetime
    summary: str


class _PluginModules(Record):
    modules: list[str]


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
