"""Step "List the environments of the account" of environment-health: MWAA's and the hibernated ones."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import CommonSettings
from mwaa_control_plane.environments.inventory import environment_names
from mwaa_control_plane.observability import instrumented
from mwaa_control_plane.wiring import dependencies


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = dependencies(CommonSettings)
    return {"Environments": environment_names(deps.mwaa, deps.repository)}
