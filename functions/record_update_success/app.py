"""Step "Record the new known-good versions" of dag-delivery."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.dags.environment_update import UpdateAttempt, record_success
from mwaa_control_plane.dags.wiring import delivery_dependencies
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input


class RecordInput(Payload):
    attempt: UpdateAttempt


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    attempt = parse_input(RecordInput, event).attempt
    result = record_success(delivery_dependencies().store, attempt)
    logger.info(
        "environment updated", extra={"environment": result.environment_name, "more_pending": result.more_pending}
    )
    metrics.add_metric(name="EnvironmentUpdated", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
