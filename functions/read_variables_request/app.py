"""Step "Read what to propagate" of variable-propagation: console input, parameter change, schedule or file."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import VariablePropagationSettings, load_settings
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.variables.propagation import read_request


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(VariablePropagationSettings)
    request = read_request(
        event.get("input"), repair_drift=settings.repair_drift, staging_bucket=settings.staging_bucket
    )
    logger.info("propagation requested", extra={"mode": request.mode, "origin": request.origin, "skip": request.skip})
    metrics.add_metric(name=f"VariablesRequest_{request.origin}", unit=MetricUnit.Count, value=1)
    return request.model_dump(mode="json")
