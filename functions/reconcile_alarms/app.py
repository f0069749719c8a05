"""The alarms reconciler (schedule or on demand): worker-analysis alarms and a dashboard per opted-in environment."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane import clients
from mwaa_control_plane.capacity.alarms import reconcile_alarms
from mwaa_control_plane.config import WorkerAnalysisSettings
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.wiring import dependencies


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = dependencies(WorkerAnalysisSettings)
    account = context.invoked_function_arn.split(":")[4]
    result = reconcile_alarms(deps.mwaa, clients.cloudwatch(deps.settings.region), deps.settings, account=account)
    logger.info(
        "alarms reconciled",
        extra={
            "managed": len(result.managed),
            "alarms_created": len(result.created),
            "alarms_deleted": len(result.deleted),
        },
    )
    metrics.add_metric(name="AnalysedEnvironments", unit=MetricUnit.Count, value=len(result.managed))
    return result.model_dump(mode="json")
