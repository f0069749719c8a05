"""Control-plane state in the stack's DynamoDB table: records, locks, indexes.

Key convention: ``pk = "<kind>#<scope>"``, ``sk = "<item>"``; items that expire carry
``expires_at`` (epoch seconds, the table's TTL attribute). Values are stored as JSON
strings under ``data`` so that pydantic models round-trip without a type mapper.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from mwaa_control_plane.clock import Clock
from mwaa_control_plane.errors import (
    THROTTLING_CODES,
    UNAVAILABLE_CODES,
    ConcurrentUpdateError,
    ServiceUnavailableError,
    ThrottledError,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


def translate_dynamodb_error(exc: ClientError) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in THROTTLING_CODES:
        return ThrottledError(f"DynamoDB throttled the request ({code})")
    if code in UNAVAILABLE_CODES:
        return ServiceUnavailableError(f"DynamoDB is unavailable ({code})")
    return exc


class StateStore:
    """Small typed access to the state table; every write that can race is conditional."""

    def __init__(self, dynamodb: DynamoDBClient, table: str, clock: Clock) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.clock = clock

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    def _item(self, pk: str, sk: str) -> dict[str, AttributeValueTypeDef] | None:
        """The raw item (strongly consistent read), or None."""
        try:
            return self.dynamodb.get_item(
                TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise translate_dynamodb_error(exc) from exc

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self._item(pk, sk)
        if not item or "data" not in item:
            return None
        return json.loads(item["data"]["S"])  # type: ignore[no-any-return]

    def put(self, pk: str, sk: str, data: dict[str, Any], *, ttl_seconds: int | None = None) -> None:
        item: dict[str, Any] = {"pk": {"S": pk}, "sk": {"S": sk}, "data": {"S": json.dumps(data, sort_keys=True)}}
        if ttl_seconds is not None:
            item["expires_at"] = {"N": str(self._now() + ttl_seconds)}
        try:
            self.dynamodb.put_item(TableName=self.table, Item=item)
        except ClientError as exc:
            raise translate_dynamodb_error(exc) from exc

    def delete(self, pk: str, sk: str) -> None:
        try:
            self.dynamodb.delete_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}})
        except ClientError as exc:
            raise translate_dynamodb_error(exc) from exc

    def query(self, pk: str) -> dict[str, dict[str, Any]]:
        """All items of partition ``pk``: sk -> data."""
        found: dict[str, dict[str, Any]] = {}
        paginator = self.dynamodb.get_paginator("query")
        try:
            for page in paginator.paginate(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
                ConsistentRead=True,
            ):
                for item in page["Items"]:
                    found[item["sk"]["S"]] = json.loads(item["data"]["S"]) if "data" in item else {}
        except ClientError as exc:
            raise translate_dynamodb_error(exc) from exc
        return found

    def advance_sequencer(self, pk: str, sk: str, sequencer: str, data: dict[str, Any]) -> bool:
        """Store ``data`` under ``sequencer`` only if it is newer than the stored one; False if not."""
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": pk},
                    "sk": {"S": sk},
                    "sequencer": {"S": sequencer},
                    "data": {"S": json.dumps(data, sort_keys=True)},
                },
                ConditionExpression="attribute_not_exists(sequencer) OR sequencer < :s",
                ExpressionAttributeValues={":s": {"S": sequencer}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise translate_dynamodb_error(exc) from exc
        return True

    def sequencer(self, pk: str, sk: str) -> str | None:
        item = self._item(pk, sk)
        return item["sequencer"]["S"] if item and "sequencer" in item else None

    def acquire_lock(self, name: str, owner: str, ttl_seconds: int) -> bool:
        """Take lock ``name`` for ``owner`` unless someone else holds an unexpired one. Re-entrant per owner."""
        now = self._now()
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": f"lock#{name}"},
                    "sk": {"S": "lock"},
                    "owner": {"S": owner},
                    "expires_at": {"N": str(now + ttl_seconds)},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR #o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":owner": {"S": owner}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise translate_dynamodb_error(exc) from exc
        return True

    def release_lock(self, name: str, owner: str) -> None:
        """Release lock ``name`` if ``owner`` still holds it (a lock that expired and was taken over stays)."""
        try:
            self.dynamodb.delete_item(
                TableName=self.table,
                Key={"pk": {"S": f"lock#{name}"}, "sk": {"S": "lock"}},
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise translate_dynamodb_error(exc) from exc

    def lock_owner(self, name: str) -> str | None:
        """Who holds lock ``name`` now, or None when it is free or expired."""
        item = self._item(f"lock#{name}", "lock")
        if not item or int(item["expires_at"]["N"]) < self._now():
            return None
        return item["owner"]["S"]


class KeyLock:
    """Context manager around a short per-object lock; raises ConcurrentUpdateError when it is held."""

    def __init__(self, store: StateStore, name: str, owner: str, ttl_seconds: int = 120) -> None:
        self.store = store
        self.name = name
        self.owner = owner
        self.ttl_seconds = ttl_seconds

    def __enter__(self) -> KeyLock:
        if not self.store.acquire_lock(self.name, self.owner, self.ttl_seconds):
            raise ConcurrentUpdateError(f"{self.name} is being changed by another execution; retry later")
        return self

    def __exit__(self, *_: object) -> None:
        self.store.release_lock(self.name, self.owner)
