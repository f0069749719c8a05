"""What flow tests do to the local runtime: upload, read back, listen to notifications."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mwaa_cp_local.inbox import Inbox
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import source_bucket_name

FILES = Path(__file__).parent / "files"

#: The stack's notification topic as an operator's inbox (an SQS queue subscribed to it).
Notifications = Inbox


def staging_bucket(aws: LocalAws) -> str:
    return aws.stack.ref("StagingBucket")


def upload(aws: LocalAws, key: str, body: bytes | str) -> str:
    """PutObject into the staging bucket; the version id S3 assigned."""
    data = body.encode() if isinstance(body, str) else body
    return str(aws.client("s3").put_object(Bucket=staging_bucket(aws), Key=key, Body=data)["VersionId"])


def upload_file(aws: LocalAws, key: str, name: str) -> str:
    return upload(aws, key, (FILES / name).read_bytes())


def mwaa_object(aws: LocalAws, environment: str, key: str) -> dict[str, Any] | None:
    """The current object at ``key`` in the environment's source bucket, with its body, or None."""
    s3 = aws.client("s3")
    try:
        answer = s3.get_object(Bucket=source_bucket_name(environment), Key=key)
    except s3.exceptions.NoSuchKey:
        return None
    answer["Body"] = answer["Body"].read()
    return dict(answer)


def event_from_sample(
    sample: dict[str, Any],
    *,
    bucket: str,
    key: str | None = None,
    version_id: str | None = None,
    sequencer: str | None = None,
) -> dict[str, Any]:
    """A sample EventBridge S3 event from events/ with the live bucket, key, version and sequencer."""
    event = copy.deepcopy(sample)
    event["detail"]["bucket"]["name"] = bucket
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    obj = event["detail"]["object"]
    if key is not None:
        obj["key"] = key
    if version_id is not None:
        obj["version-id"] = version_id
    if sequencer is not None:
        obj["sequencer"] = sequencer
    return event


def last_state(aws: LocalAws, execution_arn: str) -> str:
    """The name of the last state ``execution_arn`` entered (its end state, once it has ended)."""
    entered = [e for e in aws.history(execution_arn) if e["type"].endswith("StateEntered")]
    return str(entered[-1]["stateEnteredEventDetails"]["name"])


def final_states(aws: LocalAws, flow: str, count: int) -> list[str]:
    """The end state of each of ``flow``'s first ``count`` executions, in start order (waits for them)."""
    executions = sorted(aws.wait_for_executions(flow, count), key=lambda e: e["startDate"])
    return [last_state(aws, e["executionArn"]) for e in executions]


def far_from_midnight() -> datetime:
    """A virtual-clock origin 23 hours of virtual time (over a minute of real time) before midnight UTC.

    Virtual time runs a thousand times faster than the wall clock, so a test that reads "today" and then
    plans against a day-of-week window crosses midnight within seconds of 23:00 UTC. The origin is the next
    01:00 UTC: forward of the wall clock, as virtual time always is, never behind it.
    """
    now = datetime.now(UTC)
    start = now.replace(hour=1, minute=0, second=0, microsecond=0)
    return start if start >= now else start + timedelta(days=1)
