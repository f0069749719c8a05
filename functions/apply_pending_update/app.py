"""Step "Update the environment with everything pending" of dag-delivery."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.dags.environment_update import apply_pending
from mwaa_control_plane.dags.wiring import delivery_dependencies
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input


class ApplyInput(Payload):
    environment_name: EnvironmentName
    force: bool = False


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(ApplyInput, event)
    environment = step.environment_name
    deps = delivery_dependencies()
    attempt = apply_pending(deps.mwaa, deps.store, environment, force=step.force)
    logger.info(
        "environment update requested",
        extra={"environment": environment, "outcome": attempt.outcome, "kinds": sorted(attempt.applied)},
    )
    if attempt.outcome == "updating":
        metrics.add_metric(name="EnvironmentUpdateStarted", unit=MetricUnit.Count, value=1)
    return attempt.model_dump(mode="json")
