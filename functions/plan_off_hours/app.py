"""Step "Plan the off-hours actions": each managed environment's desired state against its actual one."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import OffHoursSettings
from mwaa_control_plane.environments.offhours.flow import OffHoursRequest, build_steps, observe, plan_actions
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class PlanInput(Payload):
    request: OffHoursRequest


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_input(PlanInput, event).request
    steps = build_steps(dependencies(OffHoursSettings))
    observed = observe(steps.mwaa, steps.repository, request.environment)
    result = plan_actions(request, observed, steps.stack, steps.repository, steps.clock.now())
    logger.info("off-hours planned", extra={"request": request.action, "actions": [a.action for a in result.actions]})
    metrics.add_metric(name="OffHoursActionsPlanned", unit=MetricUnit.Count, value=len(result.actions))
    return result.model_dump(mode="json")
