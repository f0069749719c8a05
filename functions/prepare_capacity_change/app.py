"""Step "Prepare the capacity change": record the capacity before a scale-down, build the change request."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import OffHoursSettings
from mwaa_control_plane.environments.offhours.flow import ActionItem, build_steps
from mwaa_control_plane.observability import instrumented, logger
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class PrepareInput(Payload):
    item: ActionItem
    execution: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(PrepareInput, event)
    change = build_steps(dependencies(OffHoursSettings)).prepare_capacity_change(step.item, step.execution)
    logger.info("capacity change prepared", extra={"environment": step.item.environment, "status": change.status})
    return change.model_dump(mode="json")
