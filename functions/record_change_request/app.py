"""Step "Record the change request" of environment-change: refuse what MWAA would refuse, else mark it pending."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import EnvironmentChangeSettings
from mwaa_control_plane.environments.change import record_request
from mwaa_control_plane.environments.change_request import ChangeRequest
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class RecordInput(Payload):
    request: ChangeRequest
    request_id: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(RecordInput, event)
    deps = dependencies(EnvironmentChangeSettings)
    quota = deps.settings.max_workers_quota
    recorded = record_request(deps.mwaa, deps.repository, step.request, step.request_id, max_workers_quota=quota)
    fields = sorted(step.request.requested_fields())
    logger.info("change requested", extra={"environment": recorded.environment_name, "fields": fields})
    metrics.add_metric(name="EnvironmentChangeRequested", unit=MetricUnit.Count, value=1)
    return recorded.model_dump(mode="json")
