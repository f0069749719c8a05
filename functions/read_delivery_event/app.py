"""Step "Read the S3 event" of dag-delivery: what to deliver, and is this event new for its key?"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import DagDeliverySettings
from mwaa_control_plane.dags.delivery import accept_event
from mwaa_control_plane.dags.events import read_delivery_event
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.wiring import dependencies


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = dependencies(DagDeliverySettings)
    decision = accept_event(
        deps.repository, read_delivery_event(event.get("event"), staging_bucket=deps.settings.staging_bucket)
    )
    logger.info(
        "delivery event read", extra={"key": decision.key, "decision": decision.decision, "reason": decision.reason}
    )
    metrics.add_metric(name=f"DeliveryEvent{decision.decision.capitalize()}", unit=MetricUnit.Count, value=1)
    return decision.model_dump(mode="json")
