"""Step "Record the outcome" of environment-change: known-good versions on success, restore on failure."""

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import EnvironmentChangeSettings
from mwaa_control_plane.environments.change import record_success, restore_after_failure
from mwaa_control_plane.environments.change_records import ChangeRecord
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class FinishInput(Payload):
    record: ChangeRecord
    environment_status: Literal["AVAILABLE", "UPDATE_FAILED", "TIMED_OUT"]


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(FinishInput, event)
    deps = dependencies(EnvironmentChangeSettings)
    if step.environment_status == "AVAILABLE":
        result = record_success(deps.repository, step.record)
    else:
        timed_out = step.environment_status == "TIMED_OUT"
        result = restore_after_failure(deps.s3, deps.mwaa, deps.repository, step.record, timed_out=timed_out)
    logger.info("environment change finished", extra={"environment": result.environment_name, "status": result.status})
    name = {"succeeded": "EnvironmentUpdated", "failed": "EnvironmentUpdateFailed"}.get(
        result.status, "EnvironmentUpdateTimedOut"
    )
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
