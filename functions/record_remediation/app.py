"""Step "Record the remediation": start the cooldown, word the change with its before/after and how to revert it."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.capacity.remediation import record_remediation
from mwaa_control_plane.config import WorkerAnalysisSettings
from mwaa_control_plane.observability import instrumented, logger
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class RecordInput(Payload):
    environment: str
    change_execution: str
    result: str
    mode: str
    cause: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(RecordInput, event)
    deps = dependencies(WorkerAnalysisSettings)
    outcome = record_remediation(
        step.environment,
        change_execution=step.change_execution,
        result=step.result,
        mode=step.mode,
        cause=step.cause,
        repository=deps.repository,
        now=deps.clock.now(),
    )
    logger.info("remediation recorded", extra={"environment": step.environment, "change_id": outcome.change_id})
    return outcome.model_dump(mode="json")
