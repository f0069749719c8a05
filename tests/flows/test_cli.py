"""The `mwaa-cp` command line: what a person types, what they see, and that errors are one clear line."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mwaa_control_plane.dags.validation import SourceFile, ValidationContext, validate_files
from mwaa_cp_cli.demo import BROKEN_DAG, DEMO_SECRET, run_demo
from mwaa_cp_cli.output import make_console
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment
from mwaa_cp_local.server import LocalServer
from tests.conftest import EVENTS, REPO

pytestmark = pytest.mark.flow
CLI = [sys.executable, "-m", "mwaa_cp_cli.main"]


def _mwaa_cp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run mwaa-cp with stdout and stderr piped, and no COLUMNS: what `mwaa-cp ... | cat` sees."""
    import os

    inherited = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    environment = {
        **inherited,
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("cli", "layers/common", "local")),
        **(env or {}),
    }
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=environment, timeout=120, check=False)


@pytest.fixture
def served() -> Iterator[tuple[LocalAws, str]]:
    with LocalAws() as aws:
        create_environment(aws, "dev-analytics")
        server = LocalServer(port=0).start()
        try:
            yield aws, server.endpoint_url
        finally:
            server.stop()


def test_an_unknown_command_is_a_usage_error_without_a_traceback() -> None:
    result = _mwaa_cp("frobnicate")
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_missing_input_file_is_one_clear_line() -> None:
    result = _mwaa_cp(
        "run", "environment-health", "--input", "no/such/file.json", "--endpoint-url", "http://127.0.0.1:9"
    )
    assert result.returncode == 2
    assert "cannot read no/such/file.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_input_file_that_is_not_json_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = _mwaa_cp("run", "environment-health", "--input", str(bad), "--endpoint-url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "is not JSON" in result.stderr


def test_an_unreachable_endpoint_is_one_clear_line() -> None:
    result = _mwaa_cp(
        "envs",
        "--endpoint-url",
        "http://127.0.0.1:9",
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    assert result.returncode == 2
    assert "AWS error" in result.stderr
    assert "Traceback" not in result.stderr


def test_envs_lists_the_environments_of_a_served_runtime(served: tuple[LocalAws, str]) -> None:
    _, url = served
    result = _mwaa_cp("envs", "--endpoint-url", url, "--format", "json")
    assert result.returncode == 0, result.stderr
    [environment] = json.loads(result.stdout)
    assert environment["name"] == "dev-analytics"
    assert environment["status"] == "AVAILABLE"
    assert environment["airflow_version"] == "2.10.3"


def test_run_starts_a_flow_and_follows_it_to_the_end(served: tuple[LocalAws, str]) -> None:
    _, url = served
    result = _mwaa_cp(
        "run",
        "environment-health",
        "--input",
        str(EVENTS / "environment-health" / "one-environment.json"),
        "--endpoint-url",
        url,
    )
    assert result.returncode == 0, result.stderr
    assert "Ask Airflow how the environment is doing" in result.stdout
    assert "SUCCEEDED" in result.stdout


def test_piped_output_keeps_long_names_and_arns_whole(served: tuple[LocalAws, str]) -> None:
    aws, url = served
    long_name = "customer-reporting-analytics-for-the-finance-team-eu"  # 52: its bucket name must fit 63
    create_environment(aws, long_name)

    table = _mwaa_cp("envs", "--endpoint-url", url)
    run = _mwaa_cp(
        "run",
        "environment-health",
        "--input",
        str(EVENTS / "environment-health" / "all-environments.json"),
        "--endpoint-url",
        url,
    )

    assert table.returncode == 0, table.stderr
    assert long_name in table.stdout
    assert "dev-analytics" in table.stdout
    assert run.returncode == 0, run.stderr
    started = next(line for line in run.stdout.splitlines() if " started: " in line)
    arn = started.split(" started: ")[1]
    assert len(arn) > 80
    assert re.fullmatch(r"arn:aws:states:[a-z0-9-]+:\d{12}:execution:[\w-]+:[0-9a-f-]{36}", arn)
    assert f"SUCCEEDED  {arn}" in run.stdout
    assert f'"environment_name": "{long_name}"' in run.stdout


def test_run_names_the_known_flows_when_the_flow_does_not_exist(served: tuple[LocalAws, str]) -> None:
    _, url = served
    result = _mwaa_cp(
        "run", "nope", "--input", str(EVENTS / "environment-health" / "one-environment.json"), "--endpoint-url", url
    )
    assert result.returncode == 2
    assert "dag-delivery" in result.stderr and "environment-health" in result.stderr


def test_the_demo_shows_every_flow_working() -> None:
    output = io.StringIO()  # not a terminal: the console of `mwaa-cp local demo | cat`
    assert run_demo(make_console(file=output)) is True
    text = output.getvalue()
    assert "Delivered and verified" in text
    assert "Quarantined" in text
    assert "Environment updated" in text
    assert "demo passed" in text
    assert "partner_api_token" in text and "(masked)" in text
    assert not [secret for secret in DEMO_SECRET[1:] if secret in text], "the demo printed a secret's value"
    rejected = validate_files(
        [SourceFile(path="nightly_export.py", content=BROKEN_DAG.read_bytes())], ValidationContext()
    )
    messages = [finding.message for finding in rejected.files[0].findings]
    assert max(len(m) for m in messages) > 80
    for message in messages:
        assert message in text, "a finding of the broken example is cut or wrapped in the demo's table"
