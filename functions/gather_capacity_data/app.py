"""Step "Gather the metrics and the configuration": GetEnvironment, Airflow's counts, GetMetricData -> scenario."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane import clients
from mwaa_control_plane.capacity.flow import AnalysisRequest, gather_step
from mwaa_control_plane.config import WorkerAnalysisSettings
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class GatherInput(Payload):
    request: AnalysisRequest
    execution: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(GatherInput, event)
    deps = dependencies(WorkerAnalysisSettings)
    region = deps.settings.region
    gathered = gather_step(
        step.request,
        step.execution,
        mwaa=deps.mwaa,
        airflow_mwaa=clients.mwaa(region, max_attempts=1),
        cloudwatch=clients.cloudwatch(region),
        s3=deps.s3,
        settings=deps.settings,
        clock=deps.clock,
    )
    logger.info("capacity data gathered", extra={"calls": gathered.metric_data_calls, "key": gathered.keys.scenario})
    metrics.add_metric(name="GetMetricDataCalls", unit=MetricUnit.Count, value=gathered.metric_data_calls)
    return gathered.model_dump(mode="json")
