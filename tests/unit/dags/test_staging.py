"""stage_artifact: a validated requirements.txt / plugins.zip / startup.sh goes to the source bucket and the one door.

moto holds the versioned staging bucket, the source bucket ``airflow-dev`` and the state table;
MWAA is the in-memory FakeMwaa.
"""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest

from mwaa_control_plane.dags.delivery import accept_event
from mwaa_control_plane.dags.events import Action, ArtifactKind, DeliveryDecision, DeliveryRequest, normalise_sequencer
from mwaa_control_plane.dags.payloads import ValidationOutcome
from mwaa_control_plane.dags.staging import StagedArtifact, stage_artifact
from mwaa_control_plane.environments.change import record_request
from mwaa_control_plane.environments.change_request import AnnouncementRef, ArtifactVersion, RequestedBy
from mwaa_control_plane.errors import ConcurrentUpdateError, InvalidInputError
from mwaa_control_plane.objects import current_version
from mwaa_control_plane.state import StateRepository
from tests.unit.aws import (
    ENVIRONMENT,
    SOURCE_BUCKET,
    STAGING_BUCKET,
    FakeMwaa,
    body_of,
    environment,
    put,
)

OWNER = "arn:aws:states:us-east-1:123456789012:execution:dag-delivery:run-7"
REQUIREMENTS = "--constraint constraints.txt\nboto3==1.35.0\n"
KINDS = {
    "requirements.txt": ArtifactKind.REQUIREMENTS,
    "plugins.zip": ArtifactKind.PLUGINS,
    "startup.sh": ArtifactKind.STARTUP,
}


_sequencers = count(0x00617F08299329D189)


def _uploaded(s3: Any, repository: StateRepository, name: str, body: str) -> DeliveryRequest:
    """``<environment>/<name>`` uploaded to the staging bucket and its event accepted (so it is announced)."""
    kind = KINDS.get(name, ArtifactKind.DAG)
    key = f"{ENVIRONMENT}/dags/{name}" if kind is ArtifactKind.DAG else f"{ENVIRONMENT}/{name}"
    request = DeliveryRequest(
        environment_name=ENVIRONMENT,
        kind=kind,
        action=Action.CREATED,
        staging_bucket=STAGING_BUCKET,
        key=key,
        relative_path=name,
        version_id=put(s3, STAGING_BUCKET, key, body),
        sequencer=normalise_sequencer(f"{next(_sequencers):018X}"),
    )
    accept_event(
        repository, DeliveryDecision(decision="deliver", request=request, key=key, environment_name=ENVIRONMENT)
    )
    return request


def _stage(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository, request: DeliveryRequest, modules: list[str] | None = None
) -> StagedArtifact:
    validated = ValidationOutcome(request=request, verdict="pass", modules=modules or [])
    return stage_artifact(s3, mwaa, repository, validated, OWNER)  # type: ignore[arg-type]


def test_a_validated_artifact_is_copied_into_the_source_bucket(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _uploaded(s3, repository, "requirements.txt", REQUIREMENTS)

    staged = _stage(s3, mwaa, repository, request)

    assert staged.outcome == "staged"
    assert body_of(s3, SOURCE_BUCKET, "requirements.txt") == REQUIREMENTS.encode()


def test_exactly_the_validated_version_is_copied(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> None:
    request = _uploaded(s3, repository, "requirements.txt", REQUIREMENTS)
    put(s3, STAGING_BUCKET, request.key, "not-yet-validated==1.0\n")

    _stage(s3, mwaa, repository, request)

    assert body_of(s3, SOURCE_BUCKET, "requirements.txt") == REQUIREMENTS.encode()


def test_the_change_request_names_the_new_version_in_the_source_bucket(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _uploaded(s3, repository, "requirements.txt", REQUIREMENTS)

    staged = _stage(s3, mwaa, repository, request)

    assert staged.change_request is not None
    assert staged.change_request.requirements == ArtifactVersion(
        s3_path="requirements.txt", version=current_version(s3, SOURCE_BUCKET, "requirements.txt")
    )


def test_the_change_request_is_made_by_dag_delivery_and_fulfils_the_announcement(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _uploaded(s3, repository, "requirements.txt", REQUIREMENTS)

    change = _stage(s3, mwaa, repository, request).change_request

    assert change is not None
    assert change.requested_by == RequestedBy(flow="dag-delivery", execution=OWNER)
    assert change.fulfils == AnnouncementRef(source=request.key, version_id=request.version_id)


def test_an_artifact_goes_to_the_path_the_environment_is_configured_with(s3: Any, repository: StateRepository) -> None:
    mwaa = FakeMwaa(environment(PluginsS3Path="plugins/v2/plugins.zip", PluginsS3ObjectVersion="old"))
    request = _uploaded(s3, repository, "plugins.zip", "PK")

    change = _stage(s3, mwaa, repository, request, ["operators"]).change_request

    assert change is not None
    assert change.plugins is not None
    assert change.plugins.s3_path == "plugins/v2/plugins.zip"
    assert body_of(s3, SOURCE_BUCKET, "plugins/v2/plugins.zip") == b"PK"


def test_the_plugins_request_carries_the_modules_the_validator_found(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _uploaded(s3, repository, "plugins.zip", "PK")

    change = _stage(s3, mwaa, repository, request, ["operators", "hooks"]).change_request

    assert change is not None
    assert change.plugins is not None
    assert change.plugins.modules == ["operators", "hooks"]


def test_a_startup_script_becomes_a_startup_change(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> None:
    request = _uploaded(s3, repository, "startup.sh", "#!/bin/sh\nexport TZ=UTC\n")

    change = _stage(s3, mwaa, repository, request).change_request

    assert change is not None
    assert change.requested_fields().keys() == {"startup"}


def test_staging_is_superseded_when_a_newer_upload_was_accepted_meanwhile(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    older = _uploaded(s3, repository, "requirements.txt", REQUIREMENTS)
    _uploaded(s3, repository, "requirements.txt", "boto3==1.35.1\n")

    staged = _stage(s3, mwaa, repository, older)

    assert (staged.outcome, staged.change_request) == ("superseded", None)
    assert current_version(s3, SOURCE_BUCKET, "requirements.txt") is None


def test_a_superseded_artifact_leaves_the_newer_uploads_announcement(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    older = _uploaded(s3, repository, "requirements.txt", REQUIREMENTS)
    newer = _uploaded(s3, repository, "requirements.txt", "boto3==1.35.1\n")

    _stage(s3, mwaa, repository, older)

    announced = repository.announcements(ENVIRONMENT, max_age_seconds=3600)
    assert [a.version_id for a in announced] == [newer.version_id]


def test_staging_waits_for_the_object_lock_of_another_execution(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    request = _uploaded(s3, repository, "requirements.txt", REQUIREMENTS)

    with repository.object_lock(request.key, "another-execution"), pytest.raises(ConcurrentUpdateError):
        _stage(s3, mwaa, repository, request)
    assert current_version(s3, SOURCE_BUCKET, "requirements.txt") is None


def test_a_dag_file_is_not_staged(s3: Any, mwaa: FakeMwaa, repository: StateRepository) -> None:
    request = _uploaded(s3, repository, "etl.py", "x = 1\n")

    with pytest.raises(InvalidInputError, match="synced, not staged"):
        _stage(s3, mwaa, repository, request)


def test_recording_the_staged_request_releases_the_environment_update_it_held_back(
    s3: Any, mwaa: FakeMwaa, repository: StateRepository
) -> None:
    # Given an uploaded requirements.txt, announced while it was validated
    request = _uploaded(s3, repository, "requirements.txt", REQUIREMENTS)
    change = _stage(s3, mwaa, repository, request).change_request
    assert change is not None

    # When the environment-change flow records its change request
    record_request(mwaa, repository, change, "request-1", max_workers_quota=25)  # type: ignore[arg-type]

    # Then it is pending and nothing is announced any more
    assert [r.request_id for r in repository.change_requests(ENVIRONMENT)] == ["request-1"]
    assert repository.announcements(ENVIRONMENT, max_age_seconds=3600) == []
