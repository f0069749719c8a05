"""``mwaa-cp validate``: arguments, formats and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mwaa_cp_cli.validate import run
from tests.conftest import REPO
from tests.unit.dags.validation.corpus import CLEAN, DEFECTS


@dataclass
class Result:
    exit_code: int
    output: str  # stdout
    stderr: str


Cli = Callable[[list[str]], Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """``mwaa-cp validate ARGS`` in this process: its exit code and what it printed (stdout is not a terminal)."""

    def invoke(args: list[str]) -> Result:
        assert args[0] == "validate"
        try:
            code = run(args[1:])
        except SystemExit as exc:  # usage errors and --help, from argparse
            code = exc.code if isinstance(exc.code, int) else 1
        printed = capsys.readouterr()
        return Result(code, printed.out, printed.err)

    return invoke


def test_clean_folder_exits_zero(cli: Cli) -> None:
    result = cli(["validate", str(CLEAN / "airflow2")])

    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


def test_airflow_version_flag_changes_the_rules(cli: Cli) -> None:
    result = cli(["validate", str(CLEAN / "airflow3"), "--airflow-version", "3.0.6", "--format", "json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["python_version"] == "3.12"
    assert cli(["validate", str(CLEAN / "airflow3")]).exit_code == 1  # airflow.sdk on 2.10.3


def test_error_finding_exits_one_with_json_on_stdout(cli: Cli) -> None:
    result = cli(["validate", str(DEFECTS / "dag-cycle"), "--format", "json"])

    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["files"][0]["verdict"] == "fail"
    assert data["files"][0]["findings"][0]["rule"] == "dag-cycle"
    assert data["files"][0]["path"].endswith("dag-cycle/dag.py")


def test_single_files_use_their_folder_for_sibling_imports(cli: Cli) -> None:
    result = cli(["validate", str(CLEAN / "airflow2" / "classic_operators.py")])

    assert result.exit_code == 0, result.output


def test_requirements_option_feeds_import_resolution(cli: Cli, tmp_path: Path) -> None:
    dag = tmp_path / "dag.py"
    dag.write_text("import airflow\nimport yaml_plus\n")
    requirements = tmp_path.parent / f"{tmp_path.name}-requirements.txt"
    requirements.write_text("-c https://x/constraints-2.10.3/constraints-3.11.txt\nyaml-plus==1.0\n")

    assert cli(["validate", str(dag)]).exit_code == 1
    result = cli(["validate", str(dag), "--requirements", str(requirements)])
    assert result.exit_code == 0, result.output


def test_sarif_format(cli: Cli) -> None:
    result = cli(["validate", str(DEFECTS / "schedule-invalid"), "--format", "sarif"])

    assert result.exit_code == 1
    assert json.loads(result.output)["runs"][0]["results"][0]["ruleId"] == "schedule-invalid"


def test_options_may_follow_the_paths_and_double_dash_ends_them(cli: Cli) -> None:
    folder = str(CLEAN / "airflow3")

    after = cli(["validate", folder, "--airflow-version", "3.0.6", "--format=json", "-j1"])
    before = cli(["validate", "--airflow-version", "3.0.6", "--format", "json", "--", folder])

    assert (after.exit_code, before.exit_code) == (0, 0), after.stderr + before.stderr
    assert after.output == before.output
    assert json.loads(after.output)["summary"]["airflow_version"] == "3.0.6"


def test_help_names_every_option_and_exits_zero(cli: Cli) -> None:
    result = cli(["validate", "--help"])

    assert result.exit_code == 0
    for option in (
        "--airflow-version",
        "--requirements",
        "--plugins",
        "--startup-script",
        "--dags-root",
        "--format",
        "--config",
        "--jobs",
        "-j",
    ):
        assert option in result.output
    assert "[default: 2.10.3]" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["validate", ".", "--jobs", "0"],
        ["validate", ".", "--no-such-option"],
        ["validate", ".", "--form", "json"],  # no abbreviations: flags are spelled out
    ],
)
def test_malformed_options_are_usage_errors(cli: Cli, args: list[str]) -> None:
    result = cli(args)

    assert result.exit_code == 2
    assert "mwaa-cp validate: error:" in result.stderr


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
def test_usage_errors_exit_two_without_traceback(cli: Cli, args: list[str]) -> None:
    result = cli(args)

    assert result.exit_code == 2, result.output
    assert result.output == ""
    assert "error: " in result.stderr  # one line saying what is wrong (run() raised nothing else)


def test_unreadable_file_exits_two(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dag.py").write_text("x = 1\n")

    real_open = os.open

    def denied(path: str, flags: int, *args: int) -> int:
        if str(path).endswith("dag.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", denied)
    result = cli(["validate", str(tmp_path)])

    assert result.exit_code == 2
    assert "cannot read" in result.stderr
    assert "Permission denied" in result.stderr


def test_dangling_symlink_exits_two(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "dag.py").write_text("x = 1\n")
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing.py")

    result = cli(["validate", str(tmp_path)])

    assert result.exit_code == 2
    assert "cannot read" in result.stderr
    assert "gone.py" in result.stderr


def test_pre_commit_style_file_list_with_dags_root(cli: Cli, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    (dags / "team").mkdir(parents=True)
    (dags / "helpers.py").write_text("X = 1\n")
    (dags / "team" / "etl.py").write_text("import airflow\nimport helpers\nimport yaml_plus\n")
    (tmp_path / "requirements.txt").write_text("-c https://x/constraints-2.10.3/constraints-3.11.txt\nyaml-plus==1.0\n")

    result = cli(
        ["validate", "--dags-root", str(dags), str(dags / "team" / "etl.py"), str(tmp_path / "requirements.txt")],
    )

    assert result.exit_code == 0, result.output


def test_a_file_outside_the_dags_root_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "dags").mkdir()
    (tmp_path / "other.py").write_text("x = 1\n")

    result = cli(["validate", "--dags-root", str(tmp_path / "dags"), str(tmp_path / "other.py")])

    assert result.exit_code == 2
    assert "outside the DAGs folder" in result.stderr


def test_text_output_keeps_long_paths_and_messages_whole(cli: Cli, tmp_path: Path) -> None:
    # CliRunner's output is not a terminal, as with `mwaa-cp validate ... | cat`: nothing may be cut at 80 columns.
    folder = tmp_path / "a_rather_long_folder_name_for_the_customer_reporting_team"
    folder.mkdir()
    dag = folder / "nightly_export_of_every_customer_table_to_the_warehouse.py"
    dag.write_text(
        "from datetime import datetime\nfrom airflow import DAG\n\n"
        'with DAG(dag_id="nightly", start_date=datetime.now(), schedule="@daily", catchup=False):\n    pass\n'
    )

    result = cli(["validate", str(folder)])

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
    assert not loaded & {"typer", "click"}  # argparse parses validate's arguments
    assert "pydantic" not in loaded  # the validator's models are dataclasses
    assert "concurrent.futures" not in loaded  # one file: no process pool


def test_mwaa_cp_help_lists_validate() -> None:
    listed = _run_mwaa_cp("--help")
    version = _run_mwaa_cp("--version")  # the whole app is built, validate included

    assert listed.returncode == 0, listed.stderr
    assert "validate" in listed.stdout
    assert version.returncode == 0, version.stderr


def test_the_typer_command_runs_the_same_parser(capsys: pytest.CaptureFixture[str]) -> None:
    import typer
    from typer.testing import CliRunner

    from mwaa_cp_cli.validate import register

    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """Make 'validate' a subcommand, as in mwaa-cp."""

    result = CliRunner().invoke(app, ["validate", str(DEFECTS / "dag-cycle"), "--format", "json"])

    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["files"][0]["findings"][0]["rule"] == "dag-cycle"


@pytest.mark.skipif(sys.platform != "linux", reason="forked children on Linux only; a process pool elsewhere")
def test_a_large_folder_is_split_across_forked_children_without_a_process_pool(tmp_path: Path) -> None:
    for n in range(120):  # two workers' worth
        (tmp_path / f"dag_{n:03d}.py").write_text(f"x = {n}\n")

    result = _run_mwaa_cp("validate", "--jobs", "2", str(tmp_path), python_options=("-X", "importtime"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("120 files checked")
    loaded = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert not loaded & {"multiprocessing", "concurrent.futures"}


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


def test_the_settings_file_at_the_dags_root_is_found_and_applied(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "legacy.py").write_text(_DEPRECATED_ONLY)
    (tmp_path / ".mwaa-cp.toml").write_text('[rules]\ndisable = ["airflow-argument-deprecated"]\n')
    result = cli(["validate", str(tmp_path / "dags"), "--format", "json"])
    summary = json.loads(result.output)["summary"]
    assert (result.exit_code, summary["warnings"], summary["suppressed"]) == (0, 0, 1)


def test_an_explicit_config_that_cannot_be_read_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "legacy.py").write_text(_DEPRECATED_ONLY)
    result = cli(["validate", str(tmp_path / "legacy.py"), "--config", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2
    assert "missing.toml" in result.stderr
