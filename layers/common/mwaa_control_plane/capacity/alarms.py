"""The alarms reconciler: every environment tagged ``mwaa-cp:analysis`` = ``on`` gets the worker-analysis alarms
and a dashboard; environments that disappeared or lost the tag lose theirs.

Four alarms per environment, named ``<prefix><environment>/<kind>`` so that the EventBridge rule matches only the
control plane's alarms (docs/worker-analysis.md § The flow). Metric math keeps the count small; CloudWatch bills
every metric an alarm reads (0.10 USD a month each at standard resolution), so the four alarms read nine metrics:

=====================  ==========================================================================  ===========
alarm                  fires when                                                                  metrics
=====================  ==========================================================================  ===========
``queue-backlog``      ApproximateAgeOfOldestTask max > age threshold OR QueuedTasks max > queued   2
                       threshold, 3 of 3 periods of 300 s (the console's 1800 s age alarm)
``worker-resources``   the highest of BaseWorker/AdditionalWorker CPU and memory > 95 %, 6 of 6      4
``scheduler-heartbeat`` SchedulerHeartbeat sum < 1, 2 of 2, missing data breaching                  1
``stranded``           queued > running and running = 0 over 900 s (AWS's dashboard sample)         2
=====================  ==========================================================================  ===========

Each alarm's description carries a fingerprint of its definition, so a reconcile tells created, updated (a
threshold parameter changed) and unchanged alarms apart without comparing CloudWatch's echo field by field.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from mwaa_control_plane.capacity.flow import alarm_name, environment_of_alarm
from mwaa_control_plane.errors import translate_client_error
from mwaa_control_plane.payloads import Payload

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_mwaa import MWAAClient

    from mwaa_control_plane.config import WorkerAnalysisSettings

ANALYSIS_TAG = "mwaa-cp:analysis"
KINDS = ("queue-backlog", "worker-resources", "scheduler-heartbeat", "stranded")
_GONE = ("DELETING", "DELETED")


class AlarmsReconciled(Payload):
    managed: list[str]
    created: list[str]
    updated: list[str]
    unchanged: int
    deleted: list[str]
    dashboards: list[str]
    dashboards_deleted: list[str]
    alarm_metrics_per_environment: int


def _stat(
    metric_id: str, namespace: str, name: str, dimensions: dict[str, str], stat: str, period: int
) -> dict[str, Any]:
    return {
        "Id": metric_id,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": False,
    }


def desired_alarms(environment: str, settings: WorkerAnalysisSettings) -> list[dict[str, Any]]:
    """PutMetricAlarm's arguments for each of the environment's alarms (no actions: EventBridge carries them)."""
    env = {"Environment": environment}
    executor = {**env, "Function": "Executor"}
    age, queued, level = (
        settings.queue_age_threshold_seconds,
        settings.queued_tasks_threshold,
        settings.worker_utilization_threshold,
    )
    worker = [
        _stat(f"{metric}_{cluster.lower()}", "AWS/MWAA", name, {**env, "Cluster": cluster}, "Average", 300)
        for metric, name in (("cpu", "CPUUtilization"), ("memory", "MemoryUtilization"))
        for cluster in ("BaseWorker", "AdditionalWorker")
    ]
    definitions: dict[str, dict[str, Any]] = {
        "queue-backlog": {
            "what": f"tasks wait: oldest task older than {age} s or more than {queued} queued, 15 minutes",
            "Metrics": [
                {"Id": "backlog", "Expression": f"IF(age > {age} OR queued > {queued}, 1, 0)", "ReturnData": True},
                _stat("age", "AWS/MWAA", "ApproximateAgeOfOldestTask", env, "Maximum", 300),
                _stat("queued", "AWS/MWAA", "QueuedTasks", env, "Maximum", 300),
            ],
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0.0,
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 3,
            "TreatMissingData": "notBreaching",
        },
        "worker-resources": {
            "what": f"a worker cluster's CPU or memory above {level} % for 30 minutes",
            "Metrics": [
                {"Id": "busiest", "Expression": f"MAX([{', '.join(m['Id'] for m in worker)}])", "ReturnData": True},
                *worker,
            ],
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": float(level),
            "EvaluationPeriods": 6,
            "DatapointsToAlarm": 6,
            "TreatMissingData": "notBreaching",
        },
        "scheduler-heartbeat": {
            "what": "no scheduler heartbeat for 10 minutes (missing data is breaching)",
            "Namespace": "AmazonMWAA",
            "MetricName": "SchedulerHeartbeat",
            "Dimensions": [{"Name": "Environment", "Value": environment}, {"Name": "Function", "Value": "Scheduler"}],
            "Statistic": "Sum",
            "Period": 300,
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1.0,
            "EvaluationPeriods": 2,
            "DatapointsToAlarm": 2,
            "TreatMissingData": "breaching",
        },
        "stranded": {
            "what": "tasks queued while nothing runs for 15 minutes (worker or scheduler health, not capacity)",
            "Metrics": [
                {"Id": "stranded", "Expression": "IF(queued > running AND running == 0, 1, 0)", "ReturnData": True},
                _stat("queued", "AmazonMWAA", "QueuedTasks", executor, "Maximum", 900),
                _stat("running", "AmazonMWAA", "RunningTasks", executor, "Maximum", 900),
            ],
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0.0,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "TreatMissingData": "notBreaching",
        },
    }
    alarms = []
    for kind in KINDS:
        definition = dict(definitions[kind])
        what = definition.pop("what")
        fingerprint = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:12]
        alarms.append(
            {
                "AlarmName": alarm_name(settings.alarm_name_prefix, environment, kind),
                "AlarmDescription": f"mwaa-cp worker analysis of {environment}: {what} [definition {fingerprint}]",
                "ActionsEnabled": False,
                **definition,
            }
        )
    return alarms


def alarm_metric_count(alarm: dict[str, Any]) -> int:
    """The metrics CloudWatch bills an alarm for (a math alarm: each metric it reads)."""
    return sum(1 for m in alarm.get("Metrics", []) if "MetricStat" in m) or 1


def dashboard_body(environment: str, region: str, settings: WorkerAnalysisSettings) -> str:
    """One dashboard per environment: queue against running tasks and workers, oldest task, worker CPU and memory,
    scheduler heartbeat, and the state of its alarms."""
    env = ["Environment", environment]

    def graph(title: str, metrics: list[list[Any]], x: int, y: int) -> dict[str, Any]:
        properties = {"title": title, "region": region, "view": "timeSeries", "period": 60, "metrics": metrics}
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": properties}

    alarms = [
        f"arn:aws:cloudwatch:{region}:{{account}}:alarm:{alarm_name(settings.alarm_name_prefix, environment, kind)}"
        for kind in KINDS
    ]
    widgets = [
        graph(
            "Queued and running tasks, workers",
            [
                ["AWS/MWAA", "QueuedTasks", *env, {"stat": "Maximum"}],
                ["AWS/MWAA", "RunningTasks", *env, {"stat": "Maximum"}],
                [
                    "AWS/MWAA",
                    "CPUUtilization",
                    "Cluster",
                    "AdditionalWorker",
                    *env,
                    {"stat": "SampleCount", "yAxis": "right", "label": "additional workers"},
                ],
            ],
            0,
            0,
        ),
        graph("Oldest task age (s)", [["AWS/MWAA", "ApproximateAgeOfOldestTask", *env, {"stat": "Maximum"}]], 12, 0),
        graph(
            "Worker CPU and memory (%)",
            [
                ["AWS/MWAA", metric, "Cluster", cluster, *env]
                for metric in ("CPUUtilization", "MemoryUtilization")
                for cluster in ("BaseWorker", "AdditionalWorker")
            ],
            0,
            6,
        ),
        graph(
            "Scheduler heartbeat",
            [["AmazonMWAA", "SchedulerHeartbeat", "Function", "Scheduler", *env, {"stat": "Sum"}]],
            12,
            6,
        ),
        {
            "type": "alarm",
            "x": 0,
            "y": 12,
            "width": 24,
            "height": 3,
            "properties": {"title": "Worker-analysis alarms", "alarms": alarms},
        },
    ]
    return json.dumps({"widgets": widgets})


def managed_environments(mwaa: MWAAClient) -> list[str]:
    """Environments (ListEnvironments) tagged mwaa-cp:analysis=on and not being deleted, by name."""
    names: list[str] = []
    try:
        for page in mwaa.get_paginator("list_environments").paginate():
            names.extend(page["Environments"])
    except ClientError as error:
        raise translate_client_error(error, operation="ListEnvironments") from None
    managed = []
    for name in sorted(names):
        try:
            environment = mwaa.get_environment(Name=name)["Environment"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                continue  # deleted since the listing
            raise translate_client_error(error, operation="GetEnvironment") from None
        tags = environment.get("Tags") or {}
        if tags.get(ANALYSIS_TAG, "").strip().lower() == "on" and environment.get("Status") not in _GONE:
            managed.append(name)
    return managed


def _existing_alarms(cloudwatch: CloudWatchClient, prefix: str) -> dict[str, str]:
    """Name -> description of the control plane's alarms (metric and composite)."""
    found: dict[str, str] = {}
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix):
        for alarm in page.get("MetricAlarms", []):
            found[alarm["AlarmName"]] = alarm.get("AlarmDescription", "")
    return found


def _existing_dashboards(cloudwatch: CloudWatchClient, prefix: str) -> list[str]:
    names: list[str] = []
    for page in cloudwatch.get_paginator("list_dashboards").paginate(DashboardNamePrefix=prefix):
        names.extend(entry["DashboardName"] for entry in page.get("DashboardEntries", []) if "DashboardName" in entry)
    return names


def reconcile_alarms(
    mwaa: MWAAClient, cloudwatch: CloudWatchClient, settings: WorkerAnalysisSettings, *, account: str
) -> AlarmsReconciled:
    """Create or update the alarms and dashboards of every managed environment; delete the others'."""
    managed = managed_environments(mwaa)
    try:
        existing = _existing_alarms(cloudwatch, settings.alarm_name_prefix)
        created: list[str] = []
        updated: list[str] = []
        unchanged = 0
        wanted: set[str] = set()
        metrics_per_environment = 0
        for environment in managed:
            alarms = desired_alarms(environment, settings)
            metrics_per_environment = sum(alarm_metric_count(alarm) for alarm in alarms)
            for alarm in alarms:
                name = alarm["AlarmName"]
                wanted.add(name)
                if existing.get(name) == alarm["AlarmDescription"]:
                    unchanged += 1
                    continue
                cloudwatch.put_metric_alarm(**alarm)
                (updated if name in existing else created).append(name)
        stale = sorted(
            name
            for name in existing
            if name not in wanted and environment_of_alarm(settings.alarm_name_prefix, name) is not None
        )
        for first in range(0, len(stale), 100):  # DeleteAlarms takes at most 100 names
            cloudwatch.delete_alarms(AlarmNames=stale[first : first + 100])
        dashboards = {f"{settings.dashboard_name_prefix}{environment}": environment for environment in managed}
        for name, environment in dashboards.items():
            body = dashboard_body(environment, settings.region, settings).replace("{account}", account)
            cloudwatch.put_dashboard(DashboardName=name, DashboardBody=body)
        gone = sorted(set(_existing_dashboards(cloudwatch, settings.dashboard_name_prefix)) - set(dashboards))
        if gone:
            cloudwatch.delete_dashboards(DashboardNames=gone)
    except ClientError as error:
        raise translate_client_error(error, operation="CloudWatch") from None
    return AlarmsReconciled(
        managed=managed,
        created=created,
        updated=updated,
        unchanged=unchanged,
        deleted=stale,
        dashboards=sorted(dashboards),
        dashboards_deleted=gone,
        alarm_metrics_per_environment=metrics_per_environment,
    )
