"""Step "Check that no work is running": Airflow's running and queued work under the mwaa-cp:drain policy."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import OffHoursSettings
from mwaa_control_plane.environments.offhours.flow import build_steps
from mwaa_control_plane.observability import instrumented
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class DrainInput(Payload):
    environment: EnvironmentName
    since: datetime | None = None
    """When this hibernate's first check ran (None: this is the first)."""


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(DrainInput, event)
    steps = build_steps(dependencies(OffHoursSettings), airflow=True)
    return steps.check_drain(step.environment, step.since).model_dump(mode="json")
