"""Step "Take the environment lock", shared by every flow that changes, deletes or creates an environment."""

from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from mwaa_control_plane.config import CommonSettings
from mwaa_control_plane.observability import instrumented, logger
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class LockInput(Payload):
    environment_name: EnvironmentName
    owner: Annotated[str, Field(min_length=1)]
    flow: Annotated[str, Field(min_length=1)]
    purpose: Annotated[str, Field(min_length=1)]
    lease_seconds: Annotated[int, Field(ge=60, le=12 * 3600)]


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(LockInput, event)
    repository = dependencies(CommonSettings).repository
    holder = repository.acquire_environment_lock(
        step.environment_name, owner=step.owner, flow=step.flow, purpose=step.purpose, lease_seconds=step.lease_seconds
    )
    logger.info("environment lock taken", extra={"environment": step.environment_name, "flow": step.flow})
    return {
        "lock": repository.environment_lock_key(step.environment_name).model_dump(mode="json"),
        "holder": holder.model_dump(mode="json"),
    }
