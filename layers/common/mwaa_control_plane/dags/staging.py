"""requirements.txt, plugins.zip and startup.sh: copied into the source bucket, then handed to the one door.

A validated artifact version is copied into the environment's source bucket (MWAA only
reads it once UpdateEnvironment names the new object version) and turned into a change
request for the environment-change flow, which coalesces a burst of uploads into one update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from botocore.exceptions import ClientError

from mwaa_control_plane.dags.delivery import mwaa_key, still_latest, withdraw_announcement
from mwaa_control_plane.dags.events import ArtifactKind
from mwaa_control_plane.dags.payloads import ValidationOutcome
from mwaa_control_plane.environments.change_request import AnnouncementRef, ArtifactVersion, ChangeRequest, RequestedBy
from mwaa_control_plane.environments.description import describe_environment
from mwaa_control_plane.errors import InvalidInputError, translate_client_error
from mwaa_control_plane.payloads import Payload
from mwaa_control_plane.state import StateRepository

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client

FLOW = "dag-delivery"


class StagedArtifact(Payload):
    environment_name: str
    kind: ArtifactKind
    outcome: Literal["staged", "superseded"]
    change_request: ChangeRequest | None = None


def stage_artifact(
    s3: S3Client, mwaa: MWAAClient, repository: StateRepository, validated: ValidationOutcome, owner: str
) -> StagedArtifact:
    """Copy the validated version into the source bucket; the change request that makes MWAA use it."""
    request = validated.request
    if request.kind is ArtifactKind.DAG:
        raise InvalidInputError("DAG-folder files are synced, not staged")
    target = describe_environment(mwaa, request.environment_name, repository=repository)
    destination = mwaa_key(target, request)
    with repository.object_lock(request.key, owner):
        if not still_latest(repository, request):
            withdraw_announcement(repository, request)
            return StagedArtifact(environment_name=request.environment_name, kind=request.kind, outcome="superseded")
        try:
            source = {"Bucket": request.staging_bucket, "Key": request.key, "VersionId": request.version_id or ""}
            copied = s3.copy_object(Bucket=target.source_bucket, Key=destination, CopySource=source)  # type: ignore[arg-type]
        except ClientError as exc:
            raise translate_client_error(exc) from exc
    # The modules the validator found in this very version: the zip is not downloaded a second time.
    artifact = ArtifactVersion(s3_path=destination, version=copied.get("VersionId"), modules=validated.modules)
    change = ChangeRequest.model_validate(
        {
            "environment_name": request.environment_name,
            request.kind.value: artifact,
            "reason": f"{request.key} version {request.version_id} was uploaded and passed validation",
            "requested_by": RequestedBy(flow=FLOW, execution=owner),
            "fulfils": AnnouncementRef(source=request.key, version_id=request.version_id),
        }
    )
    return StagedArtifact(
        environment_name=request.environment_name, kind=request.kind, outcome="staged", change_request=change
    )
