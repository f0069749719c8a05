"""dag-delivery end to end in the local runtime: S3 upload -> EventBridge -> validate -> sync -> verify -> roll back."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from mwaa_cp_local import mwaa
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment, source_bucket_name, wait_for_status
from tests.conftest import load_event
from tests.flows.helpers import (
    FILES,
    Notifications,
    event_from_sample,
    final_states,
    mwaa_object,
    staging_bucket,
    upload,
    upload_file,
)

pytestmark = pytest.mark.flow
ENV = "dev-analytics"


@pytest.fixture
def aws(aws: LocalAws) -> LocalAws:
    """The runtime of tests/flows/conftest.py, with the environment every test here delivers to."""
    create_environment(aws, ENV)
    return aws


def _final_states(aws: LocalAws, count: int) -> list[str]:
    return final_states(aws, "dag-delivery", count)


def _report(aws: LocalAws, key: str, version: str) -> dict:
    relative = key.removeprefix(f"{ENV}/").removeprefix("dags/")
    body = (
        aws.client("s3")
        .get_object(Bucket=staging_bucket(aws), Key=f"reports/{ENV}/{relative}/{version}.json")["Body"]
        .read()
    )
    return json.loads(body)


def test_a_valid_dag_is_synced_with_exactly_its_version_and_verified(aws: LocalAws) -> None:
    version = upload_file(aws, f"{ENV}/dags/good_dag.py", "good_dag.py")
    assert _final_states(aws, 1) == ["Delivered and verified"]
    synced = mwaa_object(aws, ENV, "dags/good_dag.py")
    assert synced is not None
    assert synced["Body"] == (FILES / "good_dag.py").read_bytes()
    assert synced["Metadata"]["staging-version-id"] == version
    report = _report(aws, f"{ENV}/dags/good_dag.py", version)
    assert report["files"][0]["verdict"] == "pass"
    assert report["object"]["version_id"] == version


def test_a_broken_dag_is_quarantined_with_a_report_and_a_notification(aws: LocalAws, inbox: Notifications) -> None:
    version = upload_file(aws, f"{ENV}/dags/broken.py", "syntax_error_dag.py")
    assert _final_states(aws, 1) == ["Quarantined"]
    assert mwaa_object(aws, ENV, "dags/broken.py") is None
    report = _report(aws, f"{ENV}/dags/broken.py", version)
    [file_report] = report["files"]
    assert file_report["verdict"] == "fail"
    syntax = [f for f in file_report["findings"] if f["severity"] == "error"]
    assert syntax and syntax[0]["line"] is not None
    [note] = [m for m in inbox.messages() if "rejected" in m["subject"]]
    assert "broken.py" in note["message"] and syntax[0]["rule"] in note["message"]


def test_a_throttled_notification_is_retried_and_still_delivered(aws: LocalAws, inbox: Notifications) -> None:
    fault = aws.faults.inject("sns", "Publish", error_code="Throttling", times=1)
    upload_file(aws, f"{ENV}/dags/broken.py", "syntax_error_dag.py")
    assert _final_states(aws, 1) == ["Quarantined"]
    assert fault.injected == 1
    assert [m for m in inbox.messages() if "rejected" in m["subject"]]


def test_a_deletion_is_propagated_to_the_environment(aws: LocalAws) -> None:
    upload_file(aws, f"{ENV}/dags/good_dag.py", "good_dag.py")
    aws.wait_for_executions("dag-delivery", 1)
    aws.client("s3").delete_object(Bucket=staging_bucket(aws), Key=f"{ENV}/dags/good_dag.py")
    assert _final_states(aws, 2)[1] == "Deletion propagated"
    assert mwaa_object(aws, ENV, "dags/good_dag.py") is None
    versions = aws.client("s3").list_object_versions(Bucket=source_bucket_name(ENV), Prefix="dags/good_dag.py")
    assert versions["DeleteMarkers"], "the MWAA bucket keeps the old version behind a delete marker"


def test_a_helper_module_is_delivered_alongside_the_dag_that_imports_it(aws: LocalAws) -> None:
    upload(aws, f"{ENV}/dags/common/helpers.py", "def greet():\n    return 'hi'\n")
    upload(
        aws,
        f"{ENV}/dags/uses_helpers.py",
        "from datetime import datetime\nfrom airflow import DAG\nfrom common.helpers import greet\n"
        "with DAG(dag_id='uses_helpers', start_date=datetime(2024, 1, 1), schedule=None, catchup=False):\n"
        "    pass\n",
    )
    states = _final_states(aws, 2)
    assert all(s.startswith("Delivered") for s in states), states
    assert mwaa_object(aws, ENV, "dags/common/helpers.py") is not None


def test_an_empty_file_is_delivered_like_any_other(aws: LocalAws) -> None:
    # A ranged GET of a 0-byte object is InvalidRange on S3: the step must not mistake it for a vanished version.
    upload(aws, f"{ENV}/dags/common/__init__.py", "")
    [state] = _final_states(aws, 1)
    assert state.startswith("Delivered"), state
    synced = mwaa_object(aws, ENV, "dags/common/__init__.py")
    assert synced is not None
    assert synced["Body"] == b""


def test_requirements_are_applied_with_update_environment(aws: LocalAws, inbox: Notifications) -> None:
    upload_file(aws, f"{ENV}/requirements.txt", "requirements_good.txt")
    assert _final_states(aws, 1) == ["Environment updated"]
    environment = aws.client("mwaa").get_environment(Name=ENV)["Environment"]
    current = mwaa_object(aws, ENV, "requirements.txt")
    assert current is not None
    assert environment["Status"] == "AVAILABLE"
    assert environment["RequirementsS3Path"] == "requirements.txt"
    assert environment["RequirementsS3ObjectVersion"] == current["VersionId"]
    assert any("environment updated" in m["subject"] for m in inbox.messages())


def test_modules_of_an_applied_plugins_zip_resolve_in_later_dags(aws: LocalAws) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as plugins:
        plugins.writestr("team_operators/__init__.py", "from airflow.models import BaseOperator\n")
    upload(aws, f"{ENV}/plugins.zip", archive.getvalue())
    assert _final_states(aws, 1) == ["Environment updated"]
    upload(
        aws,
        f"{ENV}/dags/uses_plugin.py",
        "from datetime import datetime\nfrom airflow import DAG\nimport team_operators\n"
        "with DAG(dag_id='uses_plugin', start_date=datetime(2024, 1, 1), schedule=None, catchup=False):\n"
        "    pass\n",
    )
    assert _final_states(aws, 2)[1].startswith("Delivered")
    assert mwaa_object(aws, ENV, "dags/uses_plugin.py") is not None


def test_a_rejected_requirements_file_does_not_hold_later_updates_back(aws: LocalAws) -> None:
    upload(aws, f"{ENV}/requirements.txt", "apache-airflow==2.10.3\n")  # requirements-airflow-listed
    assert _final_states(aws, 1) == ["Quarantined"]
    upload_file(aws, f"{ENV}/requirements.txt", "requirements_good.txt")
    assert _final_states(aws, 2)[1] == "Environment updated"


def test_a_failed_update_restores_the_known_good_requirements(aws: LocalAws, inbox: Notifications) -> None:
    upload_file(aws, f"{ENV}/requirements.txt", "requirements_good.txt")
    aws.wait_for_executions("dag-delivery", 1)
    good = aws.client("mwaa").get_environment(Name=ENV)["Environment"]["RequirementsS3ObjectVersion"]
    upload_file(aws, f"{ENV}/requirements.txt", "requirements_broken.txt")
    assert _final_states(aws, 2)[1] == "Environment update failed"
    environment = aws.client("mwaa").get_environment(Name=ENV)["Environment"]
    assert environment["Status"] == "UPDATE_FAILED"
    assert environment["RequirementsS3ObjectVersion"] == good
    current = mwaa_object(aws, ENV, "requirements.txt")
    assert current is not None and current["Body"] == (FILES / "requirements_good.txt").read_bytes()
    [note] = [m for m in inbox.messages() if "update failed" in m["subject"]]
    assert environment["LastUpdate"]["Error"]["ErrorCode"] in note["message"]


def test_an_import_error_found_by_verification_rolls_the_file_back(aws: LocalAws, inbox: Notifications) -> None:
    upload_file(aws, f"{ENV}/dags/good_dag.py", "good_dag.py")
    aws.wait_for_executions("dag-delivery", 1)
    upload_file(aws, f"{ENV}/dags/good_dag.py", "import_error_dag.py")
    assert _final_states(aws, 2)[1] == "Rolled back"
    current = mwaa_object(aws, ENV, "dags/good_dag.py")
    assert current is not None and current["Body"] == (FILES / "good_dag.py").read_bytes()
    [note] = [m for m in inbox.messages() if "rolled back" in m["subject"]]
    assert "warehouse" in note["message"]


def test_a_new_file_that_fails_to_import_is_removed_again(aws: LocalAws) -> None:
    upload_file(aws, f"{ENV}/dags/new_dag.py", "import_error_dag.py")
    assert _final_states(aws, 1) == ["Rolled back"]
    assert mwaa_object(aws, ENV, "dags/new_dag.py") is None


def test_a_duplicate_event_is_delivered_once(aws: LocalAws) -> None:
    aws.client("events").disable_rule(Name="mwaa-control-plane-dag-delivery")
    version = upload_file(aws, f"{ENV}/dags/good_dag.py", "good_dag.py")
    event = event_from_sample(
        load_event("dag-delivery/dag-created.json"),
        bucket=staging_bucket(aws),
        version_id=version,
        sequencer="0062A0000000000001",
    )
    aws.start_execution("dag-delivery", event)
    aws.start_execution("dag-delivery", event)
    assert sorted(_final_states(aws, 2)) == ["Delivered and verified", "Nothing to deliver"]


def test_an_older_event_never_overwrites_a_newer_version(aws: LocalAws) -> None:
    aws.client("events").disable_rule(Name="mwaa-control-plane-dag-delivery")
    old = upload_file(aws, f"{ENV}/dags/good_dag.py", "good_dag.py")
    new = upload_file(aws, f"{ENV}/dags/good_dag.py", "good_dag_v2.py")
    sample = load_event("dag-delivery/dag-created.json")
    # Delivered out of order: the newer event (larger sequencer, shorter string) arrives first.
    aws.wait_for_execution(
        aws.start_execution(
            "dag-delivery",
            event_from_sample(sample, bucket=staging_bucket(aws), version_id=new, sequencer="0062A00000000002"),
        )
    )
    aws.wait_for_execution(
        aws.start_execution(
            "dag-delivery",
            event_from_sample(sample, bucket=staging_bucket(aws), version_id=old, sequencer="0062A0000000000001"),
        )
    )
    current = mwaa_object(aws, ENV, "dags/good_dag.py")
    assert current is not None and current["Metadata"]["staging-version-id"] == new
    assert _final_states(aws, 2) == ["Delivered and verified", "Nothing to deliver"]


def test_a_malformed_event_fails_clearly_and_is_kept(aws: LocalAws, inbox: Notifications) -> None:
    arn = aws.start_execution("dag-delivery", load_event("dag-delivery/malformed.json"))
    result = aws.wait_for_execution(arn)
    assert result["status"] == "FAILED" and result["error"] == "InvalidInputError"
    assert "object key" in result["cause"]
    assert any("malformed" in m["subject"] for m in inbox.messages())


def test_an_unsafe_key_is_rejected_and_nothing_is_written(aws: LocalAws, inbox: Notifications) -> None:
    event = event_from_sample(load_event("dag-delivery/unsafe-key.json"), bucket=staging_bucket(aws))
    aws.wait_for_execution(aws.start_execution("dag-delivery", event))
    assert _final_states(aws, 1) == ["Object key rejected"]
    assert mwaa_object(aws, ENV, "dags/evil.py") is None
    assert any("'..'" in m["message"] for m in inbox.messages())


def test_keys_with_spaces_and_unicode_are_delivered(aws: LocalAws) -> None:
    key = f"{ENV}/dags/team ünïcode/my dag.py"
    upload_file(aws, key, "good_dag.py")
    assert _final_states(aws, 1)[0].startswith("Delivered")
    assert mwaa_object(aws, ENV, "dags/team ünïcode/my dag.py") is not None


def test_a_busy_environment_is_waited_for_before_updating(aws: LocalAws) -> None:
    # An update long enough (50 virtual minutes, 3 real seconds) to still be running when the flow wants to
    # update, even on a loaded machine, and shorter than the flow's one-hour wait for a busy environment.
    mwaa.configure(update_seconds=3000)
    aws.client("mwaa").update_environment(Name=ENV, MaxWorkers=8)
    assert aws.client("mwaa").get_environment(Name=ENV)["Environment"]["Status"] == "UPDATING"
    upload_file(aws, f"{ENV}/requirements.txt", "requirements_good.txt")
    assert _final_states(aws, 1) == ["Environment updated"]
    waited = [
        i
        for i in aws.lambdas.invocations
        if isinstance(i.result, dict) and i.result.get("state") == "wait" and "UPDATING" in i.result.get("reason", "")
    ]
    assert waited, "the environment-change flow must have waited for the running update to end"
    assert wait_for_status(aws, ENV, {"AVAILABLE"})["MaxWorkers"] == 8


# The suite runs a 60-upload burst; `make bench` (bench/bench_burst.py) runs and reports the 300-upload one.
BURST_DAGS = 58


def test_a_burst_of_uploads_loses_nothing_and_updates_the_environment_once(aws: LocalAws) -> None:
    dag = (FILES / "good_dag.py").read_text()
    for n in range(BURST_DAGS):
        upload(aws, f"{ENV}/dags/team_{n % 7}/dag_{n}.py", dag.replace('"good_dag"', f'"dag_{n}"'))
    upload_file(aws, f"{ENV}/requirements.txt", "requirements_good.txt")
    upload(aws, f"{ENV}/startup.sh", "#!/bin/sh\nexport MY_SETTING=1\n")
    executions = aws.wait_for_executions("dag-delivery", BURST_DAGS + 2, timeout=600)
    assert all(e["status"] == "SUCCEEDED" for e in executions)
    keys = []
    for page in (
        aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=source_bucket_name(ENV), Prefix="dags/team_")
    ):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    assert len(keys) == BURST_DAGS
    updates = [
        i
        for i in aws.lambdas.invocations
        if i.result and isinstance(i.result, dict) and i.result.get("status") == "updating"
    ]
    assert len(updates) == 1, "requirements.txt and startup.sh must share one UpdateEnvironment"
    environment = aws.client("mwaa").get_environment(Name=ENV)["Environment"]
    assert environment["RequirementsS3ObjectVersion"] and environment["StartupScriptS3ObjectVersion"]


def test_a_dag_id_owned_by_another_file_of_the_environment_is_rejected(aws: LocalAws, inbox: Notifications) -> None:
    upload_file(aws, f"{ENV}/dags/good_dag.py", "good_dag.py")
    aws.wait_for_executions("dag-delivery", 1)
    version = upload_file(aws, f"{ENV}/dags/copy_of_good_dag.py", "good_dag_v2.py")  # same dag_id "good_dag"
    assert _final_states(aws, 2)[1] == "Quarantined"
    rules = {f["rule"] for f in _report(aws, f"{ENV}/dags/copy_of_good_dag.py", version)["files"][0]["findings"]}
    assert "dag-id-conflict" in rules
    assert mwaa_object(aws, ENV, "dags/copy_of_good_dag.py") is None


def test_an_execution_that_fails_is_also_announced_by_the_safety_net_rule(aws: LocalAws, inbox: Notifications) -> None:
    arn = aws.start_execution("dag-delivery", load_event("dag-delivery/malformed.json"))
    assert aws.wait_for_execution(arn)["status"] == "FAILED"
    messages = inbox.wait_for(lambda m: "Execution Status Change" in m["message"])
    changes = [json.loads(m["message"]) for m in messages if m["message"].startswith("{")]
    [failed] = [c for c in changes if c.get("detail-type") == "Step Functions Execution Status Change"]
    assert failed["detail"]["status"] == "FAILED"
    assert failed["detail"]["executionArn"] == arn
    assert failed["detail"]["error"] == "InvalidInputError"


def test_an_airflowignore_file_is_validated_and_kept_in_the_dag_folder(aws: LocalAws) -> None:
    upload(aws, f"{ENV}/dags/.airflowignore", "scratch/\n.*_backup\\.py\n")
    assert _final_states(aws, 1) == ["Delivered"]
    synced = mwaa_object(aws, ENV, "dags/.airflowignore")
    assert synced is not None
    assert synced["Body"] == b"scratch/\n.*_backup\\.py\n"
