"""Step "Create the environment from its snapshot": CreateEnvironment with its tags, or say why not now."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import OffHoursSettings
from mwaa_control_plane.environments.offhours.flow import build_steps
from mwaa_control_plane.observability import MetricUnit, instrumented, metrics
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class CreateInput(Payload):
    environment: EnvironmentName
    owner: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(CreateInput, event)
    steps = build_steps(dependencies(OffHoursSettings), snapshots=True)
    started = steps.create_environment(step.environment, step.owner)
    if started.status == "creating":
        metrics.add_metric(name="EnvironmentResuming", unit=MetricUnit.Count, value=1)
    return started.model_dump(mode="json")
