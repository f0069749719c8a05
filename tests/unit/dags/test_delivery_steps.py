"""The dag-delivery steps before and after verification: accept, validate, sync, delete, roll back.

moto holds the versioned staging bucket, the environment's versioned source bucket ``airflow-dev``
and the state table; MWAA is the in-memory FakeMwaa (DagS3Path ``dags``, AVAILABLE).
verify_dag_file has its own tests in test_delivery_verification.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import count
from typing import Any

import pytest

from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.dags.delivery import (
    accept_event,
    propagate_deletion,
    roll_back_dag_file,
    sync_dag_file,
)
from mwaa_control_plane.dags.events import Action, ArtifactKind, DeliveryDecision, DeliveryRequest, normalise_sequencer
from mwaa_control_plane.dags.payloads import SyncOutcome, ValidationOutcome
from mwaa_control_plane.dags.validate_step import validate_object
from mwaa_control_plane.errors import ConcurrentUpdateError, InvalidInputError
from mwaa_control_plane.objects import current_version
from mwaa_control_plane.state import Announcement, DagIndexEntry, StateRepository
from tests.unit.aws import (
    ENVIRONMENT,
    SOURCE_BUCKET,
    STAGING_BUCKET,
    FakeMwaa,
    body_of,
    environment,
    put,
)

GOOD_DAG = """\
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG(dag_id="{dag_id}", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False):
    EmptyOperator(task_id="start")
"""
BROKEN_DAG = "from airflow import DAG\n\ndef broken(:\n    pass\n"
OWNER = "arn:aws:states:us-east-1:123456789012:execution:dag-delivery:run-1"


_sequencers = count(0x00617F08299329D189)


def _request(relative: str, version_id: str | None, *, action: Action = Action.CREATED) -> DeliveryRequest:
    """An event for ``<environment>/dags/<relative>`` (or an artifact file), each with a later sequencer."""
    kind = {"requirements.txt": ArtifactKind.REQUIREMENTS, "plugins.zip": ArtifactKind.PLUGINS}.get(
        relative, ArtifactKind.DAG
    )
    key = f"{ENVIRONMENT}/{relative}" if kind is not ArtifactKind.DAG else f"{ENVIRONMENT}/dags/{relative}"
    return DeliveryRequest(
        environment_name=ENVIRONMENT,
        kind=kind,
        action=action,
        staging_bucket=STAGING_BUCKET,
        key=key,
        relative_path=relative,
        version_id=version_id,
        sequencer=normalise_sequencer(f"{next(_sequencers):018X}"),
    )


def _upload(s3: Any, relative: str, body: str) -> DeliveryRequest:
    """Put ``body`` in the staging bucket; the event S3 would send for it."""
    request = _request(relative, None)
    return request.model_copy(update={"version_id": put(s3, STAGING_BUCKET, request.key, body)})


def _decision(request: DeliveryRequest) -> DeliveryDecision:
    return DeliveryDecision(decision="deliver", request=request, key=request.key, environment_name=ENVIRONMENT)


def _accepted(repository: StateRepository, request: DeliveryRequest) -> DeliveryRequest:
    accept_event(repository, _decision(request))
    return request


def _passed(request: DeliveryRequest, *dag_ids: str) -> ValidationOutcome:
    return ValidationOutcome(request=request, verdict="pass", dag_ids=list(dag_ids))


def _announced(repository: StateRepository) -> list[Announcement]:
    return repository.announcements(ENVIRONMENT, max_age_seconds=3600)


def _sync(s3: Any, mwaa: FakeMwaa, repository: StateRepository, validated: ValidationOutcome) -> SyncOutcome:
    return sync_dag_file(s3, mwaa, repository, repository.clock, validated, OWNER)  # type: ignore[arg-type]


def _validate(s3: Any, mwaa: FakeMwaa, repository: StateRepository, request: DeliveryRequest) -> ValidationOutcome:
    return validate_object(s3, mwaa, repository, request)  # type: ignore[arg-type]


# =========================================================================== accept_event


def test_the_first_event_for_a_key_is_delivered_and_recorded(repository: StateRepository) -> None:
    request = _request("etl.py", "v1")

    decision = accept_event(repository, _decision(request))

    assert decision == _decision(request)
    assert repository.latest_sequencer(request.key) == request.sequencer


def test_a_duplicate_event_is_skipped(repository: StateRepository) -> None:
    request = _accepted(repository, _request("etl.py", "v1"))

    decision = accept_event(repository, _decision(request))

    assert (decision.decision, decision.reason) == (
        "skip",
        "duplicate or older event: a newer one was seen for this key",
    )


def test_an_event_older_than_one_already_seen_is_skipped(repository: StateRepository) -> None:
    older = _request("etl.py", "v1")
    _accepted(repository, _request("etl.py", "v2"))

    assert accept_event(repository, _decision(older)).decision == "skip"


def test_a_rejected_event_passes_through_without_being_recorded(repository: StateRepository) -> None:
    rejected = DeliveryDecision(decision="reject", reason="unsafe object key", key=f"{ENVIRONMENT}/dags/../x.py")

    assert accept_event(repository, rejected) == rejected
    assert repository.latest_sequencer(rejected.key) is None


def test_a_created_artifact_is_announced_to_the_environment_change_flow(
    repository: StateRepository, clock: ManualClock
) -> None:
    request = _accepted(repository, _request("requirements.txt", "r1"))

    assert _announced(repository) == [Announcement(source=request.key, version_id="r1", since=clock.now())]


def test_a_dag_file_is_not_announced(repository: StateRepository) -> None:
    _accepted(repository, _request("etl.py", "v1"))

    assert _announced(repository) == []


def test_a_deleted_artifact_is_not_announced(repository: StateRepository) -> None:
    _accepted(repository, _request("requirements.txt", None, action=Action.DELETED))

    assert _announced(repository) == []


def test_an_older_artifact_event_does_not_replace_the_announcement_of_the_newer_one(
    repository: StateRepository,
) -> None:
    older = _request("requirements.txt", "r1")
    _accepted(repository, _request("requirements.txt", "r2"))

    accept_event(repository, _decision(older))

    assert [a.version_id for a in _announced(repository)] == ["r2"]


# =========================================================================== validate_object


def test_a_valid_dag_passes_and_its_report_is_written_under_reports(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl"))

    outcome = _validate(s3, mwaa, repository, request)

    assert (outcome.verdict, outcome.dag_ids) == ("pass", ["etl"])
    assert outcome.report_key == f"reports/{ENVIRONMENT}/etl.py/{request.version_id}.json"
    report = json.loads(body_of(s3, STAGING_BUCKET, outcome.report_key))
    assert report["object"] == {
        "bucket": STAGING_BUCKET,
        "key": request.key,
        "version_id": request.version_id,
        "sequencer": request.sequencer,
    }


def test_a_dag_with_a_syntax_error_fails_with_a_notification_naming_the_rule(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _upload(s3, "etl.py", BROKEN_DAG)

    outcome = _validate(s3, mwaa, repository, request)

    assert outcome.verdict == "fail"
    assert outcome.errors >= 1
    assert f"{request.key} (version {request.version_id}) was REJECTED" in outcome.notification
    assert "[syntax-error]" in outcome.notification


def test_exactly_the_requested_version_is_validated(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> None:
    # A broken version uploaded since does not change the verdict on the version the event names.
    request = _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl"))
    put(s3, STAGING_BUCKET, request.key, BROKEN_DAG)

    assert _validate(s3, mwaa, repository, request).verdict == "pass"


def test_a_version_deleted_before_validation_is_gone(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> None:
    request = _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl"))
    s3.delete_object(Bucket=STAGING_BUCKET, Key=request.key, VersionId=request.version_id)

    outcome = _validate(s3, mwaa, repository, request)

    assert (outcome.verdict, outcome.report_key) == ("gone", None)


def test_a_dag_id_another_file_of_the_environment_defines_fails(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    repository.index_dags(ENVIRONMENT, "legacy/etl.py", "old", old=[], new=["etl"])
    request = _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl"))

    outcome = _validate(s3, mwaa, repository, request)

    assert outcome.verdict == "fail"
    assert "dag-id-conflict" in outcome.notification


def test_a_new_version_of_the_file_that_owns_a_dag_id_passes(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    repository.index_dags(ENVIRONMENT, "etl.py", "old", old=[], new=["etl"])
    request = _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl"))

    assert _validate(s3, mwaa, repository, request).verdict == "pass"


def test_a_failed_artifact_withdraws_its_announcement(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> None:
    request = _accepted(repository, _upload(s3, "requirements.txt", "this is not a requirement!!\n"))

    outcome = _validate(s3, mwaa, repository, request)

    assert outcome.verdict == "fail"
    assert _announced(repository) == []


def test_a_gone_artifact_withdraws_its_announcement(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> None:
    request = _accepted(repository, _upload(s3, "requirements.txt", "boto3==1.35.0\n"))
    s3.delete_object(Bucket=STAGING_BUCKET, Key=request.key, VersionId=request.version_id)

    _validate(s3, mwaa, repository, request)

    assert _announced(repository) == []


def test_a_passing_artifact_stays_announced_until_its_change_is_requested(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _accepted(repository, _upload(s3, "requirements.txt", "boto3==1.35.0\n"))

    assert _validate(s3, mwaa, repository, request).verdict == "pass"
    assert [a.version_id for a in _announced(repository)] == [request.version_id]


def test_a_deletion_is_not_validated(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> None:
    with pytest.raises(InvalidInputError):
        _validate(s3, mwaa, repository, _request("etl.py", None, action=Action.DELETED))


# =========================================================================== sync_dag_file


def test_sync_copies_exactly_the_validated_version(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> None:
    # A later upload whose event has not been accepted yet must not be what gets copied.
    request = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))
    put(s3, STAGING_BUCKET, request.key, GOOD_DAG.format(dag_id="etl_v2"))

    outcome = _sync(s3, mwaa, repository, _passed(request, "etl"))

    assert outcome.outcome == "synced"
    assert body_of(s3, SOURCE_BUCKET, "dags/etl.py") == GOOD_DAG.format(dag_id="etl").encode()


def test_sync_reports_the_version_it_wrote_and_none_before_for_a_new_file(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))

    outcome = _sync(s3, mwaa, repository, _passed(request, "etl"))

    assert outcome.mwaa_key == "dags/etl.py"
    assert outcome.mwaa_version_id == current_version(s3, SOURCE_BUCKET, "dags/etl.py")
    assert outcome.previous_version_id is None


def test_the_synced_copy_carries_its_staging_version_and_sequencer(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))

    _sync(s3, mwaa, repository, _passed(request, "etl"))

    metadata = s3.head_object(Bucket=SOURCE_BUCKET, Key="dags/etl.py")["Metadata"]
    assert metadata == {"staging-version-id": request.version_id, "staging-sequencer": request.sequencer}


def test_sync_indexes_the_dag_ids_of_the_file(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> None:
    request = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))

    _sync(s3, mwaa, repository, _passed(request, "etl"))

    assert repository.dag_index(ENVIRONMENT) == {"etl": DagIndexEntry(path="etl.py", version_id=request.version_id)}


def test_sync_over_an_existing_file_reports_what_was_there_before(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    first = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))
    before = _sync(s3, mwaa, repository, _passed(first, "etl"))
    second = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl_v2")))

    outcome = _sync(s3, mwaa, repository, _passed(second, "etl_v2"))

    assert (outcome.previous_version_id, outcome.previous_dag_ids) == (before.mwaa_version_id, ["etl"])
    assert set(repository.dag_index(ENVIRONMENT)) == {"etl_v2"}


def test_sync_is_superseded_when_a_newer_event_was_accepted_meanwhile(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    older = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))
    _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl_v2")))

    outcome = _sync(s3, mwaa, repository, _passed(older, "etl"))

    assert outcome.outcome == "superseded"
    assert current_version(s3, SOURCE_BUCKET, "dags/etl.py") is None


def test_sync_waits_for_the_object_lock_of_another_execution(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))

    with repository.object_lock(request.key, "another-execution"), pytest.raises(ConcurrentUpdateError):
        _sync(s3, mwaa, repository, _passed(request, "etl"))
    assert current_version(s3, SOURCE_BUCKET, "dags/etl.py") is None


def test_a_new_file_is_verified_after_a_sync_and_a_folder_listing_from_the_injected_clock(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, clock: ManualClock
) -> None:
    request = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))
    clock.advance(12345)

    verification = _sync(s3, mwaa, repository, _passed(request, "etl")).verification

    assert verification is not None
    # 30 s S3 -> workers, 300 s until the folder is listed, 60 s to parse.
    assert (verification.state, verification.wait_seconds) == ("pending", 330)
    assert verification.synced_at == clock.now().isoformat()
    assert verification.deadline == (clock.now() + timedelta(seconds=390)).isoformat()


def test_a_changed_file_is_verified_after_one_re_parse(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> None:
    first = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))
    _sync(s3, mwaa, repository, _passed(first, "etl"))
    second = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))

    verification = _sync(s3, mwaa, repository, _passed(second, "etl")).verification

    assert verification is not None
    assert verification.wait_seconds == 60


def test_the_environments_folder_listing_interval_sets_the_verification_times(
    s3: Any, repository: StateRepository, clock: ManualClock
) -> None:
    mwaa = FakeMwaa(environment(AirflowConfigurationOptions={"scheduler.dag_dir_list_interval": "60"}))
    request = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))

    verification = _sync(s3, mwaa, repository, _passed(request, "etl")).verification

    assert verification is not None
    assert verification.wait_seconds == 90
    assert verification.deadline == (clock.now() + timedelta(seconds=150)).isoformat()


def test_a_file_that_is_not_a_dag_file_is_synced_without_verification(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _accepted(repository, _upload(s3, "queries/report.sql", "select 1"))

    verification = _sync(s3, mwaa, repository, _passed(request)).verification

    assert verification is not None
    assert verification.state == "skipped"


# =========================================================================== propagate_deletion


@pytest.fixture
def synced_etl(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> SyncOutcome:
    """dags/etl.py defining ``etl``, delivered through the steps."""
    request = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))
    return _sync(s3, mwaa, repository, _passed(request, "etl"))


def _delete(s3: Any, mwaa: FakeMwaa, repository: StateRepository, request: DeliveryRequest) -> SyncOutcome:
    return propagate_deletion(s3, mwaa, repository, request, OWNER)  # type: ignore[arg-type]


def test_a_deletion_removes_the_file_and_keeps_its_versions_for_rollback(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, synced_etl: SyncOutcome
) -> None:
    deletion = _accepted(repository, _request("etl.py", None, action=Action.DELETED))

    outcome = _delete(s3, mwaa, repository, deletion)

    assert (outcome.outcome, outcome.previous_version_id) == ("deleted", synced_etl.mwaa_version_id)
    assert current_version(s3, SOURCE_BUCKET, "dags/etl.py") is None
    versions = s3.list_object_versions(Bucket=SOURCE_BUCKET, Prefix="dags/etl.py")["Versions"]
    assert [v["VersionId"] for v in versions] == [synced_etl.mwaa_version_id]


def test_a_deletion_removes_the_files_dag_ids_from_the_index(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, synced_etl: SyncOutcome
) -> None:
    deletion = _accepted(repository, _request("etl.py", None, action=Action.DELETED))

    outcome = _delete(s3, mwaa, repository, deletion)

    assert outcome.previous_dag_ids == ["etl"]
    assert repository.dag_index(ENVIRONMENT) == {}


def test_a_deletion_is_announced_in_the_notification(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, synced_etl: SyncOutcome
) -> None:
    deletion = _accepted(repository, _request("etl.py", None, action=Action.DELETED))

    assert _delete(s3, mwaa, repository, deletion).notification == f"dags/etl.py deleted from {ENVIRONMENT}"


def test_deleting_a_file_the_environment_never_had_notifies_nobody(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    deletion = _accepted(repository, _request("never.py", None, action=Action.DELETED))

    assert _delete(s3, mwaa, repository, deletion).notification == ""


def test_a_deletion_is_superseded_by_a_newer_upload_accepted_meanwhile(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, synced_etl: SyncOutcome
) -> None:
    deletion = _accepted(repository, _request("etl.py", None, action=Action.DELETED))
    _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl")))

    outcome = _delete(s3, mwaa, repository, deletion)

    assert outcome.outcome == "superseded"
    assert current_version(s3, SOURCE_BUCKET, "dags/etl.py") == synced_etl.mwaa_version_id


# =========================================================================== roll_back_dag_file


def _import_error(synced: SyncOutcome, trace: str = "ModuleNotFoundError: No module named 'pandas'") -> SyncOutcome:
    """What verify_dag_file hands on when Airflow reported an import error for the file."""
    assert synced.verification is not None
    verification = synced.verification.model_copy(update={"state": "import_error", "detail": trace})
    return synced.model_copy(update={"verification": verification})


def _roll_back(s3: Any, mwaa: FakeMwaa, repository: StateRepository, synced: SyncOutcome) -> SyncOutcome:
    return roll_back_dag_file(s3, mwaa, repository, synced, OWNER)  # type: ignore[arg-type]


def test_roll_back_restores_the_previous_version_of_the_file(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, synced_etl: SyncOutcome
) -> None:
    request = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl_v2")))
    synced = _sync(s3, mwaa, repository, _passed(request, "etl_v2"))

    _roll_back(s3, mwaa, repository, _import_error(synced))

    assert body_of(s3, SOURCE_BUCKET, "dags/etl.py") == GOOD_DAG.format(dag_id="etl").encode()


def test_roll_back_restores_the_previous_dag_ids_in_the_index(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, synced_etl: SyncOutcome
) -> None:
    request = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl_v2")))
    synced = _sync(s3, mwaa, repository, _passed(request, "etl_v2"))

    _roll_back(s3, mwaa, repository, _import_error(synced))

    assert set(repository.dag_index(ENVIRONMENT)) == {"etl"}


def test_roll_back_removes_a_file_that_was_new(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, synced_etl: SyncOutcome
) -> None:
    outcome = _roll_back(s3, mwaa, repository, _import_error(synced_etl))

    assert current_version(s3, SOURCE_BUCKET, "dags/etl.py") is None
    assert repository.dag_index(ENVIRONMENT) == {}
    assert "the file was new, so it was removed again" in outcome.notification


def test_roll_back_leaves_a_newer_synced_version_alone(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, synced_etl: SyncOutcome
) -> None:
    newer = _accepted(repository, _upload(s3, "etl.py", GOOD_DAG.format(dag_id="etl_v2")))
    now_there = _sync(s3, mwaa, repository, _passed(newer, "etl_v2")).mwaa_version_id

    outcome = _roll_back(s3, mwaa, repository, _import_error(synced_etl))

    assert current_version(s3, SOURCE_BUCKET, "dags/etl.py") == now_there
    assert "a newer version was synced since; nothing rolled back" in outcome.notification


def test_the_roll_back_notification_carries_the_import_error(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, synced_etl: SyncOutcome
) -> None:
    outcome = _roll_back(s3, mwaa, repository, _import_error(synced_etl, "ModuleNotFoundError: No module named 'x'"))

    assert "failed to import it" in outcome.notification
    assert outcome.notification.endswith("Import error:\nModuleNotFoundError: No module named 'x'")
