"""Step "Restore the known-good versions" of dag-delivery, after UPDATE_FAILED."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.dags.environment_update import UpdateAttempt, restore_known_good
from mwaa_control_plane.dags.wiring import delivery_dependencies
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input


class RestoreInput(Payload):
    attempt: UpdateAttempt


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    attempt = parse_input(RestoreInput, event).attempt
    deps = delivery_dependencies()
    result = restore_known_good(deps.s3, deps.mwaa, deps.store, attempt)
    logger.info(
        "environment update failed; known-good restored",
        extra={"environment": result.environment_name, "error_code": result.error_code},
    )
    metrics.add_metric(name="EnvironmentUpdateFailed", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
