"""Step "Propagate the deletion" of dag-delivery."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import DagDeliverySettings
from mwaa_control_plane.dags.delivery import propagate_deletion
from mwaa_control_plane.dags.events import DeliveryRequest
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class DeletionInput(Payload):
    request: DeliveryRequest
    owner: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(DeletionInput, event)
    deps = dependencies(DagDeliverySettings)
    outcome = propagate_deletion(deps.s3, deps.mwaa, deps.repository, step.request, step.owner)
    logger.info("deletion propagated", extra={"key": outcome.mwaa_key, "outcome": outcome.outcome})
    metrics.add_metric(
        name="DagDeleted" if outcome.outcome == "deleted" else "DagSuperseded", unit=MetricUnit.Count, value=1
    )
    return outcome.model_dump(mode="json")
