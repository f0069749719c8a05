"""Read the environment's source bucket straight from moto's S3 backend, with clock stamps.

MWAA reads the DAG folder, requirements.txt, plugins.zip and startup.sh from the source
bucket. The fake does the same by looking into moto's in-memory S3 (no HTTP round trip,
so it works identically in decorator and server mode).

The DAG folder sync is timed by :func:`mwaa_control_plane.clock.get_clock`, but moto
stamps objects with wall-clock time. :func:`stamping` (installed on moto's ``FakeKey`` and
``FakeDeleteMarker`` by :mod:`mwaa_cp_local.patches`) therefore records, on every object
version and delete marker moto creates, the clock time it was created at;
without that a test that uploads a DAG and then jumps the clock could not tell when the
upload happened.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mwaa_control_plane.clock import get_clock

STAMP_ATTRIBUTE = "_mwaa_clock_stamp"


def stamping(init: Callable[..., None]) -> Callable[..., None]:
    """``init`` (of an S3 object version or delete marker), then the clock time as its stamp."""

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        setattr(self, STAMP_ATTRIBUTE, get_clock().now())

    return wrapper


@dataclass(frozen=True)
class ObjectVersion:
    """One version of an S3 key as MWAA would see it; ``content`` is None for a delete marker.

    ``content`` is also None when the caller said it already knows the version (``identity``),
    so that polling a large DAG folder does not copy every file on every call.
    """

    key: str
    version_id: str
    identity: str
    stamp: datetime | None
    content: bytes | None
    is_delete_marker: bool = False


def bucket_name_from_arn(bucket_arn: str) -> str:
    return bucket_arn.rsplit(":", 1)[-1]


def _bucket(account_id: str, partition: str, bucket_name: str) -> Any | None:
    from moto.s3.models import s3_backends

    # A bucket lives in the backend of the account that owns it; MWAA reads it with the
    # execution role, so a bucket of another account is as readable as our own.
    owner = s3_backends.bucket_accounts.get(bucket_name)
    if owner is not None:
        partition, account_id = owner
    backend = s3_backends[account_id][partition]
    return backend.buckets.get(bucket_name)


def _version(obj: Any, known: Container[str] = ()) -> ObjectVersion:
    is_marker = not hasattr(obj, "value")
    version_id = str(obj.version_id)
    # Unversioned buckets call every version "null": the etag and moto's own timestamp
    # tell two successive uploads of the same key apart.
    etag = "" if is_marker else str(getattr(obj, "etag", ""))
    identity = f"{obj.name}|{version_id}|{etag}|{obj.last_modified.isoformat()}|{is_marker}"
    content: bytes | None = None
    if not is_marker and identity not in known:
        try:
            content = bytes(obj.value)
        except ValueError:
            # moto closes the buffer of a replaced, unversioned object; treat it as gone.
            is_marker = True
    return ObjectVersion(
        key=str(obj.name),
        version_id=version_id,
        identity=identity,
        stamp=getattr(obj, STAMP_ATTRIBUTE, None),
        content=content,
        is_delete_marker=is_marker,
    )


def list_versions(
    account_id: str, partition: str, bucket_arn: str, prefix: str, known: Container[str] = ()
) -> dict[str, list[ObjectVersion]]:
    """Every retained version of every key under ``prefix``, oldest first; {} if the bucket is missing.

    Versions whose identity is in ``known`` come without their content.
    """
    bucket = _bucket(account_id, partition, bucket_name_from_arn(bucket_arn))
    if bucket is None:
        return {}
    found: dict[str, list[ObjectVersion]] = {}
    for key, versions in bucket.keys.iterlists():
        if key.startswith(prefix):
            found[key] = [_version(obj, known) for obj in versions]
    return found


def get_object(account_id: str, partition: str, bucket_arn: str, key: str, version_id: str | None) -> bytes | None:
    """The content of ``key`` (at ``version_id`` if given), or None when the bucket, key or version is missing."""
    bucket = _bucket(account_id, partition, bucket_name_from_arn(bucket_arn))
    if bucket is None:
        return None
    versions = bucket.keys.getlist(key, [])
    if version_id:
        chosen = next((obj for obj in versions if str(obj.version_id) == version_id), None)
    else:
        chosen = versions[-1] if versions else None
    return _version(chosen).content if chosen is not None else None
