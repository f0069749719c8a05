"""dag-delivery with an environment's validator configuration: <environment>/.mwaa-cp.toml in the staging bucket."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment
from tests.flows.helpers import Notifications, final_states, mwaa_object, staging_bucket, upload

pytestmark = pytest.mark.flow
ENV = "dev-analytics"

# The team's sandbox key is public on purpose; by default credential-literal (an error) blocks the file.
SANDBOX_DAG = """\
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

SANDBOX_API_KEY = "sandbox-demo-key"

with DAG("sandbox_sync", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    EmptyOperator(task_id="sync")
"""
CONFIG = '[rules]\ndisable = ["credential-literal"]\n'


@pytest.fixture
def aws(aws: LocalAws) -> LocalAws:
    """The runtime of tests/flows/conftest.py, with the environment every test here delivers to."""
    create_environment(aws, ENV)
    return aws


def _final_states(aws: LocalAws, count: int) -> list[str]:
    return final_states(aws, "dag-delivery", count)


def _report(aws: LocalAws, relative: str, version: str) -> dict[str, Any]:
    key = f"reports/{ENV}/{relative}/{version}.json"
    report: dict[str, Any] = json.loads(aws.client("s3").get_object(Bucket=staging_bucket(aws), Key=key)["Body"].read())
    return report


def test_a_dag_blocked_by_a_rule_is_delivered_once_the_environments_config_disables_it(
    aws: LocalAws, inbox: Notifications
) -> None:
    # Given a DAG the default rules reject
    blocked = upload(aws, f"{ENV}/dags/sandbox_sync.py", SANDBOX_DAG)
    assert _final_states(aws, 1) == ["Quarantined"]
    assert "[credential-literal]" in next(m for m in inbox.messages() if "rejected" in m["subject"])["message"]
    assert _report(aws, "sandbox_sync.py", blocked)["settings_file"] is None

    # When the environment's configuration disables that rule and the same DAG is uploaded again
    config = upload(aws, f"{ENV}/.mwaa-cp.toml", CONFIG)
    assert _final_states(aws, 2)[1] == "Nothing to deliver"  # read by each validation, never delivered
    delivered = upload(aws, f"{ENV}/dags/sandbox_sync.py", SANDBOX_DAG)

    # Then it is delivered, and its report says which finding was suppressed and by which configuration
    assert _final_states(aws, 3)[2] == "Delivered and verified"
    synced = mwaa_object(aws, ENV, "dags/sandbox_sync.py")
    assert synced is not None and synced["Metadata"]["staging-version-id"] == delivered
    report = _report(aws, "sandbox_sync.py", delivered)
    settings = {"bucket": staging_bucket(aws), "key": f"{ENV}/.mwaa-cp.toml", "version_id": config}
    assert report["settings_file"] == settings
    [file_report] = report["files"]
    assert file_report["verdict"] == "pass"
    [suppressed] = [f for f in file_report["findings"] if f["suppressed"]]
    assert (suppressed["rule"], suppressed["suppression"], suppressed["severity"]) == (
        "credential-literal",
        "config",
        "error",
    )
    assert report["summary"]["suppressed"] == 1 and report["summary"]["errors"] == 0
    # The configuration file itself is never copied to the environment.
    assert mwaa_object(aws, ENV, ".mwaa-cp.toml") is None and mwaa_object(aws, ENV, "dags/.mwaa-cp.toml") is None
