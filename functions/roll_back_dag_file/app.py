"""Step "Roll back the file" of dag-delivery."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import DagDeliverySettings
from mwaa_control_plane.dags.delivery import roll_back_dag_file
from mwaa_control_plane.dags.payloads import SyncOutcome
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class RollbackInput(Payload):
    synced: SyncOutcome
    owner: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(RollbackInput, event)
    deps = dependencies(DagDeliverySettings)
    outcome = roll_back_dag_file(deps.s3, deps.mwaa, deps.repository, step.synced, step.owner)
    logger.info("dag file rolled back", extra={"key": outcome.mwaa_key})
    metrics.add_metric(name="DagRolledBack", unit=MetricUnit.Count, value=1)
    return outcome.model_dump(mode="json")
