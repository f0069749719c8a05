"""The state table: records, sequencer ordering and locks, against moto's DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.dags.events import normalise_sequencer
from mwaa_control_plane.errors import ConcurrentUpdateError, ServiceUnavailableError, ThrottledError
from mwaa_control_plane.state import KeyLock, StateStore

TABLE = "mwaa-cp-state"


@pytest.fixture
def dynamodb() -> Iterator[object]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.fixture
def store(dynamodb, clock: ManualClock) -> StateStore:
    return StateStore(dynamodb, TABLE, clock)


# --------------------------------------------------------------------------- records


def test_a_stored_record_is_read_back(store: StateStore) -> None:
    store.put("object#dev-analytics", "dags/a.py", {"version_id": "v1", "size": 3})

    assert store.get("object#dev-analytics", "dags/a.py") == {"version_id": "v1", "size": 3}


def test_a_missing_record_reads_as_none(store: StateStore) -> None:
    assert store.get("object#dev-analytics", "dags/missing.py") is None


def test_a_second_put_replaces_the_record(store: StateStore) -> None:
    store.put("object#dev-analytics", "dags/a.py", {"version_id": "v1"})
    store.put("object#dev-analytics", "dags/a.py", {"version_id": "v2"})

    assert store.get("object#dev-analytics", "dags/a.py") == {"version_id": "v2"}


def test_a_deleted_record_is_gone(store: StateStore) -> None:
    store.put("object#dev-analytics", "dags/a.py", {"version_id": "v1"})

    store.delete("object#dev-analytics", "dags/a.py")

    assert store.get("object#dev-analytics", "dags/a.py") is None


def test_a_record_with_a_ttl_expires_ttl_seconds_from_the_clock(store: StateStore, dynamodb, clock) -> None:
    store.put("report#dev-analytics", "r1", {"ok": True}, ttl_seconds=3600)

    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "report#dev-analytics"}, "sk": {"S": "r1"}})["Item"]
    assert int(item["expires_at"]["N"]) == int(clock.now().timestamp()) + 3600


def test_a_query_returns_every_item_of_the_partition_and_nothing_else(store: StateStore) -> None:
    store.put("object#dev-analytics", "dags/a.py", {"v": 1})
    store.put("object#dev-analytics", "dags/b.py", {"v": 2})
    store.put("object#prod-analytics", "dags/a.py", {"v": 3})

    assert store.query("object#dev-analytics") == {"dags/a.py": {"v": 1}, "dags/b.py": {"v": 2}}


def test_a_query_of_an_empty_partition_is_empty(store: StateStore) -> None:
    assert store.query("object#nobody") == {}


# --------------------------------------------------------------------------- sequencers

OLDER = normalise_sequencer("00617F08299329D189")
NEWER = normalise_sequencer("00617F0837B6E0D8D4")


def test_the_first_sequencer_for_a_key_is_accepted(store: StateStore) -> None:
    assert store.advance_sequencer("object#dev-analytics", "latest", OLDER, {"version_id": "v1"}) is True
    assert store.sequencer("object#dev-analytics", "latest") == OLDER
    assert store.get("object#dev-analytics", "latest") == {"version_id": "v1"}


def test_a_newer_sequencer_is_accepted(store: StateStore) -> None:
    store.advance_sequencer("object#dev-analytics", "latest", OLDER, {"version_id": "v1"})

    assert store.advance_sequencer("object#dev-analytics", "latest", NEWER, {"version_id": "v2"}) is True
    assert store.get("object#dev-analytics", "latest") == {"version_id": "v2"}


def test_the_same_sequencer_again_is_a_duplicate_and_is_refused(store: StateStore) -> None:
    store.advance_sequencer("object#dev-analytics", "latest", NEWER, {"version_id": "v2"})

    assert store.advance_sequencer("object#dev-analytics", "latest", NEWER, {"version_id": "v2-again"}) is False
    assert store.get("object#dev-analytics", "latest") == {"version_id": "v2"}


def test_an_older_sequencer_is_refused(store: StateStore) -> None:
    store.advance_sequencer("object#dev-analytics", "latest", NEWER, {"version_id": "v2"})

    assert store.advance_sequencer("object#dev-analytics", "latest", OLDER, {"version_id": "v1"}) is False
    assert store.sequencer("object#dev-analytics", "latest") == NEWER


def test_a_shorter_but_later_sequencer_is_accepted_once_normalised(store: StateStore) -> None:
    # "0062" is later than "00617F..." by S3's rule (right-pad, then compare).
    store.advance_sequencer("object#dev-analytics", "latest", OLDER, {})

    assert store.advance_sequencer("object#dev-analytics", "latest", normalise_sequencer("0062"), {}) is True


def test_a_key_without_a_sequencer_has_none(store: StateStore) -> None:
    assert store.sequencer("object#dev-analytics", "latest") is None


# --------------------------------------------------------------------------- locks


def test_a_free_lock_is_acquired(store: StateStore) -> None:
    assert store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60) is True
    assert store.lock_owner("env#dev-analytics") == "execution-1"


def test_a_held_lock_is_refused_to_a_second_owner(store: StateStore) -> None:
    store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)

    assert store.acquire_lock("env#dev-analytics", "execution-2", ttl_seconds=60) is False
    assert store.lock_owner("env#dev-analytics") == "execution-1"


def test_the_owner_can_acquire_its_lock_again(store: StateStore) -> None:
    store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)

    assert store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60) is True


def test_re_acquiring_extends_the_lock(store: StateStore, clock: ManualClock) -> None:
    store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)
    clock.advance(50)
    store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)
    clock.advance(50)

    assert store.acquire_lock("env#dev-analytics", "execution-2", ttl_seconds=60) is False


def test_a_lock_is_still_held_at_the_second_it_expires(store: StateStore, clock: ManualClock) -> None:
    store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)
    clock.advance(60)

    assert store.acquire_lock("env#dev-analytics", "execution-2", ttl_seconds=60) is False


def test_an_expired_lock_is_taken_over(store: StateStore, clock: ManualClock) -> None:
    store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)
    clock.advance(61)

    assert store.acquire_lock("env#dev-analytics", "execution-2", ttl_seconds=60) is True
    assert store.lock_owner("env#dev-analytics") == "execution-2"


def test_an_expired_lock_has_no_owner(store: StateStore, clock: ManualClock) -> None:
    store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)
    clock.advance(61)

    assert store.lock_owner("env#dev-analytics") is None


def test_the_owner_releases_its_lock(store: StateStore) -> None:
    store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)

    store.release_lock("env#dev-analytics", "execution-1")

    assert store.lock_owner("env#dev-analytics") is None
    assert store.acquire_lock("env#dev-analytics", "execution-2", ttl_seconds=60) is True


def test_a_lock_is_not_released_by_another_owner(store: StateStore) -> None:
    store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)

    store.release_lock("env#dev-analytics", "execution-2")

    assert store.lock_owner("env#dev-analytics") == "execution-1"


def test_a_lock_taken_over_after_expiry_survives_the_late_release_of_the_first_owner(
    store: StateStore, clock: ManualClock
) -> None:
    store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)
    clock.advance(61)
    store.acquire_lock("env#dev-analytics", "execution-2", ttl_seconds=60)

    store.release_lock("env#dev-analytics", "execution-1")

    assert store.lock_owner("env#dev-analytics") == "execution-2"


def test_locks_with_different_names_are_independent(store: StateStore) -> None:
    store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)

    assert store.acquire_lock("env#prod-analytics", "execution-2", ttl_seconds=60) is True


def test_a_key_lock_holds_the_lock_inside_and_releases_it_after(store: StateStore) -> None:
    with KeyLock(store, "object#dev-analytics/dags/a.py", "execution-1"):
        assert store.lock_owner("object#dev-analytics/dags/a.py") == "execution-1"

    assert store.lock_owner("object#dev-analytics/dags/a.py") is None


def test_a_key_lock_is_released_when_the_body_raises(store: StateStore) -> None:
    with pytest.raises(RuntimeError), KeyLock(store, "object#dev-analytics/dags/a.py", "execution-1"):
        raise RuntimeError("step failed")

    assert store.lock_owner("object#dev-analytics/dags/a.py") is None


def test_a_key_lock_held_by_someone_else_raises_concurrent_update(store: StateStore) -> None:
    store.acquire_lock("object#dev-analytics/dags/a.py", "execution-1", ttl_seconds=120)

    with pytest.raises(ConcurrentUpdateError), KeyLock(store, "object#dev-analytics/dags/a.py", "execution-2"):
        pytest.fail("the body must not run without the lock")

    assert store.lock_owner("object#dev-analytics/dags/a.py") == "execution-1"


# --------------------------------------------------------------------------- error translation


@pytest.fixture
def stubbed() -> Iterator[tuple[StateStore, Stubber]]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield StateStore(client, TABLE, ManualClock()), stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_a_throttled_read_raises_throttled_error(stubbed, code: str) -> None:
    store, stubber = stubbed
    stubber.add_client_error("get_item", service_error_code=code, http_status_code=400)

    with pytest.raises(ThrottledError):
        store.get("object#dev-analytics", "dags/a.py")


def test_a_throttled_write_raises_throttled_error(stubbed) -> None:
    store, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code="ProvisionedThroughputExceededException")

    with pytest.raises(ThrottledError):
        store.put("object#dev-analytics", "dags/a.py", {})


def test_a_throttled_sequencer_write_raises_throttled_error_rather_than_refusing(stubbed) -> None:
    store, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code="ThrottlingException")

    with pytest.raises(ThrottledError):
        store.advance_sequencer("object#dev-analytics", "latest", NEWER, {})


def test_a_throttled_lock_attempt_raises_throttled_error_rather_than_refusing(stubbed) -> None:
    store, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code="RequestLimitExceeded")

    with pytest.raises(ThrottledError):
        store.acquire_lock("env#dev-analytics", "execution-1", ttl_seconds=60)


def test_an_unavailable_table_raises_service_unavailable(stubbed) -> None:
    store, stubber = stubbed
    stubber.add_client_error("delete_item", service_error_code="InternalServerError", http_status_code=500)

    with pytest.raises(ServiceUnavailableError):
        store.delete("object#dev-analytics", "dags/a.py")


def test_any_other_client_error_is_raised_unchanged(stubbed) -> None:
    store, stubber = stubbed
    stubber.add_client_error("get_item", service_error_code="ResourceNotFoundException")

    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        store.get("object#dev-analytics", "dags/a.py")
