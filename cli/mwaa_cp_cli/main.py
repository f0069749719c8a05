"""``mwaa-cp``: the control plane's command line.

Each capability adds its commands from its own module through ``register(app)``. Errors
the user can act on (bad input, missing credentials, an unreachable endpoint) print one
clear line and exit 2; they never show a traceback.
"""

from __future__ import annotations

import sys

import typer
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from mwaa_control_plane import __version__
from mwaa_control_plane.config import CliSettings, load_settings
from mwaa_control_plane.errors import ControlPlaneError
from mwaa_cp_cli import envs, local, run, validate
from mwaa_cp_cli.output import make_console

app = typer.Typer(
    name="mwaa-cp",
    help="Control plane for Amazon MWAA: DAG delivery, cost control, worker analysis, variables.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for module in (local, run, envs, validate):
    module.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mwaa-cp {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Control plane for Amazon MWAA."""


def main() -> None:
    err = make_console(stderr=True)
    try:
        app()
    except ControlPlaneError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except (NoCredentialsError, NoRegionError) as exc:
        err.print(f"[bold red]error:[/] {exc} (set AWS credentials and AWS_REGION, or use the local runtime)")
        sys.exit(2)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        err.print(f"[bold red]AWS error:[/] {error.get('Code', '?')}: {error.get('Message', exc)}", highlight=False)
        sys.exit(2)
    except BotoCoreError as exc:
        err.print(f"[bold red]AWS error:[/] {exc}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if load_settings(CliSettings).debug:
            raise
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
            "This is a bug in mwaa-cp; run again with MWAA_CP_DEBUG=1 for the traceback and report it.",
            highlight=False,
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
