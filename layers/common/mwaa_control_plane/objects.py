"""Small S3 object questions that several flows ask."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from mwaa_control_plane.errors import NOT_FOUND_CODES, translate_client_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def current_version(s3: S3Client, bucket: str, key: str) -> str | None:
    """The VersionId of the current object at ``key``, or None when there is none (or only a delete marker)."""
    try:
        return s3.head_object(Bucket=bucket, Key=key).get("VersionId")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
            return None
        raise translate_client_error(exc) from exc
