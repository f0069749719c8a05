"""``mwaa-cp validate``: the static DAG validator on local files, as a command and a pre-commit hook.

Exit codes: 0 when no file has an error-level finding, 1 otherwise, 2 on usage errors
(unknown option, unreadable path, invalid Airflow version).

Parsed with argparse, not typer like the other commands: pre-commit starts this command on every
commit, and importing typer (and click, rich's friends) costs it more than checking a file does.
``mwaa-cp`` dispatches ``validate`` here before it imports typer; :func:`register` still lists the
command in ``mwaa-cp --help`` and forwards to the same parser.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from mwaa_control_plane.dags.validation import (
    Report,
    ValidationContext,
    render_json,
    render_sarif,
    render_text,
)
from mwaa_control_plane.dags.validation.models import DEFAULT_AIRFLOW_VERSION, FileKind
from mwaa_control_plane.dags.validation.parallel import validate_parallel
from mwaa_control_plane.dags.validation.settings_file import find_settings_file, load_settings_file
from mwaa_control_plane.dags.validation.sources import load_paths
from mwaa_control_plane.errors import InvalidInputError

if TYPE_CHECKING:
    import typer

__all__ = ["DEFAULT_AIRFLOW_VERSION", "OutputFormat", "build_parser", "main", "register", "run"]

SUMMARY = "Check DAG files statically (never imported or run) against an MWAA environment's Airflow version."


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


_RENDERERS = {OutputFormat.TEXT: render_text, OutputFormat.JSON: render_json, OutputFormat.SARIF: render_sarif}


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments: the same flags, defaults and help as when typer parsed them."""
    parser = argparse.ArgumentParser(
        prog="mwaa-cp validate",
        usage="%(prog)s [OPTIONS] PATH [PATH ...]",
        description=SUMMARY,
        epilog="Exit status: 0 when no file has an error-level finding, 1 otherwise, 2 on a usage error.",
        add_help=False,  # --help only, no -h: the flags typer had
        allow_abbrev=False,  # no --form for --format: flags are spelled out, as with typer
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="DAG files or DAGs folders to check.")
    parser.add_argument(
        "--airflow-version",
        default=DEFAULT_AIRFLOW_VERSION,
        metavar="VERSION",
        help=f"Airflow version of the target environment (selects its Python). [default: {DEFAULT_AIRFLOW_VERSION}]",
    )
    parser.add_argument("--requirements", type=Path, metavar="PATH", help="The environment's requirements.txt.")
    parser.add_argument("--plugins", type=Path, metavar="PATH", help="The environment's plugins.zip.")
    parser.add_argument("--startup-script", type=Path, metavar="PATH", help="The environment's startup.sh.")
    parser.add_argument(
        "--dags-root",
        type=Path,
        metavar="PATH",
        help="Folder synced to the environment's DAGs folder (default: the folder holding every PATH).",
    )
    parser.add_argument(
        "--format",
        dest="output_format",
        choices=[f.value for f in OutputFormat],
        default=OutputFormat.TEXT.value,
        help="Output format. [default: text]",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="The validator's .mwaa-cp.toml (default: searched from the DAGs folder up to the git root).",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        metavar="N",
        help="Processes to check files on, at least 1 (default: one per core; small inputs always run in one).",
    )
    parser.add_argument("--help", action="help", help="Show this message and exit.")
    return parser


def _parse(parser: argparse.ArgumentParser, args: Sequence[str]) -> argparse.Namespace:
    # Options and paths in any order, as click allows; '--' ends the options (parse_intermixed_args
    # mishandles it, so the paths after it are taken here).
    args = list(args)
    after: list[str] = []
    if "--" in args:
        at = args.index("--")
        args, after = args[:at], args[at + 1 :]
    namespace = parser.parse_intermixed_args(args)
    namespace.paths = [*namespace.paths, *(Path(p) for p in after)]
    if not namespace.paths:
        parser.error("the following arguments are required: PATH")
    return namespace


def _usage_error(message: str) -> SystemExit:
    sys.stderr.write(f"error: {message}\n")
    return SystemExit(2)


def _with_display_paths(report: Report, display: dict[str, str]) -> Report:
    files = [replace(f, path=display.get(f.path, f.path)) for f in report.files]
    return Report(files=files, summary=report.summary)


def run(args: Sequence[str]) -> int:
    """Parse ``args`` (what follows ``mwaa-cp validate``), check the files, print the report; the exit code.

    Usage errors and ``--help`` raise SystemExit (2 and 0), as argparse does.
    """
    options = _parse(build_parser(), args)
    paths: list[Path] = options.paths
    dags_root: Path | None = options.dags_root
    given: tuple[tuple[Path | None, FileKind], ...] = (
        (options.requirements, "requirements"),
        (options.plugins, "plugins"),
        (options.startup_script, "startup"),
    )
    environment_files = [(path, kind) for path, kind in given if path is not None]
    try:
        ValidationContext(airflow_version=options.airflow_version)
    except ValueError:
        raise _usage_error(
            f"invalid --airflow-version {options.airflow_version!r}: expected a version such as 2.10.3"
        ) from None
    try:
        loaded = load_paths(paths, dags_root=dags_root, environment_files=environment_files)
    except InvalidInputError as exc:
        raise _usage_error(str(exc)) from None
    try:
        found = options.config or find_settings_file(dags_root or paths[0])
        settings_file = load_settings_file(found) if found else None
    except InvalidInputError as exc:
        raise _usage_error(str(exc)) from None
    context = loaded.context(airflow_version=options.airflow_version, settings_file=settings_file)
    report = _with_display_paths(validate_parallel(loaded.files, context, jobs=options.jobs), loaded.display)
    sys.stdout.write(_RENDERERS[OutputFormat(options.output_format)](report))
    return 0 if report.ok else 1


def main(args: Sequence[str]) -> NoReturn:
    """``mwaa-cp validate ARGS``: exits with the verdict (see the module docstring)."""
    raise SystemExit(run(args))


def register(app: typer.Typer) -> None:
    """List ``validate`` in ``app`` (``mwaa-cp --help``); its arguments go to :func:`main` unparsed."""
    import typer

    def validate(ctx: typer.Context) -> None:
        main(ctx.args)

    # typer reads the annotation to pass the context; as a string (this module's annotations are) it
    # would look typer up in this module's globals, where it is not: typer is imported only here.
    validate.__annotations__["ctx"] = typer.Context
    settings = {"allow_extra_args": True, "ignore_unknown_options": True}
    app.command("validate", help=SUMMARY, add_help_option=False, context_settings=settings)(validate)
