"""Step "Plan the remediation": nothing, a person's approval, or an automatic change within the ceiling and cooldown."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.capacity.flow import RemediationMode
from mwaa_control_plane.capacity.remediation import plan_remediation
from mwaa_control_plane.config import WorkerAnalysisSettings
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class PlanInput(Payload):
    environment: str
    mode: RemediationMode
    cause: str
    change: dict[str, Any] | None = None
    auto_applicable: bool = False
    execution: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(PlanInput, event)
    deps = dependencies(WorkerAnalysisSettings)
    plan = plan_remediation(
        step.environment,
        step.mode,
        cause=step.cause,
        change=step.change,
        auto_applicable=step.auto_applicable,
        execution=step.execution,
        repository=deps.repository,
        settings=deps.settings,
        now=deps.clock.now(),
    )
    logger.info("remediation planned", extra={"environment": step.environment, "decision": plan.decision})
    metrics.add_metric(name=f"Remediation_{plan.decision}", unit=MetricUnit.Count, value=1)
    return plan.model_dump(mode="json")
