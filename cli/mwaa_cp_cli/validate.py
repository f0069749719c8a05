"""``mwaa-cp validate``: the static DAG validator on local files, as a command and a pre-commit hook.

Exit codes: 0 when no file has an error-level finding, 1 otherwise, 2 on usage errors
(unknown option, unreadable path, invalid Airflow version).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from mwaa_control_plane.dags.validation import (
    Report,
    ValidationContext,
    render_json,
    render_sarif,
    render_text,
)
from mwaa_control_plane.dags.validation.models import FileKind
from mwaa_control_plane.dags.validation.parallel import validate_parallel
from mwaa_control_plane.dags.validation.settings_file import find_settings_file, load_settings_file
from mwaa_control_plane.dags.validation.sources import load_paths
from mwaa_control_plane.errors import InvalidInputError

DEFAULT_AIRFLOW_VERSION: str = ValidationContext.model_fields["airflow_version"].default


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


_RENDERERS = {OutputFormat.TEXT: render_text, OutputFormat.JSON: render_json, OutputFormat.SARIF: render_sarif}


def _usage_error(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _with_display_paths(report: Report, display: dict[str, str]) -> Report:
    files = [f.model_copy(update={"path": display.get(f.path, f.path)}) for f in report.files]
    return Report(files=files, summary=report.summary)


def validate(
    paths: Annotated[list[Path], typer.Argument(help="DAG files or DAGs folders to check.", show_default=False)],
    airflow_version: Annotated[
        str, typer.Option("--airflow-version", help="Airflow version of the target environment (selects its Python).")
    ] = DEFAULT_AIRFLOW_VERSION,
    requirements: Annotated[
        Path | None, typer.Option("--requirements", help="The environment's requirements.txt.", show_default=False)
    ] = None,
    plugins: Annotated[
        Path | None, typer.Option("--plugins", help="The environment's plugins.zip.", show_default=False)
    ] = None,
    startup_script: Annotated[
        Path | None, typer.Option("--startup-script", help="The environment's startup.sh.", show_default=False)
    ] = None,
    dags_root: Annotated[
        Path | None,
        typer.Option(
            "--dags-root",
            help="Folder synced to the environment's DAGs folder (default: the folder holding every PATH).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.TEXT,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="The validator's .mwaa-cp.toml (default: searched from the DAGs folder up to the git root).",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Processes to check files on (default: one per core; small inputs always run in one).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check DAG files statically (never imported or run) against an MWAA environment's Airflow version."""
    options: tuple[tuple[Path | None, FileKind], ...] = (
        (requirements, "requirements"),
        (plugins, "plugins"),
        (startup_script, "startup"),
    )
    environment_files = [(path, kind) for path, kind in options if path is not None]
    try:
        ValidationContext(airflow_version=airflow_version)
    except ValidationError:
        raise _usage_error(
            f"invalid --airflow-version {airflow_version!r}: expected a version such as 2.10.3"
        ) from None
    try:
        loaded = load_paths(paths, dags_root=dags_root, environment_files=environment_files)
    except InvalidInputError as exc:
        raise _usage_error(str(exc)) from None
    try:
        found = config or find_settings_file(dags_root or paths[0])
        settings_file = load_settings_file(found) if found else None
    except InvalidInputError as exc:
        raise _usage_error(str(exc)) from None
    context = loaded.context(airflow_version=airflow_version, settings_file=settings_file)
    report = _with_display_paths(validate_parallel(loaded.files, context, jobs=jobs), loaded.display)
    typer.echo(_RENDERERS[output_format](report), nl=False)
    raise typer.Exit(code=0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to ``app``."""
    app.command("validate")(validate)
