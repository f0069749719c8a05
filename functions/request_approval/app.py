"""Step "Wait for a person's approval": store the task token and send it (the execution waits for the answer)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane import clients
from mwaa_control_plane.capacity.remediation import request_approval
from mwaa_control_plane.config import WorkerAnalysisSettings
from mwaa_control_plane.observability import instrumented, logger
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class ApprovalInput(Payload):
    environment: str
    task_token: str
    execution: str
    change: dict[str, Any]
    summary: str
    report_uri: str
    timeout_seconds: int


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(ApprovalInput, event)
    deps = dependencies(WorkerAnalysisSettings)
    approval = request_approval(
        step.environment,
        task_token=step.task_token,
        execution=step.execution,
        change=step.change,
        summary=step.summary,
        report_uri=step.report_uri,
        repository=deps.repository,
        sns=clients.sns(deps.settings.region),
        topic_arn=deps.settings.notification_topic_arn,
        timeout_seconds=step.timeout_seconds,
        now=deps.clock.now(),
    )
    logger.info("approval requested", extra={"environment": step.environment, "expires_at": approval.expires_at})
    return {"expires_at": approval.expires_at.isoformat()}
