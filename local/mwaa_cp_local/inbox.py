"""An operator's inbox in the local runtime: an SQS queue subscribed to the stack's notification topic."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mwaa_cp_local.runtime import LocalAws


class Inbox:
    """Subscribes a queue to ``NotificationTopic`` on creation; reads what SNS delivered to it."""

    def __init__(self, aws: LocalAws, *, queue_name: str = "inbox") -> None:
        self.aws = aws
        sqs = aws.client("sqs")
        self.url: str = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        aws.client("sns").subscribe(TopicArn=aws.stack.ref("NotificationTopic"), Protocol="sqs", Endpoint=arn)

    def messages(self) -> list[dict[str, str]]:
        """Every notification that arrived since the last read, as ``{"subject", "message"}``; removes them."""
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
