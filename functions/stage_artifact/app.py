"""Step "Stage the artifact for the environment" of dag-delivery (requirements.txt, plugins.zip, startup.sh)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import DagDeliverySettings
from mwaa_control_plane.dags.payloads import ValidationOutcome
from mwaa_control_plane.dags.staging import stage_artifact
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class StageInput(Payload):
    validated: ValidationOutcome
    owner: str


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(StageInput, event)
    deps = dependencies(DagDeliverySettings)
    staged = stage_artifact(deps.s3, deps.mwaa, deps.repository, step.validated, step.owner)
    logger.info(
        "artifact staged",
        extra={"environment": staged.environment_name, "kind": staged.kind, "outcome": staged.outcome},
    )
    metrics.add_metric(name="ArtifactStaged", unit=MetricUnit.Count, value=1)
    return staged.model_dump(mode="json")
