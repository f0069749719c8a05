"""``mwaa-cp vars plan|apply``: the variable-propagation flow's plan and apply, from a terminal, with your credentials.

``plan`` reads the source tree (``/mwaa-cp/variables|connections/...``), every managed environment (tag
``mwaa-cp:variables``) and its target, and prints the diff like ``terraform plan``: values masked (hash prefix and
length), never shown. It writes nothing. ``apply`` prints the same plan, then writes each environment's diff (deletes
only with ``--prune``) and prints the totals. ``--fix-backend`` first asks the stack's ``environment-change`` state
machine to repair an inconsistent SSM secrets backend (every environment change goes through that one door) and
waits for it to end.

Exit codes: 0 when everything is in place, 1 when a per-key error or a backend problem remains, 2 for usage and
credential errors (an environment that does not exist or is not managed is one).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape

from mwaa_control_plane.errors import ControlPlaneError
from mwaa_control_plane.variables.propagation import (
    ApplyResult,
    Connections,
    PropagationPlan,
    PropagationRequest,
    plan_propagation,
)
from mwaa_control_plane.variables.report import PropagationReport, plan_problem_count, render_plan, summarize
from mwaa_cp_cli.output import log_to_stderr, make_console

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient

FORMATS = ("text", "json")
DEFAULT_KMS_KEY_ID = "alias/aws/ssm"
DEFAULT_WRITE_RATE = 3.0
# The CLI has no Lambda time limit; the budget only decides how often progress is printed.
PROGRESS_SECONDS = 30.0
FIX_TIMEOUT_SECONDS = 7200.0
_LINE_STYLE = (("  + ", "green"), ("  ~ ", "yellow"), ("  - ", "red"), ("  ! ", "red"), ("  warning: ", "yellow"))


class BackendFix(BaseModel):
    """One backend repair the CLI asked environment-change for (option keys only: never their values)."""

    environment: str
    options: list[str]
    execution: str | None = None
    status: str
    error: str | None = None


class ApplyReport(PropagationReport):
    """What ``mwaa-cp vars apply --format json`` prints: the flow's report, and the backend repairs asked for."""

    backend_fixes: list[BackendFix] = []
    backend_problems: dict[str, list[str]] = {}
    """Backend problem codes still there after the run, by environment."""


@dataclass(frozen=True, slots=True)
class Where:
    region: str | None
    endpoint_url: str | None
    stack_name: str


# ---------------------------------------------------------------------------------------------- wiring


def stack_parameters(where: Where) -> dict[str, str]:
    """The deployed stack's parameters (empty when there is no such stack, as in the local runtime)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    cloudformation = boto3.session.Session().client(
        "cloudformation", region_name=where.region, endpoint_url=where.endpoint_url
    )
    try:
        stacks = cloudformation.describe_stacks(StackName=where.stack_name)["Stacks"]
    except (ClientError, BotoCoreError):
        return {}
    parameters = stacks[0].get("Parameters", []) if stacks else []
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in parameters}


def build_connections(where: Where, *, kms_key_id: str | None, write_rate: float | None) -> Connections:
    """The flow's collaborators with the caller's credentials; KMS key and rate default to the stack's parameters."""
    from mwaa_control_plane import clients
    from mwaa_control_plane.airflow import AirflowClient
    from mwaa_control_plane.clock import get_clock

    parameters = stack_parameters(where) if kms_key_id is None or write_rate is None else {}
    if kms_key_id is None:
        kms_key_id = parameters.get("VariablesKmsKeyArn") or DEFAULT_KMS_KEY_ID
    if write_rate is None:
        try:
            write_rate = float(parameters.get("VariablesWriteRate") or DEFAULT_WRITE_RATE)
        except ValueError:
            write_rate = DEFAULT_WRITE_RATE
    clock = get_clock()
    airflow_mwaa = clients.mwaa(where.region, where.endpoint_url, max_attempts=1)
    return Connections(
        mwaa=clients.mwaa(where.region, where.endpoint_url),
        # No botocore retries: the Pacer backs off from throttling itself and counts it.
        ssm=clients.ssm(where.region, where.endpoint_url, max_attempts=1),
        airflow=lambda name: AirflowClient(airflow_mwaa, name, clock=clock),
        clock=clock,
        kms_key_id=kms_key_id,
        write_rate=write_rate,
    )


# ---------------------------------------------------------------------------------------------- printing


def styled(text: str) -> str:
    """``render_plan``'s text with rich markup: + green, ~ yellow, - red, environment names bold."""
    lines = []
    for line in text.splitlines():
        safe = escape(line)
        style = next((s for prefix, s in _LINE_STYLE if line.startswith(prefix)), None)
        if style is not None:
            lines.append(f"[{style}]{safe}[/]")
        elif line and not line.startswith(" ") and " -> " in line:
            lines.append(f"[bold]{safe}[/]")
        else:
            lines.append(safe)
    return "\n".join(lines)


def print_plan(console: Console, plan: PropagationPlan) -> None:
    managed = len(plan.environments)
    console.print(
        f"Source: /mwaa-cp/variables and /mwaa-cp/connections; {managed} managed environment(s). "
        "Values are masked: sha256 prefix and length.\n",
        highlight=False,
    )
    console.print(styled(render_plan(plan)), highlight=False)
    if plan.request.fix_backend:
        for environment in plan.managed:
            if environment.backend_fix:
                keys = ", ".join(sorted(environment.backend_fix))
                console.print(
                    f"[yellow]{environment.name}: backend repair through environment-change sets {keys}[/]",
                    highlight=False,
                )


def _changes(plan: PropagationPlan) -> int:
    return sum(len(p.writes) for p in plan.environments)


def applied_lines(report: PropagationReport) -> str:
    """The report's lines about what was written (its text starts with the plan, printed already)."""
    return report.text.removeprefix(render_plan(report.plan).rstrip()).strip("\n")


# ---------------------------------------------------------------------------------------------- apply


def _environment_change_arn(where: Where) -> str:
    from mwaa_control_plane import clients
    from mwaa_cp_cli.run import state_machine_arn

    return state_machine_arn(clients.sfn(where.region, where.endpoint_url), where.stack_name, "environment-change")


def fix_backend(
    where: Where, environment: str, options: dict[str, str], *, console: Console, poll_seconds: float = 2.0
) -> BackendFix:
    """Start environment-change with the backend options and wait for it to end (the one door for changes)."""
    from mwaa_control_plane import clients
    from mwaa_control_plane.environments.change_request import RequestedBy
    from mwaa_control_plane.variables.flow import backend_change_request

    request = backend_change_request(environment, options, RequestedBy(flow="mwaa-cp vars"))
    keys = sorted(options)
    sfn = clients.sfn(where.region, where.endpoint_url)
    started = sfn.start_execution(
        stateMachineArn=_environment_change_arn(where), input=request.model_dump_json(exclude_none=True)
    )
    arn = started["executionArn"]
    console.print(f"{environment}: environment-change started to repair the backend: {arn}", highlight=False)
    deadline = time.monotonic() + FIX_TIMEOUT_SECONDS
    while True:
        description = sfn.describe_execution(executionArn=arn)
        status = description["status"]
        if status != "RUNNING":
            break
        if time.monotonic() > deadline:
            return BackendFix(environment=environment, options=keys, execution=arn, status="RUNNING", error="timeout")
        time.sleep(poll_seconds)
    error = None if status == "SUCCEEDED" else f"{description.get('error', status)}: {description.get('cause', '')}"
    colour = "green" if status == "SUCCEEDED" else "red"
    console.print(f"{environment}: environment-change [{colour}]{status}[/]", highlight=False)
    return BackendFix(environment=environment, options=keys, execution=arn, status=status, error=error)


def apply_one(
    connections: Connections, request: PropagationRequest, environment: str, *, console: Console
) -> ApplyResult:
    """Write one environment until done, in budgeted batches (the flow's apply loop), printing progress."""
    from mwaa_control_plane.variables.flow import apply_step

    result: ApplyResult | None = None
    try:
        while True:
            result = apply_step(connections, request, environment, budget_seconds=PROGRESS_SECONDS, previous=result)
            if result.done:
                return result
            written = result.created + result.updated + result.deleted
            console.print(f"{environment}: {written} written so far...", highlight=False)
    except ControlPlaneError as exc:
        # Whole-environment failures (its target cannot be read, it went away): the others still go.
        failed = ApplyResult(environment=environment, done=False, error=f"{type(exc).__name__}: {exc}")
        if result is None:
            return failed
        return result.model_copy(update={"done": False, "error": failed.error})


def remaining_backend_problems(mwaa: MWAAClient, names: list[str]) -> dict[str, list[str]]:
    """The backend problem codes of ``names`` now (after any repair)."""
    from mwaa_control_plane.variables.plan import managed_environments

    remaining: dict[str, list[str]] = {}
    for name in names:
        try:
            inventory = managed_environments(mwaa, name)
        except ControlPlaneError:
            continue
        for environment in inventory.managed:
            if environment.problems:
                remaining[environment.name] = [p.code for p in environment.problems]
    return remaining


def run_vars(
    mode: Literal["plan", "apply"],
    where: Where,
    *,
    environment: str | None,
    prune: bool,
    backend: bool,
    output: str,
    kms_key_id: str | None = None,
    write_rate: float | None = None,
) -> int:
    """Plan (and apply); print; the exit code."""
    from mwaa_control_plane.observability import logger

    log_to_stderr(logger)
    console = make_console()
    progress = make_console(stderr=True) if output == "json" else console
    connections = build_connections(where, kms_key_id=kms_key_id, write_rate=write_rate)
    request = PropagationRequest(mode=mode, environment=environment, prune=prune, fix_backend=backend)
    plan = plan_propagation(connections, request)

    if mode == "plan":
        problems = (
            plan_problem_count(plan)
            + sum(1 for m in plan.managed if m.problems)
            + sum(1 for skipped in plan.skipped if skipped.misconfigured)
        )
        if output == "json":
            typer.echo(plan.model_dump_json(indent=2))
        else:
            print_plan(console, plan)
            console.print(
                "\nPlan only: nothing was written. "
                + ("Run mwaa-cp vars apply to write these changes." if _changes(plan) else "No changes to write."),
                highlight=False,
            )
        return 1 if problems else 0

    if output != "json":
        print_plan(console, plan)
    fixes: list[BackendFix] = []
    results: list[ApplyResult] = []
    for summary in plan.summaries():
        if not summary.needs_apply:
            continue
        if summary.backend_fix:
            fix = fix_backend(where, summary.environment, summary.backend_fix, console=progress)
            fixes.append(fix)
        results.append(apply_one(connections, request, summary.environment, console=progress))
    report = summarize(plan, results)
    remaining = remaining_backend_problems(connections.mwaa, [m.name for m in plan.managed])
    final = ApplyReport(**report.model_dump(), backend_fixes=fixes, backend_problems=remaining)
    failures = (
        sum(r.failed_count for r in results)
        + sum(1 for r in results if r.error)
        + plan_problem_count(plan)
        + sum(1 for f in fixes if f.status != "SUCCEEDED")
    )
    if output == "json":
        typer.echo(json.dumps(final.model_dump(mode="json"), indent=2))
    else:
        lines = applied_lines(report)
        if lines:
            console.print("\n" + styled(lines), highlight=False)
        elif not failures:
            console.print("\nNo changes: every managed environment's target matches the source.", highlight=False)
        for name, codes in remaining.items():
            console.print(
                f"[yellow]{name}: backend problems remain ({', '.join(codes)}); "
                "mwaa-cp vars apply --fix-backend repairs them through environment-change[/]",
                highlight=False,
            )
        created = sum(r.created for r in results)
        updated = sum(r.updated for r in results)
        deleted = sum(r.deleted for r in results)
        colour = "red" if failures else "green"
        console.print(
            f"[bold {colour}]Apply complete: {created} created, {updated} updated, {deleted} deleted in "
            f"{len(results)} environment(s); {failures} error(s).[/]",
            highlight=False,
        )
    return 1 if failures or remaining else 0


def register(app: typer.Typer) -> None:
    vars_app = typer.Typer(
        help="Variables and connections: plan and apply /mwaa-cp/ in SSM to every managed environment.",
        no_args_is_help=True,
    )
    app.add_typer(vars_app, name="vars")

    def _command(mode: Literal["plan", "apply"]) -> Any:
        def command(
            environment: str | None = typer.Option(None, "--env", help="One environment; default: every managed one."),
            prune: bool = typer.Option(
                False, "--prune", help="Also delete values the control plane wrote that the source no longer has."
            ),
            backend: bool = typer.Option(
                False,
                "--fix-backend",
                help="apply: repair an inconsistent SSM secrets backend through environment-change first.",
            ),
            output: str = typer.Option("text", "--format", help="text or json"),
            kms_key_id: str | None = typer.Option(
                None, "--kms-key-id", help="Key for SecureString values (default: the stack's, else alias/aws/ssm)."
            ),
            write_rate: float | None = typer.Option(
                None,
                "--write-rate",
                min=0.1,
                max=1000,
                help="SSM writes per second (default: the stack's VariablesWriteRate, else 3).",
            ),
            stack_name: str = typer.Option("mwaa-control-plane", "--stack-name", envvar="MWAA_CP_STACK_NAME"),
            endpoint_url: str | None = typer.Option(None, "--endpoint-url", envvar="AWS_ENDPOINT_URL"),
            region: str | None = typer.Option(None, "--region", envvar="AWS_REGION"),
        ) -> None:
            if output not in FORMATS:
                raise typer.BadParameter("--format must be text or json")
            code = run_vars(
                mode,
                Where(region=region, endpoint_url=endpoint_url, stack_name=stack_name),
                environment=environment,
                prune=prune,
                backend=backend,
                output=output,
                kms_key_id=kms_key_id,
                write_rate=write_rate,
            )
            raise typer.Exit(code)

        return command

    vars_app.command(
        "plan", help="Show what apply would write to each managed environment (values masked); writes nothing."
    )(_command("plan"))
    vars_app.command("apply", help="Write each managed environment's diff (deletes only with --prune).")(
        _command("apply")
    )
