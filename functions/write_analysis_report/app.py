"""Step "Write the report": Markdown and the queue-against-capacity chart next to the JSON, the notification text."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane import clients
from mwaa_control_plane.capacity.flow import AnalysisRequest, RunKeys, report_step
from mwaa_control_plane.config import WorkerAnalysisSettings
from mwaa_control_plane.observability import instrumented, logger
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class ReportInput(Payload):
    keys: RunKeys
    request: AnalysisRequest


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(ReportInput, event)
    deps = dependencies(WorkerAnalysisSettings)
    region = deps.settings.region
    reported = report_step(step.keys, step.request, s3=deps.s3, cloudwatch=clients.cloudwatch(region), region=region)
    logger.info("analysis report written", extra={"report": reported.report_uri, "chart": reported.chart_uri})
    return reported.model_dump(mode="json")
