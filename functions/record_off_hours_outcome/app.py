"""Step "Record the outcome": every off-hours outcome in the environment's record, and its notification."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import OffHoursSettings
from mwaa_control_plane.environments.offhours.flow import ItemState, build_steps
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class OutcomeInput(Payload):
    item: ItemState


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    item = parse_input(OutcomeInput, event).item
    outcome = build_steps(dependencies(OffHoursSettings)).record_outcome(item)
    logger.info("off-hours outcome", extra={"environment": item.environment, "action": item.action})
    metrics.add_metric(name=f"OffHours{outcome.status.capitalize()}", unit=MetricUnit.Count, value=1)
    return outcome.model_dump(mode="json")
