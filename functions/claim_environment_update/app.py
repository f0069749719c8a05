"""Step "Claim the environment update" of dag-delivery: one updater per environment, the rest coalesce."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.dags.environment_update import claim_update
from mwaa_control_plane.dags.wiring import delivery_dependencies
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input


class ClaimInput(Payload):
    environment_name: EnvironmentName
    owner: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(ClaimInput, event)
    claimed = claim_update(delivery_dependencies().store, step.environment_name, step.owner)
    logger.info("environment update claim", extra={"environment": step.environment_name, "claimed": claimed})
    metrics.add_metric(name="UpdateClaimed" if claimed else "UpdateCoalesced", unit=MetricUnit.Count, value=1)
    return {"claimed": claimed}
