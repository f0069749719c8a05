"""Change an environment's tags, also while off-hours keeps it hibernated (``mwaa-cp tag``).

A hibernated environment does not exist, so MWAA cannot tag it. Its off-hours record keeps its
tags instead: the reconciler reads them there, and the resume creates the environment with them.
So ``mwaa-cp:keep-awake-until`` set on a hibernated environment wakes it on the next tick, and a
tag changed while it sleeps comes back with it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import ClientError

from mwaa_control_plane.environments.description import get_environment
from mwaa_control_plane.environments.offhours.window import TAG_VALUE_MAX_LENGTH, TAG_VALUE_PUNCTUATION
from mwaa_control_plane.errors import InvalidInputError, NotFoundError, translate_client_error
from mwaa_control_plane.payloads import Payload

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient

    from mwaa_control_plane.state import StateRepository

TAG_KEY_MAX_LENGTH = 128


class Retagged(Payload):
    environment_name: str
    where: Literal["environment", "off-hours record"]
    """Where the tags were written: MWAA's TagResource, or the record of a hibernated environment."""
    tags: dict[str, str]


def _check(tags: Mapping[str, str]) -> None:
    problems = []
    for key, value in tags.items():
        if not key or len(key) > TAG_KEY_MAX_LENGTH or key.startswith("aws:"):
            problems.append(f"{key!r}: a tag key is 1-128 characters and does not start with 'aws:'")
        if len(value) > TAG_VALUE_MAX_LENGTH or any(
            c not in TAG_VALUE_PUNCTUATION and unicodedata.category(c)[0] not in "LNZ" for c in value
        ):
            problems.append(f"{key}={value!r}: a tag value holds letters, digits, spaces and _ . : / = + - @ only")
    if problems:
        raise InvalidInputError("; ".join(problems))


def retag(
    mwaa: MWAAClient,
    repository: StateRepository,
    name: str,
    *,
    set_tags: Mapping[str, str],
    remove: Sequence[str] = (),
) -> Retagged:
    """Set and remove tags on ``name``: with TagResource when it exists, in its record when it is hibernated."""
    _check(set_tags)
    if not set_tags and not remove:
        raise InvalidInputError("name at least one tag to set (KEY=VALUE) or to remove (--remove KEY)")
    try:
        environment = get_environment(mwaa, name)
    except NotFoundError:
        return _retag_hibernated(repository, name, set_tags, remove)
    arn = str(environment["Arn"])
    try:
        if set_tags:
            mwaa.tag_resource(ResourceArn=arn, Tags=dict(set_tags))
        if remove:
            mwaa.untag_resource(ResourceArn=arn, tagKeys=list(remove))
    except ClientError as exc:
        raise translate_client_error(exc, operation="TagResource") from exc
    tags = {**dict(environment.get("Tags") or {}), **set_tags}
    return Retagged(environment_name=name, where="environment", tags={k: v for k, v in tags.items() if k not in remove})


def _retag_hibernated(
    repository: StateRepository, name: str, set_tags: Mapping[str, str], remove: Sequence[str]
) -> Retagged:
    record = repository.off_hours_record(name)
    if record is None or record.state != "hibernated":
        raise NotFoundError(f"no MWAA environment {name!r}, and off-hours has not hibernated one of that name")
    tags = {k: v for k, v in {**record.tags, **set_tags}.items() if k not in remove}
    # Conditional on the record's revision: a resume that started meanwhile makes this fail, not vanish.
    repository.put_off_hours_record(record.model_copy(update={"tags": tags}))
    return Retagged(environment_name=name, where="off-hours record", tags=tags)
