"""Parameter Store Change events in the local runtime: SSM's shape, one per change, none for a failed call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from mwaa_cp_local.eventbridge import EventDelivery
from mwaa_cp_local.lambda_dispatch import LambdaDispatcher
from mwaa_cp_local.patches import Patches, install_eventbridge, install_ssm

REGION = "us-east-1"
ACCOUNT = "123456789012"
PATTERN = {
    "source": ["aws.ssm"],
    "detail-type": ["Parameter Store Change"],
    "detail": {"name": [{"prefix": "/mwaa-cp/"}]},
}


class Capture:
    """A rule matching the control plane's source tree, with an SQS queue as its target."""

    def __init__(self, delivery: EventDelivery) -> None:
        self.delivery = delivery
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.ssm = boto3.client("ssm", region_name=REGION)
        events = boto3.client("events", region_name=REGION)
        self.queue_url = self.sqs.create_queue(QueueName="ssm-changes")["QueueUrl"]
        queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ssm-changes"
        events.put_rule(Name="source-tree-changed", EventPattern=json.dumps(PATTERN))
        events.put_targets(Rule="source-tree-changed", Targets=[{"Id": "queue", "Arn": queue_arn}])

    def events(self) -> list[dict[str, Any]]:
        self.delivery.drain(timeout=5)
        found: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def operations(self) -> list[tuple[str, str]]:
        return [(e["detail"]["operation"], e["detail"]["name"]) for e in self.events()]


@pytest.fixture
def capture() -> Iterator[Capture]:
    delivery = EventDelivery(
        account_id=ACCOUNT, region=REGION, dispatcher=LambdaDispatcher(region=REGION, base_environment={})
    )
    with mock_aws(), Patches() as patches:
        install_eventbridge(patches, delivery)
        install_ssm(patches, delivery)
        yield Capture(delivery)
    delivery.shutdown()


def test_a_new_parameter_sends_create_with_ssms_event_shape(capture: Capture) -> None:
    capture.ssm.put_parameter(
        Name="/mwaa-cp/variables/global/region", Value="eu-west-1", Type="String", Description="Default region"
    )

    [event] = capture.events()

    assert {k: event[k] for k in ("version", "source", "detail-type", "account", "region", "resources")} == {
        "version": "0",
        "source": "aws.ssm",
        "detail-type": "Parameter Store Change",
        "account": ACCOUNT,
        "region": REGION,
        "resources": [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/mwaa-cp/variables/global/region"],
    }
    assert event["detail"] == {
        "operation": "Create",
        "name": "/mwaa-cp/variables/global/region",
        "type": "String",
        "description": "Default region",
    }
    assert event["id"] and event["time"].endswith("Z")


def test_an_overwrite_sends_update_with_the_new_type_and_an_empty_description(capture: Capture) -> None:
    capture.ssm.put_parameter(Name="/mwaa-cp/connections/global/warehouse", Value="a", Type="SecureString")
    capture.ssm.put_parameter(Name="/mwaa-cp/connections/global/warehouse", Value="b", Overwrite=True)

    # EventBridge delivery is unordered: find each event by its operation.
    events = {e["detail"]["operation"]: e for e in capture.events()}

    assert sorted(events) == ["Create", "Update"]
    assert events["Update"]["detail"]["type"] == "SecureString"
    assert events["Update"]["detail"]["description"] == ""


def test_a_delete_sends_delete(capture: Capture) -> None:
    capture.ssm.put_parameter(Name="/mwaa-cp/variables/global/x", Value="1", Type="String")
    capture.ssm.delete_parameter(Name="/mwaa-cp/variables/global/x")

    assert sorted(capture.operations()) == [
        ("Create", "/mwaa-cp/variables/global/x"),
        ("Delete", "/mwaa-cp/variables/global/x"),
    ]


def test_delete_parameters_sends_one_delete_per_name_actually_deleted(capture: Capture) -> None:
    for key in ("a", "b"):
        capture.ssm.put_parameter(Name=f"/mwaa-cp/variables/global/{key}", Value="1", Type="String")
    capture.events()

    capture.ssm.delete_parameters(
        Names=["/mwaa-cp/variables/global/a", "/mwaa-cp/variables/global/never", "/mwaa-cp/variables/global/b"]
    )

    assert sorted(capture.operations()) == [
        ("Delete", "/mwaa-cp/variables/global/a"),
        ("Delete", "/mwaa-cp/variables/global/b"),
    ]


def test_labelling_a_version_sends_label_parameter_version(capture: Capture) -> None:
    capture.ssm.put_parameter(Name="/mwaa-cp/variables/global/x", Value="1", Type="String")
    capture.events()

    capture.ssm.label_parameter_version(Name="/mwaa-cp/variables/global/x", Labels=["released"])

    assert capture.operations() == [("LabelParameterVersion", "/mwaa-cp/variables/global/x")]


@pytest.mark.parametrize(
    "failing_call",
    [
        pytest.param(lambda ssm: ssm.put_parameter(Name="/mwaa-cp/variables/global/x", Value="2"), id="no-overwrite"),
        pytest.param(
            lambda ssm: ssm.put_parameter(Name="/mwaa-cp/variables/global/big", Value="x" * 5000, Type="String"),
            id="too-large",
        ),
        pytest.param(lambda ssm: ssm.delete_parameter(Name="/mwaa-cp/variables/global/never"), id="delete-missing"),
        pytest.param(
            lambda ssm: ssm.label_parameter_version(Name="/mwaa-cp/variables/global/never", Labels=["l"]),
            id="label-missing",
        ),
    ],
)
def test_a_failed_call_sends_nothing(capture: Capture, failing_call: Any) -> None:
    capture.ssm.put_parameter(Name="/mwaa-cp/variables/global/x", Value="1", Type="String")
    capture.events()

    with pytest.raises(ClientError):
        failing_call(capture.ssm)

    assert capture.events() == []


def test_delete_parameters_of_only_missing_names_sends_nothing(capture: Capture) -> None:
    capture.ssm.delete_parameters(Names=["/mwaa-cp/variables/global/never"])

    assert capture.events() == []


def test_a_change_outside_the_source_tree_does_not_match_the_rule(capture: Capture) -> None:
    capture.ssm.put_parameter(Name="/airflow/variables/x", Value="1", Type="String")

    assert capture.events() == []


def test_the_local_runtime_sends_parameter_store_changes() -> None:
    from mwaa_cp_local.runtime import LocalAws

    with LocalAws() as aws:
        aws.client("sqs").create_queue(QueueName="ssm-changes")
        aws.client("events").put_rule(Name="source-tree-changed", EventPattern=json.dumps(PATTERN))
        aws.client("events").put_targets(
            Rule="source-tree-changed",
            Targets=[{"Id": "queue", "Arn": f"arn:aws:sqs:{aws.region}:{ACCOUNT}:ssm-changes"}],
        )
        capture = Capture.__new__(Capture)
        capture.delivery, capture.sqs = aws.events, aws.client("sqs")
        capture.queue_url = capture.sqs.get_queue_url(QueueName="ssm-changes")["QueueUrl"]

        aws.client("ssm").put_parameter(Name="/mwaa-cp/variables/global/x", Value="1", Type="String")

        assert capture.operations() == [("Create", "/mwaa-cp/variables/global/x")]
