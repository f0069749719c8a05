"""EventBridge for the local runtime: real S3 event shapes, and delivery to Lambda, Step Functions and SNS.

moto matches rules but only delivers to log groups, SQS and buses, and its S3 events
carry a fixed ``sequencer`` and ``eTag``/``reason`` fields S3 never sends. This module:

- emits S3 ``Object Created`` / ``Object Deleted`` events exactly as S3 does (``etag``,
  ``version-id``, an increasing ``sequencer``, ``reason`` = PutObject/CopyObject/...,
  ``deletion-type`` on deletes, delete markers included);
- publishes SSM's ``Parameter Store Change`` events (built and hooked in by :mod:`.ssm`);
- delivers matched events to ``lambda``, ``states`` and ``sns`` targets (and the events published
  here, S3's and SSM's, to ``sqs`` targets too) asynchronously
  (at least once, unordered, as EventBridge does), with ``Input``/``InputPath``/
  ``InputTransformer``, and sends what cannot be delivered to the target's DLQ;
- fires scheduled rules and ``AWS::Scheduler::Schedule`` resources on demand, since
  nothing fires them by clock here.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3

from mwaa_control_plane.errors import InvalidInputError, NotFoundError
from mwaa_cp_local.lambda_dispatch import LambdaDispatcher

_REASONS = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "PostObject",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
}


def event_envelope(
    *,
    detail_type: str,
    source: str,
    account: str,
    region: str,
    resources: list[str],
    detail: dict[str, Any],
) -> dict[str, Any]:
    """An EventBridge event as AWS services send it: a fresh id and the current time around ``detail``."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": resources,
        "detail": detail,
    }


class EventDelivery:
    """Delivers events to targets on a small thread pool."""

    def __init__(self, *, account_id: str, region: str, dispatcher: LambdaDispatcher) -> None:
        self.account_id = account_id
        self.region = region
        self.dispatcher = dispatcher
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="eventbridge")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._sequencer = itertools.count(0x6000000000000000)
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        # moto's own Rule.send_to_targets, set by delivering_send_to_targets(): it still serves the other targets.
        self._original_send_to_targets: Callable[..., None] | None = None

    def _client(self, service: str) -> Any:
        """A boto3 client, made on first use (after fault injection is installed, so faults reach it)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
            return self._clients[service]

    # ------------------------------------------------------------------ S3 events
    def next_sequencer(self) -> str:
        with self._lock:
            return f"{next(self._sequencer):016X}"

    def s3_event(self, detail_type: str, bucket: Any, object_detail: dict[str, Any], reason: str) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": object_detail,
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": self.account_id,
            "source-ip-address": "127.0.0.1",
            "reason": reason,
        }
        return event_envelope(
            detail_type=detail_type,
            source="aws.s3",
            account=self.account_id,
            region=bucket.region_name,
            resources=[f"arn:aws:s3:::{bucket.name}"],
            detail=detail,
        )

    def publish(self, event: dict[str, Any]) -> None:
        """Match ``event`` against every enabled rule of every bus and deliver it."""
        from moto.events.models import events_backends

        backend = events_backends[self.account_id][self.region]
        for bus in list(backend.event_buses.values()):
            for rule in list(bus.rules.values()):
                if rule.state == "ENABLED" and rule.event_pattern.matches_event(event):
                    self._deliver_to_rule(rule, event)

    # ------------------------------------------------------------------ delivery
    def _deliver_to_rule(self, rule: Any, event: dict[str, Any]) -> None:
        for target in rule.targets:
            arn: str = target["Arn"]
            service = arn.split(":")[2]
            # moto's own SQS delivery needs the numeric time and ingestion-time its PutEvents stamps: the
            # real-shaped events published here (S3, SSM) go to SQS through the same path as the others.
            ours = service in ("lambda", "states", "sns") or (service == "sqs" and "ingestion-time" not in event)
            if not ours:
                if self._original_send_to_targets is None:
                    raise RuntimeError("EventDelivery is not installed into moto")
                single = copy.copy(rule)
                single.targets = [target]
                self._original_send_to_targets(single, event)
                continue
            self._submit(functools.partial(self._deliver, rule.arn, target, _target_input(target, event)))

    def _deliver(self, source_arn: str, target: dict[str, Any], payload: Any) -> None:
        arn: str = target["Arn"]
        service = arn.split(":")[2]
        try:
            if service == "lambda":
                function = self.dispatcher.lookup(arn)
                if function is None:
                    raise NotFoundError(f"function {arn} does not exist")
                self.dispatcher.invoke(function, payload)
            elif service == "states":
                self._client("stepfunctions").start_execution(stateMachineArn=arn, input=json.dumps(payload))
            elif service == "sqs":
                self._send_to_queue(arn, target, payload)
            else:
                self._client("sns").publish(
                    TopicArn=arn, Message=json.dumps(payload) if not isinstance(payload, str) else payload
                )
        except Exception as exc:  # EventBridge swallows delivery errors and uses the DLQ
            dlq = target.get("DeadLetterConfig", {}).get("Arn")
            if dlq:
                queue_name = dlq.split(":")[-1]
                sqs = self._client("sqs")
                sqs.send_message(
                    QueueUrl=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"],
                    MessageBody=json.dumps(payload),
                    MessageAttributes={
                        "RULE_ARN": {"DataType": "String", "StringValue": source_arn},
                        "TARGET_ARN": {"DataType": "String", "StringValue": arn},
                        "ERROR_MESSAGE": {"DataType": "String", "StringValue": str(exc)[:256]},
                    },
                )

    def _send_to_queue(self, arn: str, target: dict[str, Any], payload: Any) -> None:
        sqs = self._client("sqs")
        _, _, _, _, account, name = arn.split(":", 5)
        body = payload if isinstance(payload, str) else json.dumps(payload)
        message: dict[str, Any] = {
            "QueueUrl": sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"],
            "MessageBody": body,
        }
        if name.endswith(".fifo"):
            message["MessageGroupId"] = target.get("SqsParameters", {}).get("MessageGroupId") or "default"
            # EventBridge deduplicates by event id: every event gets through, never two copies of one.
            message["MessageDeduplicationId"] = uuid.uuid4().hex
        sqs.send_message(**message)

    def _submit(self, work: Callable[[], None]) -> None:
        future = self._pool.submit(work)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every event handed to a target has been delivered, or ``timeout`` seconds (tests, demo)."""
        import concurrent.futures

        # One deadline for the whole drain: deliveries may start deliveries (an execution's status events).
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._pending)
            remaining = deadline - time.monotonic()
            if not pending or remaining <= 0:
                return
            concurrent.futures.wait(pending, timeout=remaining)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

    # ------------------------------------------------------------------ schedules
    def fire_schedule(self, name: str, group: str = "default") -> None:
        """Do what EventBridge Scheduler does when ``name`` comes due: start its target with its Input."""
        from moto.scheduler.models import scheduler_backends

        try:
            schedule = scheduler_backends[self.account_id][self.region].get_schedule(group, name)
        except Exception as exc:
            raise NotFoundError(f"no schedule {name!r} in group {group!r}") from exc
        target = schedule.target
        raw = target.get("Input") or "{}"
        try:
            payload = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"schedule {name} has an Input that is not JSON: {exc}") from exc
        self._submit(functools.partial(self._deliver, schedule.arn, target, payload))

    def fire_rule(self, name: str, bus: str = "default") -> None:
        """Deliver the ``Scheduled Event`` a ``ScheduleExpression`` rule sends when it comes due."""
        from moto.events.models import events_backends

        backend = events_backends[self.account_id][self.region]
        rule = backend.event_buses[bus].rules.get(name) if bus in backend.event_buses else None
        if rule is None or not rule.schedule_exp:
            raise NotFoundError(f"no scheduled rule {name!r} on bus {bus!r}")
        event = event_envelope(
            detail_type="Scheduled Event",
            source="aws.events",
            account=self.account_id,
            region=self.region,
            resources=[rule.arn],
            detail={},
        )
        self._deliver_to_rule(rule, event)


def _target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    if "Input" in target and target["Input"] is not None:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        return _json_path(event, target["InputPath"])
    transformer = target.get("InputTransformer")
    if transformer:
        return render_input_template(transformer.get("InputTemplate", ""), transformer.get("InputPathsMap", {}), event)
    return event


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")


def _inside_string(text: str, position: int) -> bool:
    """Is ``position`` inside a JSON string literal of ``text`` (an odd number of unescaped quotes before it)?"""
    inside = escaped = False
    for char in text[:position]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside


def render_input_template(template: str, paths: dict[str, str], event: dict[str, Any]) -> Any:
    """An EventBridge input transformer as AWS applies it.

    In a JSON template a placeholder outside quotes becomes the JSON value (a string gets its quotes, a
    missing path ``null``); inside quotes it becomes the text. A template that is not JSON stays a string.
    """
    values = {name: _json_path(event, path) for name, path in paths.items()}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        if _inside_string(template, match.start()):
            text = value if isinstance(value, str) else json.dumps(value)
            return json.dumps(text)[1:-1]
        return json.dumps(value)

    rendered = _PLACEHOLDER.sub(substitute, template)
    try:
        return json.loads(rendered)
    except json.JSONDecodeError:
        return rendered


def _json_path(document: Any, path: str) -> Any:
    node = document
    for part in path.removeprefix("$").strip(".").split("."):
        if part:
            node = node.get(part) if isinstance(node, dict) else None
    return node


# ---------------------------------------------------------------------- replacements for moto's functions
def delivering_send_to_targets(delivery: EventDelivery, original: Callable[..., None]) -> Callable[..., None]:
    """moto's ``Rule.send_to_targets`` that delivers to Lambda, Step Functions and SNS through ``delivery``
    (``original`` still serves the other target types)."""
    delivery._original_send_to_targets = original

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:  # noqa: ARG001
        if self.event_pattern.matches_event(original_event):
            delivery._deliver_to_rule(self, original_event)

    return send_to_targets


def real_shaped_object_created(delivery: EventDelivery) -> Callable[[str, Any, str, Any], None]:
    """moto's ``_send_event_bridge_message`` that publishes S3's ``Object Created`` event as S3 shapes it."""

    def send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:  # noqa: ARG001
        # Deletions are emitted by delete_object below, which knows what kind of delete it was.
        reason = _REASONS.get(event_name)
        if reason is None or bucket.notification_configuration.event_bridge is None:
            return
        detail = {
            "key": key.name,
            "size": key.size,
            "etag": key.etag.replace('"', ""),
            "sequencer": delivery.next_sequencer(),
        }
        if bucket.is_versioned:
            detail["version-id"] = key.version_id
        delivery.publish(delivery.s3_event("Object Created", bucket, detail, reason))

    return send_event_bridge_message


def announcing_delete_object(delivery: EventDelivery, original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``S3Backend.delete_object`` that publishes ``Object Deleted`` with its ``deletion-type``."""

    def delete_object(
        self: Any, bucket_name: str, key_name: str, version_id: str | None = None, bypass: bool = False
    ) -> Any:
        deleted, meta = original(self, bucket_name, key_name, version_id=version_id, bypass=bypass)
        bucket = self.get_bucket(bucket_name)
        config = bucket.notification_configuration
        if deleted and config is not None and config.event_bridge is not None:
            marker = version_id is None and bucket.is_versioned
            detail: dict[str, Any] = {"key": key_name, "sequencer": delivery.next_sequencer()}
            if meta.get("version-id"):
                detail["version-id"] = meta["version-id"]
            event = delivery.s3_event("Object Deleted", bucket, detail, "DeleteObject")
            event["detail"]["deletion-type"] = "Delete Marker Created" if marker else "Permanently Deleted"
            delivery.publish(event)
        return deleted, meta

    return delete_object


def reporting_eventbridge_configuration(original: Callable[..., Any]) -> Callable[..., Any]:
    """GetBucketNotificationConfiguration with the bucket's EventBridgeConfiguration, as S3 returns it."""
    from moto.core.responses import ActionResult

    def get_bucket_notification(self: Any) -> Any:
        configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if configuration is None or configuration.event_bridge is None:
            return original(self)
        serialized = self.serialized

        def adding(result: Any) -> Any:
            return serialized(ActionResult({**result.result, "EventBridgeConfiguration": {}}))

        self.serialized = adding
        try:
            return original(self)
        finally:
            del self.serialized

    return get_bucket_notification
