"""Step "Check whether the change can be applied" of environment-change: settled, announced, AVAILABLE."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import EnvironmentChangeSettings
from mwaa_control_plane.environments.change import prepare
from mwaa_control_plane.observability import instrumented, logger
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class PrepareInput(Payload):
    environment_name: EnvironmentName
    request_id: str
    waiting_since: datetime


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(PrepareInput, event)
    deps = dependencies(EnvironmentChangeSettings)
    readiness = prepare(deps.mwaa, deps.repository, step.environment_name, step.request_id, step.waiting_since)
    logger.info(
        "change readiness",
        extra={"environment": step.environment_name, "state": readiness.state, "why": readiness.reason},
    )
    return readiness.model_dump(mode="json")
