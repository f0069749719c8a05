"""Step "Check that Airflow parsed the file" of dag-delivery."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.airflow import AirflowClient
from mwaa_control_plane.config import DagDeliverySettings
from mwaa_control_plane.dags.delivery import verify_dag_file
from mwaa_control_plane.dags.payloads import SyncOutcome
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class VerifyInput(Payload):
    synced: SyncOutcome


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    synced = parse_input(VerifyInput, event).synced
    deps = dependencies(DagDeliverySettings)
    airflow = AirflowClient.for_environment(
        synced.request.environment_name, region=deps.settings.region, clock=deps.clock
    )
    outcome = verify_dag_file(airflow, deps.clock, synced)
    state = outcome.verification.state if outcome.verification else "skipped"
    logger.info("dag file verified", extra={"key": outcome.mwaa_key, "state": state})
    if state != "pending":
        metrics.add_metric(
            name={"registered": "DagVerified", "import_error": "DagImportFailed"}.get(state, "DagVerificationTimedOut"),
            unit=MetricUnit.Count,
            value=1,
        )
    return outcome.model_dump(mode="json")
