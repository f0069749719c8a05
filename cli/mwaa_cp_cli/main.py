"""``mwaa-cp``: the control plane's command line.

Each capability adds its commands from its own module through ``register(app)``. Only the
module of the command being run is imported: ``mwaa-cp validate`` runs on every commit as a
pre-commit hook, and importing the AWS commands (boto3, rich) would cost it more than checking
a file does. For the same reason ``validate`` is parsed with argparse and dispatched before typer
is imported. Errors the user can act on (bad input, missing credentials, an unreachable
endpoint) print one clear line and exit 2; they never show a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mwaa_control_plane.errors import ControlPlaneError

if TYPE_CHECKING:
    import typer

#: Command name -> the module whose ``register(app)`` adds it, in registration order.
COMMANDS: dict[str, str] = {
    "local": "mwaa_cp_cli.local",
    "run": "mwaa_cp_cli.run",
    "envs": "mwaa_cp_cli.envs",
    "cost": "mwaa_cp_cli.cost",
    "analyze": "mwaa_cp_cli.analyze",
    "approve": "mwaa_cp_cli.approve",
    "reject": "mwaa_cp_cli.approve",
    "revert": "mwaa_cp_cli.approve",
    "tag": "mwaa_cp_cli.tag",
    "doctor": "mwaa_cp_cli.doctor",
    "vars": "mwaa_cp_cli.vars",
    "validate": "mwaa_cp_cli.validate",
}


def requested_command(args: Sequence[str]) -> str | None:
    """The command ``args`` name when it comes first (``mwaa-cp validate ...``), else None.

    Anything before the command (``--help``, ``--version``) is about the whole app, which then
    needs every command to list them.
    """
    return args[0] if args and args[0] in COMMANDS else None


def build_app(command: str | None = None) -> typer.Typer:
    """The ``mwaa-cp`` app: with only ``command``'s module imported when one is given, else every command."""
    import typer

    from mwaa_control_plane import __version__

    def _version(value: bool) -> None:
        if value:
            typer.echo(f"mwaa-cp {__version__}")
            raise typer.Exit()

    def root(
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    ) -> None:
        """Control plane for Amazon MWAA."""

    app = typer.Typer(
        name="mwaa-cp",
        help="Control plane for Amazon MWAA: DAG delivery, cost control, worker analysis, variables.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for name in [command] if command is not None else COMMANDS:
        importlib.import_module(COMMANDS[name]).register(app)
    app.callback()(root)
    return app


def _print_error(text: str, *, highlight: bool | None = False) -> None:
    # rich only on this path: a clean run of `mwaa-cp validate` never needs it.
    from mwaa_cp_cli.output import make_console

    make_console(stderr=True).print(text, highlight=highlight)


def _aws_error(exc: Exception) -> tuple[str, bool | None] | None:
    """The line (and whether rich highlights it) for an AWS SDK error; None for anything else."""
    if "botocore" not in sys.modules:  # nothing in this process could have raised one
        return None
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    if isinstance(exc, NoCredentialsError | NoRegionError):
        return f"[bold red]error:[/] {exc} (set AWS credentials and AWS_REGION, or use the local runtime)", None
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"[bold red]AWS error:[/] {error.get('Code', '?')}: {error.get('Message', exc)}", False
    if isinstance(exc, BotoCoreError):
        return f"[bold red]AWS error:[/] {exc}", False
    return None


def _flushed() -> bool:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: the normal exit reports it
        return False
    return True


def main() -> None:
    command = requested_command(sys.argv[1:])
    try:
        if command == "validate":
            from mwaa_cp_cli.validate import main as validate

            validate(sys.argv[2:])  # exits with the verdict
        build_app(command)()
    except SystemExit as exit:
        # validate leaves nothing to clean up (no thread, no temporary file, its pool already joined),
        # and freeing every object of a run on the way out costs it 30-50 ms: leave as mypy does.
        if command == "validate" and isinstance(exit.code, int | None) and _flushed():
            os._exit(exit.code or 0)
        raise
    except ControlPlaneError as exc:
        _print_error(f"[bold red]error:[/] {exc}")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        aws = _aws_error(exc)
        if aws is not None:
            _print_error(aws[0], highlight=aws[1])
            sys.exit(2)
        from mwaa_control_plane.config import CliSettings, load_settings

        if load_settings(CliSettings).debug:
            raise
        _print_error(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
            "This is a bug in mwaa-cp; run again with MWAA_CP_DEBUG=1 for the traceback and report it."
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
