"""Fault injection: an armed operation fails N times with a real error response, then works."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from mwaa_cp_local.faults import FaultInjector
from mwaa_cp_local.patches import Patches, install_faults

# One attempt per call: botocore would otherwise retry a throttle and hide the count.
NO_RETRIES = Config(retries={"total_max_attempts": 1})


@pytest.fixture
def injector() -> Iterator[FaultInjector]:
    with mock_aws(), Patches() as patches:
        injector = FaultInjector()
        install_faults(patches, injector)
        yield injector


def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", config=NO_RETRIES)


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response


# --------------------------------------------------------------------------- arming


@pytest.mark.parametrize("times", [0, -1])
def test_a_fault_must_fire_at_least_once(times: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FaultInjector().inject("dynamodb", "ListTables", times=times)


def test_a_fault_fails_the_operation_n_times_then_lets_it_through(injector: FaultInjector) -> None:
    fault = injector.inject("dynamodb", "ListTables", error_code="ThrottlingException", times=3)
    dynamodb = client("dynamodb")

    codes = [error_of(dynamodb.list_tables)["Error"]["Code"] for _ in range(3)]

    assert codes == ["ThrottlingException"] * 3
    assert dynamodb.list_tables()["TableNames"] == []
    assert fault.injected == 3


def test_a_write_answered_by_a_fault_never_reaches_moto(injector: FaultInjector) -> None:
    # botocore asks every before-send handler; moto's stubber must not perform the write the fault refused.
    s3 = client("s3")
    s3.create_bucket(Bucket="airflow-dev")
    injector.inject("s3", "PutObject", error_code="SlowDown", status=503)

    error_of(lambda: s3.put_object(Bucket="airflow-dev", Key="requirements.txt", Body=b"x"))

    assert s3.list_objects_v2(Bucket="airflow-dev").get("KeyCount") == 0


def test_a_fault_is_counted_across_clients(injector: FaultInjector) -> None:
    fault = injector.inject("dynamodb", "ListTables", times=2)

    error_of(client("dynamodb").list_tables)
    error_of(client("dynamodb").list_tables)

    assert client("dynamodb").list_tables()["TableNames"] == []
    assert fault.injected == 2


def test_a_fault_leaves_other_operations_of_the_service_untouched(injector: FaultInjector) -> None:
    fault = injector.inject("dynamodb", "DescribeTable", times=1)

    assert client("dynamodb").list_tables()["TableNames"] == []
    assert fault.injected == 0


def test_a_fault_leaves_other_services_untouched(injector: FaultInjector) -> None:
    fault = injector.inject("s3", "ListTables", times=1)

    assert client("dynamodb").list_tables()["TableNames"] == []
    assert fault.injected == 0


def test_cleared_faults_no_longer_fire(injector: FaultInjector) -> None:
    injector.inject("dynamodb", "ListTables", times=5)
    injector.clear()

    assert client("dynamodb").list_tables()["TableNames"] == []


def test_after_undo_an_armed_fault_no_longer_fires() -> None:
    with mock_aws():
        injector = FaultInjector()
        fault = injector.inject("dynamodb", "ListTables", times=1)
        with Patches() as patches:
            install_faults(patches, injector)

        assert client("dynamodb").list_tables()["TableNames"] == []
        assert fault.injected == 0


# --------------------------------------------------------------------------- protocol-correct responses


def test_a_json_protocol_fault_carries_code_message_and_status(injector: FaultInjector) -> None:
    injector.inject(
        "dynamodb",
        "ListTables",
        error_code="ProvisionedThroughputExceededException",
        status=400,
        message="The level of configured provisioned throughput for the table was exceeded",
    )

    response = error_of(client("dynamodb").list_tables)

    assert response["Error"] == {
        "Code": "ProvisionedThroughputExceededException",
        "Message": "The level of configured provisioned throughput for the table was exceeded",
    }
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_extra_fields_of_a_json_fault_reach_the_caller(injector: FaultInjector) -> None:
    injector.inject(
        "dynamodb",
        "ListTables",
        error_code="TransactionCanceledException",
        extra={"CancellationReasons": [{"Code": "ConditionalCheckFailed"}]},
    )

    response = error_of(client("dynamodb").list_tables)

    assert response["CancellationReasons"] == [{"Code": "ConditionalCheckFailed"}]


def test_a_rest_json_fault_carries_its_code_and_status(injector: FaultInjector) -> None:
    # MWAA is rest-json: the code travels in the x-amzn-ErrorType header.
    injector.inject("mwaa", "GetEnvironment", error_code="ResourceNotFoundException", status=404, message="gone")

    response = error_of(lambda: client("mwaa").get_environment(Name="dev-analytics"))

    assert (response["Error"]["Code"], response["Error"]["Message"]) == ("ResourceNotFoundException", "gone")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_an_s3_fault_is_an_xml_error_then_the_call_succeeds(injector: FaultInjector) -> None:
    injector.inject("s3", "ListBuckets", error_code="SlowDown", status=503, message="Please reduce your request rate.")
    s3 = client("s3")

    response = error_of(s3.list_buckets)

    assert (response["Error"]["Code"], response["Error"]["Message"]) == ("SlowDown", "Please reduce your request rate.")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert s3.list_buckets()["Buckets"] == []


def test_an_sns_fault_is_a_query_protocol_error(injector: FaultInjector) -> None:
    injector.inject("sns", "ListTopics", error_code="Throttling", message="Rate exceeded")

    response = error_of(client("sns").list_topics)

    assert (response["Error"]["Code"], response["Error"]["Message"]) == ("Throttling", "Rate exceeded")


def test_an_sqs_fault_carries_the_injected_code_then_the_call_succeeds(injector: FaultInjector) -> None:
    injector.inject("sqs", "ListQueues", error_code="RequestThrottled", times=2)
    sqs = client("sqs")

    codes = [error_of(sqs.list_queues)["Error"]["Code"] for _ in range(2)]

    assert codes == ["RequestThrottled", "RequestThrottled"]
    assert "QueueUrls" not in sqs.list_queues()


def test_a_cloudwatch_fault_carries_the_injected_code(injector: FaultInjector) -> None:
    injector.inject("cloudwatch", "PutMetricData", error_code="Throttling")

    response = error_of(lambda: client("cloudwatch").put_metric_data(Namespace="MWAA-CP", MetricData=[]))

    assert response["Error"]["Code"] == "Throttling"


def test_a_fault_armed_with_the_client_name_stepfunctions_fires(injector: FaultInjector) -> None:
    injector.inject("stepfunctions", "ListStateMachines", error_code="ThrottlingException")

    response = error_of(client("stepfunctions").list_state_machines)

    assert response["Error"]["Code"] == "ThrottlingException"


def test_a_fault_armed_with_botocores_event_name_fires(injector: FaultInjector) -> None:
    # Step Functions' service id is "SFN": its events are "before-send.sfn.<Operation>".
    injector.inject("sfn", "ListStateMachines", error_code="ThrottlingException")

    response = error_of(client("stepfunctions").list_state_machines)

    assert response["Error"]["Code"] == "ThrottlingException"
