"""``mwaa-cp local up`` and ``mwaa-cp local demo``: the offline runtime."""

from __future__ import annotations

import signal
import threading

import typer

from mwaa_cp_cli.output import make_console

local_app = typer.Typer(help="The offline runtime: the real template.yaml on an embedded AWS.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(local_app, name="local")


@local_app.command("up")
def up(
    port: int = typer.Option(4566, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one)."),
    time_scale: float = typer.Option(
        0.001, "--time-scale", min=0.000001, max=1.0, help="Real seconds per virtual second; 1 is real time."
    ),
    seed: bool = typer.Option(True, "--seed/--no-seed", help="Create the dev-analytics MWAA environment."),
) -> None:
    """Serve the local runtime, provisioned with the stack, for the AWS CLI and boto3 (--endpoint-url)."""
    from mwaa_cp_local.runtime import LocalAws
    from mwaa_cp_local.seed import create_environment
    from mwaa_cp_local.server import LocalServer

    console = make_console()
    with LocalAws(time_scale=None if time_scale == 1.0 else time_scale) as aws:
        server = LocalServer(port=port).start()
        try:
            if seed:
                create_environment(aws, "dev-analytics")
            url = server.endpoint_url
            console.print(
                f"[bold green]local AWS listening on {url}[/] (stack {aws.stack_name}, "
                f"{len(aws.stack.resources)} resources)"
            )
            console.print(
                "Use it from another shell:\n"
                f"  export AWS_ENDPOINT_URL={url} AWS_DEFAULT_REGION={aws.region}\n"
                "  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing\n"
                "  export AWS_DISABLE_HOST_PREFIX_INJECTION=true   # MWAA uses api./env. host prefixes\n"
                "  aws s3 ls; aws stepfunctions list-state-machines; aws mwaa list-environments\n"
                "  mwaa-cp envs; mwaa-cp run environment-health --input "
                "events/environment-health/one-environment.json\n"
                "Ctrl-C stops it; nothing is kept.",
                highlight=False,
            )
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
        finally:
            server.stop()
    console.print("local AWS stopped")


@local_app.command("demo")
def demo() -> None:
    """Provision the stack offline and show every flow built so far working."""
    from mwaa_cp_cli.demo import run_demo

    if not run_demo(make_console()):
        raise typer.Exit(1)
