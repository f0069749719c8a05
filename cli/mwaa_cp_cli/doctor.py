"""``mwaa-cp doctor [ENV]``: read-only preflight checks of MWAA environments, one row per check with its fix.

Without ENV, every environment MWAA lists and every one off-hours hibernated (from the stack's state
table). The control plane's own wiring (its staging bucket, the source buckets it may write) comes from the
stack's outputs and parameters, or from the options. Exit code 1 when a check fails (a warning does not
fail), 2 on a usage or credentials error.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from mwaa_control_plane.clock import get_clock
from mwaa_control_plane.environments.doctor import (
    ControlPlaneWiring,
    DoctorReport,
    doctor_clients,
    run_doctor,
)
from mwaa_control_plane.environments.inventory import listed_names
from mwaa_control_plane.payloads import Payload
from mwaa_cp_cli.output import log_to_stderr, make_console, print_whole

if TYPE_CHECKING:
    from mwaa_control_plane.state import StateRepository

_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}


class DoctorResults(Payload):
    """What ``mwaa-cp doctor --format json`` prints."""

    generated_at: datetime
    wiring: ControlPlaneWiring
    environments: list[DoctorReport]

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.environments), default=0)


def report_table(report: DoctorReport) -> Table:
    counts = {status: sum(1 for c in report.checks if c.status == status) for status in _STYLE}
    table = Table(
        title=f"{report.environment_name}: {counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed",
        show_lines=True,
    )
    for column in ("status", "check", "detail", "fix"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        table.add_row(
            f"[{_STYLE[check.status]}]{check.status}[/]", check.id, escape(check.detail), escape(check.fix or "-")
        )
    return table


def _stack(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError:
        return None
    return dict(stacks[0]) if stacks else None


def wiring_of(stack: dict[str, Any] | None, staging_bucket: str | None, pattern: str | None) -> ControlPlaneWiring:
    """The options first, then the stack's StagingBucketName output and MwaaSourceBucketPattern parameter."""
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in (stack or {}).get("Parameters", [])}
    return ControlPlaneWiring(
        staging_bucket=staging_bucket or outputs.get("StagingBucketName"),
        source_bucket_pattern=pattern or parameters.get("MwaaSourceBucketPattern") or "airflow-*",
    )


def _repository(
    session: Any, stack: dict[str, Any] | None, table: str | None, region: str | None, endpoint: str | None
) -> StateRepository | None:
    from mwaa_control_plane.state import StateRepository

    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}
    name = table or outputs.get("StateTableName")
    if not name:
        return None
    return StateRepository(session.client("dynamodb", region_name=region, endpoint_url=endpoint), name, get_clock())


def _hibernated_names(repository: StateRepository | None) -> list[str]:
    from botocore.exceptions import ClientError

    from mwaa_control_plane.errors import ControlPlaneError

    if repository is None:
        return []
    try:
        return [r.environment_name for r in repository.off_hours_records() if r.state == "hibernated"]
    except (ClientError, ControlPlaneError):  # the state table cannot be read: hibernated ones are not listed
        return []


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor(
        environment: str | None = typer.Argument(None, help="One environment; default: every one in the account."),
        output: str = typer.Option("text", "--format", help="text or json"),
        staging_bucket: str | None = typer.Option(
            None, "--staging-bucket", help="The control plane's staging bucket (default: its StagingBucketName output)."
        ),
        source_bucket_pattern: str | None = typer.Option(
            None,
            "--source-bucket-pattern",
            help="The stack's MwaaSourceBucketPattern (default: read from the stack, else airflow-*).",
        ),
        state_table: str | None = typer.Option(
            None, "--state-table", envvar="MWAA_CP_STATE_TABLE", help="The stack's state table (hibernated ones)."
        ),
        stack_name: str = typer.Option("mwaa-control-plane", "--stack-name", envvar="MWAA_CP_STACK_NAME"),
        endpoint_url: str | None = typer.Option(None, "--endpoint-url", envvar="AWS_ENDPOINT_URL"),
        region: str | None = typer.Option(None, "--region", envvar="AWS_REGION"),
    ) -> None:
        """Read-only preflight checks: bucket, execution role, network, logging, secrets, version, Airflow, staging."""
        if output not in ("text", "json"):
            raise typer.BadParameter("--format must be text or json")
        import boto3

        from mwaa_control_plane import clients
        from mwaa_control_plane.airflow import AirflowClient
        from mwaa_control_plane.observability import logger

        log_to_stderr(logger)
        session = boto3.session.Session()
        stack = _stack(session.client("cloudformation", region_name=region, endpoint_url=endpoint_url), stack_name)
        wiring = wiring_of(stack, staging_bucket, source_bucket_pattern)
        repository = _repository(session, stack, state_table, region, endpoint_url)
        aws = doctor_clients(region, endpoint_url)
        clock = get_clock()
        names = [environment] if environment else sorted({*listed_names(aws.mwaa), *_hibernated_names(repository)})
        reports = [
            run_doctor(
                aws,
                name,
                now=clock.now(),
                wiring=wiring,
                airflow=AirflowClient(clients.mwaa(region, endpoint_url, max_attempts=1), name, clock=clock),
                repository=repository,
                transient="warn",
            )
            for name in names
        ]
        results = DoctorResults(generated_at=clock.now(), wiring=wiring, environments=reports)
        if output == "json":
            typer.echo(json.dumps(results.model_dump(mode="json"), indent=2))
        else:
            console = make_console()
            if not reports:
                console.print("no MWAA environments in this account and Region")
            for report in reports:
                print_whole(console, report_table(report))
        raise typer.Exit(results.exit_code)
