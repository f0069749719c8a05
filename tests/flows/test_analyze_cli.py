"""`mwaa-cp analyze`: the worker analysis from a scenario file (no AWS) and from a live environment (local runtime)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment
from mwaa_cp_local.server import LocalServer
from tests.conftest import REPO

SCENARIOS = REPO / "tests" / "scenarios" / "worker-analysis"


def _mwaa_cp(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "AWS_ENDPOINT_URL")},
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("cli", "layers/common", "local")),
    }
    return subprocess.run(
        [sys.executable, "-m", "mwaa_cp_cli.main", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_a_scenario_file_is_analysed_without_aws() -> None:
    result = _mwaa_cp("analyze", "--scenario", str(SCENARIOS / "capacity-bound.json"))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "cause: capacity_bound" in lines
    assert "recommendation: Raise MaxWorkers from 5 to 14 for the p95 demand of 67 tasks (5 per worker)." in lines
    assert '  change request: {"environment_name": "capacity-bound", "max_workers": 14}' in lines


def test_the_json_output_is_the_report() -> None:
    result = _mwaa_cp("analyze", "--scenario", str(SCENARIOS / "concurrency-pool.json"), "--format", "json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["cause"], report["limit"]) == ("concurrency_bound", "pool:snowflake")
    assert report["findings"][0]["rule"] == "concurrency"
    assert report["recommendation"]["action"] == "advice"


def test_the_markdown_output_is_the_stored_report() -> None:
    result = _mwaa_cp("analyze", "--scenario", str(SCENARIOS / "over-provisioned.json"), "--format", "markdown")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Worker analysis: over-provisioned\n")
    assert "**Cause:** `over_provisioned`" in result.stdout


def test_the_ceiling_bounds_the_recommendation() -> None:
    result = _mwaa_cp(
        "analyze",
        "--scenario",
        str(SCENARIOS / "capacity-bound.json"),
        "--max-workers-ceiling",
        "8",
        "--format",
        "json",
    )

    report = json.loads(result.stdout)
    assert report["recommendation"]["change"]["max_workers"] == 8
    assert report["recommendation"]["capped_by_ceiling"] is True


def test_a_malformed_scenario_is_one_clear_line_and_exit_2() -> None:
    path = SCENARIOS / "malformed" / "wrong-type.json"

    result = _mwaa_cp("analyze", "--scenario", str(path))

    assert result.returncode == 2
    assert f"error: scenario {path} is not a valid scenario" in result.stderr.replace("\n", "")
    assert "environment.MinWorkers: Input should be a valid integer" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name an environment or give --scenario FILE"),
        (("dev", "--scenario", "x.json"), "name an environment or give --scenario FILE"),
        (("--scenario", "x.json", "--write-scenario", "y.json"), "--write-scenario needs an environment"),
        (("--scenario", "x.json", "--format", "xml"), "--format must be one of text, json, markdown"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = _mwaa_cp("analyze", *args)

    assert result.returncode == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())


@pytest.mark.flow
class TestLive:
    @pytest.fixture
    def served(self) -> Iterator[tuple[LocalAws, str]]:
        with LocalAws() as aws:
            server = LocalServer(port=0).start()
            try:
                yield aws, server.endpoint_url
            finally:
                server.stop()

    @staticmethod
    def _publish_a_full_queue(aws: LocalAws, name: str) -> None:
        """The last 40 minutes: 12 queued, 5 running, one worker; Airflow's heartbeat steady."""
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        env = {"Name": "Environment", "Value": name}
        data: list[tuple[str, dict[str, Any]]] = []
        for minute in range(1, 41):
            at = now - timedelta(minutes=minute) + timedelta(seconds=10)
            data.append(
                ("AWS/MWAA", {"MetricName": "QueuedTasks", "Dimensions": [env], "Timestamp": at, "Value": 12.0})
            )
            data.append(
                ("AWS/MWAA", {"MetricName": "RunningTasks", "Dimensions": [env], "Timestamp": at, "Value": 5.0})
            )
            cluster = [env, {"Name": "Cluster", "Value": "BaseWorker"}]
            data.append(
                ("AWS/MWAA", {"MetricName": "CPUUtilization", "Dimensions": cluster, "Timestamp": at, "Value": 97.0})
            )
        cloudwatch = aws.client("cloudwatch")
        for namespace in ("AWS/MWAA",):
            batch = [datum for ns, datum in data if ns == namespace]
            for first in range(0, len(batch), 500):
                cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch[first : first + 500])

    def test_a_live_environment_is_gathered_analysed_and_kept_as_a_scenario(
        self, served: tuple[LocalAws, str], tmp_path: Path
    ) -> None:
        aws, endpoint = served
        create_environment(aws, "dev-analytics", MinWorkers=1, MaxWorkers=1)
        self._publish_a_full_queue(aws, "dev-analytics")
        kept = tmp_path / "dev-analytics.json"

        live = _mwaa_cp(
            "analyze",
            "dev-analytics",
            "--since",
            "30m",
            "--endpoint-url",
            endpoint,
            "--write-scenario",
            str(kept),
            "--format",
            "json",
        )

        assert live.returncode == 0, live.stderr
        report = json.loads(live.stdout)
        assert report["environment"] == "dev-analytics"
        assert report["cause"] == "capacity_bound"  # one worker of five tasks, all busy, twelve waiting
        assert report["data"]["minutes"] == 30
        replayed = _mwaa_cp("analyze", "--scenario", str(kept), "--format", "json")
        assert replayed.returncode == 0, replayed.stderr
        assert json.loads(replayed.stdout)["findings"] == report["findings"]

    def test_an_unknown_environment_is_one_clear_line(self, served: tuple[LocalAws, str]) -> None:
        _, endpoint = served

        result = _mwaa_cp("analyze", "dev-gone", "--since", "30m", "--endpoint-url", endpoint)

        assert result.returncode == 2
        assert "dev-gone" in result.stderr
        assert "Traceback" not in result.stderr
