"""What flow tests do to the local runtime: upload, read back, listen to notifications."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mwaa_control_plane.local.runtime import LocalAws
from mwaa_control_plane.local.seed import source_bucket_name

FILES = Path(__file__).parent / "files"


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


class Notifications:
    """An SQS queue subscribed to the stack's notification topic, as an operator's inbox."""

    def __init__(self, aws: LocalAws) -> None:
        self.aws = aws
        sqs = aws.client("sqs")
        self.url = sqs.create_queue(QueueName="test-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        aws.client("sns").subscribe(TopicArn=aws.stack.ref("NotificationTopic"), Protocol="sqs", Endpoint=arn)

    def wait_for(self, predicate: Callable[[dict[str, str]], bool], timeout: float = 10.0) -> list[dict[str, str]]:
        """Read the inbox until a message matches ``predicate`` (delivery is asynchronous, as on AWS)."""
        seen: list[dict[str, str]] = []
        deadline = time.monotonic() + timeout
        while not any(predicate(m) for m in seen):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no matching notification within {timeout} s; got {seen}")
            self.aws.events.drain()
            seen.extend(self.messages())
            time.sleep(0.02)
        return seen

    def messages(self) -> list[dict[str, str]]:
        sqs = self.aws.client("sqs")
        found: list[dict[str, str]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                envelope = json.loads(message["Body"])
                found.append({"subject": envelope.get("Subject", ""), "message": envelope["Message"]})
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])


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
