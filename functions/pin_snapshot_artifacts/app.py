"""Step "Pin the changes in the hibernated environment's snapshot" of environment-change."""

from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from mwaa_control_plane.config import SnapshotSettings
from mwaa_control_plane.environments.change import apply_to_snapshot
from mwaa_control_plane.environments.offhours.snapshot import SnapshotStore
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class PinInput(Payload):
    environment_name: EnvironmentName
    change_id: Annotated[str, Field(min_length=1)]
    owner: Annotated[str, Field(min_length=1)]


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(PinInput, event)
    deps = dependencies(SnapshotSettings)
    store = SnapshotStore(deps.s3, deps.settings.snapshot_bucket, deps.settings.snapshot_kms_key_id)
    result = apply_to_snapshot(deps.repository, store, step.environment_name, step.change_id, owner=step.owner)
    logger.info("snapshot artifacts pinned", extra={"environment": result.environment_name, "status": result.status})
    metrics.add_metric(name="HibernatedSnapshotUpdated", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
