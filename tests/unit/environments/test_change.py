"""The environment-change flow's steps: record, prepare, apply, then record the success or restore after a failure.

moto's DynamoDB holds the state table and moto's S3 the environment's versioned source bucket;
MWAA is the in-memory FakeMwaa of tests/unit/aws.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.environments.change import (
    BUSY_LIMIT_SECONDS,
    SETTLE_LIMIT_SECONDS,
    Readiness,
    apply,
    prepare,
    record_request,
    record_success,
    restore_after_failure,
    withdraw_request,
)
from mwaa_control_plane.environments.change_records import ChangeRecord, FieldChange, RequestOutcome, StoredRequest
from mwaa_control_plane.environments.change_request import (
    AnnouncementRef,
    ArtifactVersion,
    ChangeRequest,
    RequestedBy,
    fingerprint,
)
from mwaa_control_plane.errors import (
    ChangeRefusedError,
    EnvironmentBusyError,
    EnvironmentLockedError,
    EnvironmentStateError,
    ServiceUnavailableError,
    ThrottledError,
)
from mwaa_control_plane.objects import current_version
from mwaa_control_plane.state import ANNOUNCEMENT_TTL_SECONDS as ANNOUNCEMENT_SECONDS
from mwaa_control_plane.state import PENDING_TTL_SECONDS, RecordKey, StateRepository
from tests.unit.aws import (
    ENVIRONMENT,
    REGION,
    SOURCE_BUCKET,
    FakeMwaa,
    body_of,
    client_error,
    create_versioned_bucket,
    environment,
    put,
    state_repository,
)

QUOTA = 25
PLUGINS_SOURCE = f"{ENVIRONMENT}/plugins.zip"
SECRET = "password=hunter2-of-the-metastore"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def repository(aws: None, clock: ManualClock) -> StateRepository:
    return state_repository(boto3.client("dynamodb", region_name=REGION), clock)


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    create_versioned_bucket(client, SOURCE_BUCKET)
    return client


@pytest.fixture
def mwaa() -> FakeMwaa:
    return FakeMwaa(environment())


def _request(**fields: Any) -> ChangeRequest:
    return ChangeRequest.model_validate({"environment_name": ENVIRONMENT, "reason": "more room", **fields})


def _pending(repository: StateRepository, clock: ManualClock, request_id: str, **fields: Any) -> StoredRequest:
    """A request recorded as pending; the clock then moves on, so requests keep the order they were made in."""
    stored = repository.add_change_request(request_id, _request(**fields))
    clock.advance(1)
    return stored


def _record(mwaa: FakeMwaa, repository: StateRepository, request: ChangeRequest, request_id: str = "request-1") -> Any:
    return record_request(mwaa, repository, request, request_id, max_workers_quota=QUOTA)  # type: ignore[arg-type]


def _prepare(mwaa: FakeMwaa, repository: StateRepository, *, waited: float = 0, request_id: str = "r1") -> Readiness:
    since = repository.clock.now() - timedelta(seconds=waited)
    return prepare(mwaa, repository, ENVIRONMENT, request_id, since)  # type: ignore[arg-type]


APPLIER = "arn:aws:states:us-east-1:123456789012:execution:environment-change:change-1"


def _apply(mwaa: FakeMwaa, repository: StateRepository, change_id: str = "change-1") -> ChangeRecord:
    return apply(mwaa, repository, ENVIRONMENT, change_id, owner=APPLIER, max_workers_quota=QUOTA)  # type: ignore[arg-type]


def test_apply_sends_nothing_when_the_lock_is_no_longer_this_executions(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    # Given a pending request, and the lock held by another flow (this execution's lease ran out and was taken)
    _pending(repository, clock, "r1", max_workers=15)
    other = "arn:aws:states:us-east-1:123456789012:execution:off-hours:hibernate"
    repository.acquire_environment_lock(
        ENVIRONMENT, owner=other, flow="off-hours", purpose="hibernate", lease_seconds=600
    )
    # When the apply step runs, Then it refuses and MWAA is never asked
    with pytest.raises(EnvironmentLockedError, match="off-hours"):
        _apply(mwaa, repository)
    assert mwaa.updates == []


def test_apply_renews_the_lease_for_the_whole_update(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    repository.acquire_environment_lock(
        ENVIRONMENT, owner=APPLIER, flow="environment-change", purpose="x", lease_seconds=600
    )
    _pending(repository, clock, "r1", max_workers=15)
    clock.advance(500)
    _apply(mwaa, repository)
    holder = repository.environment_lock_holder(ENVIRONMENT)
    assert holder is not None and holder.owner == APPLIER
    assert (holder.expires_at - clock.now()).total_seconds() >= 3 * 3600


def _outcomes(repository: StateRepository) -> dict[str, str]:
    return {
        r.request_id: r.outcome.status if r.outcome else "pending"
        for r in repository.change_requests(ENVIRONMENT, pending_only=False)
    }


def _fail(mwaa: FakeMwaa, code: str = "PLUGINS_IMPORT_FAILED", message: str = "No module named 'shout'") -> None:
    """MWAA rolled the update back."""
    mwaa[ENVIRONMENT].update(
        Status="UPDATE_FAILED", LastUpdate={"Status": "FAILED", "Error": {"ErrorCode": code, "ErrorMessage": message}}
    )


# =========================================================================== the ChangeRequest model


def test_a_request_with_an_unknown_field_is_refused_by_the_model() -> None:
    with pytest.raises(ValidationError, match="max_worker"):
        _request(max_worker=12)


@pytest.mark.parametrize("key", ["Core.Parallelism", "core parallelism", "core.", "1core.parallelism"])
def test_a_configuration_key_outside_mwaas_pattern_is_refused(key: str) -> None:
    with pytest.raises(ValidationError):
        _request(airflow_configuration_options={"set": {key: "16"}})


def test_an_option_both_set_and_removed_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"both set and removed: core\.parallelism"):
        _request(airflow_configuration_options={"set": {"core.parallelism": "16"}, "remove": ["core.parallelism"]})


def test_a_configuration_change_that_sets_and_removes_nothing_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least one option"):
        _request(airflow_configuration_options={})


def test_the_requested_fields_are_the_fields_set_with_one_field_per_configuration_option() -> None:
    requirements = ArtifactVersion(s3_path="requirements.txt", version="r2")
    request = _request(
        requirements=requirements,
        max_workers=12,
        airflow_configuration_options={"set": {"core.parallelism": "64"}, "remove": ["celery.worker_autoscale"]},
        reason="tune",
    )

    assert request.requested_fields() == {
        "requirements": requirements,
        "max_workers": 12,
        "airflow_configuration_options.core.parallelism": "64",
        "airflow_configuration_options.celery.worker_autoscale": None,
    }


def test_the_fields_fixed_at_creation_are_not_requested_fields() -> None:
    # They are in the schema only to be refused with a reason; record_request checks them separately.
    assert _request(kms_key="alias/mwaa").requested_fields() == {}


# =========================================================================== record_request


def test_two_schedulers_on_mw1_micro_are_refused(repository: StateRepository) -> None:
    micro = FakeMwaa(
        environment(
            EnvironmentClass="mw1.micro", MinWorkers=1, MaxWorkers=1, Schedulers=1, MinWebservers=1, MaxWebservers=1
        )
    )

    with pytest.raises(ChangeRefusedError, match=r"mw1\.micro allows exactly 1 schedulers, not 2"):
        _record(micro, repository, _request(schedulers=2))


def test_a_class_change_to_mw1_micro_without_its_fixed_counts_is_refused(
    mwaa: FakeMwaa, repository: StateRepository
) -> None:
    with pytest.raises(ChangeRefusedError, match=r"mw1\.micro allows exactly 1"):
        _record(mwaa, repository, _request(environment_class="mw1.micro"))


def test_max_workers_above_the_quota_is_refused(mwaa: FakeMwaa, repository: StateRepository) -> None:
    with pytest.raises(ChangeRefusedError, match=f"allows 1 to {QUOTA} workers, not {QUOTA + 1}"):
        _record(mwaa, repository, _request(max_workers=QUOTA + 1))


def test_min_workers_above_the_environments_max_workers_is_refused(mwaa: FakeMwaa, repository: StateRepository) -> None:
    with pytest.raises(ChangeRefusedError, match=r"min_workers \(12\) is greater than max_workers \(10\)"):
        _record(mwaa, repository, _request(min_workers=12))


@pytest.mark.parametrize(
    "fields",
    [{"subnet_ids": ["subnet-1", "subnet-2"]}, {"kms_key": "alias/mwaa"}, {"endpoint_management": "CUSTOMER"}],
)
def test_a_field_fixed_at_creation_is_refused_with_the_reason(
    mwaa: FakeMwaa, repository: StateRepository, fields: dict[str, Any]
) -> None:
    with pytest.raises(ChangeRefusedError, match="cannot be changed after the environment was created"):
        _record(mwaa, repository, _request(**fields))


def test_a_request_that_changes_nothing_is_refused(mwaa: FakeMwaa, repository: StateRepository) -> None:
    with pytest.raises(ChangeRefusedError, match="changes nothing"):
        _record(mwaa, repository, _request())


def test_a_refused_request_is_not_recorded(mwaa: FakeMwaa, repository: StateRepository) -> None:
    with pytest.raises(ChangeRefusedError):
        _record(mwaa, repository, _request(max_workers=QUOTA + 1))

    assert repository.change_requests(ENVIRONMENT, pending_only=False) == []


def test_a_valid_request_is_recorded_pending_and_the_lock_key_is_returned(
    mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _request(max_workers=12)

    recorded = _record(mwaa, repository, request, "request-1")

    assert recorded.lock == RecordKey(pk=f"env#{ENVIRONMENT}", sk="lock")
    assert [(r.request_id, r.request, r.outcome) for r in repository.change_requests(ENVIRONMENT)] == [
        ("request-1", request, None)
    ]


def test_recording_a_request_withdraws_the_announcement_it_fulfils(mwaa: FakeMwaa, repository: StateRepository) -> None:
    repository.announce_change(ENVIRONMENT, PLUGINS_SOURCE, "p2", ttl_seconds=ANNOUNCEMENT_SECONDS)

    _record(
        mwaa,
        repository,
        _request(
            plugins=ArtifactVersion(s3_path="plugins.zip", version="m2"),
            fulfils=AnnouncementRef(source=PLUGINS_SOURCE, version_id="p2"),
        ),
    )

    assert repository.announcements(ENVIRONMENT, max_age_seconds=ANNOUNCEMENT_SECONDS) == []


def test_a_refused_request_releases_the_announcement_it_would_have_fulfilled(
    mwaa: FakeMwaa, repository: StateRepository
) -> None:
    # Given an announced plugins.zip whose change request MWAA would refuse (with a capacity field it sets)
    repository.announce_change(ENVIRONMENT, PLUGINS_SOURCE, "p2", ttl_seconds=ANNOUNCEMENT_SECONDS)
    request = _request(
        plugins=ArtifactVersion(s3_path="plugins.zip", version="m2"),
        schedulers=1,  # mw1.small runs 2 to 5
        fulfils=AnnouncementRef(source=PLUGINS_SOURCE, version_id="p2"),
    )
    # When it is refused
    with pytest.raises(ChangeRefusedError):
        _record(mwaa, repository, request)
    # Then it no longer holds the environment's other updates back
    assert repository.announcements(ENVIRONMENT, max_age_seconds=ANNOUNCEMENT_SECONDS) == []


def test_an_environment_already_above_the_quota_still_takes_a_requirements_update(repository: StateRepository) -> None:
    above_quota = FakeMwaa(environment(MaxWorkers=QUOTA + 5))
    request = _request(requirements=ArtifactVersion(s3_path="requirements.txt", version="r2"))
    recorded = _record(above_quota, repository, request)
    assert [r.request_id for r in repository.change_requests(ENVIRONMENT)] == [recorded.request_id]


def test_the_announcement_stays_when_the_request_could_not_be_recorded(
    mwaa: FakeMwaa, repository: StateRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Until the request is recorded, the announcement is what keeps a lock holder from applying without it.
    repository.announce_change(ENVIRONMENT, PLUGINS_SOURCE, "p2", ttl_seconds=ANNOUNCEMENT_SECONDS)

    def throttled(*_: Any, **__: Any) -> None:
        raise ThrottledError("DynamoDB PutItem: ProvisionedThroughputExceededException")

    monkeypatch.setattr(repository, "add_change_request", throttled)

    with pytest.raises(ThrottledError):
        _record(
            mwaa,
            repository,
            _request(
                plugins=ArtifactVersion(s3_path="plugins.zip", version="m2"),
                fulfils=AnnouncementRef(source=PLUGINS_SOURCE, version_id="p2"),
            ),
        )

    assert [a.version_id for a in repository.announcements(ENVIRONMENT, max_age_seconds=ANNOUNCEMENT_SECONDS)] == ["p2"]


# =========================================================================== prepare


def test_a_request_that_already_has_an_outcome_is_resolved(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    # Another execution applied it while this one waited for the lock.
    stored = _pending(repository, clock, "r1", max_workers=12)
    outcome = RequestOutcome(status="applied", change_id="change-0", detail="change change-0 succeeded")
    repository.resolve_change_request(stored, outcome, ttl_seconds=60)

    readiness = _prepare(mwaa, repository)

    assert (readiness.state, readiness.outcome) == ("resolved", outcome)


def test_the_lock_holder_waits_while_the_newest_request_is_younger_than_the_settle_time(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    repository.add_change_request("r1", _request(max_workers=12, settle_seconds=60))
    clock.advance(10)

    assert _prepare(mwaa, repository) == Readiness(state="wait", wait_seconds=51, reason="letting the requests settle")


def test_a_later_request_restarts_the_settle_time(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    repository.add_change_request("r1", _request(max_workers=12, settle_seconds=60))
    clock.advance(50)
    repository.add_change_request("r2", _request(min_workers=2, settle_seconds=60))
    clock.advance(20)

    assert _prepare(mwaa, repository).wait_seconds == 41


def test_the_lock_holder_is_ready_once_the_requests_have_settled(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    repository.add_change_request("r1", _request(max_workers=12, settle_seconds=60))
    clock.advance(60)

    assert _prepare(mwaa, repository).state == "ready"


def test_settling_stops_after_the_settle_limit_even_while_requests_keep_coming(
    mwaa: FakeMwaa, repository: StateRepository
) -> None:
    repository.add_change_request("r1", _request(max_workers=12, settle_seconds=60))

    assert _prepare(mwaa, repository, waited=SETTLE_LIMIT_SECONDS).state == "ready"


def test_the_lock_holder_waits_while_a_change_is_announced(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12, settle_seconds=0)
    repository.announce_change(ENVIRONMENT, PLUGINS_SOURCE, "p2", ttl_seconds=ANNOUNCEMENT_SECONDS)

    readiness = _prepare(mwaa, repository)

    assert (readiness.state, readiness.reason) == ("wait", f"waiting for announced changes: {PLUGINS_SOURCE}")


def test_an_announcement_older_than_its_lifetime_no_longer_holds_the_update_back(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    repository.announce_change(ENVIRONMENT, PLUGINS_SOURCE, "p2", ttl_seconds=ANNOUNCEMENT_SECONDS)
    clock.advance(ANNOUNCEMENT_SECONDS)
    _pending(repository, clock, "r1", max_workers=12, settle_seconds=0)

    assert _prepare(mwaa, repository).state == "ready"


@pytest.mark.parametrize("status", ["AVAILABLE", "UPDATE_FAILED"])
def test_the_lock_holder_is_ready_when_the_environment_accepts_updates(
    repository: StateRepository, clock: ManualClock, status: str
) -> None:
    _pending(repository, clock, "r1", max_workers=12, settle_seconds=0)

    readiness = _prepare(FakeMwaa(environment(Status=status)), repository)

    assert (readiness.state, readiness.reason) == ("ready", f"{ENVIRONMENT} is {status}")


def test_the_lock_holder_waits_while_the_environment_is_updating(
    repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12, settle_seconds=0)

    readiness = _prepare(FakeMwaa(environment(Status="UPDATING")), repository)

    assert (readiness.state, readiness.wait_seconds) == ("wait", 60)


@pytest.mark.parametrize("status", ["DELETED", "CREATE_FAILED"])
def test_an_environment_that_can_never_be_updated_is_an_environment_state_error(
    repository: StateRepository, clock: ManualClock, status: str
) -> None:
    _pending(repository, clock, "r1", max_workers=12, settle_seconds=0)

    with pytest.raises(EnvironmentStateError, match=status):
        _prepare(FakeMwaa(environment(Status=status)), repository)


def test_an_environment_busy_past_the_bound_is_an_environment_busy_error(
    repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12, settle_seconds=0)

    with pytest.raises(EnvironmentBusyError, match="stayed UPDATING"):
        _prepare(FakeMwaa(environment(Status="UPDATING")), repository, waited=BUSY_LIMIT_SECONDS + SETTLE_LIMIT_SECONDS)


def test_an_environment_busy_just_within_the_bound_is_still_waited_for(
    repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12, settle_seconds=0)

    readiness = _prepare(
        FakeMwaa(environment(Status="UPDATING")), repository, waited=BUSY_LIMIT_SECONDS + SETTLE_LIMIT_SECONDS - 1
    )

    assert readiness.state == "wait"


# =========================================================================== apply


def test_two_pending_requests_are_applied_in_one_update(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12)
    _pending(repository, clock, "r2", requirements={"s3_path": "requirements.txt", "version": "req-2"})

    _apply(mwaa, repository)

    assert mwaa.updates == [
        {
            "Name": ENVIRONMENT,
            "MaxWorkers": 12,
            "RequirementsS3Path": "requirements.txt",
            "RequirementsS3ObjectVersion": "req-2",
        }
    ]


def test_the_record_of_an_update_names_every_request_and_its_reason(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12, reason="month-end load")
    _pending(repository, clock, "r2", min_workers=2, reason="keep one warm", requested_by={"flow": "capacity"})

    record = _apply(mwaa, repository)

    assert (record.status, record.request_ids, record.reasons) == (
        "updating",
        ["r1", "r2"],
        ["month-end load", "keep one warm"],
    )
    assert [r.flow for r in record.requested_by] == ["console", "capacity"]


def test_a_later_request_for_the_same_field_supersedes_the_earlier_one(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12)
    _pending(repository, clock, "r2", max_workers=15)

    _apply(mwaa, repository)

    assert mwaa.updates == [{"Name": ENVIRONMENT, "MaxWorkers": 15}]


def test_the_record_names_the_superseded_request_and_what_superseded_it(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(
        repository, clock, "r1", max_workers=12, min_workers=2, requested_by={"flow": "capacity", "execution": "e1"}
    )
    _pending(repository, clock, "r2", max_workers=15)

    record = _apply(mwaa, repository)

    assert [(s.request_id, s.requested_by.execution, s.fields, s.by) for s in record.superseded] == [
        ("r1", "e1", ["max_workers"], ["r2"])
    ]


def test_requests_for_different_configuration_options_do_not_supersede_each_other(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", airflow_configuration_options={"set": {"core.parallelism": "64"}})
    _pending(repository, clock, "r2", airflow_configuration_options={"set": {"core.dag_concurrency": "16"}})

    assert _apply(mwaa, repository).superseded == []


def test_only_the_fields_that_differ_from_the_environment_are_sent(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    # The environment already runs MaxWorkers 10 and two schedulers.
    _pending(repository, clock, "r1", max_workers=10, min_workers=2, schedulers=2)

    record = _apply(mwaa, repository)

    assert mwaa.updates == [{"Name": ENVIRONMENT, "MinWorkers": 2}]
    assert record.changes == [FieldChange(field="min_workers", before=1, after=2)]


def test_an_artifact_version_already_running_is_not_sent(repository: StateRepository, clock: ManualClock) -> None:
    mwaa = FakeMwaa(environment(RequirementsS3Path="requirements.txt", RequirementsS3ObjectVersion="req-1"))
    _pending(repository, clock, "r1", requirements={"s3_path": "requirements.txt", "version": "req-1"}, max_workers=12)

    _apply(mwaa, repository)

    assert mwaa.updates == [{"Name": ENVIRONMENT, "MaxWorkers": 12}]


def test_when_nothing_differs_no_update_is_made_and_the_change_is_unchanged(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=10)

    record = _apply(mwaa, repository)

    assert (record.status, mwaa.updates) == ("unchanged", [])


def test_requests_whose_values_are_already_in_effect_are_resolved_unchanged(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=10)

    _apply(mwaa, repository)

    assert _outcomes(repository) == {"r1": "unchanged"}


def test_applying_with_nothing_pending_makes_no_update(mwaa: FakeMwaa, repository: StateRepository) -> None:
    record = _apply(mwaa, repository)

    assert (record.status, mwaa.updates) == ("nothing_pending", [])


def test_an_environment_that_left_available_before_the_update_is_busy(
    repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12)

    with pytest.raises(EnvironmentBusyError):
        _apply(FakeMwaa(environment(Status="UPDATING")), repository)


def test_an_update_in_flight_is_recorded_and_its_requests_stay_pending_until_it_ends(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12)

    record = _apply(mwaa, repository)

    assert repository.change_history(ENVIRONMENT) == [record]
    assert _outcomes(repository) == {"r1": "pending"}


def test_configuration_options_are_sent_as_the_whole_map_with_set_and_remove_applied(
    repository: StateRepository, clock: ManualClock
) -> None:
    # UpdateEnvironment replaces the whole map: options nobody asked about must be sent as they are.
    options = {"core.default_timezone": "utc", "celery.worker_autoscale": "5,5"}
    mwaa = FakeMwaa(environment(AirflowConfigurationOptions=options))
    _pending(repository, clock, "r1", airflow_configuration_options={"set": {"core.dag_concurrency": "16"}})
    _pending(repository, clock, "r2", airflow_configuration_options={"remove": ["celery.worker_autoscale"]})

    _apply(mwaa, repository)

    assert mwaa.updates == [
        {
            "Name": ENVIRONMENT,
            "AirflowConfigurationOptions": {"core.default_timezone": "utc", "core.dag_concurrency": "16"},
        }
    ]


def test_configuration_values_appear_in_the_record_as_fingerprints(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", airflow_configuration_options={"set": {"secrets.backend_kwargs": SECRET}})

    record = _apply(mwaa, repository)

    assert record.changes == [
        FieldChange(
            field="airflow_configuration_options.secrets.backend_kwargs", before=None, after=fingerprint(SECRET)
        )
    ]


def test_a_configuration_value_never_reaches_the_change_history(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", airflow_configuration_options={"set": {"secrets.backend_kwargs": SECRET}})

    record_success(repository, _apply(mwaa, repository))

    assert SECRET not in "".join(r.model_dump_json() for r in repository.change_history(ENVIRONMENT))


def test_options_are_not_changed_when_a_current_value_looks_masked(
    repository: StateRepository, clock: ManualClock
) -> None:
    # Writing "***" back would replace the real value: the change is refused, not sent.
    mwaa = FakeMwaa(environment(AirflowConfigurationOptions={"secrets.backend_kwargs": "***"}))
    _pending(repository, clock, "r1", airflow_configuration_options={"set": {"core.dag_concurrency": "16"}})

    record = _apply(mwaa, repository)

    assert (record.status, mwaa.updates) == ("refused", [])
    assert "secrets.backend_kwargs" in record.detail


def test_a_validation_error_from_an_environment_that_became_updating_is_busy(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    # Another update started between GetEnvironment and UpdateEnvironment: the change waits, it is not refused.
    _pending(repository, clock, "r1", max_workers=12)
    mwaa.refusal = client_error("ValidationException", "Environment is not in a valid state")
    mwaa.status_after_refusal = "UPDATING"

    with pytest.raises(EnvironmentBusyError, match="UPDATING"):
        _apply(mwaa, repository)
    assert _outcomes(repository) == {"r1": "pending"}


def test_a_validation_error_from_an_environment_still_available_refuses_the_change(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12)
    mwaa.refusal = client_error("ValidationException", "MaxWorkers exceeds the account quota")

    record = _apply(mwaa, repository)

    assert (record.status, record.detail) == (
        "refused",
        "MWAA refused the change: MaxWorkers exceeds the account quota",
    )


def test_every_request_of_a_change_mwaa_refused_is_resolved_refused(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12)
    _pending(repository, clock, "r2", min_workers=2)
    mwaa.refusal = client_error("ValidationException", "MaxWorkers exceeds the account quota")

    _apply(mwaa, repository)

    assert _outcomes(repository) == {"r1": "refused", "r2": "refused"}


def test_a_throttled_update_is_a_throttled_error(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12)
    mwaa.refusal = client_error("ThrottlingException", "Rate exceeded")

    with pytest.raises(ThrottledError):
        _apply(mwaa, repository)


def test_the_worker_replacement_strategy_is_passed_through(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12, worker_replacement_strategy="GRACEFUL")

    _apply(mwaa, repository)

    assert mwaa.updates[0]["WorkerReplacementStrategy"] == "GRACEFUL"


# =========================================================================== record_success


PLUGINS = {"s3_path": "plugins.zip", "version": "m2", "modules": ["operators", "hooks"]}


def test_a_successful_update_makes_its_artifacts_the_known_good_ones(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", requirements={"s3_path": "requirements.txt", "version": "req-2"})

    record_success(repository, _apply(mwaa, repository))

    assert repository.known_good(ENVIRONMENT).artifacts == {
        "requirements": ArtifactVersion(s3_path="requirements.txt", version="req-2")
    }


def test_a_successful_update_keeps_the_known_good_artifacts_it_did_not_change(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", requirements={"s3_path": "requirements.txt", "version": "req-2"})
    record_success(repository, _apply(mwaa, repository, "change-1"))
    mwaa[ENVIRONMENT]["Status"] = "AVAILABLE"
    _pending(repository, clock, "r2", plugins=PLUGINS)

    record_success(repository, _apply(mwaa, repository, "change-2"))

    assert set(repository.known_good(ENVIRONMENT).artifacts) == {"requirements", "plugins"}


def test_a_successful_plugins_update_records_the_modules_it_makes_importable(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", plugins=PLUGINS)

    record_success(repository, _apply(mwaa, repository))

    assert repository.plugin_modules(ENVIRONMENT) == ["operators", "hooks"]


def test_after_success_each_request_is_applied_or_superseded(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12)
    _pending(repository, clock, "r2", max_workers=15, min_workers=2)

    record_success(repository, _apply(mwaa, repository))

    assert _outcomes(repository) == {"r1": "superseded", "r2": "applied"}


def test_a_request_superseded_for_some_of_its_fields_is_applied_and_told_which(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12, min_workers=2)
    _pending(repository, clock, "r2", max_workers=15)

    record_success(repository, _apply(mwaa, repository))

    outcome = repository.change_request(ENVIRONMENT, "r1").outcome  # type: ignore[union-attr]
    assert outcome is not None
    assert (outcome.status, outcome.superseded_fields, outcome.superseded_by) == ("applied", ["max_workers"], ["r2"])


def test_the_success_notification_names_the_superseded_requester(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12, requested_by=RequestedBy(flow="capacity", execution="exec-1"))
    _pending(repository, clock, "r2", max_workers=15)

    result = record_success(repository, _apply(mwaa, repository))

    assert (
        "Request r1 from capacity (exec-1) was superseded for max_workers by the later request r2."
        in result.notification
    )


def test_the_success_notification_says_what_changed(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=12)

    result = record_success(repository, _apply(mwaa, repository))

    assert (result.status, result.subject) == ("succeeded", "MWAA control plane: environment updated")
    assert "max_workers: 10 -> 12" in result.notification


# =========================================================================== restore_after_failure


@pytest.fixture
def staged_requirements(s3: Any, repository: StateRepository, clock: ManualClock) -> tuple[FakeMwaa, str, str]:
    """The environment runs requirements.txt ``old``; ``new`` was staged and requested. Returns mwaa, old, new."""
    old = put(s3, SOURCE_BUCKET, "requirements.txt", "boto3==1.35.0\n")
    new = put(s3, SOURCE_BUCKET, "requirements.txt", "boto3==1.35.0\nnot-on-pypi==9.9\n")
    mwaa = FakeMwaa(environment(RequirementsS3Path="requirements.txt", RequirementsS3ObjectVersion=old))
    _pending(repository, clock, "r1", requirements={"s3_path": "requirements.txt", "version": new})
    return mwaa, old, new


def _restore(s3: Any, mwaa: FakeMwaa, repository: StateRepository, record: ChangeRecord, **kwargs: Any) -> Any:
    return restore_after_failure(s3, mwaa, repository, record, **kwargs)  # type: ignore[arg-type]


def test_after_update_failed_the_previous_artifact_version_is_copied_back(
    s3: Any, repository: StateRepository, staged_requirements: tuple[FakeMwaa, str, str]
) -> None:
    mwaa, _, _ = staged_requirements
    record = _apply(mwaa, repository)
    _fail(mwaa)

    _restore(s3, mwaa, repository, record)

    assert body_of(s3, SOURCE_BUCKET, "requirements.txt") == b"boto3==1.35.0\n"


def test_after_update_failed_a_new_artifact_is_removed_when_there_was_none_before(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    new = put(s3, SOURCE_BUCKET, "startup.sh", "#!/bin/sh\nexit 1\n")
    _pending(repository, clock, "r1", startup={"s3_path": "startup.sh", "version": new})
    record = _apply(mwaa, repository)
    _fail(mwaa)

    _restore(s3, mwaa, repository, record)

    assert current_version(s3, SOURCE_BUCKET, "startup.sh") is None


def test_an_artifact_staged_again_since_the_update_is_left_alone(
    s3: Any, repository: StateRepository, staged_requirements: tuple[FakeMwaa, str, str]
) -> None:
    mwaa, _, _ = staged_requirements
    record = _apply(mwaa, repository)
    newer = put(s3, SOURCE_BUCKET, "requirements.txt", "boto3==1.35.1\n")
    _fail(mwaa)

    result = _restore(s3, mwaa, repository, record)

    assert current_version(s3, SOURCE_BUCKET, "requirements.txt") == newer
    assert "requirements left as is (a newer version was staged since)" in result.notification


def test_an_artifact_is_not_restored_when_its_request_asked_not_to(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    put(s3, SOURCE_BUCKET, "requirements.txt", "boto3==1.35.0\n")
    new = put(s3, SOURCE_BUCKET, "requirements.txt", "boto3==1.35.1\n")
    _pending(
        repository, clock, "r1", requirements={"s3_path": "requirements.txt", "version": new}, restore_on_failure=False
    )
    record = _apply(mwaa, repository)
    _fail(mwaa)

    _restore(s3, mwaa, repository, record)

    assert current_version(s3, SOURCE_BUCKET, "requirements.txt") == new


def test_the_failure_notification_carries_mwaas_error_code_and_message(
    s3: Any, repository: StateRepository, staged_requirements: tuple[FakeMwaa, str, str]
) -> None:
    mwaa, _, _ = staged_requirements
    record = _apply(mwaa, repository)
    _fail(mwaa, "REQUIREMENTS_INSTALL_FAILED", "Could not find a version that satisfies not-on-pypi==9.9")

    result = _restore(s3, mwaa, repository, record)

    assert (result.status, result.subject) == ("failed", "MWAA control plane: environment update failed")
    assert (
        "REQUIREMENTS_INSTALL_FAILED: Could not find a version that satisfies not-on-pypi==9.9" in result.notification
    )


def test_the_requests_of_a_failed_update_are_resolved_failed_with_mwaas_error(
    s3: Any, repository: StateRepository, staged_requirements: tuple[FakeMwaa, str, str]
) -> None:
    mwaa, _, _ = staged_requirements
    record = _apply(mwaa, repository)
    _fail(mwaa, "REQUIREMENTS_INSTALL_FAILED", "pip failed")

    _restore(s3, mwaa, repository, record)

    outcome = repository.change_request(ENVIRONMENT, "r1").outcome  # type: ignore[union-attr]
    assert outcome is not None
    assert (outcome.status, outcome.detail) == ("failed", "REQUIREMENTS_INSTALL_FAILED: pip failed")


def test_a_timed_out_update_restores_nothing(
    s3: Any, repository: StateRepository, staged_requirements: tuple[FakeMwaa, str, str]
) -> None:
    # MWAA may still finish the update: the bucket must keep what it is installing.
    mwaa, _, new = staged_requirements
    record = _apply(mwaa, repository)

    result = _restore(s3, mwaa, repository, record, timed_out=True)

    assert current_version(s3, SOURCE_BUCKET, "requirements.txt") == new
    assert result.status == "timed_out"


def test_an_artifact_already_running_is_not_restored_when_another_field_of_the_update_fails(
    s3: Any, repository: StateRepository, clock: ManualClock
) -> None:
    # Given a request for the requirements version the environment already runs, applied with a capacity change
    running = put(s3, SOURCE_BUCKET, "requirements.txt", "boto3==1.35.0\n")
    mwaa = FakeMwaa(environment(RequirementsS3Path="requirements.txt", RequirementsS3ObjectVersion=running))
    _pending(repository, clock, "r1", requirements={"s3_path": "requirements.txt", "version": running})
    _pending(repository, clock, "r2", max_workers=12)
    record = _apply(mwaa, repository)
    _fail(mwaa)

    # When the update fails, the failure is reported and nothing needs restoring
    result = _restore(s3, mwaa, repository, record)

    assert result.status == "failed"
    assert current_version(s3, SOURCE_BUCKET, "requirements.txt") == running


def test_an_artifact_the_environment_runs_without_an_object_version_is_not_deleted_after_a_failure(
    s3: Any, repository: StateRepository, clock: ManualClock
) -> None:
    # Given an environment created with RequirementsS3Path but no object version (both are optional)
    put(s3, SOURCE_BUCKET, "requirements.txt", "boto3==1.35.0\n")
    new = put(s3, SOURCE_BUCKET, "requirements.txt", "boto3==1.35.0\nnot-on-pypi==9.9\n")
    mwaa = FakeMwaa(environment(RequirementsS3Path="requirements.txt"))
    _pending(repository, clock, "r1", requirements={"s3_path": "requirements.txt", "version": new})
    record = _apply(mwaa, repository)
    _fail(mwaa)

    # When the failed update is cleaned up
    _restore(s3, mwaa, repository, record)

    # Then the environment's requirements.txt is still there
    assert current_version(s3, SOURCE_BUCKET, "requirements.txt") is not None


class _AcceptedThenLost(FakeMwaa):
    """MWAA accepts the update, but the answer never reaches the step (a timeout after the fact)."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(environment())
        self.clock = clock

    def update_environment(self, **kwargs: Any) -> dict[str, Any]:
        super().update_environment(**kwargs)
        self.environments[kwargs["Name"]]["LastUpdate"] = {"Status": "PENDING", "CreatedAt": self.clock.now()}
        raise client_error("InternalServerException", "request timed out", operation="UpdateEnvironment")


def test_a_retry_adopts_the_update_an_earlier_attempt_sent_instead_of_sending_another(
    repository: StateRepository, clock: ManualClock
) -> None:
    # Given an update MWAA accepted although the step saw it fail
    mwaa = _AcceptedThenLost(clock)
    _pending(repository, clock, "r1", max_workers=15)
    with pytest.raises(ServiceUnavailableError):
        _apply(mwaa, repository)
    # When the step is retried while the environment is UPDATING
    clock.advance(2)
    record = _apply(mwaa, repository)
    # Then it follows that update: one UpdateEnvironment in all, and the record says what it changes
    assert len(mwaa.updates) == 1
    assert record.status == "updating"
    assert [(c.field, c.after) for c in record.changes] == [("max_workers", 15)]


def test_an_update_someone_else_started_is_not_adopted(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    # Given an attempt that MWAA refused as busy (another update began between describe and update)
    _pending(repository, clock, "r1", max_workers=15)
    mwaa.refusal = client_error("ValidationException", "Environment is UPDATING", operation="UpdateEnvironment")
    mwaa.status_after_refusal = "UPDATING"
    mwaa[ENVIRONMENT]["LastUpdate"] = {"Status": "PENDING", "CreatedAt": clock.now() + timedelta(seconds=5)}
    with pytest.raises(EnvironmentBusyError):
        _apply(mwaa, repository)
    # When the step is retried, Then it waits for that other update rather than taking it for its own
    with pytest.raises(EnvironmentBusyError):
        _apply(mwaa, repository)


def test_a_withdrawn_request_is_resolved_failed_and_no_later_update_applies_it(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=15)
    outcome = withdraw_request(repository, ENVIRONMENT, "r1", "r1", "lock_busy")
    assert outcome is not None and outcome.status == "failed" and "lock_busy" in outcome.detail
    assert _apply(mwaa, repository).status == "nothing_pending"
    assert mwaa.updates == []


def test_withdrawing_a_request_already_resolved_changes_nothing(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=15)
    record = _apply(mwaa, repository)
    record_success(repository, record)
    assert withdraw_request(repository, ENVIRONMENT, "r1", "r1", "failed") is None
    [stored] = repository.change_requests(ENVIRONMENT, pending_only=False)
    assert stored.outcome is not None and stored.outcome.status == "applied"


def test_a_pending_request_older_than_its_ttl_is_no_longer_pending(
    repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", max_workers=15)
    clock.advance(PENDING_TTL_SECONDS + 1)
    assert repository.change_requests(ENVIRONMENT) == []


def test_a_resolved_request_keeps_no_configuration_value_in_clear(
    mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    _pending(repository, clock, "r1", airflow_configuration_options={"set": {"smtp.smtp_password": "hunter2-secret"}})
    record_success(repository, _apply(mwaa, repository))
    [stored] = repository.change_requests(ENVIRONMENT, pending_only=False)
    kept = stored.request.airflow_configuration_options
    assert kept is not None and "hunter2-secret" not in kept.model_dump_json()
    assert kept.set["smtp.smtp_password"].startswith("sha256:")
