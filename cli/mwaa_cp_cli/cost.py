"""``mwaa-cp cost [ENV]``: each managed environment's monthly cost as configured, with its off-hours window applied.

For every environment ``ListEnvironments`` shows (or the one named), the tags are read with the reconciler's own
rules (:func:`~mwaa_control_plane.environments.offhours.config_from_tags`), the window is walked over the current
month in the environment's zone (:mod:`~mwaa_control_plane.environments.offhours.monthly`), and the cost model
prices both levers: scale-down and hibernate, net of the hours each hibernate cycle is still billed. Beside them, an
estimate of what the environment's work would cost on MWAA Serverless, from the task-hours CloudWatch observed over
the last 30 days (``AWS/MWAA`` ``RunningTasks``, dimension ``Environment``; docs/mwaa-facts.md).

An environment whose tags cannot be read gets a line that says why, never a crash. A hibernated environment is
deleted, so MWAA does not list it: it is priced from the off-hours record in the stack's state table (its tags and
the capacity it comes back with), found through the stack's ``StateTableName`` output or ``--state-table``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Literal

import typer
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, ValidationError
from rich.table import Table

from mwaa_control_plane import clients
from mwaa_control_plane.clock import get_clock
from mwaa_control_plane.environments.cost import (
    DEFAULT_RECREATE_HOURS_PER_CYCLE,
    ENVIRONMENT_CLASSES,
    CostBreakdown,
    CostLines,
    EnvironmentCapacity,
    OffHoursSchedule,
    ServerlessEstimate,
    monthly_cost,
    prices,
    serverless_estimate,
)
from mwaa_control_plane.environments.description import get_environment
from mwaa_control_plane.environments.inventory import listed_names
from mwaa_control_plane.environments.limits import capacity_of
from mwaa_control_plane.environments.offhours import OffHoursConfig, OffHoursTagError, StackDefaults, config_from_tags
from mwaa_control_plane.environments.offhours.capacity import night_class_for
from mwaa_control_plane.environments.offhours.monthly import MonthlyOffHours, month_of, monthly_off_hours
from mwaa_control_plane.errors import ControlPlaneError, InvalidInputError, NotFoundError
from mwaa_cp_cli.output import make_console, print_whole
from mwaa_cp_cli.stack import stack_output

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_mwaa import MWAAClient

    from mwaa_control_plane.environments.offhours.records import OffHoursRecord

# template.yaml's OffHoursDefaultWindow and OffHoursDefaultTimezone defaults: what an environment without its own
# mwaa-cp:window or mwaa-cp:timezone tag gets from a stack deployed with the defaults.
STACK_DEFAULT_WINDOW = "Mon-Fri 20:00-07:00 / Sat-Sun"
STACK_DEFAULT_TIMEZONE = "UTC"
# docs/mwaa-facts.md § CloudWatch metrics: the queue metrics of AWS/MWAA carry only the Environment dimension.
TASK_METRIC_NAMESPACE = "AWS/MWAA"
TASK_METRIC_NAME = "RunningTasks"
OBSERVED_DAYS = 30
_HOUR = 3600
# Notes of the cost model about the price data rather than about an environment.
_PRICE_DATA_NOTES = ("List prices for", "These figures come from different Regions")
_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnvironmentCost(_Report):
    """One environment's line of ``mwaa-cp cost``; figures are USD a month of the price list (730 h)."""

    name: str
    status: str
    environment_class: str | None = None
    mode: Literal["scale-down", "hibernate"] | None = None
    """The lever the environment's mwaa-cp:off-hours tag chose (None: not managed)."""
    tags_readable: bool = True
    window: str | None = None
    window_source: Literal["tag", "stack"] | None = None
    timezone: str | None = None
    protected: str | None = None
    """Why the environment is never paused, when it is protected."""
    month: MonthlyOffHours | None = None
    as_configured: CostLines | None = None
    scale_down: CostBreakdown | None = None
    hibernate: CostBreakdown | None = None
    saving: Decimal | None = None
    """The saving of the lever the environment uses (``mode``)."""
    saving_percent: Decimal | None = None
    observed_task_hours: Decimal | None = None
    """RunningTasks summed over the last 30 days (hourly averages); None when CloudWatch has no data."""
    serverless: ServerlessEstimate | None = None
    problems: list[str] = []
    """Why a figure is missing: tags that cannot be read, a class without prices, an unanswered metric query."""
    notes: list[str] = []


class CostReport(_Report):
    """What ``mwaa-cp cost --format json`` prints."""

    generated_at: datetime
    month: str | None
    """``YYYY-MM`` when given with --month; else each environment's current month in its own zone."""
    recreate_hours_per_cycle: Decimal
    environments: list[EnvironmentCost]
    """Unmanaged environments too (``mode`` None, no ``mwaa-cp:off-hours`` tag): only their cost as configured."""
    notes: list[str]


# --------------------------------------------------------------------------------------------- gathering


def observed_task_hours(cloudwatch: CloudWatchClient, name: str, now: datetime) -> Decimal | None:
    """Task-hours run over the last 30 days: the hourly averages of RunningTasks, summed; None when there is no data."""
    query: dict[str, Any] = {
        "MetricDataQueries": [
            {
                "Id": "running",
                "MetricStat": {
                    "Metric": {
                        "Namespace": TASK_METRIC_NAMESPACE,
                        "MetricName": TASK_METRIC_NAME,
                        "Dimensions": [{"Name": "Environment", "Value": name}],
                    },
                    "Period": _HOUR,
                    "Stat": "Average",
                },
                "ReturnData": True,
            }
        ],
        "StartTime": now - timedelta(days=OBSERVED_DAYS),
        "EndTime": now,
    }
    values: list[float] = []
    while True:
        answer = cloudwatch.get_metric_data(**query)
        for result in answer["MetricDataResults"]:
            values.extend(result.get("Values", []))
        token = answer.get("NextToken")
        if not token:
            break
        query["NextToken"] = token
    if not values:
        return None
    # An hourly average of a gauge is the task-hours of that hour; missing hours ran nothing (or were hibernated).
    return sum((Decimal(str(value)) for value in values), Decimal(0))


def _capacity(environment: Mapping[str, Any]) -> EnvironmentCapacity:
    known = {key: value for key, value in capacity_of(dict(environment)).items() if value is not None}
    try:
        return EnvironmentCapacity.model_validate(known)
    except ValidationError as exc:
        klass = environment.get("EnvironmentClass")
        if klass not in ENVIRONMENT_CLASSES:
            raise InvalidInputError(f"environment class {klass or '(none)'} has no prices in prices.json") from exc
        raise InvalidInputError(f"its capacity cannot be priced: {exc.errors()[0]['msg']}") from exc


def environment_cost(
    name: str,
    environment: Mapping[str, Any],
    *,
    stack: StackDefaults,
    now: datetime,
    month: date | None = None,
    recreate_hours: Decimal = DEFAULT_RECREATE_HOURS_PER_CYCLE,
    task_hours: Decimal | None = None,
    task_hours_problem: str | None = None,
) -> EnvironmentCost:
    """One environment's costs from its GetEnvironment answer; every problem becomes a line, never an exception."""
    line: dict[str, Any] = {
        "name": name,
        "status": environment.get("Status", "UNKNOWN"),
        "environment_class": environment.get("EnvironmentClass"),
    }
    problems: list[str] = []
    notes: list[str] = []
    if task_hours_problem:
        problems.append(task_hours_problem)
    if task_hours is not None:
        monthly_task_hours = task_hours * prices().hours_per_month / Decimal(OBSERVED_DAYS * 24)
        line["observed_task_hours"] = task_hours
        line["serverless"] = serverless_estimate(monthly_task_hours.quantize(_TENTH, rounding=ROUND_HALF_UP))

    tags = dict(environment.get("Tags") or {})
    config: OffHoursConfig | None = None
    try:
        config = config_from_tags(tags, stack)
    except OffHoursTagError as exc:
        line["tags_readable"] = False
        problems += [f"off-hours tags cannot be read, so it is left as it is: {problem}" for problem in exc.problems]
    try:
        capacity = _capacity(environment)
    except InvalidInputError as exc:
        return EnvironmentCost(**line, problems=[*problems, f"cannot price it: {exc}"])
    line["as_configured"] = monthly_cost(capacity).as_configured
    if config is None or not config.managed:
        return EnvironmentCost(**line, problems=problems, notes=notes)

    line |= {
        "mode": config.mode,
        "window": config.window.text if config.window else None,
        "window_source": config.window_source,
        "timezone": config.timezone,
    }
    if config.protection is not None:
        notes.append(f"{config.protection.reason} (its window is not applied)")
        return EnvironmentCost(**line, protected=config.protection.reason, problems=problems, notes=notes)

    walked = monthly_off_hours(config, month or month_of(config, now))
    line["month"] = walked
    # As the flow does: a night class that is not smaller than the environment's is not used.
    night_class = night_class_for(capacity.environment_class, config.night_class)
    schedules: dict[str, OffHoursSchedule] = {
        "scale_down": OffHoursSchedule(
            mode="scale-down",
            off_hours_per_month=walked.off_hours_per_month,
            night_class=night_class if night_class != capacity.environment_class else None,
        ),
        "hibernate": OffHoursSchedule(
            mode="hibernate",
            off_hours_per_month=walked.off_hours_per_month,
            cycles_per_month=walked.cycles_per_month,
            recreate_hours_per_cycle=recreate_hours,
        ),
    }
    for lever, schedule in schedules.items():
        try:
            line[lever] = monthly_cost(capacity, schedule)
        except InvalidInputError as exc:
            problems.append(f"{schedule.mode}: {exc}")
    chosen = line.get("scale_down" if config.mode == "scale-down" else "hibernate")
    if isinstance(chosen, CostBreakdown):
        line["saving"] = chosen.saving
        line["saving_percent"] = chosen.saving_percent
    for lever in ("scale_down", "hibernate"):
        breakdown = line.get(lever)
        if isinstance(breakdown, CostBreakdown):
            notes += [note for note in breakdown.notes if note not in notes]
    return EnvironmentCost(**line, problems=problems, notes=notes)


def _as_described(record: OffHoursRecord) -> dict[str, Any]:
    """A hibernated environment as GetEnvironment would show it: its recorded tags and the capacity it resumes with."""
    capacity = record.hibernated_capacity
    assert capacity is not None  # only such records are priced
    return {
        "Name": record.environment_name,
        "Status": "HIBERNATED",
        "EnvironmentClass": capacity.environment_class,
        "MinWorkers": capacity.min_workers,
        "MaxWorkers": capacity.max_workers,
        "Schedulers": capacity.schedulers,
        "MinWebservers": capacity.min_webservers,
        "MaxWebservers": capacity.max_webservers,
        "Tags": record.tags,
    }


def hibernated_records(
    dynamodb: Any, cloudformation: Any, *, state_table: str | None, stack_name: str
) -> list[OffHoursRecord] | None:
    """The stack's off-hours records, or None when its state table cannot be found or read."""
    from mwaa_control_plane.state import StateRepository

    try:
        table = state_table or stack_output(cloudformation, stack_name, "StateTableName")
    except ControlPlaneError:
        return None
    try:
        return StateRepository(dynamodb, table, get_clock()).off_hours_records()
    except (ClientError, ControlPlaneError):  # not readable: the report's notes say hibernated ones are missing
        return None


def cost_report(
    mwaa: MWAAClient,
    cloudwatch: CloudWatchClient,
    *,
    names: Sequence[str] | None = None,
    stack: StackDefaults | None = None,
    now: datetime | None = None,
    month: date | None = None,
    recreate_hours: Decimal = DEFAULT_RECREATE_HOURS_PER_CYCLE,
    hibernated: Sequence[OffHoursRecord] | None = None,
) -> CostReport:
    """The report for ``names`` (default: every environment ListEnvironments shows, and the ``hibernated`` ones).

    ``hibernated``: the off-hours records of the stack (None: the state table is not known). Raises
    :class:`NotFoundError` for a named environment MWAA does not know and no record says is hibernated.
    """
    asleep = {r.environment_name: r for r in hibernated or [] if r.state == "hibernated" and r.hibernated_capacity}
    stack = stack or StackDefaults(window=STACK_DEFAULT_WINDOW, timezone=STACK_DEFAULT_TIMEZONE)
    now = now or get_clock().now()
    listed = names is None
    lines: list[EnvironmentCost] = []
    wanted = sorted({*listed_names(mwaa), *asleep}) if names is None else list(names)
    for name in wanted:
        try:
            environment = get_environment(mwaa, name)
        except NotFoundError as exc:
            if name in asleep:
                environment = _as_described(asleep[name])
            elif listed:  # deleted between ListEnvironments and GetEnvironment
                continue
            else:
                known = "" if hibernated is not None else " (pass --state-table to include hibernated environments)"
                raise NotFoundError(f"no MWAA environment {name!r}{known}") from exc
        task_hours, problem = None, None
        try:
            task_hours = observed_task_hours(cloudwatch, name, now)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            problem = f"no MWAA Serverless estimate: CloudWatch GetMetricData answered {code}"
        lines.append(
            environment_cost(
                name,
                environment,
                stack=stack,
                now=now,
                month=month,
                recreate_hours=recreate_hours,
                task_hours=task_hours,
                task_hours_problem=problem,
            )
        )
    notes = [
        f"USD a month of {prices().hours_per_month} h at list prices (prices.json: each figure's Region, source and "
        "date); the free tier and taxes are not subtracted.",
        f"Off hours: the window walked over {f'{month:%Y-%m}' if month else 'the current month'} in each "
        "environment's zone (holidays included, a keep-awake left out), scaled to the price list's month.",
        f"Hibernate is billed {recreate_hours} h per cycle while the environment is deleted and recreated "
        "(--recreate-hours).",
        f"MWAA Serverless is an estimate: the hourly averages of {TASK_METRIC_NAMESPACE} {TASK_METRIC_NAME} over the "
        f"last {OBSERVED_DAYS} days, scaled to a month, at about {prices().serverless_task.usd} USD a task-hour "
        f"({prices().serverless_task.region}); Serverless runs YAML workflows on Airflow 3 only.",
    ]
    if hibernated is None:
        notes.append(
            "Hibernated environments are deleted, so MWAA does not list them: the stack's state table was not found, "
            "so they are not shown (pass --state-table or --stack-name)."
        )
    elif asleep:
        notes.append(
            "HIBERNATED environments are priced from their off-hours record: the capacity they come back with."
        )
    return CostReport(
        generated_at=now,
        month=f"{month:%Y-%m}" if month else None,
        recreate_hours_per_cycle=recreate_hours,
        environments=lines,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------- printing


def _usd(value: Decimal | None) -> str:
    return "unknown" if value is None else f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):,}"


def _total(breakdown: CostBreakdown | None) -> str:
    if breakdown is None or breakdown.with_schedule is None:
        return "-"
    return _usd(breakdown.with_schedule.total)


def _serverless(line: EnvironmentCost) -> str:
    if line.serverless is None:
        return "no data" if not any("Serverless" in problem for problem in line.problems) else "-"
    return f"{_usd(line.serverless.monthly)} ({line.serverless.task_hours_per_month} task-h)"


def _lever(line: EnvironmentCost) -> str:
    if line.protected:
        return "protected"
    if line.mode:
        return line.mode
    return "tags unreadable" if not line.tags_readable else "not managed"


def cost_table(report: CostReport) -> Table:
    table = Table(title="Monthly cost of the MWAA environments with their off-hours window, USD")
    for column in ("environment", "class", "off-hours", "window", "off a month", "as configured"):
        table.add_column(column)
    for column in ("scale-down", "hibernate", "saving", "Serverless (estimate)"):
        table.add_column(column, justify="right")
    for line in report.environments:
        off = "-"
        if line.month is not None:
            off = f"{line.month.off_hours_per_month:.1f} h, {line.month.cycles_per_month:.1f} cycles"
        saving = "-"
        if line.saving is not None:
            saving = f"{_usd(line.saving)} ({line.saving_percent} %)"
        window = "-"
        if line.window:
            window = f"{line.window}, {line.timezone}" + (" (stack default)" if line.window_source == "stack" else "")
        table.add_row(
            line.name,
            line.environment_class or "-",
            _lever(line),
            window,
            off,
            _usd(line.as_configured.total) if line.as_configured else "-",
            _total(line.scale_down),
            _total(line.hibernate),
            saving,
            _serverless(line),
        )
    return table


def print_report(report: CostReport) -> None:
    console = make_console()
    if report.environments:
        print_whole(console, cost_table(report))
    else:
        console.print("no MWAA environments in this account and Region", highlight=False)
    shared: list[str] = []  # about the price data, not one environment: printed once
    for line in report.environments:
        for problem in line.problems:
            console.print(f"[bold red]{line.name}:[/] {problem}", highlight=False)
        for note in line.notes:
            if note.startswith(_PRICE_DATA_NOTES):
                shared += [] if note in shared else [note]
            else:
                console.print(f"{line.name}: {note}", highlight=False)
    for note in _merged_region_notes(shared):
        console.print(note, highlight=False)
    for note in report.notes:
        console.print(note, highlight=False)


def _merged_region_notes(notes: list[str]) -> list[str]:
    """One 'List prices for <Regions> (...)' note for the whole table, however many environments gave one."""
    regions: list[str] = []
    others: list[str] = []
    for note in notes:
        listed = re.match(r"List prices for (.+?) \(", note)
        if listed is None:
            others.append(note)
        else:
            regions += [r for r in listed[1].split(", ") if r not in regions]
    if not regions:
        return others
    return [f"List prices for {', '.join(sorted(regions))} (prices.json gives each figure's source and date).", *others]


def _month(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise typer.BadParameter("--month is YYYY-MM, e.g. 2026-12") from None


def register(app: typer.Typer) -> None:
    @app.command("cost")
    def cost(
        environment: str | None = typer.Argument(None, help="One environment; default: every one MWAA lists."),
        month: str | None = typer.Option(None, "--month", help="YYYY-MM; default: the current month of each zone."),
        recreate_hours: float = typer.Option(
            float(DEFAULT_RECREATE_HOURS_PER_CYCLE),
            "--recreate-hours",
            min=0,
            help="Hours each hibernate cycle is still billed (deleting and recreating).",
        ),
        default_window: str = typer.Option(
            STACK_DEFAULT_WINDOW,
            "--default-window",
            envvar="MWAA_CP_OFF_HOURS_DEFAULT_WINDOW",
            help="Window of environments without mwaa-cp:window (the stack's OffHoursDefaultWindow).",
        ),
        default_timezone: str = typer.Option(
            STACK_DEFAULT_TIMEZONE,
            "--default-timezone",
            envvar="MWAA_CP_OFF_HOURS_DEFAULT_TIMEZONE",
            help="Zone of environments without mwaa-cp:timezone (the stack's OffHoursDefaultTimezone).",
        ),
        holidays: str = typer.Option(
            "",
            "--holidays",
            envvar="MWAA_CP_OFF_HOURS_HOLIDAYS",
            help="The stack's OffHoursHolidays: ISO dates separated by spaces.",
        ),
        endpoint_url: str | None = typer.Option(None, "--endpoint-url", envvar="AWS_ENDPOINT_URL"),
        region: str | None = typer.Option(None, "--region", envvar="AWS_REGION"),
        state_table: str | None = typer.Option(
            None,
            "--state-table",
            envvar="MWAA_CP_STATE_TABLE",
            help="The stack's state table (default: its StateTableName output), for hibernated environments.",
        ),
        stack_name: str = typer.Option("mwaa-control-plane", "--stack-name", envvar="MWAA_CP_STACK_NAME"),
        output: str = typer.Option("table", "--format", help="table or json"),
        as_json: bool = typer.Option(False, "--json", help="The same as --format json."),
    ) -> None:
        """Monthly cost of each managed environment: as configured, scaled down, hibernated; Serverless estimate."""
        if output not in ("table", "json"):
            raise typer.BadParameter("--format must be table or json")
        import boto3

        stack = StackDefaults(
            window=default_window, timezone=default_timezone, holidays=(holidays,) if holidays.strip() else ()
        )
        session = boto3.session.Session()
        cloudwatch = session.client("cloudwatch", region_name=region, endpoint_url=endpoint_url)
        hibernated = hibernated_records(
            session.client("dynamodb", region_name=region, endpoint_url=endpoint_url),
            session.client("cloudformation", region_name=region, endpoint_url=endpoint_url),
            state_table=state_table,
            stack_name=stack_name,
        )
        report = cost_report(
            clients.mwaa(region, endpoint_url),
            cloudwatch,
            names=[environment] if environment else None,
            stack=stack,
            month=_month(month),
            recreate_hours=Decimal(str(recreate_hours)),
            hibernated=hibernated,
        )
        if as_json or output == "json":
            typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        else:
            print_report(report)
