"""``mwaa-cp envs``: the account's MWAA environments in a table."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from mwaa_control_plane import clients
from mwaa_control_plane.environments.inventory import EnvironmentSummary, list_environment_summaries
from mwaa_cp_cli.output import make_console, print_whole


def environments_table(summaries: list[EnvironmentSummary]) -> Table:
    table = Table(title="MWAA environments")
    for column in ("name", "status", "airflow", "class", "workers", "schedulers", "last update"):
        table.add_column(column)
    for env in summaries:
        workers = f"{env.min_workers}-{env.max_workers}" if env.min_workers is not None else "-"
        table.add_row(
            env.name,
            env.status,
            env.airflow_version or "-",
            env.environment_class or "-",
            workers,
            str(env.schedulers or "-"),
            env.last_update or "-",
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command("envs")
    def envs(
        endpoint_url: str | None = typer.Option(None, "--endpoint-url", envvar="AWS_ENDPOINT_URL"),
        region: str | None = typer.Option(None, "--region", envvar="AWS_REGION"),
        output: str = typer.Option("table", "--format", help="table or json"),
    ) -> None:
        """List MWAA environments: status, Airflow version, class, workers, schedulers."""
        if output not in ("table", "json"):
            raise typer.BadParameter("--format must be table or json")
        summaries = list_environment_summaries(clients.mwaa(region, endpoint_url))
        if output == "json":
            typer.echo(json.dumps([s.model_dump(mode="json") for s in summaries], indent=2))
        elif not summaries:
            make_console().print("no MWAA environments in this account and Region")
        else:
            print_whole(make_console(), environments_table(summaries))
