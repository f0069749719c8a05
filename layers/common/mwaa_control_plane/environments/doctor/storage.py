"""The source bucket: versioning, public access block, and the object versions the environment runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from mwaa_control_plane.environments.doctor.models import Check, failed, passed
from mwaa_control_plane.errors import NOT_FOUND_CODES, NotFoundError, translate_client_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from mwaa_control_plane.environments.doctor.facts import EnvironmentFacts

PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _versioning_fix(bucket: str) -> str:
    return f"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled"


def _public_access_fix(bucket: str) -> str:
    return (
        f"aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration "
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
    )


def _bucket_missing(check_id: str, title: str, facts: EnvironmentFacts, error: NotFoundError) -> Check:
    """The source bucket is gone: not a read the doctor could not make, the environment has nothing to read."""
    # CreateBucket refuses a LocationConstraint of us-east-1 and needs one everywhere else.
    where = ""
    if facts.region not in ("", "us-east-1"):
        where = f" --create-bucket-configuration LocationConstraint={facts.region}"
    return failed(
        check_id,
        title,
        f"s3://{facts.bucket} does not exist ({error}): MWAA cannot read the DAGs, requirements, plugins or "
        "startup script, and refuses an update or a recreate",
        f"aws s3api create-bucket --bucket {facts.bucket}{where} && {_versioning_fix(facts.bucket)} && "
        f"{_public_access_fix(facts.bucket)}, then push the DAGs again through the staging bucket; or point the "
        "environment at an existing versioned bucket that blocks public access (aws mwaa update-environment "
        f"--name {facts.name} --source-bucket-arn ITS_ARN)",
    )


def versioning_check(s3: S3Client, facts: EnvironmentFacts) -> Check:
    title = "Source bucket versioning is on"
    try:
        status = s3.get_bucket_versioning(Bucket=facts.bucket).get("Status")
    except ClientError as exc:
        error = translate_client_error(exc, operation="GetBucketVersioning")
        if isinstance(error, NotFoundError):
            return _bucket_missing("bucket-versioning", title, facts, error)
        raise error from exc
    if status == "Enabled":
        return passed("bucket-versioning", title, f"s3://{facts.bucket}: versioning Enabled")
    return failed(
        "bucket-versioning",
        title,
        f"s3://{facts.bucket}: versioning is {status or 'never enabled'}; MWAA reads requirements, plugins and "
        "the startup script by object version, and refuses a bucket without versioning",
        _versioning_fix(facts.bucket),
    )


def public_access_check(s3: S3Client, facts: EnvironmentFacts) -> Check:
    title = "Source bucket blocks public access"
    fix = _public_access_fix(facts.bucket)
    try:
        configuration = s3.get_public_access_block(Bucket=facts.bucket)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchPublicAccessBlockConfiguration":
            error = translate_client_error(exc, operation="GetPublicAccessBlock")
            if isinstance(error, NotFoundError):
                return _bucket_missing("bucket-public-access-block", title, facts, error)
            raise error from exc
        return failed("bucket-public-access-block", title, f"s3://{facts.bucket} has no public access block", fix)
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if not configuration.get(flag)]
    if off:
        return failed("bucket-public-access-block", title, f"s3://{facts.bucket}: {', '.join(off)} not set", fix)
    return passed("bucket-public-access-block", title, f"s3://{facts.bucket}: all four settings on")


def artifact_versions_check(s3: S3Client, facts: EnvironmentFacts) -> Check:
    title = "Referenced requirements, plugins and startup versions exist"
    if not facts.artifacts:
        return passed("artifact-versions", title, "the environment references no requirements, plugins or startup")
    found: list[str] = []
    missing: list[str] = []
    for artifact in facts.artifacts:
        where = f"s3://{facts.bucket}/{artifact.path}" + (f" version {artifact.version}" if artifact.version else "")
        try:
            if artifact.version:
                s3.head_object(Bucket=facts.bucket, Key=artifact.path, VersionId=artifact.version)
            else:
                s3.head_object(Bucket=facts.bucket, Key=artifact.path)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            # HEAD answers 404 for a missing key, 400/404 for a missing or deleted version.
            if code in NOT_FOUND_CODES or code in ("400", "NoSuchVersion", "InvalidArgument"):
                missing.append(f"{artifact.kind} {where}")
                continue
            raise translate_client_error(exc, operation="HeadObject") from exc
        found.append(f"{artifact.kind} {where}")
    if missing:
        return failed(
            "artifact-versions",
            title,
            f"missing: {'; '.join(missing)}; the next UpdateEnvironment (and any recreate) fails until it points "
            "at an object version that exists",
            "upload the file again and update the environment with its new object version "
            "(push it to the staging bucket and the control plane does both); never delete a version an "
            "environment references",
        )
    return passed("artifact-versions", title, "; ".join(found))
