"""``mwaa-cp tag ENV KEY=VALUE ... [--remove KEY]``: tags, also of an environment off-hours hibernated.

MWAA cannot tag an environment that does not exist; the off-hours record keeps a hibernated
environment's tags, and the resume creates it with them. So, for example,
``mwaa-cp tag dev-analytics mwaa-cp:keep-awake-until=2026-12-01T22:00+01:00`` wakes a hibernated
environment on the reconciler's next tick and keeps it awake until then.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mwaa_control_plane import clients
from mwaa_control_plane.clock import get_clock
from mwaa_control_plane.errors import InvalidInputError
from mwaa_cp_cli.stack import stack_output


def _pairs(values: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, equals, text = value.partition("=")
        if not equals or not key:
            raise InvalidInputError(f"{value!r}: write a tag as KEY=VALUE")
        pairs[key] = text
    return pairs


def register(app: typer.Typer) -> None:
    @app.command("tag")
    def tag(
        environment: str = typer.Argument(..., help="The environment (awake or hibernated)."),
        tags: Annotated[list[str] | None, typer.Argument(help="KEY=VALUE tags to set.")] = None,
        remove: Annotated[list[str] | None, typer.Option("--remove", help="A tag key to remove (repeatable).")] = None,
        state_table: str | None = typer.Option(
            None, "--state-table", envvar="MWAA_CP_STATE_TABLE", help="The stack's state table (default: its output)."
        ),
        stack_name: str = typer.Option("mwaa-control-plane", "--stack-name", envvar="MWAA_CP_STACK_NAME"),
        endpoint_url: str | None = typer.Option(None, "--endpoint-url", envvar="AWS_ENDPOINT_URL"),
        region: str | None = typer.Option(None, "--region", envvar="AWS_REGION"),
    ) -> None:
        """Set or remove tags: with TagResource, or in the off-hours record of a hibernated environment."""
        import boto3

        from mwaa_control_plane.environments.offhours.retag import retag
        from mwaa_control_plane.state import StateRepository

        session = boto3.session.Session()
        cloudformation = session.client("cloudformation", region_name=region, endpoint_url=endpoint_url)
        table = state_table or stack_output(cloudformation, stack_name, "StateTableName")
        dynamodb = session.client("dynamodb", region_name=region, endpoint_url=endpoint_url)
        repository = StateRepository(dynamodb, table, get_clock())
        mwaa = clients.mwaa(region, endpoint_url)
        result = retag(mwaa, repository, environment, set_tags=_pairs(tags or []), remove=remove or [])
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
