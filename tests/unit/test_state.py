"""StateRepository against moto's DynamoDB: every kind of record, the ordering of S3 events, both locks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.dags.events import normalise_sequencer
from mwaa_control_plane.environments.change_records import ChangeRecord, FieldChange, KnownGood, RequestOutcome
from mwaa_control_plane.environments.change_request import ArtifactVersion, ChangeRequest
from mwaa_control_plane.errors import ConcurrentUpdateError, EnvironmentLockedError, ThrottledError
from mwaa_control_plane.state import (
    Announcement,
    DagIndexEntry,
    LockHolder,
    ObjectEvent,
    RecordKey,
    StateRepository,
)
from tests.unit.aws import ENVIRONMENT, REGION, STATE_TABLE, state_repository

OTHER_ENVIRONMENT = "prod-analytics"
KEY = f"{ENVIRONMENT}/dags/etl.py"
OLDER = normalise_sequencer("00617F08299329D189")
NEWER = normalise_sequencer("00617F0837B6E0D8D4")
LEASE = 600


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def repository(dynamodb: Any, clock: ManualClock) -> StateRepository:
    return state_repository(dynamodb, clock)


def _item(dynamodb: Any, pk: str, sk: str) -> dict[str, Any]:
    item: dict[str, Any] = dynamodb.get_item(TableName=STATE_TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]
    return item


def _request(**fields: Any) -> ChangeRequest:
    return ChangeRequest.model_validate({"environment_name": ENVIRONMENT, "reason": "more room", **fields})


def _lock(repository: StateRepository, owner: str, environment: str = ENVIRONMENT) -> LockHolder:
    return repository.acquire_environment_lock(
        environment, owner=owner, flow="environment-change", purpose="apply pending changes", lease_seconds=LEASE
    )


# --------------------------------------------------------------------------- S3 event ordering per staging key


def test_the_first_event_for_a_staging_key_is_recorded(repository: StateRepository) -> None:
    assert repository.advance_object_event(KEY, ObjectEvent(sequencer=OLDER, version_id="v1", action="created"))

    assert repository.latest_sequencer(KEY) == OLDER


def test_a_newer_event_replaces_the_recorded_one(repository: StateRepository) -> None:
    repository.advance_object_event(KEY, ObjectEvent(sequencer=OLDER, version_id="v1", action="created"))

    assert repository.advance_object_event(KEY, ObjectEvent(sequencer=NEWER, version_id="v2", action="created"))
    assert repository.latest_sequencer(KEY) == NEWER


def test_the_same_sequencer_again_is_refused_as_a_duplicate(repository: StateRepository) -> None:
    repository.advance_object_event(KEY, ObjectEvent(sequencer=NEWER, version_id="v2", action="created"))

    assert not repository.advance_object_event(KEY, ObjectEvent(sequencer=NEWER, version_id="v2", action="created"))


def test_an_older_event_is_refused_and_the_newer_one_stays(repository: StateRepository) -> None:
    repository.advance_object_event(KEY, ObjectEvent(sequencer=NEWER, version_id="v2", action="created"))

    assert not repository.advance_object_event(KEY, ObjectEvent(sequencer=OLDER, version_id="v1", action="created"))
    assert repository.latest_sequencer(KEY) == NEWER


def test_a_shorter_but_later_sequencer_wins_once_normalised(repository: StateRepository) -> None:
    # S3's rule: right-pad, then compare; "0062" is later than "00617F...".
    repository.advance_object_event(KEY, ObjectEvent(sequencer=OLDER, action="created"))

    assert repository.advance_object_event(KEY, ObjectEvent(sequencer=normalise_sequencer("0062"), action="deleted"))


def test_the_recorded_event_reads_back_as_the_same_model(repository: StateRepository, dynamodb: Any) -> None:
    event = ObjectEvent(sequencer=OLDER, version_id="v1", action="created")
    repository.advance_object_event(KEY, event)

    assert ObjectEvent.model_validate_json(_item(dynamodb, f"object#{KEY}", "latest")["data"]["S"]) == event


def test_a_key_never_seen_has_no_sequencer(repository: StateRepository) -> None:
    assert repository.latest_sequencer(KEY) is None


def test_events_of_different_keys_do_not_order_each_other(repository: StateRepository) -> None:
    repository.advance_object_event(KEY, ObjectEvent(sequencer=NEWER, action="created"))

    assert repository.advance_object_event(
        f"{ENVIRONMENT}/dags/other.py", ObjectEvent(sequencer=OLDER, action="created")
    )


# --------------------------------------------------------------------------- the short lock on one staging key


def test_a_held_object_lock_refuses_a_second_owner(repository: StateRepository) -> None:
    with (
        repository.object_lock(KEY, "execution-1"),
        pytest.raises(ConcurrentUpdateError, match="execution-1"),
        repository.object_lock(KEY, "execution-2"),
    ):
        pytest.fail("the body must not run without the lock")


def test_an_object_lock_is_released_after_the_with_block(repository: StateRepository) -> None:
    with repository.object_lock(KEY, "execution-1"):
        pass

    with repository.object_lock(KEY, "execution-2"):
        pass  # no ConcurrentUpdateError: the first owner let go


def test_an_object_lock_is_released_when_the_body_raises(repository: StateRepository) -> None:
    with pytest.raises(RuntimeError, match="step failed"), repository.object_lock(KEY, "execution-1"):
        raise RuntimeError("step failed")

    with repository.object_lock(KEY, "execution-2"):
        pass  # no ConcurrentUpdateError: the first owner let go


def test_an_expired_object_lock_is_taken_over(repository: StateRepository, clock: ManualClock) -> None:
    # Given a holder that stopped (its Lambda timed out) without releasing
    with repository.object_lock(KEY, "execution-1", lease_seconds=120):
        clock.advance(121)
        # When another execution tries after the lease ran out, then it gets the lock
        with repository.object_lock(KEY, "execution-2"):
            pass  # no ConcurrentUpdateError


def test_object_locks_of_different_keys_are_independent(repository: StateRepository) -> None:
    with repository.object_lock(KEY, "execution-1"), repository.object_lock(f"{KEY}.bak", "execution-2"):
        pass  # no ConcurrentUpdateError


# --------------------------------------------------------------------------- the environment lock


def test_acquiring_the_environment_lock_returns_the_holder_and_its_lease(
    repository: StateRepository, clock: ManualClock
) -> None:
    holder = _lock(repository, "execution-1")

    assert holder == LockHolder(
        owner="execution-1",
        flow="environment-change",
        purpose="apply pending changes",
        acquired_at=clock.now(),
        expires_at=clock.now() + timedelta(seconds=LEASE),
    )


def test_the_holder_of_the_environment_lock_reads_back_as_acquired(repository: StateRepository) -> None:
    holder = _lock(repository, "execution-1")

    assert repository.environment_lock_holder(ENVIRONMENT) == holder


def test_a_second_owner_is_told_who_holds_the_environment_lock(repository: StateRepository) -> None:
    holder = _lock(repository, "execution-1")

    with pytest.raises(EnvironmentLockedError) as refused:
        repository.acquire_environment_lock(
            ENVIRONMENT, owner="execution-2", flow="dag-delivery", purpose="stage plugins.zip", lease_seconds=LEASE
        )

    message = str(refused.value)
    assert "environment-change" in message
    assert "execution-1" in message
    assert "apply pending changes" in message
    assert holder.expires_at.isoformat() in message


def test_a_refused_owner_leaves_the_holder_in_place(repository: StateRepository) -> None:
    holder = _lock(repository, "execution-1")

    with pytest.raises(EnvironmentLockedError):
        _lock(repository, "execution-2")

    assert repository.environment_lock_holder(ENVIRONMENT) == holder


def test_the_owner_renews_its_environment_lock_by_acquiring_it_again(
    repository: StateRepository, clock: ManualClock
) -> None:
    _lock(repository, "execution-1")
    clock.advance(LEASE - 10)

    renewed = _lock(repository, "execution-1")

    assert renewed.expires_at == clock.now() + timedelta(seconds=LEASE)


def test_a_renewed_lease_still_holds_after_the_first_lease_would_have_ended(
    repository: StateRepository, clock: ManualClock
) -> None:
    _lock(repository, "execution-1")
    clock.advance(LEASE - 10)
    _lock(repository, "execution-1")
    clock.advance(20)

    with pytest.raises(EnvironmentLockedError):
        _lock(repository, "execution-2")


def test_the_environment_lock_is_still_held_at_the_second_its_lease_ends(
    repository: StateRepository, clock: ManualClock
) -> None:
    _lock(repository, "execution-1")
    clock.advance(LEASE)

    with pytest.raises(EnvironmentLockedError):
        _lock(repository, "execution-2")


def test_an_expired_environment_lock_is_taken_over(repository: StateRepository, clock: ManualClock) -> None:
    _lock(repository, "execution-1")
    clock.advance(LEASE + 1)

    taken = _lock(repository, "execution-2")

    assert repository.environment_lock_holder(ENVIRONMENT) == taken


def test_the_owner_releases_the_environment_lock(repository: StateRepository) -> None:
    _lock(repository, "execution-1")

    assert repository.release_environment_lock(ENVIRONMENT, "execution-1") is True
    assert repository.environment_lock_holder(ENVIRONMENT) is None


def test_another_owner_cannot_release_the_environment_lock(repository: StateRepository) -> None:
    holder = _lock(repository, "execution-1")

    assert repository.release_environment_lock(ENVIRONMENT, "execution-2") is False
    assert repository.environment_lock_holder(ENVIRONMENT) == holder


def test_the_late_release_of_an_expired_holder_leaves_the_new_holder_in_place(
    repository: StateRepository, clock: ManualClock
) -> None:
    _lock(repository, "execution-1")
    clock.advance(LEASE + 1)
    taken = _lock(repository, "execution-2")

    assert repository.release_environment_lock(ENVIRONMENT, "execution-1") is False
    assert repository.environment_lock_holder(ENVIRONMENT) == taken


def test_a_free_environment_lock_has_no_holder(repository: StateRepository) -> None:
    assert repository.environment_lock_holder(ENVIRONMENT) is None


def test_an_expired_environment_lock_has_no_holder(repository: StateRepository, clock: ManualClock) -> None:
    _lock(repository, "execution-1")
    clock.advance(LEASE + 1)

    assert repository.environment_lock_holder(ENVIRONMENT) is None


def test_the_locks_of_different_environments_are_independent(repository: StateRepository) -> None:
    _lock(repository, "execution-1")

    assert _lock(repository, "execution-2", environment=OTHER_ENVIRONMENT).owner == "execution-2"


def test_the_lock_key_handed_to_state_machines_is_where_the_lock_lives(
    repository: StateRepository, dynamodb: Any
) -> None:
    _lock(repository, "execution-1")

    key = StateRepository.environment_lock_key(ENVIRONMENT)

    assert key == RecordKey(pk=f"env#{ENVIRONMENT}", sk="lock")
    assert _item(dynamodb, key.pk, key.sk)["owner"] == {"S": "execution-1"}


def test_a_lock_written_without_a_record_names_its_owner_and_unknown_for_the_rest(
    repository: StateRepository, dynamodb: Any, clock: ManualClock
) -> None:
    # Given a lock put by hand (or by an older stack): owner and expiry only
    expires = int(clock.now().timestamp()) + 60
    dynamodb.put_item(
        TableName=STATE_TABLE,
        Item={
            "pk": {"S": f"env#{ENVIRONMENT}"},
            "sk": {"S": "lock"},
            "owner": {"S": "operator"},
            "expires_at": {"N": str(expires)},
        },
    )

    holder = repository.environment_lock_holder(ENVIRONMENT)

    assert holder is not None
    assert (holder.owner, holder.flow, holder.purpose) == ("operator", "unknown", "unknown")
    assert int(holder.expires_at.timestamp()) == expires


# --------------------------------------------------------------------------- announced changes


def test_an_announced_change_is_listed_with_its_version_and_time(
    repository: StateRepository, clock: ManualClock
) -> None:
    repository.announce_change(ENVIRONMENT, f"{ENVIRONMENT}/plugins.zip", "v1", ttl_seconds=900)

    assert repository.announcements(ENVIRONMENT, max_age_seconds=900) == [
        Announcement(source=f"{ENVIRONMENT}/plugins.zip", version_id="v1", since=clock.now())
    ]


def test_an_announcement_expires_ttl_seconds_from_the_clock(
    repository: StateRepository, dynamodb: Any, clock: ManualClock
) -> None:
    repository.announce_change(ENVIRONMENT, f"{ENVIRONMENT}/plugins.zip", "v1", ttl_seconds=900)

    item = _item(dynamodb, f"change#{ENVIRONMENT}", f"announced#{ENVIRONMENT}/plugins.zip")
    assert int(item["expires_at"]["N"]) == int(clock.now().timestamp()) + 900


def test_an_announcement_older_than_the_maximum_age_is_not_listed(
    repository: StateRepository, clock: ManualClock
) -> None:
    # TTL deletion is lazy: the item may still be in the table, but it no longer counts.
    repository.announce_change(ENVIRONMENT, f"{ENVIRONMENT}/plugins.zip", "v1", ttl_seconds=900)
    clock.advance(900)

    assert repository.announcements(ENVIRONMENT, max_age_seconds=900) == []


def test_announcing_a_newer_version_of_a_source_replaces_the_announcement(repository: StateRepository) -> None:
    repository.announce_change(ENVIRONMENT, f"{ENVIRONMENT}/plugins.zip", "v1", ttl_seconds=900)
    repository.announce_change(ENVIRONMENT, f"{ENVIRONMENT}/plugins.zip", "v2", ttl_seconds=900)

    assert [a.version_id for a in repository.announcements(ENVIRONMENT, max_age_seconds=900)] == ["v2"]


def test_withdrawing_the_announced_version_removes_the_announcement(repository: StateRepository) -> None:
    repository.announce_change(ENVIRONMENT, f"{ENVIRONMENT}/plugins.zip", "v1", ttl_seconds=900)

    repository.withdraw_announcement(ENVIRONMENT, f"{ENVIRONMENT}/plugins.zip", "v1")

    assert repository.announcements(ENVIRONMENT, max_age_seconds=900) == []


def test_withdrawing_another_version_leaves_the_announcement_of_the_newer_upload(repository: StateRepository) -> None:
    repository.announce_change(ENVIRONMENT, f"{ENVIRONMENT}/plugins.zip", "v2", ttl_seconds=900)

    repository.withdraw_announcement(ENVIRONMENT, f"{ENVIRONMENT}/plugins.zip", "v1")

    assert [a.version_id for a in repository.announcements(ENVIRONMENT, max_age_seconds=900)] == ["v2"]


def test_announcements_of_another_environment_are_not_listed(repository: StateRepository) -> None:
    repository.announce_change(OTHER_ENVIRONMENT, f"{OTHER_ENVIRONMENT}/plugins.zip", "v1", ttl_seconds=900)

    assert repository.announcements(ENVIRONMENT, max_age_seconds=900) == []


# --------------------------------------------------------------------------- change requests


def test_a_change_request_is_recorded_pending_at_the_clocks_time(
    repository: StateRepository, clock: ManualClock
) -> None:
    request = _request(max_workers=12)

    stored = repository.add_change_request("request-1", request)

    assert (stored.request_id, stored.requested_at, stored.request, stored.outcome) == (
        "request-1",
        clock.now(),
        request,
        None,
    )
    assert repository.change_requests(ENVIRONMENT) == [stored]


def test_adding_a_request_again_under_the_same_id_keeps_the_first_record(
    repository: StateRepository, clock: ManualClock
) -> None:
    # A retried step records its request a second time.
    first = repository.add_change_request("request-1", _request(max_workers=12))
    clock.advance(30)

    again = repository.add_change_request("request-1", _request(max_workers=12))

    assert again == first
    assert repository.change_requests(ENVIRONMENT) == [first]


def test_change_requests_are_listed_in_the_order_they_were_made(
    repository: StateRepository, clock: ManualClock
) -> None:
    repository.add_change_request("request-b", _request(max_workers=12))
    clock.advance(0.5)
    repository.add_change_request("request-a", _request(max_workers=14))
    clock.advance(1)
    repository.add_change_request("request-0", _request(max_workers=16))

    assert [r.request_id for r in repository.change_requests(ENVIRONMENT)] == ["request-b", "request-a", "request-0"]


def test_a_resolved_request_is_no_longer_pending(repository: StateRepository) -> None:
    stored = repository.add_change_request("request-1", _request(max_workers=12))

    repository.resolve_change_request(
        stored, RequestOutcome(status="applied", change_id="change-1", detail="done"), ttl_seconds=60
    )

    assert repository.change_requests(ENVIRONMENT) == []


def test_a_resolved_request_is_listed_with_its_outcome_when_asked_for_all(repository: StateRepository) -> None:
    stored = repository.add_change_request("request-1", _request(max_workers=12))
    outcome = RequestOutcome(
        status="superseded",
        change_id="change-1",
        detail="done",
        superseded_fields=["max_workers"],
        superseded_by=["r2"],
    )

    repository.resolve_change_request(stored, outcome, ttl_seconds=60)

    assert repository.change_requests(ENVIRONMENT, pending_only=False) == [
        stored.model_copy(update={"outcome": outcome})
    ]


def test_a_resolved_request_expires_ttl_seconds_from_the_clock(
    repository: StateRepository, dynamodb: Any, clock: ManualClock
) -> None:
    stored = repository.add_change_request("request-1", _request(max_workers=12))
    clock.advance(10)

    repository.resolve_change_request(
        stored, RequestOutcome(status="applied", change_id="change-1", detail="done"), ttl_seconds=86400
    )

    item = _item(dynamodb, f"change#{ENVIRONMENT}", f"request#{stored.requested_at.isoformat()}#request-1")
    assert int(item["expires_at"]["N"]) == int(clock.now().timestamp()) + 86400


def test_one_request_is_found_by_its_id(repository: StateRepository) -> None:
    repository.add_change_request("request-1", _request(max_workers=12))
    second = repository.add_change_request("request-2", _request(max_workers=14))

    assert repository.change_request(ENVIRONMENT, "request-2") == second


def test_an_unknown_request_id_is_not_found(repository: StateRepository) -> None:
    assert repository.change_request(ENVIRONMENT, "request-1") is None


def test_requests_for_another_environment_are_not_listed(repository: StateRepository) -> None:
    repository.add_change_request("request-1", _request(environment_name=OTHER_ENVIRONMENT, max_workers=12))

    assert repository.change_requests(ENVIRONMENT) == []


def test_announcements_are_not_listed_as_change_requests(repository: StateRepository) -> None:
    # Both live in the change# partition.
    repository.announce_change(ENVIRONMENT, f"{ENVIRONMENT}/plugins.zip", "v1", ttl_seconds=900)

    assert repository.change_requests(ENVIRONMENT, pending_only=False) == []


# --------------------------------------------------------------------------- change history


def _record(change_id: str, clock: ManualClock, **fields: Any) -> ChangeRecord:
    return ChangeRecord(
        change_id=change_id,
        environment_name=ENVIRONMENT,
        status="updating",
        started_at=clock.now(),
        request_ids=["request-1"],
        changes=[FieldChange(field="max_workers", before=10, after=12)],
        **fields,
    )


def test_a_recorded_change_reads_back_from_the_history(repository: StateRepository, clock: ManualClock) -> None:
    record = _record(
        "change-1", clock, artifacts_after={"plugins": ArtifactVersion(s3_path="plugins.zip", version="p2")}
    )

    repository.record_change(record)

    assert repository.change_history(ENVIRONMENT) == [record]


def test_the_history_lists_changes_oldest_first(repository: StateRepository, clock: ManualClock) -> None:
    repository.record_change(_record("change-b", clock))
    clock.advance(3600)
    repository.record_change(_record("change-a", clock))

    assert [r.change_id for r in repository.change_history(ENVIRONMENT)] == ["change-b", "change-a"]


def test_the_history_since_a_moment_leaves_older_changes_out(repository: StateRepository, clock: ManualClock) -> None:
    repository.record_change(_record("change-old", clock))
    clock.advance(3600)
    since = clock.now()
    repository.record_change(_record("change-new", clock))

    assert [r.change_id for r in repository.change_history(ENVIRONMENT, since=since)] == ["change-new"]


def test_recording_the_same_change_again_replaces_it(repository: StateRepository, clock: ManualClock) -> None:
    # apply records the change as updating; its end records it again, finished.
    started = _record("change-1", clock)
    repository.record_change(started)
    clock.advance(1200)

    repository.record_change(started.model_copy(update={"status": "succeeded", "finished_at": clock.now()}))

    assert [(r.change_id, r.status) for r in repository.change_history(ENVIRONMENT)] == [("change-1", "succeeded")]


# --------------------------------------------------------------------------- known-good artifacts, plugin modules


def test_an_environment_without_known_good_artifacts_has_none(repository: StateRepository) -> None:
    assert repository.known_good(ENVIRONMENT) == KnownGood()


def test_known_good_artifacts_read_back_as_set(repository: StateRepository) -> None:
    known = KnownGood(
        artifacts={
            "requirements": ArtifactVersion(s3_path="requirements.txt", version="r1"),
            "plugins": ArtifactVersion(s3_path="plugins.zip", version="p1", modules=["operators"]),
        }
    )

    repository.set_known_good(ENVIRONMENT, known)

    assert repository.known_good(ENVIRONMENT) == known


def test_an_environment_without_recorded_plugins_has_no_plugin_modules(repository: StateRepository) -> None:
    assert repository.plugin_modules(ENVIRONMENT) == []


def test_plugin_modules_read_back_as_set(repository: StateRepository) -> None:
    repository.set_plugin_modules(ENVIRONMENT, ["operators", "hooks"])

    assert repository.plugin_modules(ENVIRONMENT) == ["operators", "hooks"]


# --------------------------------------------------------------------------- dag_id index


def test_indexing_a_file_records_the_dags_it_defines(repository: StateRepository) -> None:
    repository.index_dags(ENVIRONMENT, "etl.py", "v1", old=[], new=["etl_daily", "etl_hourly"])

    assert repository.dag_index(ENVIRONMENT) == {
        "etl_daily": DagIndexEntry(path="etl.py", version_id="v1"),
        "etl_hourly": DagIndexEntry(path="etl.py", version_id="v1"),
    }


def test_reindexing_a_file_removes_the_dags_it_no_longer_defines_and_adds_the_new_ones(
    repository: StateRepository,
) -> None:
    repository.index_dags(ENVIRONMENT, "etl.py", "v1", old=[], new=["etl_daily", "etl_hourly"])

    repository.index_dags(
        ENVIRONMENT, "etl.py", "v2", old=["etl_daily", "etl_hourly"], new=["etl_hourly", "etl_weekly"]
    )

    assert repository.dag_index(ENVIRONMENT) == {
        "etl_hourly": DagIndexEntry(path="etl.py", version_id="v2"),
        "etl_weekly": DagIndexEntry(path="etl.py", version_id="v2"),
    }


def test_reindexing_a_file_leaves_other_files_dags_alone(repository: StateRepository) -> None:
    repository.index_dags(ENVIRONMENT, "report.py", "v1", old=[], new=["report"])

    repository.index_dags(ENVIRONMENT, "etl.py", "v1", old=[], new=["etl"])

    assert set(repository.dag_index(ENVIRONMENT)) == {"report", "etl"}


def test_the_dag_index_is_per_environment(repository: StateRepository) -> None:
    repository.index_dags(OTHER_ENVIRONMENT, "etl.py", "v1", old=[], new=["etl"])

    assert repository.dag_index(ENVIRONMENT) == {}


# --------------------------------------------------------------------------- DynamoDB errors


@pytest.fixture
def stubbed() -> Iterator[tuple[StateRepository, Stubber]]:
    client = boto3.client("dynamodb", region_name=REGION)
    with Stubber(client) as stubber:
        yield StateRepository(client, STATE_TABLE, ManualClock()), stubber


THROTTLED = "ProvisionedThroughputExceededException"


def test_a_throttled_read_raises_throttled_error_naming_the_operation(stubbed: tuple[StateRepository, Stubber]) -> None:
    repository, stubber = stubbed
    stubber.add_client_error("get_item", service_error_code=THROTTLED)

    with pytest.raises(ThrottledError, match="DynamoDB GetItem"):
        repository.known_good(ENVIRONMENT)


def test_a_throttled_write_raises_throttled_error(stubbed: tuple[StateRepository, Stubber]) -> None:
    repository, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code=THROTTLED)

    with pytest.raises(ThrottledError, match="DynamoDB PutItem"):
        repository.set_plugin_modules(ENVIRONMENT, ["operators"])


def test_a_throttled_query_raises_throttled_error(stubbed: tuple[StateRepository, Stubber]) -> None:
    repository, stubber = stubbed
    stubber.add_client_error("query", service_error_code=THROTTLED)

    with pytest.raises(ThrottledError, match="DynamoDB Query"):
        repository.announcements(ENVIRONMENT, max_age_seconds=900)


def test_a_throttled_event_write_raises_rather_than_reading_as_a_duplicate(
    stubbed: tuple[StateRepository, Stubber],
) -> None:
    repository, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code=THROTTLED)

    with pytest.raises(ThrottledError):
        repository.advance_object_event(KEY, ObjectEvent(sequencer=NEWER, action="created"))


def test_a_throttled_lock_attempt_raises_rather_than_reading_as_locked(
    stubbed: tuple[StateRepository, Stubber],
) -> None:
    repository, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code=THROTTLED)

    with pytest.raises(ThrottledError):
        _lock(repository, "execution-1")


def test_a_throttled_release_raises_rather_than_reading_as_not_the_owner(
    stubbed: tuple[StateRepository, Stubber],
) -> None:
    repository, stubber = stubbed
    stubber.add_client_error("delete_item", service_error_code=THROTTLED)

    with pytest.raises(ThrottledError):
        repository.release_environment_lock(ENVIRONMENT, "execution-1")


def test_a_conditional_check_failure_is_not_translated(stubbed: tuple[StateRepository, Stubber]) -> None:
    repository, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code="ConditionalCheckFailedException")

    with pytest.raises(ClientError) as raised:
        repository.set_plugin_modules(ENVIRONMENT, ["operators"])

    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
