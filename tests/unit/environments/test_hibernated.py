"""The other flows while off-hours keeps an environment hibernated (deleted, its snapshot kept).

Delivery still finds the environment's bucket, environment-change pins requirements/plugins/startup
in the snapshot (and refuses anything else with the reason), health says "hibernated since X, back at
Y", and the account's listing keeps the environment. moto holds the state table, the snapshot bucket
and its KMS key; MWAA is the in-memory FakeMwaa, which no longer knows the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.environments.change import apply_to_snapshot, prepare, record_request
from mwaa_control_plane.environments.change_request import ArtifactVersion, ChangeRequest
from mwaa_control_plane.environments.description import HIBERNATED, describe_environment
from mwaa_control_plane.environments.health import check_environment_health
from mwaa_control_plane.environments.inventory import environment_names
from mwaa_control_plane.environments.offhours.airflow_state import AirflowState
from mwaa_control_plane.environments.offhours.records import OffHoursRecord
from mwaa_control_plane.environments.offhours.snapshot import EnvironmentSnapshot, SnapshotStore, create_arguments_from
from mwaa_control_plane.environments.offhours.tags import StackDefaults
from mwaa_control_plane.errors import ChangeRefusedError, NotFoundError
from mwaa_control_plane.state import StateRepository
from tests.unit.aws import ENVIRONMENT, REGION, FakeMwaa, create_versioned_bucket, environment, state_repository

SNAPSHOTS = "mwaa-cp-snapshots"
HIBERNATED_AT = datetime(2026, 1, 14, 20, 5, tzinfo=UTC)
TAGS = {"mwaa-cp:off-hours": "hibernate", "mwaa-cp:window": "Mon-Fri 20:00-07:00 / Sat-Sun", "team": "data"}


class NoAirflow:
    """The Airflow of a deleted environment: any question is a test failure."""

    def list_dags(self) -> list[Any]:
        raise AssertionError("a hibernated environment has no Airflow to ask")

    def list_import_errors(self) -> list[Any]:
        raise AssertionError("a hibernated environment has no Airflow to ask")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(HIBERNATED_AT + timedelta(hours=1))  # Wednesday 21:05 UTC: in the window


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def repository(aws: None, clock: ManualClock) -> StateRepository:
    return state_repository(boto3.client("dynamodb", region_name=REGION), clock)


@pytest.fixture
def store(aws: None) -> SnapshotStore:
    s3 = boto3.client("s3", region_name=REGION)
    create_versioned_bucket(s3, SNAPSHOTS)
    key_id = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]
    return SnapshotStore(s3, SNAPSHOTS, key_id)


@pytest.fixture
def mwaa() -> FakeMwaa:
    gone = FakeMwaa()
    gone.environments.clear()
    return gone


def _live_environment() -> dict[str, Any]:
    return environment(
        ExecutionRoleArn="arn:aws:iam::123456789012:role/service-role/AmazonMWAA-dev",
        NetworkConfiguration={"SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]},
        RequirementsS3Path="requirements.txt",
        RequirementsS3ObjectVersion="req-v1",
        Tags=TAGS,
    )


@pytest.fixture
def hibernated(repository: StateRepository, store: SnapshotStore) -> OffHoursRecord:
    live = _live_environment()
    snapshot = EnvironmentSnapshot(
        environment_name=ENVIRONMENT,
        taken_at=HIBERNATED_AT,
        create_arguments=create_arguments_from(live),
        airflow_state=AirflowState(airflow_version="2.10.3", captured_at=HIBERNATED_AT),
    )
    ref = store.save(snapshot)
    mwaa = FakeMwaa(live)
    target = describe_environment(mwaa, ENVIRONMENT)  # type: ignore[arg-type]  # the fake has what it calls
    record = OffHoursRecord(
        environment_name=ENVIRONMENT, state="hibernated", since=HIBERNATED_AT, snapshot=ref, tags=TAGS, target=target
    )
    return repository.put_off_hours_record(record)


def _request(**fields: Any) -> ChangeRequest:
    return ChangeRequest(environment_name=ENVIRONMENT, reason="test", settle_seconds=0, **fields)


REQUIREMENTS_V2 = ArtifactVersion(s3_path="requirements.txt", version="req-v2")


def test_delivery_describes_a_hibernated_environment_from_its_record(
    mwaa: FakeMwaa, repository: StateRepository, hibernated: OffHoursRecord
) -> None:
    target = describe_environment(mwaa, ENVIRONMENT, repository=repository)  # type: ignore[arg-type]

    assert (target.status, target.source_bucket, target.dag_s3_path) == (HIBERNATED, "airflow-dev", "dags")


def test_an_environment_that_is_neither_listed_nor_hibernated_is_still_not_found(
    mwaa: FakeMwaa, repository: StateRepository
) -> None:
    with pytest.raises(NotFoundError):
        describe_environment(mwaa, ENVIRONMENT, repository=repository)  # type: ignore[arg-type]


def test_a_requirements_change_for_a_hibernated_environment_is_recorded(
    mwaa: FakeMwaa, repository: StateRepository, hibernated: OffHoursRecord
) -> None:
    record_request(mwaa, repository, _request(requirements=REQUIREMENTS_V2), "r1", max_workers_quota=25)  # type: ignore[arg-type]

    assert [r.request_id for r in repository.change_requests(ENVIRONMENT)] == ["r1"]


def test_a_capacity_change_for_a_hibernated_environment_is_refused_with_the_reason(
    mwaa: FakeMwaa, repository: StateRepository, hibernated: OffHoursRecord
) -> None:
    with pytest.raises(ChangeRefusedError, match=r"hibernated .* ask for max_workers once it is awake"):
        record_request(mwaa, repository, _request(max_workers=4), "r1", max_workers_quota=25)  # type: ignore[arg-type]

    assert repository.change_requests(ENVIRONMENT) == []


def test_a_change_for_an_unknown_environment_is_not_found(mwaa: FakeMwaa, repository: StateRepository) -> None:
    with pytest.raises(NotFoundError):
        record_request(mwaa, repository, _request(requirements=REQUIREMENTS_V2), "r1", max_workers_quota=25)  # type: ignore[arg-type]


def test_the_lock_holder_of_a_hibernated_environment_is_sent_to_the_snapshot(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock, hibernated: OffHoursRecord
) -> None:
    record_request(mwaa, repository, _request(requirements=REQUIREMENTS_V2), "r1", max_workers_quota=25)  # type: ignore[arg-type]

    readiness = prepare(mwaa, repository, ENVIRONMENT, "r1", clock.now())  # type: ignore[arg-type]

    assert readiness.state == "hibernated"


def test_pinning_puts_the_new_version_in_the_snapshot_the_resume_creates_from(
    mwaa: FakeMwaa, repository: StateRepository, store: SnapshotStore, hibernated: OffHoursRecord
) -> None:
    record_request(mwaa, repository, _request(requirements=REQUIREMENTS_V2), "r1", max_workers_quota=25)  # type: ignore[arg-type]

    result = apply_to_snapshot(repository, store, ENVIRONMENT, "change-1", owner="execution-1")

    after = repository.off_hours_record(ENVIRONMENT)
    assert after is not None and after.snapshot is not None and hibernated.snapshot is not None
    assert after.snapshot.version_id != hibernated.snapshot.version_id
    arguments = store.verify(after.snapshot).create_arguments
    assert (arguments["RequirementsS3Path"], arguments["RequirementsS3ObjectVersion"]) == ("requirements.txt", "req-v2")
    assert after.target is not None and after.target.requirements_version == "req-v2"
    assert result.status == "succeeded" and "pinned in its snapshot" in result.notification
    outcome = repository.change_request(ENVIRONMENT, "r1")
    assert outcome is not None and outcome.outcome is not None and outcome.outcome.status == "applied"


def test_a_capacity_request_recorded_before_the_hibernate_is_refused_when_the_snapshot_is_pinned(
    mwaa: FakeMwaa,
    repository: StateRepository,
    store: SnapshotStore,
    clock: ManualClock,
    hibernated: OffHoursRecord,
) -> None:
    repository.add_change_request("early", _request(max_workers=4))
    record_request(mwaa, repository, _request(requirements=REQUIREMENTS_V2), "r1", max_workers_quota=25)  # type: ignore[arg-type]

    result = apply_to_snapshot(repository, store, ENVIRONMENT, "change-1", owner="execution-1")

    early = repository.change_request(ENVIRONMENT, "early")
    assert early is not None and early.outcome is not None and early.outcome.status == "refused"
    assert "ask again once it is awake" in result.notification


def test_health_reports_a_hibernated_environment_with_when_it_comes_back(
    mwaa: FakeMwaa, repository: StateRepository, hibernated: OffHoursRecord
) -> None:
    report = check_environment_health(
        mwaa,  # type: ignore[arg-type]
        NoAirflow(),  # type: ignore[arg-type]
        ENVIRONMENT,
        repository=repository,
        stack=StackDefaults(),
    )

    # Wednesday's night ends Thursday 07:00 UTC; the resume starts the default 40 minutes earlier.
    assert report.status == HIBERNATED and report.healthy
    assert report.back_at == datetime(2026, 1, 15, 6, 20, tzinfo=UTC)
    assert report.detail == "hibernated since 2026-01-14 20:05 UTC, back at 2026-01-15 06:20 UTC"


def test_health_still_reports_an_unknown_environment_as_not_found(mwaa: FakeMwaa, repository: StateRepository) -> None:
    with pytest.raises(NotFoundError):
        check_environment_health(mwaa, NoAirflow(), ENVIRONMENT, repository=repository)  # type: ignore[arg-type]


class ListingMwaa:
    """ListEnvironments' paginator over fixed pages."""

    def __init__(self, *pages: list[str]) -> None:
        self.pages = pages

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_environments"
        pages = [{"Environments": page} for page in self.pages]
        return type("Paginator", (), {"paginate": lambda _self: iter(pages)})()


def test_the_account_listing_keeps_hibernated_environments_and_reads_every_page(
    repository: StateRepository, hibernated: OffHoursRecord
) -> None:
    mwaa = ListingMwaa([f"env-{n:02}" for n in range(25)], ["prod"])

    names = environment_names(mwaa, repository)  # type: ignore[arg-type]

    assert len(names) == 27 and ENVIRONMENT in names and "prod" in names
