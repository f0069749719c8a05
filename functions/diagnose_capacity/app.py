"""Step "Diagnose why tasks wait": the analysis of the stored scenario, its report stored as JSON."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.capacity.flow import RunKeys, diagnose_step
from mwaa_control_plane.config import WorkerAnalysisSettings
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class DiagnoseInput(Payload):
    keys: RunKeys
    execution: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(DiagnoseInput, event)
    deps = dependencies(WorkerAnalysisSettings)
    diagnosed = diagnose_step(step.keys, step.execution, s3=deps.s3, settings=deps.settings)
    logger.info("capacity diagnosed", extra={"cause": diagnosed.cause, "decided_by": diagnosed.decided_by})
    metrics.add_metric(name=f"Cause_{diagnosed.cause}", unit=MetricUnit.Count, value=1)
    return diagnosed.model_dump(mode="json")
