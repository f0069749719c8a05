"""Step "Withdraw the change request" of environment-change: an execution that ends without applying its
request resolves it as failed, so no later, unrelated update applies it behind the requester's back."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import CommonSettings
from mwaa_control_plane.environments.change import withdraw_request
from mwaa_control_plane.observability import MetricUnit, instrumented, logger, metrics
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class _Named(Payload):
    environment_name: EnvironmentName


class WithdrawInput(Payload):
    request: dict[str, Any]
    """The execution's input, as it came: only its environment name is read (it may be malformed)."""
    request_id: str
    change_id: str
    reason: str = "the execution failed"


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(WithdrawInput, event)
    environment = parse_input(_Named, step.request).environment_name
    repository = dependencies(CommonSettings).repository
    outcome = withdraw_request(repository, environment, step.request_id, step.change_id, step.reason)
    logger.info("change request withdrawn", extra={"environment": environment, "withdrawn": bool(outcome)})
    if outcome is not None:
        metrics.add_metric(name="EnvironmentChangeWithdrawn", unit=MetricUnit.Count, value=1)
    return {"withdrawn": outcome is not None}
