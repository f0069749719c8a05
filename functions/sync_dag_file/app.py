"""Step "Sync the validated version" of dag-delivery."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.dags.delivery import ValidationOutcome, sync_dag_file
from mwaa_control_plane.dags.wiring import delivery_dependencies
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input


class SyncInput(Payload):
    validated: ValidationOutcome
    owner: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(SyncInput, event)
    deps = delivery_dependencies()
    outcome = sync_dag_file(deps.s3, deps.mwaa, deps.store, deps.clock, step.validated, step.owner)
    logger.info(
        "dag file synced",
        extra={"key": outcome.mwaa_key, "outcome": outcome.outcome, "version_id": outcome.mwaa_version_id},
    )
    metrics.add_metric(
        name="DagSynced" if outcome.outcome == "synced" else "DagSuperseded", unit=MetricUnit.Count, value=1
    )
    return outcome.model_dump(mode="json")
