"""off-hours end to end in the local runtime: scale down and up, hibernate and resume, driven by events/off-hours/."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from mwaa_control_plane import clock as clock_module
from mwaa_control_plane.environments.offhours.retag import retag
from mwaa_control_plane.errors import InvalidInputError
from mwaa_control_plane.state import StateRepository
from mwaa_cp_local import mwaa
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment, source_bucket_name
from tests.conftest import load_event
from tests.flows import iam
from tests.flows.helpers import Notifications, far_from_midnight, last_state, upload

pytestmark = pytest.mark.flow
ENV = "dev-analytics"  # the environment the sample events name
# The seed names execution roles "<environment>-execution-role"; the stack may pass only those to MWAA.
PARAMETERS = {"ManagedExecutionRolePattern": "*-execution-role"}
ALWAYS_OFF = "Mon-Sun"  # a window that covers every moment: the reconciler always wants the environment off
HIBERNATE = {"mwaa-cp:off-hours": "hibernate", "mwaa-cp:window": ALWAYS_OFF}
SCALE_DOWN = {"mwaa-cp:off-hours": "scale-down", "mwaa-cp:window": ALWAYS_OFF}
# What CreateEnvironment takes, as GetEnvironment reports it: a resumed environment must match on every one.
CREATE_FIELDS = (
    "ExecutionRoleArn",
    "SourceBucketArn",
    "DagS3Path",
    "NetworkConfiguration",
    "RequirementsS3Path",
    "RequirementsS3ObjectVersion",
    "AirflowConfigurationOptions",
    "EnvironmentClass",
    "MaxWorkers",
    "MinWorkers",
    "Schedulers",
    "MinWebservers",
    "MaxWebservers",
    "AirflowVersion",
    "WeeklyMaintenanceWindowStart",
    "Tags",
    "WebserverAccessMode",
    "EndpointManagement",
)


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    # Tests here read today's date and weekday, then plan: the day must not turn over in between.
    with LocalAws(parameters=PARAMETERS, clock_start=far_from_midnight()) as runtime:
        yield runtime


WHILE_ASLEEP_DAG = """\
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG(dag_id="while_asleep", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    EmptyOperator(task_id="noop")
"""

# The off-hours run's last state: the Map of actions (a tick with nothing to do is the plan and an empty Map).
DONE = "Carry out each action"

# ---------------------------------------------------------------------------------------------- helpers


def _sample(name: str, **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(f"off-hours/{name}.json"))
    event.update(changes)
    return event


def _start(aws: LocalAws, name: str, **changes: Any) -> str:
    return aws.start_execution("off-hours", _sample(name, **changes))


def _finish(aws: LocalAws, arn: str) -> tuple[str, dict[str, Any]]:
    """The run's end state (a Fail state it entered, else the last state it left: the Map) and its output."""
    description = aws.wait_for_execution(arn, timeout=300)
    output = json.loads(description.get("output") or "{}")
    if description["status"] != "SUCCEEDED":
        return last_state(aws, arn), output
    exited = [e for e in aws.history(arn) if e["type"].endswith("StateExited")]
    return str(exited[-1]["stateExitedEventDetails"]["name"]), output


def _run(aws: LocalAws, name: str, **changes: Any) -> tuple[str, dict[str, Any]]:
    """Run the off-hours flow on a sample event; its end state and output."""
    return _finish(aws, _start(aws, name, **changes))


def _environment(aws: LocalAws, name: str = ENV) -> dict[str, Any]:
    return dict(aws.client("mwaa").get_environment(Name=name)["Environment"])


def _exists(aws: LocalAws, name: str = ENV) -> bool:
    client = aws.client("mwaa")
    try:
        client.get_environment(Name=name)
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


def _repository(aws: LocalAws) -> StateRepository:
    return StateRepository(aws.client("dynamodb"), aws.stack.ref("StateTable"), clock_module.get_clock())


def _capacity(environment: dict[str, Any]) -> tuple[Any, ...]:
    fields = ("EnvironmentClass", "MinWorkers", "MaxWorkers", "Schedulers", "MinWebservers", "MaxWebservers")
    return tuple(environment.get(field) for field in fields)


def _acted(output: dict[str, Any]) -> list[dict[str, Any]]:
    """The Map's results for actions (a console notice is an item too, told rather than acted on)."""
    return [r for r in output.get("results", []) if r["action"] != "notify"]


def _results(output: dict[str, Any]) -> dict[str, str]:
    return {f"{r['environment']} {r['action']}": r["status"] for r in _acted(output)}


def _report(output: dict[str, Any], name: str = ENV) -> dict[str, Any]:
    return next(line for line in output["report"] if line["environment"] == name)


def _invoked(aws: LocalAws, step: str) -> list[Any]:
    """Invocations of one of the stack's functions (by logical id), in order."""
    return [i for i in aws.lambdas.invocations if f"-{step}Function-" in i.function_name]


def _wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.05)


def _rest(aws: LocalAws, method: str, path: str, body: Any = None, **query: Any) -> Any:
    """Airflow's REST API of the environment, through InvokeRestApi (as an operator would)."""
    arguments: dict[str, Any] = {"Name": ENV, "Path": path, "Method": method}
    if body is not None:
        arguments["Body"] = body
    if query:
        arguments["QueryParameters"] = query
    return aws.client("mwaa").invoke_rest_api(**arguments)["RestApiResponse"]


def _dags(aws: LocalAws) -> dict[str, bool]:
    return {dag["dag_id"]: dag["is_paused"] for dag in _rest(aws, "GET", "/dags", limit=100)["dags"]}


def _runs(aws: LocalAws, dag_id: str) -> int:
    return int(_rest(aws, "GET", f"/dags/{dag_id}/dagRuns", limit=1)["total_entries"])


def _put_dags(aws: LocalAws, source: str) -> None:
    aws.client("s3").put_object(Bucket=source_bucket_name(ENV), Key="dags/team.py", Body=source.encode())


def _dag_file(start: datetime) -> str:
    """Three DAGs: one unpaused by its owner, one left paused, one catchup=True that has been catching up."""
    return f"""
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("reports", start_date=datetime(2026, 1, 1), schedule=None):
    EmptyOperator(task_id="build")

with DAG("archive", start_date=datetime(2026, 1, 1), schedule=None):
    EmptyOperator(task_id="store")

with DAG("nightly_load", start_date=datetime({start.year}, {start.month}, {start.day}), schedule="@daily",
         catchup=True):
    EmptyOperator(task_id="load")
"""


def _seed_airflow(aws: LocalAws) -> None:
    """What a team keeps in the metadata database: variables, a pool, a connection, unpaused DAGs."""
    _rest(aws, "POST", "/variables", {"key": "bucket", "value": "s3://reports"})
    _rest(aws, "POST", "/variables", {"key": "threshold", "value": "42", "description": "alert above"})
    _rest(aws, "POST", "/pools", {"name": "warehouse", "slots": 4, "description": "db connections"})
    _rest(
        aws,
        "POST",
        "/connections",
        {"connection_id": "reporting_api", "conn_type": "http", "host": "api.internal", "port": 8443},
    )
    _wait_until(lambda: {"reports", "archive", "nightly_load"} <= set(_dags(aws)))
    _rest(aws, "PATCH", "/dags/reports", {"is_paused": False})
    _rest(aws, "PATCH", "/dags/nightly_load", {"is_paused": False})
    _wait_until(lambda: _runs(aws, "nightly_load") >= 5)


def _airflow_state(aws: LocalAws) -> dict[str, Any]:
    variables = {v["key"]: v.get("value") for v in _rest(aws, "GET", "/variables")["variables"]}
    pools = {p["name"]: p["slots"] for p in _rest(aws, "GET", "/pools")["pools"]}
    connection = _rest(aws, "GET", "/connections/reporting_api")
    return {
        "variables": variables,
        "threshold": _rest(aws, "GET", "/variables/threshold"),
        "pools": pools,
        "connection": {k: connection.get(k) for k in ("conn_type", "host", "port")},
        "dags": _dags(aws),
    }


def _running_work(aws: LocalAws, minutes: int) -> None:
    """A run of the unpaused DAG "reports" whose task runs for ``minutes`` of virtual time.

    Virtual time runs on while the test starts the flow (a real millisecond is a virtual second), so
    the work lasts long enough to still run at the flow's first drain check on a loaded machine.
    """
    _put_dags(aws, _dag_file(aws.clock.now()))
    _wait_until(lambda: "reports" in _dags(aws))
    _rest(aws, "PATCH", "/dags/reports", {"is_paused": False})
    mwaa.hold_runs(ENV, "reports", seconds=minutes * 60)
    _rest(aws, "POST", "/dags/reports/dagRuns", {})


def _hibernated(aws: LocalAws) -> Any:
    record = _repository(aws).off_hours_record(ENV)
    assert record is not None and record.state == "hibernated" and record.snapshot is not None
    return record


# ---------------------------------------------------------------------------------------------- scale-down, scale-up


def test_scale_down_then_scale_up_returns_the_exact_capacity(aws: LocalAws, inbox: Notifications) -> None:
    create_environment(
        aws,
        ENV,
        environment_class="mw1.medium",
        tags={"mwaa-cp:off-hours": "scale-down"},
        MinWorkers=2,
        MaxWorkers=6,
        Schedulers=3,
        MinWebservers=2,
        MaxWebservers=4,
    )
    before = _capacity(_environment(aws))

    final, output = _run(aws, "scale-down")

    assert final == DONE
    assert _results(output) == {f"{ENV} scale-down": "done"}
    assert _capacity(_environment(aws)) == ("mw1.medium", 1, 1, 2, 2, 2)
    assert _repository(aws).latest_capacity(ENV) is not None, "the capacity is recorded before the change"
    [told] = [m for m in inbox.messages() if "scaled down" in m["subject"]]
    assert "Error" not in told["message"], told["message"]

    final, output = _run(aws, "scale-up")

    assert final == DONE
    assert _results(output) == {f"{ENV} scale-up": "done"}
    assert _capacity(_environment(aws)) == before
    record = _repository(aws).off_hours_record(ENV)
    assert record is not None and record.state == "awake"


def test_a_capacity_change_mwaa_refuses_fails_the_scale_down_and_says_where_to_look(
    aws: LocalAws, inbox: Notifications
) -> None:
    create_environment(aws, ENV, tags={"mwaa-cp:off-hours": "scale-down"}, MaxWorkers=6)
    before = _capacity(_environment(aws))
    aws.faults.inject("mwaa", "UpdateEnvironment", error_code="ValidationException", message="refused", times=1)

    final, output = _run(aws, "scale-down")

    assert final == DONE
    assert _results(output) == {f"{ENV} scale-down": "failed"}
    assert "did not apply the capacity" in _acted(output)[0]["message"]
    assert _capacity(_environment(aws)) == before
    assert any("scale-down failed" in m["subject"] for m in inbox.messages())


def test_a_night_class_scales_down_to_the_smaller_class_and_back(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={**SCALE_DOWN, "mwaa-cp:off-hours-class": "mw1.micro"}, MaxWorkers=4)
    before = _capacity(_environment(aws))

    assert _run(aws, "reconcile-one")[0] == DONE
    assert _capacity(_environment(aws)) == ("mw1.micro", 1, 1, 1, 1, 1)

    assert _run(aws, "scale-up")[0] == DONE
    assert _capacity(_environment(aws)) == before


def test_scaling_down_twice_changes_nothing_the_second_time(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags=SCALE_DOWN, MaxWorkers=4)
    assert _run(aws, "scale-down")[0] == DONE
    updates = len(_invoked(aws, "ApplyEnvironmentChange"))

    final, output = _run(aws, "scale-down")

    assert final == DONE
    assert _acted(output) == []
    assert "already at the minimum" in _report(output)["reason"]
    assert len(_invoked(aws, "ApplyEnvironmentChange")) == updates


# ---------------------------------------------------------------------------------------------- hibernate, resume


def test_hibernate_then_resume_recreates_the_environment_and_its_airflow_state(
    aws: LocalAws, inbox: Notifications
) -> None:
    bucket = source_bucket_name(ENV)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    requirements = s3.put_object(Bucket=bucket, Key="requirements.txt", Body=b"requests==2.32.3\n")["VersionId"]
    create_environment(
        aws,
        ENV,
        environment_class="mw1.medium",
        tags={**HIBERNATE, "team": "analytics", "cost-center": "4711"},
        MinWorkers=2,
        MaxWorkers=7,
        Schedulers=3,
        MinWebservers=2,
        MaxWebservers=4,
        RequirementsS3Path="requirements.txt",
        RequirementsS3ObjectVersion=requirements,
        AirflowConfigurationOptions={"core.default_task_retries": "3", "webserver.expose_config": "False"},
        LoggingConfiguration={
            "DagProcessingLogs": {"Enabled": True, "LogLevel": "WARNING"},
            "TaskLogs": {"Enabled": True, "LogLevel": "INFO"},
            "WorkerLogs": {"Enabled": False, "LogLevel": "ERROR"},
        },
        WeeklyMaintenanceWindowStart="TUE:02:30",
        WebserverAccessMode="PUBLIC_ONLY",
    )
    _put_dags(aws, _dag_file(aws.clock.now() - timedelta(days=10)))
    _seed_airflow(aws)
    before = _environment(aws)
    state_before = _airflow_state(aws)

    final, output = _run(aws, "hibernate")

    assert final == DONE
    assert _results(output) == {f"{ENV} hibernate": "done"}
    assert not _exists(aws), "the environment is deleted"
    record = _hibernated(aws)
    assert record.target is not None and record.target.source_bucket == bucket, "delivery keeps its target"
    assert record.target.requirements_version == requirements
    stored = s3.head_object(
        Bucket=record.snapshot.bucket, Key=record.snapshot.key, VersionId=record.snapshot.version_id
    )
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert stored["SSEKMSKeyId"] == aws.stack.attribute("SnapshotKey", "Arn")
    assert any("hibernated" in m["subject"] for m in inbox.messages())

    final, output = _run(aws, "resume")

    assert final == DONE
    assert _results(output) == {f"{ENV} resume": "done"}
    after = _environment(aws)
    assert after["Status"] == "AVAILABLE"
    for field in CREATE_FIELDS:
        assert after.get(field) == before.get(field), field
    assert {
        k: {"Enabled": v["Enabled"], "LogLevel": v["LogLevel"]} for k, v in after["LoggingConfiguration"].items()
    } == {k: {"Enabled": v["Enabled"], "LogLevel": v["LogLevel"]} for k, v in before["LoggingConfiguration"].items()}
    state_after = _airflow_state(aws)
    assert state_after["variables"] == state_before["variables"]
    assert state_after["threshold"] == state_before["threshold"]
    assert state_after["pools"] == state_before["pools"]
    assert state_after["connection"] == state_before["connection"]
    # Pause states come back, except the catchup DAG the guard keeps paused (next test).
    assert state_after["dags"] == {**state_before["dags"], "nightly_load": True}
    record = _repository(aws).off_hours_record(ENV)
    assert record is not None and record.state == "awake"
    assert len(record.create_durations_seconds) == 1 and record.create_durations_seconds[0] >= 1500
    resumed = [m for m in inbox.messages() if "resumed" in m["subject"]]
    assert resumed and "kept paused by the catchup guard" in resumed[0]["message"]


def test_a_requirements_change_while_hibernated_comes_back_with_the_resume(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    assert _run(aws, "hibernate")[0] == DONE
    # The one door pins a reviewed requirements.txt in the snapshot of the hibernated environment.
    version = aws.client("s3").put_object(
        Bucket=source_bucket_name(ENV), Key="requirements.txt", Body=b"requests==2.32.3\n"
    )["VersionId"]
    change = copy.deepcopy(load_event("environment-change/artifact-update.json"))
    change["requirements"]["version"] = version
    aws.wait_for_execution(aws.start_execution("environment-change", change), timeout=120)

    assert _run(aws, "resume")[0] == DONE

    environment = _environment(aws)
    assert (environment["RequirementsS3Path"], environment["RequirementsS3ObjectVersion"]) == (
        "requirements.txt",
        version,
    )


def test_a_dag_push_and_a_requirements_push_while_hibernated_come_back_with_the_resume(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    assert _run(aws, "hibernate")[0] == DONE
    # Pushed to the staging bucket as every day: dag-delivery validates and syncs both to the environment's bucket.
    upload(aws, f"{ENV}/dags/while_asleep.py", WHILE_ASLEEP_DAG)
    pushed = upload(aws, f"{ENV}/requirements.txt", "requests==2.32.3\n")
    deliveries = aws.wait_for_executions("dag-delivery", 2)
    changes = aws.wait_for_executions("environment-change", 1)

    sfn = aws.client("stepfunctions")
    [dag_run] = [
        run
        for run in (sfn.describe_execution(executionArn=d["executionArn"]) for d in deliveries)
        if json.loads(run["input"])["detail"]["object"]["key"].endswith("while_asleep.py")
    ]
    assert [d["status"] for d in deliveries] == ["SUCCEEDED", "SUCCEEDED"]
    assert last_state(aws, dag_run["executionArn"]) == "Delivered to a hibernated environment"
    assert json.loads(dag_run["output"])["sync"]["value"]["verification"]["state"] == "deferred"
    assert last_state(aws, changes[0]["executionArn"]) == "Environment changed"
    assert not _exists(aws), "nothing was created to apply them"

    assert _run(aws, "resume")[0] == DONE

    environment = _environment(aws)
    staged = aws.client("s3").get_object(
        Bucket=source_bucket_name(ENV), Key="requirements.txt", VersionId=environment["RequirementsS3ObjectVersion"]
    )
    assert staged["Body"].read() == b"requests==2.32.3\n" and pushed
    aws.clock.sleep(400)  # MWAA syncs and lists the DAG folder
    assert "while_asleep" in _dags(aws)


def test_health_reports_a_hibernated_environment_and_when_it_comes_back(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={**HIBERNATE, "mwaa-cp:window": "Mon-Fri 20:00-07:00 / Sat-Sun"})
    assert _run(aws, "hibernate")[0] == DONE

    arn = aws.start_execution("environment-health", load_event("environment-health/all-environments.json"))
    result = aws.wait_for_execution(arn)

    assert result["status"] == "SUCCEEDED", result
    [report] = json.loads(result["output"])
    assert (report["environment_name"], report["status"], report["healthy"]) == (ENV, "HIBERNATED", True)
    assert report["detail"].startswith("hibernated since ") and ", back at " in report["detail"]


def test_a_tag_set_while_hibernated_wakes_the_environment_and_comes_back_with_it(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={**HIBERNATE, "team": "data"})
    assert _run(aws, "hibernate")[0] == DONE
    until = (aws.clock.now() + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%MZ")

    retagged = retag(
        aws.client("mwaa"), _repository(aws), ENV, set_tags={"mwaa-cp:keep-awake-until": until}, remove=["team"]
    )
    assert retagged.where == "off-hours record"
    final, output = _run(aws, "schedule")

    assert (final, _results(output)) == (DONE, {f"{ENV} resume": "done"})
    tags = _environment(aws)["Tags"]
    assert tags["mwaa-cp:keep-awake-until"] == until and "team" not in tags


def test_a_tag_that_mwaa_would_refuse_is_refused_before_anything_is_written(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    assert _run(aws, "hibernate")[0] == DONE

    before = _repository(aws).off_hours_record(ENV)
    with pytest.raises(InvalidInputError, match="a tag value holds"):
        retag(aws.client("mwaa"), _repository(aws), ENV, set_tags={"mwaa-cp:window": "Mon-Fri 20:00-07:00, Sat"})
    after = _repository(aws).off_hours_record(ENV)
    assert before is not None and after == before and after.tags["mwaa-cp:window"] == ALWAYS_OFF


def test_an_airflow_3_environment_comes_back_with_its_airflow_state(aws: LocalAws) -> None:
    create_environment(aws, ENV, airflow_version="3.0.6", tags=HIBERNATE)
    _put_dags(aws, _dag_file(aws.clock.now() - timedelta(days=10)))
    _seed_airflow(aws)
    before = _airflow_state(aws)

    assert _run(aws, "hibernate")[0] == DONE
    assert not _exists(aws)
    final, output = _run(aws, "resume")

    assert final == DONE
    assert _results(output) == {f"{ENV} resume": "done"}
    assert _environment(aws)["AirflowVersion"] == "3.0.6"
    after = _airflow_state(aws)
    assert {k: after[k] for k in ("variables", "pools", "connection")} == {
        k: before[k] for k in ("variables", "pools", "connection")
    }
    assert after["dags"] == {**before["dags"], "nightly_load": True}


def test_the_catchup_guard_keeps_a_catchup_dag_paused_and_counts_the_runs_it_would_create(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    _put_dags(aws, _dag_file(aws.clock.now() - timedelta(days=10)))
    _seed_airflow(aws)
    assert _run(aws, "hibernate")[0] == DONE
    # While hibernated the DAG's start date recedes: a week passes.
    aws.clock.advance(7 * 86400)

    final, output = _run(aws, "resume")

    assert final == DONE
    assert _dags(aws)["nightly_load"] is True, "kept paused"
    assert _runs(aws, "nightly_load") == 0, "no run was created for the hibernated days"
    message = next(r["message"] for r in _acted(output))
    counted = re.search(r"nightly_load: \D*(\d+) runs", message)
    assert counted is not None, message
    assert int(counted[1]) in (17, 18), message  # ten days before, seven while hibernated (midnight may pass)


def test_with_catchup_unpause_the_catchup_dag_is_unpaused_and_catches_up(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={**HIBERNATE, "mwaa-cp:catchup": "unpause"})
    _put_dags(aws, _dag_file(aws.clock.now() - timedelta(days=10)))
    _seed_airflow(aws)
    assert _run(aws, "hibernate")[0] == DONE

    assert _run(aws, "resume")[0] == DONE

    assert _dags(aws)["nightly_load"] is False
    _wait_until(lambda: _runs(aws, "nightly_load") >= 10)


def test_a_connection_whose_password_would_be_lost_refuses_the_hibernate(aws: LocalAws, inbox: Notifications) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    _rest(aws, "POST", "/connections", {"connection_id": "warehouse", "conn_type": "postgres", "login": "etl"})

    final, output = _run(aws, "hibernate")

    assert final == DONE
    assert _results(output) == {f"{ENV} hibernate": "skipped"}
    assert _environment(aws)["Status"] == "AVAILABLE"
    [note] = [m for m in inbox.messages() if "hibernate skipped" in m["subject"]]
    assert "warehouse" in note["message"] and "mwaa-cp:connections=accept-loss" in note["message"]


def test_a_hibernate_the_schedule_keeps_skipping_for_the_same_reason_is_told_once(
    aws: LocalAws, inbox: Notifications
) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    _rest(aws, "POST", "/connections", {"connection_id": "warehouse", "conn_type": "postgres", "login": "etl"})

    for _ in range(3):
        final, output = _run(aws, "reconcile-one")
        assert (final, _results(output)) == (DONE, {f"{ENV} hibernate": "skipped"})

    assert len([m for m in inbox.messages() if "hibernate skipped" in m["subject"]]) == 1
    record = _repository(aws).off_hours_record(ENV)
    assert record is not None and record.last_error is not None and "warehouse" in record.last_error


def test_running_tasks_skip_the_hibernate_when_the_policy_does_not_wait(aws: LocalAws, inbox: Notifications) -> None:
    create_environment(aws, ENV, tags={**HIBERNATE, "mwaa-cp:drain": "wait-0m"})
    _running_work(aws, minutes=60)

    final, output = _run(aws, "hibernate")

    assert final == DONE
    assert _results(output) == {f"{ENV} hibernate": "skipped"}
    assert _environment(aws)["Status"] == "AVAILABLE"
    assert _invoked(aws, "TakeSnapshot") == []
    [note] = [m for m in inbox.messages() if "hibernate skipped" in m["subject"]]
    assert "reports.build" in note["message"]


def test_running_tasks_are_waited_for_then_the_hibernate_proceeds(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={**HIBERNATE, "mwaa-cp:drain": "wait-120m"})
    _running_work(aws, minutes=60)

    final, output = _run(aws, "hibernate")

    assert final == DONE
    assert _results(output) == {f"{ENV} hibernate": "done"}
    checks = [i.result["decision"] for i in _invoked(aws, "CheckDrain")]
    assert checks[0] == "wait" and checks[-1] == "proceed"
    assert not _exists(aws)


def test_a_snapshot_that_does_not_verify_stops_the_delete(aws: LocalAws, inbox: Notifications) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    # The read-back of the snapshot finds no such version.
    aws.faults.inject("s3", "GetObject", error_code="NoSuchVersion", status=404, message="gone", times=1)

    final, output = _run(aws, "hibernate")

    assert final == DONE
    assert _results(output) == {f"{ENV} hibernate": "failed"}
    assert _environment(aws)["Status"] == "AVAILABLE"
    assert _invoked(aws, "DeleteEnvironment") == []
    [note] = [m for m in inbox.messages() if "hibernate failed" in m["subject"]]
    assert "SnapshotNotVerifiedError" in note["message"]
    assert _repository(aws).environment_lock_holder(ENV) is None, "the lock is released"


def test_create_failed_fails_fast_with_mwaas_error_and_keeps_the_snapshot(aws: LocalAws, inbox: Notifications) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    assert _run(aws, "hibernate")[0] == DONE
    snapshot = _hibernated(aws).snapshot
    mwaa.fail_next_create(ENV, "INCORRECT_CONFIGURATION", "The subnets cannot reach Amazon S3")
    inbox.messages()

    arn = _start(aws, "resume")
    final, output = _finish(aws, arn)

    assert final == DONE
    assert _results(output) == {f"{ENV} resume": "failed"}
    polls = [
        e
        for e in aws.history(arn)
        if e.get("stateEnteredEventDetails", {}).get("name") == "Wait for the environment to be created"
    ]
    assert len(polls) <= 30, "it stops at CREATE_FAILED, not at the poll limit"
    [note] = [m for m in inbox.messages() if "resume failed" in m["subject"]]
    assert "INCORRECT_CONFIGURATION: The subnets cannot reach Amazon S3" in note["message"]
    assert "The snapshot is kept" in note["message"]
    record = _repository(aws).off_hours_record(ENV)
    assert record is not None and record.snapshot == snapshot and record.resume_failures == 1
    assert record.next_resume_attempt_at is not None
    aws.client("s3").head_object(Bucket=snapshot.bucket, Key=snapshot.key, VersionId=snapshot.version_id)

    # The next tick does not loop into another create: it waits for the backoff.
    final, output = _run(aws, "reconcile-one")
    assert final == DONE and _acted(output) == []
    assert "next attempt" in _report(output)["reason"]


def test_a_protected_environment_is_never_touched(aws: LocalAws, inbox: Notifications) -> None:
    create_environment(aws, ENV, tags={**HIBERNATE, "mwaa-cp:protected": "true"})

    final, output = _run(aws, "hibernate")

    assert final == DONE
    assert _acted(output) == []
    line = _report(output)
    assert (line["action"], line["protected"]) == ("refuse", True)
    assert "protected" in line["reason"]
    assert any("refused" in m["subject"] for m in inbox.messages())
    final, output = _run(aws, "reconcile-one")
    assert _acted(output) == [] and "protected" in _report(output)["reason"]
    assert _environment(aws)["Status"] == "AVAILABLE"
    assert _invoked(aws, "TakeSnapshot") == _invoked(aws, "PrepareCapacityChange") == []


def test_keep_awake_holds_the_environment_awake_in_its_window(aws: LocalAws) -> None:
    tomorrow = (aws.clock.now() + timedelta(days=1)).date().isoformat()
    create_environment(aws, ENV, tags={**SCALE_DOWN, "mwaa-cp:keep-awake-until": tomorrow})
    before = _capacity(_environment(aws))

    final, output = _run(aws, "reconcile-one")

    assert final == DONE and _acted(output) == []
    assert "kept awake until" in _report(output)["reason"]
    assert _capacity(_environment(aws)) == before


def test_a_holiday_keeps_the_environment_off_all_day(aws: LocalAws) -> None:
    today = aws.clock.now()
    tomorrow = (today + timedelta(days=1)).strftime("%a")
    # The window alone would keep it awake today (it starts tomorrow); today's holiday turns it off.
    create_environment(
        aws,
        ENV,
        tags={
            "mwaa-cp:off-hours": "scale-down",
            "mwaa-cp:window": tomorrow,
            "mwaa-cp:holidays": today.date().isoformat(),
        },
        MaxWorkers=4,
    )

    final, output = _run(aws, "reconcile-one")

    assert final == DONE
    assert _results(output) == {f"{ENV} scale-down": "done"}
    assert "holiday" in _acted(output)[0]["message"]


def test_a_dry_run_reports_every_environment_and_changes_nothing(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    create_environment(aws, "dev-ml", tags=SCALE_DOWN, MaxWorkers=4)
    create_environment(aws, "prod-core", tags={"mwaa-cp:protected": "true"})

    final, output = _run(aws, "reconcile-all-dry-run")

    assert final == DONE and output["work"] == [] and _acted(output) == []
    assert output["dry_run"] is True
    assert {line["environment"]: line["action"] for line in output["report"]} == {
        ENV: "hibernate",
        "dev-ml": "scale-down",
        "prod-core": "none",
    }
    assert _invoked(aws, "PrepareCapacityChange") == _invoked(aws, "CheckDrain") == []


def test_a_malformed_input_is_refused_with_a_clear_error(aws: LocalAws, inbox: Notifications) -> None:
    final, _ = _run(aws, "malformed")

    assert final == "Input refused"
    [note] = [m for m in inbox.messages() if "input refused" in m["subject"]]
    assert "action" in note["message"] and "environment" not in note["message"].split("action")[0]


# ------------------------------------------------------------------------------------------ idempotence, concurrency


def test_re_runs_are_idempotent(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    assert _run(aws, "hibernate")[0] == DONE

    final, output = _run(aws, "hibernate")
    assert (final, _acted(output)) == (DONE, [])
    assert _report(output)["reason"] == "already hibernated"

    assert _run(aws, "resume")[0] == DONE
    creates = len(_invoked(aws, "CreateEnvironment"))
    final, output = _run(aws, "resume")
    assert (final, _acted(output)) == (DONE, [])
    assert _report(output)["reason"] == "already awake: nothing to resume"
    assert len(_invoked(aws, "CreateEnvironment")) == creates


def test_a_hibernate_waits_for_the_lock_another_flow_took_then_proceeds(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={**HIBERNATE, "mwaa-cp:drain": "wait-120m"})
    _running_work(aws, minutes=60)
    arn = _start(aws, "hibernate")
    # While the hibernate waits for Airflow to drain, an environment change takes the lock.
    _wait_until(lambda: len(_invoked(aws, "CheckDrain")) >= 1)
    repository = _repository(aws)
    holder = "arn:aws:states:us-east-1:123456789012:execution:mwaa-control-plane-environment-change:nightly"
    # A lease that outlasts the drain (60 virtual minutes): the hibernate meets the lock, not an expired one.
    repository.acquire_environment_lock(
        ENV, owner=holder, flow="environment-change", purpose="apply", lease_seconds=4 * 3600
    )

    _wait_until(lambda: any(i.error_type == "EnvironmentLockedError" for i in aws.lambdas.invocations))
    assert _invoked(aws, "TakeSnapshot") == [], "nothing is snapshotted or deleted while the other flow holds the lock"
    repository.release_environment_lock(ENV, holder)

    final, output = _finish(aws, arn)
    assert final == DONE
    assert _results(output) == {f"{ENV} hibernate": "done"}
    assert repository.environment_lock_holder(ENV) is None


def test_a_resume_asked_for_during_a_hibernate_does_nothing_until_the_hibernate_ended(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    hibernate = _start(aws, "hibernate")
    _wait_until(lambda: len(_invoked(aws, "DeleteEnvironment")) == 1)

    final, output = _run(aws, "resume")

    assert (final, _acted(output)) == (DONE, [])
    assert "a hibernate is under way" in _report(output)["reason"]
    assert _invoked(aws, "CreateEnvironment") == []
    assert _finish(aws, hibernate)[0] == DONE
    assert not _exists(aws)
    assert _run(aws, "resume")[0] == DONE
    assert _environment(aws)["Status"] == "AVAILABLE"


def test_throttling_is_retried(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags=HIBERNATE)
    aws.faults.inject("mwaa", "GetEnvironment", error_code="ThrottlingException", times=8)
    aws.faults.inject("mwaa", "DeleteEnvironment", error_code="ThrottlingException", times=4)
    aws.faults.inject("mwaa", "InvokeRestApi", error_code="ThrottlingException", times=4)
    aws.faults.inject("dynamodb", "PutItem", error_code="ProvisionedThroughputExceededException", times=3)

    final, output = _run(aws, "hibernate")
    assert final == DONE
    assert _results(output) == {f"{ENV} hibernate": "done"}

    aws.faults.inject("mwaa", "CreateEnvironment", error_code="ThrottlingException", times=4)
    final, output = _run(aws, "resume")
    assert final == DONE
    assert _results(output) == {f"{ENV} resume": "done"}
    assert any(i.error_type == "ThrottledError" for i in aws.lambdas.invocations)


def test_an_environment_that_becomes_busy_is_waited_for(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={**HIBERNATE, "mwaa-cp:drain": "wait-120m"})
    _running_work(aws, minutes=60)
    mwaa.configure(update_seconds=600)
    arn = _start(aws, "hibernate")
    # While the hibernate waits for Airflow to drain, someone updates the environment for ten minutes.
    _wait_until(lambda: len(_invoked(aws, "CheckDrain")) >= 1)
    aws.client("mwaa").update_environment(Name=ENV, Schedulers=3)

    final, output = _finish(aws, arn)
    assert final == DONE
    assert _results(output) == {f"{ENV} hibernate": "done"}
    checks = [i.result or {} for i in _invoked(aws, "CheckDrain")]
    assert any("is UPDATING" in check.get("detail", "") for check in checks), "it waited for the update"
    assert _run(aws, "resume")[0] == DONE
    assert _environment(aws)["Schedulers"] == 3, "the update made while it was busy comes back"


def test_a_missed_tick_heals_on_the_next(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={"mwaa-cp:off-hours": "scale-down"}, MaxWorkers=4)
    before = _capacity(_environment(aws))
    # A window that starts six hours from now (virtual time, which runs while the test waits) and lasts six.
    now = aws.clock.now()
    start, end = now + timedelta(hours=6), now + timedelta(hours=12)
    arn = _environment(aws)["Arn"]
    aws.client("mwaa").tag_resource(ResourceArn=arn, Tags={"mwaa-cp:window": f"{start:%H:%M}-{end:%H:%M}"})

    aws.fire("OffHoursSchedule")
    [tick] = aws.wait_for_executions("off-hours", 1)
    started = aws.client("stepfunctions").describe_execution(executionArn=tick["executionArn"])
    assert json.loads(started["input"]) == load_event("off-hours/schedule.json")
    assert _capacity(_environment(aws)) == before, "awake before the window"

    # The ticks at the window's start are missed; the next one, two hours later, scales down.
    aws.clock.advance(8 * 3600)
    aws.fire("OffHoursSchedule")
    aws.wait_for_executions("off-hours", 2)
    assert _capacity(_environment(aws)) == ("mw1.small", 1, 1, 2, 2, 2)

    # Past the window's end, the next tick scales it up again.
    aws.clock.advance(6 * 3600)
    aws.fire("OffHoursSchedule")
    aws.wait_for_executions("off-hours", 3)
    assert _capacity(_environment(aws)) == before


# ---------------------------------------------------------------------------------------------- least privilege


def _statements(aws: LocalAws, function: str) -> tuple[str, list[dict[str, Any]]]:
    """The role ARN of one of the stack's functions and the statements of its inline policies."""
    role_arn = aws.client("lambda").get_function(FunctionName=aws.stack.ref(function))["Configuration"]["Role"]
    role = role_arn.split("/")[-1]
    client = aws.client("iam")
    statements: list[dict[str, Any]] = []
    for name in client.list_role_policies(RoleName=role)["PolicyNames"]:
        found = client.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]["Statement"]
        statements.extend([found] if isinstance(found, dict) else found)
    return role_arn, statements


def test_only_managed_execution_roles_may_be_passed_and_only_to_mwaa(aws: LocalAws) -> None:
    _, statements = _statements(aws, "CreateEnvironmentFunction")
    to_mwaa = {"iam:PassedToService": "airflow.amazonaws.com"}
    managed = "arn:aws:iam::123456789012:role/dev-analytics-execution-role"

    assert iam.allowed(statements, "iam:PassRole", managed, to_mwaa)
    assert not iam.allowed(statements, "iam:PassRole", "arn:aws:iam::123456789012:role/admin", to_mwaa)
    assert not iam.allowed(statements, "iam:PassRole", managed, {"iam:PassedToService": "ec2.amazonaws.com"})
    _, planning = _statements(aws, "PlanOffHoursFunction")
    assert not iam.allowed(planning, "iam:PassRole", managed, to_mwaa)


def test_the_snapshot_key_is_usable_only_by_the_snapshot_functions_and_only_through_s3(aws: LocalAws) -> None:
    key = aws.stack.attribute("SnapshotKey", "Arn")
    policy = json.loads(aws.client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    through_s3 = {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": "123456789012"}

    def may_decrypt(function: str, context: dict[str, str]) -> bool:
        role, _ = _statements(aws, function)
        granted = [s for s in policy["Statement"] if role in json.dumps(s.get("Principal", {}))]
        return iam.allowed(granted, "kms:Decrypt", "*", context)

    assert may_decrypt("RestoreAirflowStateFunction", through_s3)
    assert not may_decrypt(
        "RestoreAirflowStateFunction", {**through_s3, "kms:ViaService": "ssm.us-east-1.amazonaws.com"}
    )
    assert not may_decrypt("PlanOffHoursFunction", through_s3)
    root = [s for s in policy["Statement"] if ":root" in json.dumps(s.get("Principal", {}))]
    assert not iam.allowed(root, "kms:Decrypt", "*", through_s3), "the account administers the key, never reads with it"
