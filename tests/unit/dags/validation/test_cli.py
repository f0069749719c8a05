"""``mwaa-cp validate``: arguments, formats and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mwaa_cp_cli.validate import register
from tests.conftest import REPO
from tests.unit.dags.validation.corpus import CLEAN, DEFECTS

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """Make 'validate' a subcommand, as in mwaa-cp."""

    return app


def test_clean_folder_exits_zero(app: typer.Typer) -> None:
    result = runner.invoke(app, ["validate", str(CLEAN / "airflow2")])

    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


def test_airflow_version_flag_changes_the_rules(app: typer.Typer) -> None:
    result = runner.invoke(app, ["validate", str(CLEAN / "airflow3"), "--airflow-version", "3.0.6", "--format", "json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["python_version"] == "3.12"
    assert runner.invoke(app, ["validate", str(CLEAN / "airflow3")]).exit_code == 1  # airflow.sdk on 2.10.3


def test_error_finding_exits_one_with_json_on_stdout(app: typer.Typer) -> None:
    result = runner.invoke(app, ["validate", str(DEFECTS / "dag-cycle"), "--format", "json"])

    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["files"][0]["verdict"] == "fail"
    assert data["files"][0]["findings"][0]["rule"] == "dag-cycle"
    assert data["files"][0]["path"].endswith("dag-cycle/dag.py")


def test_single_files_use_their_folder_for_sibling_imports(app: typer.Typer) -> None:
    result = runner.invoke(app, ["validate", str(CLEAN / "airflow2" / "classic_operators.py")])

    assert result.exit_code == 0, result.output


def test_requirements_option_feeds_import_resolution(app: typer.Typer, tmp_path: Path) -> None:
    dag = tmp_path / "dag.py"
    dag.write_text("import airflow\nimport yaml_plus\n")
    requirements = tmp_path.parent / f"{tmp_path.name}-requirements.txt"
    requirements.write_text("-c https://x/constraints-2.10.3/constraints-3.11.txt\nyaml-plus==1.0\n")

    assert runner.invoke(app, ["validate", str(dag)]).exit_code == 1
    result = runner.invoke(app, ["validate", str(dag), "--requirements", str(requirements)])
    assert result.exit_code == 0, result.output


def test_sarif_format(app: typer.Typer) -> None:
    result = runner.invoke(app, ["validate", str(DEFECTS / "schedule-invalid"), "--format", "sarif"])

    assert result.exit_code == 1
    assert json.loads(result.output)["runs"][0]["results"][0]["ruleId"] == "schedule-invalid"


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["validate", "does/not/exist.py"],
        ["validate", ".", "--format", "xml"],
        ["validate", ".", "--airflow-version", "latest"],
        ["validate", ".", "--requirements", "no-such-requirements.txt"],
    ],
)
def test_usage_errors_exit_two_without_traceback(app: typer.Typer, args: list[str]) -> None:
    result = runner.invoke(app, args)

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unreadable_file_exits_two(app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dag.py").write_text("x = 1\n")

    real_open = os.open

    def denied(path: str, flags: int, *args: int) -> int:
        if str(path).endswith("dag.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", denied)
    result = runner.invoke(app, ["validate", str(tmp_path)])

    assert result.exit_code == 2
    assert "cannot read" in result.output
    assert "Permission denied" in result.output


def test_dangling_symlink_exits_two(app: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "dag.py").write_text("x = 1\n")
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing.py")

    result = runner.invoke(app, ["validate", str(tmp_path)])

    assert result.exit_code == 2
    assert "cannot read" in result.output
    assert "gone.py" in result.output


def test_pre_commit_style_file_list_with_dags_root(app: typer.Typer, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    (dags / "team").mkdir(parents=True)
    (dags / "helpers.py").write_text("X = 1\n")
    (dags / "team" / "etl.py").write_text("import airflow\nimport helpers\nimport yaml_plus\n")
    (tmp_path / "requirements.txt").write_text("-c https://x/constraints-2.10.3/constraints-3.11.txt\nyaml-plus==1.0\n")

    result = runner.invoke(
        app,
        ["validate", "--dags-root", str(dags), str(dags / "team" / "etl.py"), str(tmp_path / "requirements.txt")],
    )

    assert result.exit_code == 0, result.output


def test_a_file_outside_the_dags_root_is_a_usage_error(app: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "dags").mkdir()
    (tmp_path / "other.py").write_text("x = 1\n")

    result = runner.invoke(app, ["validate", "--dags-root", str(tmp_path / "dags"), str(tmp_path / "other.py")])

    assert result.exit_code == 2
    assert "outside the DAGs folder" in result.output


def test_text_output_keeps_long_paths_and_messages_whole(app: typer.Typer, tmp_path: Path) -> None:
    # CliRunner's output is not a terminal, as with `mwaa-cp validate ... | cat`: nothing may be cut at 80 columns.
    folder = tmp_path / "a_rather_long_folder_name_for_the_customer_reporting_team"
    folder.mkdir()
    dag = folder / "nightly_export_of_every_customer_table_to_the_warehouse.py"
    dag.write_text(
        "from datetime import datetime\nfrom airflow import DAG\n\n"
        'with DAG(dag_id="nightly", start_date=datetime.now(), schedule="@daily", catchup=False):\n    pass\n'
    )

    result = runner.invoke(app, ["validate", str(folder)])

    [line] = [line for line in result.output.splitlines() if "[dag-argument-nondeterministic]" in line]
    assert f"{folder.name}/{dag.name}:4: warning" in line
    assert line.endswith("use a fixed datetime such as pendulum.datetime(2024, 1, 1, tz='UTC')")
    assert len(line) > 120


def _run_mwaa_cp(*args: str, python_options: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``mwaa-cp ARGS`` as a process with its output piped, as pre-commit runs it."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("cli", "layers/common"))}
    command = [sys.executable, *python_options, "-m", "mwaa_cp_cli.main", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment, check=False, timeout=120)


def test_validating_a_file_loads_only_what_validation_needs(tmp_path: Path) -> None:
    # pre-commit starts `mwaa-cp validate` on every commit: boto3 alone would take longer than the check.
    dag = tmp_path / "dag.py"
    dag.write_text("x = 1\n")

    # -X importtime lists every module the process imports, on stderr; stdout is a pipe, as in pre-commit.
    result = _run_mwaa_cp("validate", str(dag), python_options=("-X", "importtime"))

    assert result.returncode == 0, result.stdout + result.stderr
    loaded = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "mwaa_control_plane.dags.validation.sources" in loaded  # what the validate command imports
    assert not loaded & {"boto3", "botocore", "rich", "mwaa_cp_cli.envs", "mwaa_cp_cli.run", "mwaa_cp_cli.local"}
    assert "concurrent.futures" not in loaded  # one file: no process pool


def test_the_process_exits_with_the_verdict_and_its_whole_output() -> None:
    # mwaa-cp validate leaves without tearing the interpreter down: nothing may be lost on the way.
    result = _run_mwaa_cp("validate", str(DEFECTS / "dag-cycle"), "--format", "json")

    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["files"][0]["findings"][0]["rule"] == "dag-cycle"


_DEPRECATED_ONLY = (
    "from datetime import datetime\nfrom airflow import DAG\nfrom airflow.operators.python import PythonOperator\n"
    "with DAG(dag_id='legacy', start_date=datetime(2024, 1, 1), schedule=None, catchup=False):\n"
    "    PythonOperator(task_id='t', python_callable=print, provide_context=True)\n"
)


def test_the_settings_file_at_the_dags_root_is_found_and_applied(app: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "legacy.py").write_text(_DEPRECATED_ONLY)
    (tmp_path / ".mwaa-cp.toml").write_text('[rules]\ndisable = ["airflow-argument-deprecated"]\n')
    result = runner.invoke(app, ["validate", str(tmp_path / "dags"), "--format", "json"])
    summary = json.loads(result.output)["summary"]
    assert (result.exit_code, summary["warnings"], summary["suppressed"]) == (0, 0, 1)


def test_an_explicit_config_that_cannot_be_read_is_a_usage_error(app: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "legacy.py").write_text(_DEPRECATED_ONLY)
    result = runner.invoke(app, ["validate", str(tmp_path / "legacy.py"), "--config", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2
    assert "missing.toml" in result.output
