"""Step "Delete the environment": re-verify the snapshot and the lock, mark it hibernating, DeleteEnvironment."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import OffHoursSettings
from mwaa_control_plane.environments.offhours.flow import build_steps
from mwaa_control_plane.environments.offhours.snapshot import SnapshotRef
from mwaa_control_plane.observability import MetricUnit, instrumented, metrics
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class DeleteInput(Payload):
    environment: EnvironmentName
    snapshot: SnapshotRef
    owner: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(DeleteInput, event)
    steps = build_steps(dependencies(OffHoursSettings), snapshots=True)
    started = steps.delete_environment(step.environment, step.snapshot, step.owner)
    metrics.add_metric(name="EnvironmentHibernating", unit=MetricUnit.Count, value=1)
    return started.model_dump(mode="json")
