"""Step Functions fidelity: execution names, status-change events, and AWS SDK integrations' error names.

On AWS, a failed ``arn:aws:states:::aws-sdk:<service>:<action>`` task fails with
``<Service>.<ErrorCode>`` where ``<Service>`` is the SDK client's PascalCase name (``Mwaa``,
``S3``, ``DynamoDb``, ``Sfn``) and ``Exception`` is appended when the code lacks it, e.g.
``Mwaa.ResourceNotFoundException``, ``Mwaa.ThrottlingException``. moto's interpreter
uses the exception *class* name, so errors botocore does not model (throttling) all
become ``Mwaa.MwaaException`` and ASL ``Retry`` on them could never be tested. This
module names them the AWS way.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

from mwaa_cp_local import usage
from mwaa_cp_local.eventbridge import event_envelope

_SPECIAL = {
    "dynamodb": "DynamoDb",
    "stepfunctions": "Sfn",
    "sfn": "Sfn",
    "secretsmanager": "SecretsManager",
    "eventbridge": "EventBridge",
    "cloudwatch": "CloudWatch",
}


def sdk_service_name(service: str) -> str:
    """``mwaa`` -> ``Mwaa``, ``s3`` -> ``S3``, ``dynamodb`` -> ``DynamoDb``."""
    return _SPECIAL.get(service.lower(), service[:1].upper() + service[1:].lower())


def sdk_error_name(service: str, error_code: str) -> str:
    name = f"{sdk_service_name(service)}.{error_code}"
    return name if name.endswith("Exception") else f"{name}Exception"


def status_change_event(execution: Any, status: str) -> dict[str, Any]:
    """The EventBridge event Step Functions sends when an execution starts or ends."""

    def millis(moment: Any) -> int | None:
        return int(moment.timestamp() * 1000) if moment else None

    output = getattr(execution, "output", None)
    return event_envelope(
        detail_type="Step Functions Execution Status Change",
        source="aws.states",
        account=execution.account_id,
        region=execution.region_name,
        resources=[execution.exec_arn],
        detail={
            "executionArn": execution.exec_arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": status,
            "startDate": millis(execution.start_date),
            "stopDate": millis(execution.stop_date),
            "input": json.dumps(execution.input_data),
            "output": json.dumps(output) if output is not None else None,
            "error": getattr(execution, "error", None),
            "cause": getattr(execution, "cause", None),
        },
    )


Publish = Callable[[dict[str, Any]], None]


def naming_start_execution(original: Callable[..., Any], publish: Publish) -> Callable[..., Any]:
    """``StepFunctionsParserBackend.start_execution`` that names an unnamed execution with a UUID, as AWS does,
    and announces it as RUNNING."""

    def start_execution(
        self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None, trace_header: Any = None
    ) -> Any:
        # moto would put "None" in the ARN and treat every unnamed execution with the same input as one.
        execution = original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)
        publish(status_change_event(execution, "RUNNING"))
        return execution

    return start_execution


def announcing_terminated(original: Callable[[Any], None], publish: Publish) -> Callable[[Any], None]:
    """``BaseExecutionWorkerCommunication.terminated`` that announces how the execution ended."""

    def terminated(self: Any) -> None:
        original(self)
        status = self.execution.exec_status
        meter = usage.current()
        if meter is not None:  # standard workflows bill the transitions the ended execution's history shows
            meter.record_execution(self.execution.state_machine_arn, self.execution.to_history_output()["events"])
        publish(status_change_event(self.execution, getattr(status, "value", str(status))))

    return terminated


def shared_client_for(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``boto_client_for`` with one client per Region and service (clients are thread-safe; the
    interpreter would build a new one for every task, which dominates a flow's run time). Its calls are the
    service integrations': the usage meter counts them as Step Functions'."""
    cached = functools.lru_cache(maxsize=64)(
        lambda region, service: usage.mark_caller(original(region=region, service=service), usage.STEP_FUNCTIONS)
    )

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:  # noqa: ARG001
        return cached(region, service)

    return boto_client_for


def aws_error_names(original: Callable[[Any, Any, Exception], Any]) -> Callable[[Any, Any, Exception], Any]:
    """``StateTaskServiceAwsSdk._from_error`` that names a ``ClientError`` ``<Service>.<Code>Exception``."""
    from botocore.exceptions import ClientError

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, ClientError):
            code = ex.response.get("Error", {}).get("Code") or type(ex).__name__
            name = sdk_error_name(self.resource.api_name, code)
            message = ex.response.get("Error", {}).get("Message", "")
            status = ex.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            cause = f"{message} (Service: {sdk_service_name(self.resource.api_name)}, Status Code: {status})"
            return self._get_task_failure_event(env=env, error=name, cause=cause)
        return original(self, env, ex)

    return from_error


def remembering_validation(original: Callable[[str], None]) -> staticmethod[[str], None]:
    """CreateStateMachine's definition check, done once per definition text in a process.

    Parsing an ASL document with moto's ANTLR grammar takes about 0.35 s for the larger flows, and every
    local runtime (one per flow test) creates the same five state machines: the check is a pure function of
    the text, so a definition that passed once passes again. A definition that fails is checked every time.
    """
    passed: set[str] = set()

    def validate(definition: str) -> None:
        if definition in passed:
            return
        original(definition)
        passed.add(definition)

    return staticmethod(validate)


def remembering_programs(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An execution's parsed program, parsed once per definition text in a process.

    moto parses the definition again for every execution (about 0.35 s for the larger flows). Its
    program components keep no execution state (each execution evaluates against its own environment,
    and INLINE Map iterations already share one component tree between threads), except those of
    Parallel states, which count their branches on the component: definitions with a Parallel state are
    parsed for every execution, as moto does.
    """
    programs: dict[str, Any] = {}

    def entrypoint(self: Any) -> Any:
        definition: str = self._evaluation_details.state_machine_details.definition
        if '"Parallel"' in definition:
            return original(self)
        program = programs.get(definition)
        if program is None:
            program = programs[definition] = original(self)
        return program

    return entrypoint
