"""Step "Roll back the file" of dag-delivery."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.dags.delivery import SyncOutcome, roll_back_dag_file
from mwaa_control_plane.dags.wiring import delivery_dependencies
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input


class RollbackInput(Payload):
    synced: SyncOutcome
    owner: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(RollbackInput, event)
    deps = delivery_dependencies()
    outcome = roll_back_dag_file(deps.s3, deps.mwaa, deps.store, step.synced, step.owner)
    logger.info("dag file rolled back", extra={"key": outcome.mwaa_key})
    metrics.add_metric(name="DagRolledBack", unit=MetricUnit.Count, value=1)
    return outcome.model_dump(mode="json")
