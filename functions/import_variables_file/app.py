"""Step "Import the variables file into the source tree" of variable-propagation."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import VariablePropagationSettings
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import parse_input
from mwaa_control_plane.variables.flow import import_step
from mwaa_control_plane.variables.propagation import PropagationRequest
from mwaa_control_plane.variables.wiring import connections
from mwaa_control_plane.wiring import dependencies


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_input(PropagationRequest, event.get("request"))
    deps = dependencies(VariablePropagationSettings)
    result = import_step(connections(deps), deps.s3, request, staging_bucket=deps.settings.staging_bucket)
    logger.info(
        "variables file imported",
        extra={"file": result.file, "written": result.written, "problems": len(result.problems)},
    )
    metrics.add_metric(name="VariablesFileImported", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
