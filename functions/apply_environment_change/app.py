"""Step "Apply every pending change in one update" of environment-change: the only UpdateEnvironment call."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import EnvironmentChangeSettings
from mwaa_control_plane.environments.change import apply
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class ApplyInput(Payload):
    environment_name: EnvironmentName
    change_id: str
    owner: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(ApplyInput, event)
    deps = dependencies(EnvironmentChangeSettings)
    quota = deps.settings.max_workers_quota
    record = apply(
        deps.mwaa, deps.repository, step.environment_name, step.change_id, owner=step.owner, max_workers_quota=quota
    )
    logger.info(
        "environment change applied",
        extra={
            "environment": step.environment_name,
            "status": record.status,
            "fields": [c.field for c in record.changes],
        },
    )
    if record.status == "updating":
        metrics.add_metric(name="EnvironmentUpdateStarted", unit=MetricUnit.Count, value=1)
    return record.model_dump(mode="json")
