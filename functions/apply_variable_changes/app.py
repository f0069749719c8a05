"""Step "Write the changes to the environment's target" of variable-propagation (budgeted; the flow loops)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import VariablePropagationSettings
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.variables.flow import apply_step
from mwaa_control_plane.variables.propagation import ApplyResult, PropagationRequest
from mwaa_control_plane.variables.wiring import connections
from mwaa_control_plane.wiring import dependencies


class ApplyInput(Payload):
    request: PropagationRequest
    environment: EnvironmentName
    previous: ApplyResult | None = None


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(ApplyInput, event)
    deps = dependencies(VariablePropagationSettings)
    result = apply_step(
        connections(deps),
        step.request,
        step.environment,
        budget_seconds=deps.settings.apply_budget_seconds,
        previous=step.previous,
    )
    logger.info(
        "variables applied",
        extra={
            "environment": result.environment,
            "created_count": result.created,
            "updated_count": result.updated,
            "deleted_count": result.deleted,
            "failed_count": result.failed_count,
            "done": result.done,
        },
    )
    metrics.add_metric(name="VariablesWritten", unit=MetricUnit.Count, value=result.created + result.updated)
    metrics.add_metric(name="VariablesFailed", unit=MetricUnit.Count, value=result.failed_count)
    return result.model_dump(mode="json")
