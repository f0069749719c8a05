"""Step "Plan every managed environment" of variable-propagation (reads only; the masked plan is stored)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import VariablePropagationSettings
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.variables.flow import plan_step
from mwaa_control_plane.variables.propagation import PropagationRequest
from mwaa_control_plane.variables.wiring import connections
from mwaa_control_plane.wiring import dependencies


class PlanInput(Payload):
    request: PropagationRequest
    execution: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(PlanInput, event)
    deps = dependencies(VariablePropagationSettings)
    outcome = plan_step(
        connections(deps),
        deps.s3,
        step.request,
        bucket=deps.settings.staging_bucket,
        prefix=deps.settings.reports_prefix,
        execution=step.execution,
    )
    logger.info("propagation planned", extra={"changes": outcome.changes, "to_apply": outcome.to_apply})
    metrics.add_metric(name="VariablesPlanned", unit=MetricUnit.Count, value=1)
    return outcome.model_dump(mode="json")
