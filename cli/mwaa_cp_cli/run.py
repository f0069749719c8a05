"""``mwaa-cp run FLOW --input FILE``: start a flow and follow it to the end."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from mwaa_control_plane import clients
from mwaa_control_plane.errors import NotFoundError
from mwaa_cp_cli.output import make_console
from mwaa_cp_cli.progress import follow_execution, load_json_file, print_outcome


def state_machine_arn(sfn: object, stack_name: str, flow: str) -> str:
    """Find ``<stack>-<flow>`` among the account's state machines."""
    names: dict[str, str] = {}
    for page in sfn.get_paginator("list_state_machines").paginate():  # type: ignore[attr-defined]
        for machine in page["stateMachines"]:
            names[machine["name"]] = machine["stateMachineArn"]
    wanted = f"{stack_name}-{flow}"
    if wanted in names:
        return names[wanted]
    flows = sorted(n.removeprefix(f"{stack_name}-") for n in names if n.startswith(f"{stack_name}-"))
    raise NotFoundError(f"no flow {flow!r} in stack {stack_name!r}; flows: {', '.join(flows) or 'none'}")


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_flow(
        flow: str = typer.Argument(..., help="Flow name, e.g. environment-health or dag-delivery."),
        input_file: str = typer.Option(..., "--input", "-i", help="JSON input, e.g. a file from events/."),
        local: bool = typer.Option(False, "--local", help="Run in a fresh in-process local runtime."),
        endpoint_url: str | None = typer.Option(
            None, "--endpoint-url", envvar="AWS_ENDPOINT_URL", help="e.g. http://127.0.0.1:4566 for `mwaa-cp local up`."
        ),
        stack_name: str = typer.Option("mwaa-control-plane", "--stack-name", envvar="MWAA_CP_STACK_NAME"),
        region: str | None = typer.Option(None, "--region", envvar="AWS_REGION"),
        timeout: float = typer.Option(3600.0, "--timeout", help="Give up following after this many seconds."),
    ) -> None:
        """Start FLOW with the JSON in --input and follow the execution step by step until it ends."""
        console = make_console()
        payload = load_json_file(input_file)
        if local:
            from mwaa_cp_local.runtime import LocalAws
            from mwaa_cp_local.seed import create_environment

            with LocalAws(stack_name=stack_name) as aws:
                create_environment(aws, "dev-analytics")
                description = _start_and_follow(
                    aws.client("stepfunctions"), stack_name, flow, payload, console, timeout
                )
        else:
            sfn = clients.sfn(region, endpoint_url)
            description = _start_and_follow(sfn, stack_name, flow, payload, console, timeout)
        print_outcome(description, console)
        raise typer.Exit(0 if description["status"] == "SUCCEEDED" else 1)


def _start_and_follow(
    sfn: object, stack_name: str, flow: str, payload: object, console: Console, timeout: float
) -> dict[str, object]:
    arn = state_machine_arn(sfn, stack_name, flow)
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))  # type: ignore[attr-defined]
    console.print(f"[bold]{flow}[/] started: {execution['executionArn']}", highlight=False)
    return follow_execution(sfn, execution["executionArn"], console, timeout=timeout)
