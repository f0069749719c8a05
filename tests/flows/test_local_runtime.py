"""The foundation's acceptance: each local-runtime plugin proven with the real template and ASL."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from mwaa_control_plane.errors import InvalidInputError, NotFoundError
from mwaa_cp_local.lambda_dispatch import LocalFunction
from mwaa_cp_local.provisioner import ProvisioningError
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment, source_bucket_name, wait_for_status
from mwaa_cp_local.server import LocalServer
from tests.conftest import REPO, load_event
from tests.flows.helpers import staging_bucket, upload

pytestmark = pytest.mark.flow


def _failed_attempts(aws: LocalAws, arn: str, error: str) -> int:
    return sum(
        1
        for e in aws.history(arn)
        if e["type"] in ("TaskFailed", "LambdaFunctionFailed")
        and (e.get("taskFailedEventDetails") or e.get("lambdaFunctionFailedEventDetails") or {}).get("error") == error
    )


def test_the_stack_is_provisioned_from_template_yaml(aws: LocalAws) -> None:
    machines = {r.attributes["Name"] for r in aws.stack.of_type("AWS::StepFunctions::StateMachine").values()}
    assert machines == {
        "mwaa-control-plane-environment-health",
        "mwaa-control-plane-dag-delivery",
        "mwaa-control-plane-environment-change",
        "mwaa-control-plane-off-hours",
        "mwaa-control-plane-worker-analysis",
        "mwaa-control-plane-variable-propagation",
    }
    assert aws.stack.outputs["StagingBucketName"] == staging_bucket(aws)
    versioning = aws.client("s3").get_bucket_versioning(Bucket=staging_bucket(aws))
    assert versioning["Status"] == "Enabled"


def test_a_handler_that_raises_is_retried_by_the_state_machine(aws: LocalAws) -> None:
    # Given an environment whose Airflow REST API throttles long enough to exhaust the function's own
    # retries (the AirflowClient makes 5 attempts; botocore does not retry under it)
    create_environment(aws, "dev-analytics")
    aws.faults.inject("mwaa", "InvokeRestApi", error_code="ThrottlingException", times=5)
    # When the health flow asks Airflow through the function
    arn = aws.start_execution("environment-health", load_event("environment-health/one-environment.json"))
    result = aws.wait_for_execution(arn)
    # Then the function raised ThrottledError once, the ASL Retry ran it again, and the flow succeeded
    assert result["status"] == "SUCCEEDED", result
    assert _failed_attempts(aws, arn, "ThrottledError") == 1
    [report] = json.loads(result["output"])
    assert report["environment_name"] == "dev-analytics" and report["status"] == "AVAILABLE"


def test_an_injected_throttling_fault_is_retried_by_the_asl(aws: LocalAws) -> None:
    create_environment(aws, "dev-analytics")
    # The flow's first call is its own direct GetEnvironment (the Lambda asks only after it)
    fault = aws.faults.inject("mwaa", "GetEnvironment", error_code="ThrottlingException", times=2)
    arn = aws.start_execution("environment-health", load_event("environment-health/one-environment.json"))
    result = aws.wait_for_execution(arn)
    assert result["status"] == "SUCCEEDED", result
    assert fault.injected == 2
    assert _failed_attempts(aws, arn, "Mwaa.ThrottlingException") == 2


def test_an_s3_upload_reaches_a_state_machine_through_the_templates_rule(aws: LocalAws) -> None:
    version = upload(aws, "dev-analytics/dags/hello.py", b"print('hi')\n")
    [execution] = aws.wait_for_executions("dag-delivery", 1)
    event = json.loads(aws.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])["input"])
    assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    obj = event["detail"]["object"]
    assert obj["key"] == "dev-analytics/dags/hello.py" and obj["version-id"] == version
    assert event["detail"]["reason"] == "PutObject" and len(obj["sequencer"]) >= 16 and "etag" in obj


def test_writing_a_report_does_not_start_the_flow(aws: LocalAws) -> None:
    upload(aws, "reports/dev-analytics/x.json", b"{}")
    aws.events.drain()
    assert aws.executions("dag-delivery") == []


def test_a_fired_schedule_starts_its_target_with_its_input(aws: LocalAws) -> None:
    aws.fire("EnvironmentHealthSchedule")
    [execution] = aws.wait_for_executions("environment-health", 1)
    description = aws.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    assert json.loads(description["input"]) == {"source": "schedule"}
    assert description["status"] == "SUCCEEDED"


def test_firing_something_that_is_not_a_schedule_is_a_clear_error(aws: LocalAws) -> None:
    with pytest.raises(InvalidInputError, match="not a schedule"):
        aws.fire("StateTable")


def test_an_mwaa_environment_moves_through_its_statuses(aws: LocalAws) -> None:
    created = create_environment(aws, "dev-analytics", wait=False)
    assert created["Status"] == "CREATING"
    assert wait_for_status(aws, "dev-analytics", {"AVAILABLE"})["Status"] == "AVAILABLE"
    aws.client("mwaa").update_environment(Name="dev-analytics", MaxWorkers=10)
    assert aws.client("mwaa").get_environment(Name="dev-analytics")["Environment"]["Status"] == "UPDATING"
    updated = wait_for_status(aws, "dev-analytics", {"AVAILABLE"})
    assert updated["MaxWorkers"] == 10
    assert updated["LastUpdate"]["Status"] == "SUCCESS"


def test_an_execution_left_running_ends_with_its_runtime_and_never_reaches_the_next() -> None:
    from moto.stepfunctions.parser.utils import TMP_THREADS

    from mwaa_cp_local import mwaa
    from mwaa_cp_local.usage import UsageMeter

    with LocalAws() as first:
        mwaa.configure(create_seconds=3600)
        create_environment(first, "dev-analytics", wait=False)  # CREATING for an hour: the change waits for it
        arn = first.start_execution("environment-change", load_event("environment-change/capacity-change.json"))
        assert first.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "RUNNING"
    assert not [thread for thread in TMP_THREADS if thread.is_alive()]

    meter = UsageMeter()
    with LocalAws(meter=meter):
        pass
    assert meter.reading().executions == {}


def test_invoke_rest_api_answers_from_the_emulated_airflow(aws: LocalAws) -> None:
    create_environment(aws, "dev-analytics")
    aws.client("s3").put_object(
        Bucket=source_bucket_name("dev-analytics"),
        Key="dags/hello.py",
        Body=b"from airflow import DAG\nwith DAG(dag_id='hello', schedule=None):\n    pass\n",
    )
    assert aws.clock is not None
    aws.clock.sleep(400)  # the S3 sync and dag_dir_list_interval, compressed
    answer = aws.client("mwaa").invoke_rest_api(Name="dev-analytics", Path="/dags", Method="GET")
    assert answer["RestApiStatusCode"] == 200
    assert [d["dag_id"] for d in answer["RestApiResponse"]["dags"]] == ["hello"]


def test_a_malformed_event_fails_the_handler_in_lambdas_unhandled_shape(aws: LocalAws) -> None:
    answer = aws.client("lambda").invoke(
        FunctionName=aws.stack.ref("CheckEnvironmentHealthFunction"),
        Payload=json.dumps(load_event("environment-health/malformed-name.json")),
    )
    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert error["errorType"] == "InvalidInputError"
    assert "environment_name" in error["errorMessage"]


def test_an_unknown_flow_names_the_known_ones(aws: LocalAws) -> None:
    with pytest.raises(NotFoundError, match="dag-delivery"):
        aws.start_execution("no-such-flow", {})


def test_an_unknown_template_parameter_is_refused() -> None:
    with pytest.raises(ProvisioningError, match="unknown template parameter"), LocalAws(parameters={"Nope": "1"}):
        pass


def test_a_template_that_does_not_exist_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ProvisioningError, match="not a readable template"), LocalAws(template=tmp_path / "x.yaml"):
        pass


def test_local_up_serves_the_stack_to_boto3_over_http(aws: LocalAws) -> None:
    create_environment(aws, "dev-analytics")
    server = LocalServer(port=0).start()
    try:

        def client(service: str):
            return boto3.client(
                service,
                endpoint_url=server.endpoint_url,
                region_name="us-east-1",
                config=Config(inject_host_prefix=False),
            )

        buckets = {b["Name"] for b in client("s3").list_buckets()["Buckets"]}
        assert staging_bucket(aws) in buckets
        machines = {m["name"] for m in client("stepfunctions").list_state_machines()["stateMachines"]}
        assert "mwaa-control-plane-dag-delivery" in machines
        assert client("mwaa").list_environments()["Environments"] == ["dev-analytics"]
    finally:
        server.stop()


def test_the_template_used_is_the_repositorys(aws: LocalAws) -> None:
    assert aws.template == REPO / "template.yaml"


def test_every_patch_is_undone_when_the_runtime_stops() -> None:
    with LocalAws() as aws:
        assert aws.patches is not None
        applied = list(aws.patches.applied)
    patched = {(getattr(p.owner, "__name__", type(p.owner).__name__), p.name) for p in applied}
    assert {
        ("WaitFunction", "_wait_interval"),
        ("moto.stepfunctions.parser.asl.component.common.retry.retrier_decl", "time"),
        ("botocore.endpoint", "time"),
        ("LambdaBackend", "invoke"),
        ("StepFunctionsParserBackend", "start_execution"),
        ("botocore.handlers", "BUILTIN_HANDLERS"),
        ("FakeKey", "__init__"),
        ("dict", "moto.mwaa"),
    } <= patched
    assert all(patch.why for patch in applied)
    assert [patch for patch in applied if patch.current() is not patch.original] == []


CLOCK_PROBE = """
import time

from mwaa_control_plane.clock import get_clock


def handler(event, context):
    started = time.monotonic()
    while time.monotonic() - started < event.get("compute_seconds", 0):
        sum(range(1000))
    return {"now": get_clock().now().isoformat()}
"""


def _clock_probe(aws: LocalAws, tmp_path) -> str:
    """A function that computes for a while when asked and returns the clock's time, registered in the runtime."""
    code_dir = tmp_path / "clock_probe"
    code_dir.mkdir()
    (code_dir / "app.py").write_text(CLOCK_PROBE, encoding="utf-8")
    role = aws.client("lambda").get_function(FunctionName=aws.stack.ref("CheckEnvironmentHealthFunction"))
    created = aws.client("lambda").create_function(
        FunctionName="clock-probe",
        Runtime="python3.12",
        Role=role["Configuration"]["Role"],
        Handler="app.handler",
        Code={"ZipFile": _empty_zip()},
    )
    aws.lambdas.register(
        LocalFunction(
            name="clock-probe", arn=created["FunctionArn"], code_dir=code_dir, handler="app.handler", environment={}
        )
    )
    return str(created["FunctionArn"])


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "runs in-process\n")
    return buffer.getvalue()


def _read_the_clock(function_arn: str, result_path: str, following: str | None, compute_seconds: float = 0) -> dict:
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload": {"compute_seconds": compute_seconds}},
        "ResultSelector": {"now.$": "$.Payload.now"},
        "ResultPath": result_path,
    }
    return {**state, "Next": following} if following else {**state, "End": True}


def test_a_wait_state_and_a_lambda_agree_on_virtual_time_and_compute_costs_none(aws: LocalAws, tmp_path) -> None:
    # Given a flow that reads the clock, computes for a third of a second, waits a minute and reads it again
    probe = _clock_probe(aws, tmp_path)
    definition = {
        "StartAt": "Read the clock",
        "States": {
            "Read the clock": _read_the_clock(probe, "$.before", "Compute"),
            "Compute": _read_the_clock(probe, "$.computed", "Wait a minute", compute_seconds=0.3),
            "Wait a minute": {"Type": "Wait", "Seconds": 60, "Next": "Read the clock again"},
            "Read the clock again": _read_the_clock(probe, "$.after", None),
        },
    }
    machine = aws.client("stepfunctions").create_state_machine(
        name="clock-probe", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/probe"
    )
    # When it runs
    arn = aws.client("stepfunctions").start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")
    result = aws.wait_for_execution(arn["executionArn"])
    # Then the Lambda after the Wait sees the minute gone by, and the 0.3 s of computing (300 virtual seconds
    # on a clock that counted it) cost next to nothing
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    before, after = (datetime.fromisoformat(output[key]["now"]) for key in ("before", "after"))
    # (The interpreter's own steps between the states still take some virtual time: tens of seconds here.)
    assert timedelta(seconds=60) <= after - before < timedelta(seconds=300)


def test_a_definition_that_does_not_parse_is_refused_by_every_local_runtime(aws: LocalAws) -> None:
    # The definition check is remembered per process only for definitions that passed it.
    sfn = aws.client("stepfunctions")
    role = "arn:aws:iam::123456789012:role/any"
    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Teleport", "End": True}}})
    for name in ("broken-once", "broken-twice"):
        with pytest.raises(ClientError, match="ASLParserException"):
            sfn.create_state_machine(name=name, definition=broken, roleArn=role)
