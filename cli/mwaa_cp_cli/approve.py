"""``mwaa-cp approve TOKEN`` / ``reject TOKEN``: answer a worker-analysis recommendation; ``revert CHANGE_ID``: undo
a change the control plane applied.

The worker-analysis flow waits on a Step Functions task token (sent in its notification): approve sends
``SendTaskSuccess`` and the flow applies the change through the environment-change flow; reject sends
``SendTaskFailure`` with ``RemediationRejectedError`` and nothing changes. ``revert`` reads the change's recorded
before values from the stack's state table and asks the environment-change flow for them (capacity only: artifacts
and configuration options are recorded as fingerprints).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mwaa_control_plane.errors import InvalidInputError, NotFoundError
from mwaa_cp_cli.stack import stack_output

if TYPE_CHECKING:
    import typer

COMMANDS = ("approve", "reject", "revert")
_TOKEN_ERRORS = {
    "TaskTimedOut": "the approval already timed out (or was answered): nothing changes any more",
    "TaskDoesNotExist": "no execution waits on this token (answered, timed out or stopped)",
    "InvalidToken": "this is not a task token: copy it whole from the notification",
}


def answer(sfn: Any, token: str, *, approve: bool, note: str) -> None:
    """SendTaskSuccess (approve) or SendTaskFailure RemediationRejectedError (reject) on ``token``."""
    from botocore.exceptions import ClientError

    try:
        if approve:
            sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True, "note": note}))
        else:
            sfn.send_task_failure(taskToken=token, error="RemediationRejectedError", cause=note or "rejected")
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in _TOKEN_ERRORS:
            raise InvalidInputError(_TOKEN_ERRORS[code]) from None
        raise


def revert(
    dynamodb: Any, sfn: Any, *, change_id: str, environment: str, state_table: str, state_machine_arn: str
) -> str:
    """Start the environment-change execution that puts back ``change_id``'s before values; its ARN."""
    from mwaa_control_plane.capacity.remediation import find_change, revert_request
    from mwaa_control_plane.clock import get_clock
    from mwaa_control_plane.state import StateRepository

    record = find_change(StateRepository(dynamodb, state_table, get_clock()), environment, change_id)
    if record is None:
        raise NotFoundError(f"no change {change_id} recorded for environment {environment}")
    request = revert_request(record)
    started = sfn.start_execution(stateMachineArn=state_machine_arn, input=request.model_dump_json(exclude_none=True))
    return str(started["executionArn"])


def register(app: typer.Typer) -> None:
    import typer

    if any(command.name in COMMANDS for command in app.registered_commands):
        return  # one module, three names in main.COMMANDS

    def _clients(region: str | None, endpoint_url: str | None) -> Any:
        import boto3

        return boto3.session.Session(), {"region_name": region, "endpoint_url": endpoint_url}

    @app.command("approve")
    def approve_command(
        token: str = typer.Argument(..., help="The task token from the worker-analysis notification."),
        note: str = typer.Option("", "--note", help="Why (kept in the execution's history)."),
        endpoint_url: str | None = typer.Option(None, "--endpoint-url", envvar="AWS_ENDPOINT_URL"),
        region: str | None = typer.Option(None, "--region", envvar="AWS_REGION"),
    ) -> None:
        """Approve a worker-analysis recommendation: the environment-change flow applies it."""
        session, where = _clients(region, endpoint_url)
        answer(session.client("stepfunctions", **where), token, approve=True, note=note)
        typer.echo("approved: the worker-analysis flow applies the change through the environment-change flow")

    @app.command("reject")
    def reject_command(
        token: str = typer.Argument(..., help="The task token from the worker-analysis notification."),
        reason: str = typer.Option("rejected", "--reason", help="Why (told to the operators)."),
        endpoint_url: str | None = typer.Option(None, "--endpoint-url", envvar="AWS_ENDPOINT_URL"),
        region: str | None = typer.Option(None, "--region", envvar="AWS_REGION"),
    ) -> None:
        """Reject a worker-analysis recommendation: nothing changes."""
        session, where = _clients(region, endpoint_url)
        answer(session.client("stepfunctions", **where), token, approve=False, note=reason)
        typer.echo("rejected: nothing changes")

    @app.command("revert")
    def revert_command(
        change_id: str = typer.Argument(..., help="The change id (the environment-change execution name)."),
        environment: str = typer.Option(..., "--environment", "-e", help="The environment the change was applied to."),
        state_table: str | None = typer.Option(None, "--state-table", envvar="MWAA_CP_STATE_TABLE"),
        state_machine_arn: str | None = typer.Option(
            None, "--state-machine-arn", help="The environment-change state machine (default: the stack's output)."
        ),
        stack_name: str = typer.Option("mwaa-control-plane", "--stack-name", envvar="MWAA_CP_STACK_NAME"),
        endpoint_url: str | None = typer.Option(None, "--endpoint-url", envvar="AWS_ENDPOINT_URL"),
        region: str | None = typer.Option(None, "--region", envvar="AWS_REGION"),
    ) -> None:
        """Put back the capacity a change recorded as "before", through the environment-change flow."""
        session, where = _clients(region, endpoint_url)
        cloudformation = session.client("cloudformation", **where)
        table = state_table or stack_output(cloudformation, stack_name, "StateTableName")
        machine = state_machine_arn or stack_output(cloudformation, stack_name, "EnvironmentChangeStateMachineArn")
        arn = revert(
            session.client("dynamodb", **where),
            session.client("stepfunctions", **where),
            change_id=change_id,
            environment=environment,
            state_table=table,
            state_machine_arn=machine,
        )
        typer.echo(f"revert requested: {arn}")
