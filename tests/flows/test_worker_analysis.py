"""worker-analysis end to end in the local runtime: an alarm event or a console input, gather, diagnose, report,
remediate; and the alarms reconciler.

The MWAA emulator's workload simulator (``mwaa.simulate_workload``) plays a workload on the environment and
publishes its metrics into the local CloudWatch at virtual timestamps, up to the alarm's time, so the real gather
step reads them.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from mwaa_control_plane import clock as clock_module
from mwaa_control_plane.state import PendingApproval, RemediationRecord, StateRepository
from mwaa_cp_cli.approve import answer
from mwaa_cp_local import mwaa
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment
from mwaa_cp_local.server import LocalServer
from tests.conftest import REPO, load_event
from tests.flows import iam
from tests.flows.helpers import Notifications, last_state

pytestmark = pytest.mark.flow
ENV = "dev-analytics"  # the environment the sample events name
ALARM_PREFIX = "mwaa-control-plane/worker-analysis/"
CAPACITY_BOUND = {"MinWorkers": 1, "MaxWorkers": 5}  # the configuration the nightly-etl workload outgrows


# ---------------------------------------------------------------------------------------------- helpers


def alarm_event(aws: LocalAws, *, environment: str = ENV, state: str = "ALARM") -> dict[str, Any]:
    """The sample alarm event from events/, at the virtual now, for ``environment``."""
    event = copy.deepcopy(load_event("worker-analysis/alarm-queue-backlog.json"))
    name = f"{ALARM_PREFIX}{environment}/queue-backlog"
    event["time"] = aws.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    event["resources"] = [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"]
    event["detail"]["alarmName"] = name
    event["detail"]["state"]["value"] = state
    return event


def run(aws: LocalAws, payload: Any) -> tuple[str, dict[str, Any]]:
    """Run worker-analysis on ``payload``; its end state and its output."""
    arn = aws.start_execution("worker-analysis", payload)
    description = aws.wait_for_execution(arn, timeout=300)
    return last_state(aws, arn), json.loads(description.get("output") or "{}")


def stored(aws: LocalAws, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return bytes(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def capacity_bound_alarm(aws: LocalAws, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """An environment whose last two hours are capacity-bound (the nightly ETL outgrows five mw1.small workers),
    and the alarm that fires at their end."""
    create_environment(aws, ENV, tags=tags, **CAPACITY_BOUND)
    event = alarm_event(aws)
    end = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).replace(second=0)
    mwaa.simulate_workload(aws, ENV, "nightly-etl", end=end)
    return event


# ------------------------------------------------------------------------------------- gather, diagnose, report


def test_an_alarm_event_is_gathered_diagnosed_reported_and_notified(aws: LocalAws, inbox: Notifications) -> None:
    event = capacity_bound_alarm(aws, tags={"mwaa-cp:remediation": "off"})

    final, output = run(aws, event)

    assert final == "Diagnosed"
    assert output["request"]["trigger"] == "alarm" and output["request"]["environment"] == ENV
    assert output["gathered"]["metric_data_calls"] == 1, "one GetMetricData call for every query"
    assert output["diagnosis"]["cause"] == "capacity_bound"
    report = json.loads(stored(aws, output["report"]["report_uri"]))
    assert report["cause"] == "capacity_bound" and report["environment"] == ENV
    assert report["recommendation"]["change"]["max_workers"] > 5
    markdown = stored(aws, output["report"]["markdown_uri"]).decode()
    assert "capacity_bound" in markdown and "drawn by the control plane" in markdown, "the offline chart path is said"
    assert stored(aws, output["report"]["chart_uri"]).startswith(b"\x89PNG\r\n\x1a\n")
    chart = json.loads(stored(aws, output["report"]["report_uri"].replace("report.json", "chart.json")))
    assert chart["metrics"][0][:2] == ["AWS/MWAA", "QueuedTasks"], "what GetMetricWidgetImage renders on AWS"
    diagnosed = "is capacity_bound"
    [message] = [m for m in inbox.wait_for(lambda m: diagnosed in m["subject"]) if diagnosed in m["subject"]]
    assert "capacity_bound" in message["subject"]
    assert "Top finding (capacity)" in message["message"]
    assert output["report"]["report_uri"] in message["message"] and "console.aws.amazon.com" in message["message"]
    assert output["report"]["chart_uri"] in message["message"]


def test_a_console_input_analyses_the_last_minutes(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={"mwaa-cp:remediation": "off"}, **CAPACITY_BOUND)
    mwaa.simulate_workload(aws, ENV, "steady")

    final, output = run(aws, load_event("worker-analysis/console.json"))

    assert final == "Diagnosed"
    assert output["request"]["trigger"] == "console"
    start, end = (datetime.fromisoformat(output["request"][k]) for k in ("start", "end"))
    assert end - start == timedelta(minutes=120)


def test_no_metric_data_is_inconclusive_not_an_error(aws: LocalAws, inbox: Notifications) -> None:
    create_environment(aws, ENV, tags={"mwaa-cp:remediation": "off"})

    final, output = run(aws, alarm_event(aws))

    assert final == "Diagnosed"
    assert output["diagnosis"]["cause"] == "inconclusive"
    assert output["gathered"]["metrics_with_data"] == 0
    inbox.wait_for(lambda m: "inconclusive" in m["subject"])


def test_a_malformed_alarm_event_is_refused_and_told(aws: LocalAws, inbox: Notifications) -> None:
    final, output = run(aws, load_event("worker-analysis/malformed-alarm.json"))

    assert final == "Input refused"
    assert "detail.alarmName" in output["request"]["message"]
    inbox.wait_for(lambda m: "input refused" in m["subject"])


def test_a_malformed_console_input_is_refused(aws: LocalAws) -> None:
    final, output = run(aws, {"environment": "dev analytics", "since_minutes": 5})

    assert final == "Input refused"
    assert "since_minutes" in output["request"]["message"] and "environment" in output["request"]["message"]


def test_an_alarm_that_is_not_the_control_planes_is_refused(aws: LocalAws) -> None:
    event = alarm_event(aws)
    event["detail"]["alarmName"] = "someone-elses-alarm"

    assert run(aws, event)[0] == "Input refused"


def test_an_alarm_back_to_ok_has_nothing_to_analyse(aws: LocalAws) -> None:
    create_environment(aws, ENV)

    assert run(aws, alarm_event(aws, state="OK"))[0] == "Nothing to analyse"


def test_an_alarm_of_an_unknown_or_deleted_environment_ends_clearly(aws: LocalAws, inbox: Notifications) -> None:
    final, output = run(aws, alarm_event(aws, environment="dev-gone"))

    assert final == "Environment unknown"
    assert "dev-gone does not exist" in output["request"]["message"]
    inbox.wait_for(lambda m: "environment unknown" in m["subject"])


def test_getmetricdata_throttling_is_retried_then_analysed(aws: LocalAws) -> None:
    event = capacity_bound_alarm(aws, tags={"mwaa-cp:remediation": "off"})
    aws.faults.inject("cloudwatch", "GetMetricData", error_code="ThrottlingException", times=2)

    final, output = run(aws, event)

    assert final == "Diagnosed" and output["diagnosis"]["cause"] == "capacity_bound"


def test_getmetricdata_throttling_that_never_ends_is_told_not_crashed(aws: LocalAws, inbox: Notifications) -> None:
    event = capacity_bound_alarm(aws, tags={"mwaa-cp:remediation": "off"})
    aws.faults.inject("cloudwatch", "GetMetricData", error_code="ThrottlingException", times=100)

    final, _ = run(aws, event)

    assert final == "Metrics unavailable"
    inbox.wait_for(lambda m: "metrics unavailable" in m["subject"])


def test_the_alarm_rule_starts_the_flow_only_for_the_control_planes_alarms_in_alarm(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={"mwaa-cp:remediation": "off"})

    def publish(event: dict[str, Any]) -> None:
        entry = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event["resources"],
        }
        aws.client("events").put_events(Entries=[entry])

    other = alarm_event(aws)
    other["detail"]["alarmName"] = "someone-elses-alarm"
    publish(other)
    publish(alarm_event(aws, state="OK"))
    publish(alarm_event(aws))
    aws.events.drain()

    [execution] = aws.wait_for_executions("worker-analysis", 1)
    started = aws.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    assert json.loads(started["input"])["detail"]["state"]["value"] == "ALARM"


# ---------------------------------------------------------------------------------------------- remediation


def repository(aws: LocalAws) -> StateRepository:
    return StateRepository(aws.client("dynamodb"), aws.stack.ref("StateTable"), clock_module.get_clock())


def max_workers(aws: LocalAws) -> int:
    return int(aws.client("mwaa").get_environment(Name=ENV)["Environment"]["MaxWorkers"])


def mwaa_cp(aws: LocalAws, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``mwaa-cp`` command against the local runtime, served on a port for the time of the call."""
    server = LocalServer(port=0).start()
    try:
        env = {**os.environ, "AWS_ENDPOINT_URL": server.endpoint_url, "AWS_REGION": "us-east-1"}
        env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        command = [sys.executable, "-m", "mwaa_cp_cli.main", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=120, check=False)
    finally:
        server.stop()


def test_auto_applies_the_capacity_change_through_environment_change_and_says_how_to_revert(
    aws: LocalAws, inbox: Notifications
) -> None:
    event = capacity_bound_alarm(aws, tags={"mwaa-cp:remediation": "auto"})

    final, output = run(aws, event)

    assert final == "Remediated"
    assert output["change"]["result"] == "applied"
    proposed = output["remediation"]["change_request"]["max_workers"]
    assert 5 < proposed <= 10, "within the stack's ceiling (RemediationMaxWorkersCeiling, default 10)"
    assert max_workers(aws) == proposed
    change_id = output["outcome"]["change_id"]
    [record] = [r for r in repository(aws).change_history(ENV) if r.change_id == change_id]
    assert [(c.field, c.before, c.after) for c in record.changes] == [("max_workers", 5, proposed)]
    assert record.requested_by[0].flow == "worker-analysis"
    last = repository(aws).last_remediation(ENV)
    assert last is not None and last.change_id == change_id and last.mode == "auto"
    applied = "MWAA worker analysis: change applied"
    [told] = [m for m in inbox.wait_for(lambda m: m["subject"] == applied) if m["subject"] == applied]
    assert f"max_workers: 5 -> {proposed}" in told["message"]
    assert f"mwaa-cp revert {change_id} --environment {ENV}" in told["message"]


def test_an_alarm_inside_the_cooldown_changes_nothing(aws: LocalAws, inbox: Notifications) -> None:
    event = capacity_bound_alarm(aws, tags={"mwaa-cp:remediation": "auto"})
    # Given an automatic change an hour ago (the cooldown is RemediationCooldownMinutes, default 360)
    repository(aws).record_remediation(
        RemediationRecord(
            environment_name=ENV,
            applied_at=aws.clock.now() - timedelta(hours=1),
            change_id="earlier-change",
            mode="auto",
            cause="capacity_bound",
            result="applied",
        )
    )

    final, output = run(aws, event)

    assert final == "Not remediated"
    assert output["remediation"]["decision"] == "cooldown"
    assert max_workers(aws) == 5
    inbox.wait_for(lambda m: "RemediationCooldownMinutes" in m["message"])


def test_revert_puts_back_the_recorded_before_values(aws: LocalAws) -> None:
    event = capacity_bound_alarm(aws, tags={"mwaa-cp:remediation": "auto"})
    change_id = run(aws, event)[1]["outcome"]["change_id"]
    machine = aws.state_machine_arn("environment-change")
    table = aws.stack.ref("StateTable")

    result = mwaa_cp(aws, "revert", change_id, "-e", ENV, "--state-table", table, "--state-machine-arn", machine)

    assert result.returncode == 0, result.stderr
    arn = result.stdout.strip().removeprefix("revert requested: ")
    assert aws.wait_for_execution(arn, timeout=120)["status"] == "SUCCEEDED"
    assert max_workers(aws) == 5


def test_remediation_off_reports_and_changes_nothing(aws: LocalAws) -> None:
    event = capacity_bound_alarm(aws, tags={"mwaa-cp:remediation": "off"})

    final, output = run(aws, event)

    assert final == "Diagnosed" and output["remediation"]["decision"] == "off"
    assert max_workers(aws) == 5


def test_a_remediation_tag_that_cannot_be_read_changes_nothing_and_says_so(aws: LocalAws, inbox: Notifications) -> None:
    event = capacity_bound_alarm(aws, tags={"mwaa-cp:remediation": "yes"})

    final, output = run(aws, event)

    assert final == "Diagnosed" and output["remediation"]["decision"] == "off"
    assert max_workers(aws) == 5
    [told] = [m for m in inbox.wait_for(lambda m: "capacity_bound" in m["subject"]) if "capacity_bound" in m["subject"]]
    assert "mwaa-cp:remediation='yes' is not off, recommend or auto" in told["message"]


# ---------------------------------------------------------------------------------------------- approvals


def waiting_approval(aws: LocalAws, timeout: float = 60) -> PendingApproval:
    deadline = time.monotonic() + timeout
    while not (pending := repository(aws).pending_approvals(ENV)):
        assert time.monotonic() < deadline, "no approval was requested"
        time.sleep(0.05)
    return pending[-1]


def test_a_recommendation_approved_with_mwaa_cp_approve_is_applied(aws: LocalAws, inbox: Notifications) -> None:
    event = capacity_bound_alarm(aws)  # no tag: recommend
    arn = aws.start_execution("worker-analysis", event)
    approval = waiting_approval(aws)
    [asked] = [m for m in inbox.wait_for(lambda m: "approve a change" in m["subject"]) if "approve a" in m["subject"]]
    assert f"mwaa-cp approve {approval.task_token}" in asked["message"]

    result = mwaa_cp(aws, "approve", approval.task_token)

    assert result.returncode == 0, result.stderr
    aws.wait_for_execution(arn, timeout=300)
    assert last_state(aws, arn) == "Remediated"
    assert max_workers(aws) > 5
    assert repository(aws).last_remediation(ENV).mode == "approved"  # type: ignore[union-attr]


def test_a_rejected_recommendation_changes_nothing(aws: LocalAws, inbox: Notifications) -> None:
    event = capacity_bound_alarm(aws)
    arn = aws.start_execution("worker-analysis", event)
    approval = waiting_approval(aws)

    answer(aws.client("stepfunctions"), approval.task_token, approve=False, note="not this week")

    aws.wait_for_execution(arn, timeout=120)
    assert last_state(aws, arn) == "Rejected"
    assert max_workers(aws) == 5
    # The reason travels as SendTaskFailure's cause, which moto's SendTaskFailure drops: only the notice is checked.
    inbox.wait_for(lambda m: f"The proposal for {ENV} was rejected" in m["message"])


def test_a_token_answered_twice_is_one_clear_line(aws: LocalAws) -> None:
    event = capacity_bound_alarm(aws)
    arn = aws.start_execution("worker-analysis", event)
    approval = waiting_approval(aws)
    answer(aws.client("stepfunctions"), approval.task_token, approve=False, note="no")
    aws.wait_for_execution(arn, timeout=120)

    result = mwaa_cp(aws, "approve", approval.task_token)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "error:" in result.stderr


class TestApprovalTimeout:
    @pytest.fixture
    def aws(self) -> Any:
        # The local runtime times task tokens on the wall clock (moto's callback wait), so the timeout is short.
        with LocalAws(parameters={"ApprovalTimeoutSeconds": "3"}) as runtime:
            yield runtime

    def test_an_unanswered_recommendation_times_out_and_nothing_changes(
        self, aws: LocalAws, inbox: Notifications
    ) -> None:
        event = capacity_bound_alarm(aws)

        final, _ = run(aws, event)

        assert final == "Approval timed out"
        assert max_workers(aws) == 5
        inbox.wait_for(lambda m: "approval timed out" in m["subject"])


# ---------------------------------------------------------------------------------------------- alarms reconciler


def reconcile(aws: LocalAws) -> dict[str, Any]:
    """Invoke the alarms reconciler on demand; its result."""
    function = aws.lambdas.lookup(aws.stack.ref("ReconcileAlarmsFunction"))
    assert function is not None
    invocation = aws.lambdas.invoke(function, {"source": "on-demand"})
    assert invocation.error_type is None, invocation.error_message
    return dict(invocation.result)


def alarms(aws: LocalAws) -> dict[str, dict[str, Any]]:
    found = aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=ALARM_PREFIX)["MetricAlarms"]
    return {alarm["AlarmName"].removeprefix(ALARM_PREFIX): alarm for alarm in found}


def dashboards(aws: LocalAws) -> list[str]:
    entries = aws.client("cloudwatch").list_dashboards(DashboardNamePrefix="mwaa-control-plane-worker-analysis-")
    return [entry["DashboardName"] for entry in entries["DashboardEntries"]]


def tag(aws: LocalAws, name: str, value: str | None) -> None:
    mwaa = aws.client("mwaa")
    arn = mwaa.get_environment(Name=name)["Environment"]["Arn"]
    if value is None:
        mwaa.untag_resource(ResourceArn=arn, tagKeys=["mwaa-cp:analysis"])
    else:
        mwaa.tag_resource(ResourceArn=arn, Tags={"mwaa-cp:analysis": value})


KINDS = {"queue-backlog", "worker-resources", "scheduler-heartbeat", "stranded"}


def test_the_reconciler_creates_alarms_and_a_dashboard_for_opted_in_environments_only(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={"mwaa-cp:analysis": "on"})
    create_environment(aws, "dev-ml")

    result = reconcile(aws)

    assert result["managed"] == [ENV]
    assert set(alarms(aws)) == {f"{ENV}/{kind}" for kind in KINDS}
    assert dashboards(aws) == [f"mwaa-control-plane-worker-analysis-{ENV}"]
    assert result["alarm_metrics_per_environment"] == 9, "0.90 USD a month per environment"
    heartbeat = alarms(aws)[f"{ENV}/scheduler-heartbeat"]
    assert (heartbeat["Threshold"], heartbeat["TreatMissingData"], heartbeat["EvaluationPeriods"]) == (
        1.0,
        "breaching",
        2,
    )
    backlog = alarms(aws)[f"{ENV}/queue-backlog"]
    assert any("age > 1800" in m.get("Expression", "") for m in backlog["Metrics"]), "the console's 1800 s"
    assert alarms(aws)[f"{ENV}/worker-resources"]["Threshold"] == 95.0


def test_the_reconciler_follows_tags_and_environments_that_disappear(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={"mwaa-cp:analysis": "on"})
    create_environment(aws, "dev-ml")
    reconcile(aws)

    tag(aws, ENV, None)
    tag(aws, "dev-ml", "on")
    result = reconcile(aws)

    assert sorted(result["deleted"]) == sorted(f"{ALARM_PREFIX}{ENV}/{kind}" for kind in KINDS)
    assert set(alarms(aws)) == {f"dev-ml/{kind}" for kind in KINDS}
    assert dashboards(aws) == ["mwaa-control-plane-worker-analysis-dev-ml"]

    aws.client("mwaa").delete_environment(Name="dev-ml")
    aws.clock.sleep(3600)  # MWAA takes its time to delete
    reconcile(aws)

    assert alarms(aws) == {} and dashboards(aws) == []


def test_the_reconciler_updates_an_alarm_whose_definition_changed_and_leaves_the_others(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={"mwaa-cp:analysis": "on"})
    reconcile(aws)
    # An alarm edited by hand (or defined by an older version of the stack): its definition no longer matches.
    edited = alarms(aws)[f"{ENV}/worker-resources"]
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName=edited["AlarmName"],
        AlarmDescription="edited by hand",
        Metrics=edited["Metrics"],
        ComparisonOperator="GreaterThanThreshold",
        Threshold=50.0,
        EvaluationPeriods=1,
    )

    result = reconcile(aws)

    assert result["updated"] == [edited["AlarmName"]] and result["created"] == []
    assert result["unchanged"] == 3
    assert alarms(aws)[f"{ENV}/worker-resources"]["Threshold"] == 95.0


def test_the_reconciler_runs_on_its_schedule(aws: LocalAws) -> None:
    create_environment(aws, ENV, tags={"mwaa-cp:analysis": "on"})

    aws.fire("AlarmsReconcileSchedule")
    aws.events.drain()

    assert set(alarms(aws)) == {f"{ENV}/{kind}" for kind in KINDS}


def _role_statements(aws: LocalAws, logical_id: str) -> list[dict[str, Any]]:
    """The Allow/Deny statements of a stack function's role (its inline policies)."""
    function = aws.client("lambda").get_function(FunctionName=aws.stack.ref(logical_id))
    role = function["Configuration"]["Role"].split("/")[-1]
    iam_client = aws.client("iam")
    statements: list[dict[str, Any]] = []
    for name in iam_client.list_role_policies(RoleName=role)["PolicyNames"]:
        found = iam_client.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]["Statement"]
        statements.extend([found] if isinstance(found, dict) else found)
    return statements


def test_the_reconciler_may_touch_only_the_control_planes_alarms_and_dashboards(aws: LocalAws) -> None:
    statements = _role_statements(aws, "ReconcileAlarmsFunction")
    ours = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{ALARM_PREFIX}{ENV}/stranded"
    theirs = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:billing-alarm"
    dashboard = "arn:aws:cloudwatch::123456789012:dashboard/"

    for action in ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"):
        assert iam.allowed(statements, action, ours)
        assert not iam.allowed(statements, action, theirs)
    assert iam.allowed(statements, "cloudwatch:DeleteDashboards", f"{dashboard}mwaa-control-plane-worker-analysis-x")
    assert not iam.allowed(statements, "cloudwatch:DeleteDashboards", f"{dashboard}team-dashboard")
    # Only the reconciler writes alarms; the analysis steps read metrics.
    assert not iam.allowed(_role_statements(aws, "GatherCapacityDataFunction"), "cloudwatch:PutMetricAlarm", ours)
