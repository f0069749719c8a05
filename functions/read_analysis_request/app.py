"""Step "Read the request": an alarm event or a console input -> the environment, the window and its remediation."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.capacity.flow import read_request
from mwaa_control_plane.config import WorkerAnalysisSettings
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.wiring import dependencies


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = dependencies(WorkerAnalysisSettings)
    request = read_request(event.get("request"), mwaa=deps.mwaa, settings=deps.settings, now=deps.clock.now())
    logger.info("analysis request read", extra={"status": request.status, "environment": request.environment})
    metrics.add_metric(name=f"AnalysisRequest_{request.status}", unit=MetricUnit.Count, value=1)
    return request.model_dump(mode="json")
