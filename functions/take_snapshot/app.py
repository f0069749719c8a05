"""Step "Take and verify the snapshot": configuration and Airflow state, stored encrypted, read back, verified."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import OffHoursSettings
from mwaa_control_plane.environments.offhours.flow import build_steps
from mwaa_control_plane.observability import MetricUnit, instrumented, metrics
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class SnapshotInput(Payload):
    environment: EnvironmentName


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(SnapshotInput, event)
    steps = build_steps(dependencies(OffHoursSettings), snapshots=True, airflow=True, ssm=True)
    taken = steps.take_snapshot(step.environment)
    metrics.add_metric(name="SnapshotVerified", unit=MetricUnit.Count, value=1)
    return taken.model_dump(mode="json")
