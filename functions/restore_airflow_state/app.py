"""Step "Restore the Airflow state": variables, pools, connections, pause states, and the catchup guard."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import OffHoursSettings
from mwaa_control_plane.environments.offhours.flow import build_steps
from mwaa_control_plane.environments.offhours.snapshot import SnapshotRef
from mwaa_control_plane.observability import instrumented
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class RestoreInput(Payload):
    environment: EnvironmentName
    snapshot: SnapshotRef


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(RestoreInput, event)
    steps = build_steps(dependencies(OffHoursSettings), snapshots=True, airflow=True)
    return steps.restore_airflow_state(step.environment, step.snapshot).model_dump(mode="json")
