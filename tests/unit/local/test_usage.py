"""The usage meter counts what AWS would bill the stack for, and nothing when it is off."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import botocore.handlers
import pytest

from mwaa_cp_local import usage
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment
from mwaa_cp_local.usage import UsageMeter, dynamodb_units, item_size, transitions_in

ENVIRONMENT = "dev-analytics"


@pytest.fixture
def metered() -> Iterator[tuple[LocalAws, UsageMeter]]:
    meter = UsageMeter()
    with LocalAws(meter=meter) as aws:
        create_environment(aws, ENVIRONMENT)
        yield aws, meter


def _health_check(aws: LocalAws, meter: UsageMeter) -> tuple[str, usage.Usage]:
    meter.reset()
    arn = aws.start_execution("environment-health", {"environment_name": ENVIRONMENT})
    assert aws.wait_for_execution(arn)["status"] == "SUCCEEDED"
    return arn, meter.reading()


def test_one_flow_run_counts_the_transitions_its_execution_history_shows(
    metered: tuple[LocalAws, UsageMeter],
) -> None:
    aws, meter = metered

    arn, reading = _health_check(aws, meter)

    history = aws.history(arn)
    entered = [event for event in history if event["type"].endswith("StateEntered")]
    machine = f"{aws.stack_name}-environment-health"
    assert reading.executions == {machine: 1}
    assert reading.state_transitions == {machine: len(entered)}
    assert len(entered) >= 5


def test_each_lambda_invocation_counts_with_its_template_memory_and_a_measured_duration(
    metered: tuple[LocalAws, UsageMeter],
) -> None:
    aws, meter = metered

    _, reading = _health_check(aws, meter)

    [(name, function)] = reading.functions.items()
    assert "CheckEnvironmentHealthFunction" in name
    assert function.invocations == 1
    assert function.memory_mb == 256  # template.yaml Globals
    assert function.billed_ms >= 1
    assert function.gb_seconds == Decimal(256) / 1024 * function.billed_ms / 1000
    assert function.log_bytes > 0


def test_calls_are_counted_for_the_part_of_the_stack_that_made_them(metered: tuple[LocalAws, UsageMeter]) -> None:
    aws, meter = metered

    _, reading = _health_check(aws, meter)

    # The state machine describes the environment and invokes the check; the check asks MWAA and Airflow.
    assert reading.calls_by_caller["step-functions"]["mwaa:GetEnvironment"] == 1
    assert reading.calls_by_caller["step-functions"]["lambda:Invoke"] == 1
    assert reading.calls_by_caller["lambda"]["mwaa:GetEnvironment"] >= 1
    assert reading.calls_of("mwaa")["GetEnvironment"] == sum(
        calls.get("mwaa:GetEnvironment", 0) for calls in reading.calls_by_caller.values()
    )


def test_calls_the_driver_makes_are_not_the_stacks(metered: tuple[LocalAws, UsageMeter]) -> None:
    aws, meter = metered
    meter.reset()

    aws.client("s3").list_buckets()
    aws.client("mwaa").get_environment(Name=ENVIRONMENT)

    reading = meter.reading()
    assert reading.calls == {}
    assert reading.outside_calls == 2


def _meters_in_botocore() -> list[object]:
    """The usage meters whose handlers every new botocore session would get."""
    owners = [getattr(entry[1], "__self__", None) for entry in botocore.handlers.BUILTIN_HANDLERS]
    return [owner for owner in owners if isinstance(owner, UsageMeter)]


def test_the_meter_is_off_unless_a_runtime_is_given_one() -> None:
    with LocalAws() as aws:
        assert aws.meter is None
        assert usage.current() is None
        assert _meters_in_botocore() == []


def test_a_stopped_runtime_leaves_no_meter_behind() -> None:
    meter = UsageMeter()
    with LocalAws(meter=meter):
        assert usage.current() is meter
        assert _meters_in_botocore() == [meter, meter]
    assert usage.current() is None
    assert _meters_in_botocore() == []


def test_each_retried_task_attempt_is_a_transition() -> None:
    history = [
        {"type": "ExecutionStarted"},
        {"type": "TaskStateEntered"},
        {"type": "TaskScheduled"},
        {"type": "TaskFailed"},
        {"type": "TaskScheduled"},
        {"type": "TaskFailed"},
        {"type": "TaskScheduled"},
        {"type": "TaskSucceeded"},
        {"type": "TaskStateExited"},
        {"type": "SucceedStateEntered"},
        {"type": "ExecutionSucceeded"},
    ]

    assert transitions_in(history) == 2 + 2


def test_item_sizes_follow_dynamodbs_rules() -> None:
    # Names and string values are their UTF-8 bytes; a number is about one byte per two digits plus one.
    assert item_size({"pk": {"S": "env#dev"}}) == 2 + 7
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    assert item_size({"flag": {"BOOL": True}, "gone": {"NULL": True}}) == 4 + 1 + 4 + 1
    assert item_size({"m": {"M": {"a": {"S": "xy"}}}}) == 1 + 3 + 1 + 1 + 2
    assert item_size({"l": {"L": [{"S": "ab"}, {"S": "c"}]}}) == 1 + 3 + (1 + 2) + (1 + 1)


def test_writes_bill_a_unit_per_kilobyte_and_reads_half_a_unit_per_four_eventually_consistent() -> None:
    small = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    big = {"pk": {"S": "a"}, "body": {"S": "x" * 1500}}

    assert dynamodb_units("PutItem", {"Item": small}, {}) == (0.0, 1)
    assert dynamodb_units("PutItem", {"Item": big}, {}) == (0.0, 2)
    assert dynamodb_units("DeleteItem", {"Key": small}, {}) == (0.0, 1)
    assert dynamodb_units("GetItem", {"Key": small}, {"Item": big}) == (0.5, 0)
    assert dynamodb_units("GetItem", {"Key": small, "ConsistentRead": True}, {}) == (1.0, 0)
    five_kb = [{"pk": {"S": "a"}, "body": {"S": "x" * 2500}}] * 2
    assert dynamodb_units("Query", {}, {"Items": five_kb}) == (1.0, 0)
    assert dynamodb_units("TransactWriteItems", {"TransactItems": [{"Put": {"Item": small}}]}, {}) == (0.0, 2)


def test_dynamodb_calls_of_a_flow_add_up_to_request_units(metered: tuple[LocalAws, UsageMeter]) -> None:
    aws, meter = metered
    table = aws.stack.ref("StateTable")
    meter.reset()

    # A control-plane client while a function runs is the stack's: the same path a handler takes.
    meter.record_call(usage.LAMBDA, "dynamodb", "PutItem", {"TableName": table, "Item": {"pk": {"S": "a"}}}, {})
    meter.record_call(usage.STEP_FUNCTIONS, "dynamodb", "GetItem", {"TableName": table}, {"Item": {"pk": {"S": "a"}}})

    reading = meter.reading()
    assert reading.dynamodb_write_units == 1
    assert reading.dynamodb_read_units == Decimal("0.5")
    assert reading.calls == {"dynamodb:GetItem": 1, "dynamodb:PutItem": 1}
