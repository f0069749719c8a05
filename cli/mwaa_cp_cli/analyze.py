"""``mwaa-cp analyze``: why tasks wait on an MWAA environment, from a scenario file or from the live environment.

``mwaa-cp analyze --scenario FILE`` runs the worker analysis on a recorded scenario (docs/worker-analysis.md): no AWS
call, the same diagnosis code the flow runs, so a case attached to a support ticket replays exactly.
``mwaa-cp analyze ENV [--since 2h] [--write-scenario FILE]`` gathers the same scenario from the environment
(GetEnvironment, GetMetricData, and Airflow's pools and task counts through InvokeRestApi), analyses it and can
keep it as a file. Exit 0 with a report whatever the cause; 2 when the input cannot be analysed.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import typer

from mwaa_control_plane.capacity import analyze as run_analysis
from mwaa_control_plane.capacity import load_scenario, render_markdown, render_text
from mwaa_control_plane.capacity.scenario import Scenario
from mwaa_control_plane.environments.limits import DEFAULT_MAX_WORKERS_QUOTA
from mwaa_control_plane.errors import InvalidInputError
from mwaa_cp_cli.output import log_to_stderr

FORMATS = ("text", "json", "markdown")
_SINCE = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440}
MAX_SINCE = timedelta(days=1)
"""Windows up to a day, read at 60 s (CloudWatch keeps one-minute data for 15 days)."""


def parse_since(text: str) -> timedelta:
    """``90m``, ``2h``, ``1d`` -> the window's length; InvalidInputError for anything else or beyond a day."""
    match = _SINCE.match(text)
    if not match:
        raise InvalidInputError(f"--since {text!r}: give minutes, hours or days, such as 90m, 2h or 1d")
    length = timedelta(minutes=int(match.group(1)) * _UNIT_MINUTES[match.group(2)])
    if not timedelta(minutes=15) <= length <= MAX_SINCE:
        raise InvalidInputError(f"--since {text!r}: the window must be between 15 minutes and 1 day")
    return length


def _live_scenario(
    environment: str,
    since: timedelta,
    *,
    ask_airflow: bool,
    region: str | None,
    endpoint_url: str | None,
) -> tuple[Scenario, int]:
    """The environment's scenario over the ``since`` before now, and the GetMetricData calls it took."""
    # Only the live form needs boto3 and the Airflow client.
    import boto3

    from mwaa_control_plane import clients
    from mwaa_control_plane.airflow import AirflowClient
    from mwaa_control_plane.capacity.gather import gather
    from mwaa_control_plane.clock import get_clock
    from mwaa_control_plane.observability import logger

    log_to_stderr(logger)
    clock = get_clock()
    end = clock.now().replace(second=0, microsecond=0)
    cloudwatch = boto3.session.Session().client("cloudwatch", region_name=region, endpoint_url=endpoint_url)
    airflow = (
        AirflowClient(clients.mwaa(region, endpoint_url, max_attempts=1), environment, clock=clock)
        if ask_airflow
        else None
    )
    result = gather(
        environment,
        mwaa=clients.mwaa(region, endpoint_url),
        cloudwatch=cloudwatch,
        start=end - since,
        end=end,
        airflow=airflow,
        description=f"Gathered by mwaa-cp analyze over the {since} before {end.isoformat()}",
    )
    return result.scenario, result.metric_data_calls


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    def analyze(
        environment: str | None = typer.Argument(None, help="A live (or local) environment to gather and analyse."),
        scenario: str | None = typer.Option(None, "--scenario", help="Analyse a scenario file instead (no AWS call)."),
        since: str = typer.Option("2h", "--since", help="With ENV: the window up to now (90m, 2h, 1d)."),
        write_scenario: str | None = typer.Option(
            None, "--write-scenario", help="With ENV: also write the gathered data as a scenario file."
        ),
        output: str = typer.Option("text", "--format", help="text, json or markdown"),
        ceiling: int = typer.Option(
            DEFAULT_MAX_WORKERS_QUOTA,
            "--max-workers-ceiling",
            min=1,
            help="The most workers a recommendation may ask for (the stack's ceiling parameter).",
        ),
        ask_airflow: bool = typer.Option(
            True, "--airflow/--no-airflow", help="With ENV: ask Airflow for pools and task counts (InvokeRestApi)."
        ),
        endpoint_url: str | None = typer.Option(None, "--endpoint-url", envvar="AWS_ENDPOINT_URL"),
        region: str | None = typer.Option(None, "--region", envvar="AWS_REGION"),
    ) -> None:
        """Diagnose why tasks wait (cause, evidence, recommendation) from a scenario file or a live environment."""
        if output not in FORMATS:
            raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
        if (environment is None) == (scenario is None):
            raise typer.BadParameter("name an environment or give --scenario FILE (one of the two)")
        if write_scenario is not None and environment is None:
            raise typer.BadParameter("--write-scenario needs an environment to gather from")

        if scenario is not None:
            loaded = load_scenario(Path(scenario))
        else:
            assert environment is not None
            loaded, _ = _live_scenario(
                environment, parse_since(since), ask_airflow=ask_airflow, region=region, endpoint_url=endpoint_url
            )
            if write_scenario is not None:
                try:
                    Path(write_scenario).write_text(loaded.to_json(), encoding="utf-8")
                except OSError as error:
                    raise InvalidInputError(f"--write-scenario {write_scenario}: {error.strerror or error}") from None
        report = run_analysis(loaded, max_workers_ceiling=ceiling)
        if output == "json":
            typer.echo(report.to_json(), nl=False)
        elif output == "markdown":
            typer.echo(render_markdown(report), nl=False)
        else:
            typer.echo(render_text(report), nl=False)
