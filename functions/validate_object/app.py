"""Step "Validate exactly that object version" of dag-delivery."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import DagDeliverySettings
from mwaa_control_plane.dags.events import DeliveryRequest
from mwaa_control_plane.dags.validate_step import validate_object
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class ValidateInput(Payload):
    request: DeliveryRequest


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_input(ValidateInput, event).request
    deps = dependencies(DagDeliverySettings)
    outcome = validate_object(deps.s3, deps.mwaa, deps.repository, request)
    logger.info(
        "object validated",
        extra={
            "key": request.key,
            "version_id": request.version_id,
            "verdict": outcome.verdict,
            "errors": outcome.errors,
        },
    )
    metrics.add_metric(
        name="DagRejected" if outcome.verdict == "fail" else "DagValidated", unit=MetricUnit.Count, value=1
    )
    return outcome.model_dump(mode="json")
