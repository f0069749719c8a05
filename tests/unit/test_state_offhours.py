"""Off-hours records in the state table: one per environment, written on its revision; the capacity history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.environments.offhours.capacity import Capacity, minimum_capacity
from mwaa_control_plane.environments.offhours.records import OffHoursRecord, resume_backoff
from mwaa_control_plane.environments.offhours.snapshot import SnapshotRef
from mwaa_control_plane.errors import OffHoursRecordConflictError
from mwaa_control_plane.state import StateRepository
from tests.unit.aws import ENVIRONMENT, REGION, STATE_TABLE, state_repository

SMALL = Capacity(
    environment_class="mw1.small", min_workers=2, max_workers=10, schedulers=3, min_webservers=2, max_webservers=4
)


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def repository(dynamodb: Any, clock: ManualClock) -> StateRepository:
    return state_repository(dynamodb, clock)


def _record(clock: ManualClock, environment: str = ENVIRONMENT, **fields: Any) -> OffHoursRecord:
    return OffHoursRecord(environment_name=environment, state="awake", since=clock.now(), **fields)


# -- the record ------------------------------------------------------------------------------------------------------


def test_an_environment_the_control_plane_never_acted_on_has_no_record(repository: StateRepository) -> None:
    assert repository.off_hours_record(ENVIRONMENT) is None


def test_a_new_record_is_stored_at_revision_one_and_reads_back(repository: StateRepository, clock: ManualClock) -> None:
    stored = repository.put_off_hours_record(_record(clock, capacity=SMALL, tags={"team": "data"}))

    assert stored.revision == 1
    assert repository.off_hours_record(ENVIRONMENT) == stored


def test_a_record_read_then_written_moves_to_the_next_revision(repository: StateRepository, clock: ManualClock) -> None:
    first = repository.put_off_hours_record(_record(clock))
    clock.advance(60)

    second = repository.put_off_hours_record(first.moved_to("scaled-down", clock.now(), capacity=SMALL))

    assert second.revision == 2
    assert repository.off_hours_record(ENVIRONMENT) == second


def test_a_write_from_a_stale_reading_loses_the_race_clearly(repository: StateRepository, clock: ManualClock) -> None:
    read = repository.put_off_hours_record(_record(clock))
    repository.put_off_hours_record(read.moved_to("hibernating", clock.now()))

    with pytest.raises(OffHoursRecordConflictError, match="changed since revision 1 was read: it is now revision 2"):
        repository.put_off_hours_record(read.moved_to("scaled-down", clock.now()))

    stored = repository.off_hours_record(ENVIRONMENT)
    assert stored is not None
    assert stored.state == "hibernating"


def test_two_first_writes_for_one_environment_cannot_both_win(repository: StateRepository, clock: ManualClock) -> None:
    repository.put_off_hours_record(_record(clock))

    with pytest.raises(OffHoursRecordConflictError):
        repository.put_off_hours_record(_record(clock).moved_to("hibernating", clock.now()))


def test_the_revision_is_a_top_level_attribute_the_condition_compares(
    repository: StateRepository, clock: ManualClock, dynamodb: Any
) -> None:
    repository.put_off_hours_record(_record(clock))

    item = dynamodb.get_item(TableName=STATE_TABLE, Key={"pk": {"S": "offhours"}, "sk": {"S": f"env#{ENVIRONMENT}"}})
    assert item["Item"]["revision"] == {"N": "1"}


def test_every_record_is_listed_including_hibernated_environments(
    repository: StateRepository, clock: ManualClock
) -> None:
    ref = SnapshotRef(
        environment_name="dev-b",
        bucket="snapshots",
        key="snapshots/dev-b/x.json",
        version_id="v1",
        sha256="a" * 64,
        taken_at=clock.now(),
    )
    repository.put_off_hours_record(_record(clock, "dev-a"))
    repository.put_off_hours_record(_record(clock, "dev-b").moved_to("hibernated", clock.now(), snapshot=ref))

    records = repository.off_hours_records()

    assert [(r.environment_name, r.state) for r in records] == [("dev-a", "awake"), ("dev-b", "hibernated")]
    assert records[1].snapshot == ref


def test_only_the_last_ten_create_durations_are_kept(clock: ManualClock) -> None:
    record = _record(clock)
    for minutes in range(1, 13):
        record = record.with_create_duration(timedelta(minutes=minutes))

    assert record.create_durations == [timedelta(minutes=m) for m in range(3, 13)]


def test_a_failed_resume_backs_off_longer_each_time_and_a_success_forgets_it(clock: ManualClock) -> None:
    now = clock.now()
    record = _record(clock).with_resume_failure("CREATE_FAILED: INCORRECT_CONFIGURATION", now)
    record = record.with_resume_failure("CREATE_FAILED: INCORRECT_CONFIGURATION", now)

    assert record.resume_failures == 2
    assert record.next_resume_attempt_at == now + timedelta(minutes=30)
    assert not record.resume_due(now + timedelta(minutes=29))
    assert record.resume_due(now + timedelta(minutes=30))
    cleared = record.with_create_duration(timedelta(minutes=25))
    assert (cleared.resume_failures, cleared.next_resume_attempt_at, cleared.last_error) == (0, None, None)


@pytest.mark.parametrize(
    ("failures", "backoff"),
    [
        (0, timedelta(0)),
        (1, timedelta(minutes=15)),
        (3, timedelta(hours=1)),
        (6, timedelta(hours=8)),
        (500, timedelta(hours=8)),
    ],
)
def test_the_resume_backoff_doubles_up_to_eight_hours(failures: int, backoff: timedelta) -> None:
    assert resume_backoff(failures) == backoff


# -- the capacity history --------------------------------------------------------------------------------------------


def test_without_a_recorded_capacity_there_is_nothing_to_restore(repository: StateRepository) -> None:
    assert repository.latest_capacity(ENVIRONMENT) is None


def test_the_latest_recorded_capacity_is_the_one_scale_up_restores(
    repository: StateRepository, clock: ManualClock
) -> None:
    repository.record_capacity(ENVIRONMENT, minimum_capacity("mw1.small"))
    clock.advance(86400)
    repository.record_capacity(ENVIRONMENT, SMALL)
    repository.record_capacity("other-env", minimum_capacity("mw1.micro"))

    assert repository.latest_capacity(ENVIRONMENT) == SMALL


def test_each_capacity_is_kept_as_its_own_version(
    repository: StateRepository, clock: ManualClock, dynamodb: Any
) -> None:
    repository.record_capacity(ENVIRONMENT, SMALL)
    clock.advance(60)
    repository.record_capacity(ENVIRONMENT, SMALL)

    items = dynamodb.query(
        TableName=STATE_TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"offhours#{ENVIRONMENT}"}},
    )["Items"]
    assert [i["sk"]["S"] for i in items] == [
        f"capacity#{datetime(2026, 1, 1, tzinfo=UTC).isoformat()}",
        f"capacity#{datetime(2026, 1, 1, 0, 1, tzinfo=UTC).isoformat()}",
    ]
