"""Step "Sync the validated version" of dag-delivery."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import DagDeliverySettings
from mwaa_control_plane.dags.delivery import sync_dag_file
from mwaa_control_plane.dags.payloads import ValidationOutcome
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class SyncInput(Payload):
    validated: ValidationOutcome
    owner: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(SyncInput, event)
    deps = dependencies(DagDeliverySettings)
    outcome = sync_dag_file(deps.s3, deps.mwaa, deps.repository, deps.clock, step.validated, step.owner)
    logger.info(
        "dag file synced",
        extra={"key": outcome.mwaa_key, "outcome": outcome.outcome, "version_id": outcome.mwaa_version_id},
    )
    metrics.add_metric(
        name="DagSynced" if outcome.outcome == "synced" else "DagSuperseded", unit=MetricUnit.Count, value=1
    )
    return outcome.model_dump(mode="json")
