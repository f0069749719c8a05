"""``mwaa-cp local demo``: the product working, offline, in about a minute.

Every section runs the real ``template.yaml``, state machines and handlers in the local
runtime and prints what happened, step by step, the way a person would check it in the
AWS console.
"""

from __future__ import annotations

import json
import struct
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from mwaa_control_plane.environments.inventory import list_environment_summaries
from mwaa_control_plane.environments.offhours.tags import StackDefaults
from mwaa_cp_cli.cost import cost_report, cost_table
from mwaa_cp_cli.envs import environments_table
from mwaa_cp_cli.output import print_whole
from mwaa_cp_cli.progress import follow_execution
from mwaa_cp_local import mwaa as mwaa_emulator
from mwaa_cp_local.inbox import Inbox
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment, source_bucket_name

# The demo pushes the same files a new user validates by hand (README: `mwaa-cp validate examples/dags/...`).
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EVENTS = Path(__file__).resolve().parents[2] / "events"
HELLO_DAG = EXAMPLES / "dags" / "good" / "hello_mwaa.py"
BROKEN_DAG = EXAMPLES / "dags" / "broken" / "nightly_export.py"
REQUIREMENTS = EXAMPLES / "requirements.txt"


def run_demo(console: Console) -> bool:
    """Run every demo section; True when each one showed what it should."""
    started = time.perf_counter()
    console.rule("[bold]mwaa-control-plane: offline demo")
    console.print("Provisioning template.yaml into the embedded local AWS (moto + project plugins)...")
    # The seed's environments use roles named <environment>-execution-role: the stack may pass only those to MWAA.
    with LocalAws(parameters={"ManagedExecutionRolePattern": "*-execution-role"}) as aws:
        resources = aws.stack.resources
        console.print(f"  {len(resources)} resources created; flows: " + ", ".join(aws.flows()))
        sections: list[tuple[str, Callable[[LocalAws, Console], bool]]] = [
            ("MWAA environments in the emulator", _environments),
            ("Environment health, started by the daily schedule", _environment_health),
            ("DAG delivery: a good DAG and a broken one pushed to the staging bucket", _dag_delivery),
            ("DAG delivery: requirements.txt applied with one UpdateEnvironment", _requirements),
            ("Environment change: the one door, with its lock and its refusals", _environment_change),
            ("Off-hours: hibernate and resume one environment, scale another down and up", _off_hours),
            ("Off-hours: what each environment costs a month, and what its window saves", _cost),
            ("Worker analysis: an alarm fires, the flow names the cause", _worker_analysis),
            ("Variables: /mwaa-cp/ in SSM propagated to an environment, secrets masked", _variables),
        ]
        results = []
        for title, section in sections:
            console.rule(title)
            results.append(section(aws, console))
    elapsed = time.perf_counter() - started
    ok = all(results)
    console.rule(f"[bold {'green' if ok else 'red'}]demo {'passed' if ok else 'FAILED'} in {elapsed:.1f} s")
    return ok


def _environments(aws: LocalAws, console: Console) -> bool:
    console.print(
        "CreateEnvironment x2 (Airflow 2.10.3 via the REST API, 2.2.2 via the CLI endpoint); "
        "statuses move CREATING -> AVAILABLE on the compressed clock..."
    )
    create_environment(aws, "dev-analytics", airflow_version="2.10.3")
    create_environment(
        aws, "legacy-etl", airflow_version="2.2.2", environment_class="mw1.micro", Schedulers=1, MaxWorkers=1
    )
    aws.client("s3").put_object(
        Bucket=source_bucket_name("dev-analytics"), Key="dags/hello_mwaa.py", Body=HELLO_DAG.read_bytes()
    )
    summaries = list_environment_summaries(aws.client("mwaa"))
    print_whole(console, environments_table(summaries))
    return [s.status for s in summaries] == ["AVAILABLE", "AVAILABLE"]


def _environment_health(aws: LocalAws, console: Console) -> bool:
    # Let the emulated MWAA sync and list the DAG folder (30 s + 300 s of virtual time).
    if aws.clock:
        aws.clock.sleep(400)
    console.print("fire(EnvironmentHealthSchedule): EventBridge Scheduler starts the state machine with its Input")
    aws.fire("EnvironmentHealthSchedule")
    executions = aws.wait_for_executions("environment-health", 1)
    description = follow_execution(aws.client("stepfunctions"), executions[0]["executionArn"], console)
    if description["status"] != "SUCCEEDED":
        console.print(f"[red]{description['status']}[/]: {description.get('error')} {description.get('cause')}")
        return False
    reports = json.loads(description["output"])
    table = Table(title="health report (also published to the notification topic)")
    for column in ("environment", "status", "airflow", "DAGs", "import errors", "healthy"):
        table.add_column(column)
    for report in reports:
        table.add_row(
            report["environment_name"],
            report["status"],
            str(report.get("airflow_version")),
            str(report.get("dag_count")),
            str(report.get("import_error_count")),
            "[green]yes[/]" if report["healthy"] else "[red]no[/]",
        )
    print_whole(console, table)
    print_whole(
        console,
        Panel.fit(
            f"{len(aws.lambdas.invocations)} in-process Lambda invocations; logs are in "
            "CloudWatch Logs of the local runtime (/aws/lambda/...)",
            style="dim",
        ),
    )
    by_name = {r["environment_name"]: r for r in reports}
    legacy = [c["id"] for c in by_name.get("legacy-etl", {}).get("failing_checks", [])]
    console.print(
        "legacy-etl is unhealthy on purpose: the doctor's checks run with the health check, and its Airflow 2.2.2 "
        f"is no longer supported by MWAA (failing: {', '.join(legacy) or 'none'})",
        highlight=False,
    )
    return (
        len(reports) == 2
        and by_name["dev-analytics"]["healthy"]
        and by_name["dev-analytics"]["dag_count"] >= 1
        and legacy == ["airflow-version-supported"]
    )


def _follow_new_executions(aws: LocalAws, console: Console, already: int, count: int) -> list[dict[str, object]]:
    executions = sorted(aws.wait_for_executions("dag-delivery", already + count), key=lambda e: e["startDate"])
    results = []
    for execution in executions[already:]:
        description = aws.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
        event = json.loads(description["input"])
        console.print(
            f"[bold]dag-delivery[/] for s3://{event['detail']['bucket']['name']}/{event['detail']['object']['key']}",
            highlight=False,
        )
        results.append(follow_execution(aws.client("stepfunctions"), execution["executionArn"], console))
    return results


def _dag_delivery(aws: LocalAws, console: Console) -> bool:
    s3 = aws.client("s3")
    staging = aws.stack.ref("StagingBucket")
    inbox = Inbox(aws, queue_name="demo-inbox")
    console.print(
        f"aws s3 cp examples/dags/good/hello_mwaa.py s3://{staging}/dev-analytics/dags/good_dag.py   "
        "(dag_id renamed good_dag)\n"
        f"aws s3 cp examples/dags/broken/nightly_export.py s3://{staging}/dev-analytics/dags/nightly_export.py",
        highlight=False,
    )
    good = HELLO_DAG.read_bytes().replace(b"hello_mwaa", b"good_dag")
    s3.put_object(Bucket=staging, Key="dev-analytics/dags/good_dag.py", Body=good)
    broken_version = s3.put_object(
        Bucket=staging, Key="dev-analytics/dags/nightly_export.py", Body=BROKEN_DAG.read_bytes()
    )["VersionId"]
    results = _follow_new_executions(aws, console, 0, 2)
    if any(r["status"] != "SUCCEEDED" for r in results):
        return False  # the steps above show why; there is no delivered file or report to read
    delivered = s3.get_object(Bucket=source_bucket_name("dev-analytics"), Key="dags/good_dag.py")
    airflow = aws.client("mwaa").invoke_rest_api(Name="dev-analytics", Path="/dags", Method="GET")
    dag_ids = [d["dag_id"] for d in airflow["RestApiResponse"]["dags"]]
    console.print(
        f"MWAA bucket: dags/good_dag.py = staging version {delivered['Metadata']['staging-version-id']}; "
        f"Airflow REST API lists DAGs {dag_ids}",
        highlight=False,
    )
    report_key = f"reports/dev-analytics/nightly_export.py/{broken_version}.json"
    report = json.loads(s3.get_object(Bucket=staging, Key=report_key)["Body"].read())
    table = Table(title=f"s3://{staging}/{report_key}")
    for column in ("rule", "severity", "line", "message"):
        table.add_column(column)
    for finding in report["files"][0]["findings"]:
        table.add_row(finding["rule"], finding["severity"], str(finding["line"] or "-"), finding["message"])
    print_whole(console, table)
    rejected = [m for m in inbox.messages() if "rejected" in m["subject"]]
    if rejected:
        print_whole(console, Panel(rejected[0]["message"], title=f"SNS: {rejected[0]['subject']}", style="yellow"))
    try:
        s3.head_object(Bucket=source_bucket_name("dev-analytics"), Key="dags/nightly_export.py")
        quarantined = False
    except s3.exceptions.ClientError:
        quarantined = True
    return "good_dag" in dag_ids and quarantined and report["files"][0]["verdict"] == "fail" and bool(rejected)


def _requirements(aws: LocalAws, console: Console) -> bool:
    s3 = aws.client("s3")
    staging = aws.stack.ref("StagingBucket")
    already = len(aws.executions("dag-delivery"))
    console.print(f"aws s3 cp examples/requirements.txt s3://{staging}/dev-analytics/requirements.txt", highlight=False)
    s3.put_object(Bucket=staging, Key="dev-analytics/requirements.txt", Body=REQUIREMENTS.read_bytes())
    [result] = _follow_new_executions(aws, console, already, 1)
    environment = aws.client("mwaa").get_environment(Name="dev-analytics")["Environment"]
    console.print(
        f"dev-analytics: {environment['Status']}, requirements.txt version "
        f"{environment.get('RequirementsS3ObjectVersion')}, last update {environment['LastUpdate']['Status']}",
        highlight=False,
    )
    return result["status"] == "SUCCEEDED" and environment["LastUpdate"]["Status"] == "SUCCESS"


def _environment_change(aws: LocalAws, console: Console) -> bool:
    """A capacity change applied through the one door, then a change MWAA would refuse, refused before the API."""
    results = []
    for sample in ("capacity-change.json", "refused-micro-schedulers.json"):
        console.print(f"mwaa-cp run environment-change --input events/environment-change/{sample}", highlight=False)
        request = json.loads((EVENTS / "environment-change" / sample).read_text())
        arn = aws.start_execution("environment-change", request)
        results.append(follow_execution(aws.client("stepfunctions"), arn, console))
    environment = aws.client("mwaa").get_environment(Name="dev-analytics")["Environment"]
    console.print(
        f"dev-analytics: {environment['Status']}, {environment['EnvironmentClass']}, "
        f"workers {environment['MinWorkers']}-{environment['MaxWorkers']} (the refused class change changed nothing)",
        highlight=False,
    )
    applied, refused = results
    return (
        applied["status"] == "SUCCEEDED"
        and refused["status"] == "FAILED"
        and (environment["MinWorkers"], environment["MaxWorkers"]) == (2, 6)
        and environment["EnvironmentClass"] == "mw1.small"
    )


# Windows the demo tags its environments with (docs/off-hours.md has the grammar).
WORK_WEEK_NIGHTS = "Mon-Fri 20:00-07:00 / Sat-Sun"
CAPACITY_FIELDS = ("EnvironmentClass", "MinWorkers", "MaxWorkers", "Schedulers", "MinWebservers", "MaxWebservers")


def _console_action(aws: LocalAws, console: Console, sample: str, environment: str) -> dict[str, object]:
    request = {**json.loads((EVENTS / "off-hours" / sample).read_text()), "environment": environment}
    console.print(f"mwaa-cp run off-hours --input '{json.dumps(request)}'", highlight=False)
    arn = aws.start_execution("off-hours", request)
    return follow_execution(aws.client("stepfunctions"), arn, console)


def _off_hours(aws: LocalAws, console: Console) -> bool:
    """Console actions from events/off-hours/: the same state machine the 15-minute schedule starts."""
    mwaa = aws.client("mwaa")
    arn = mwaa.get_environment(Name="dev-analytics")["Environment"]["Arn"]
    mwaa.tag_resource(
        ResourceArn=arn,
        Tags={
            "mwaa-cp:off-hours": "hibernate",
            "mwaa-cp:window": WORK_WEEK_NIGHTS,
            "mwaa-cp:timezone": "Europe/Berlin",
        },
    )
    create_environment(
        aws,
        "dev-ml",
        environment_class="mw1.medium",
        MinWorkers=2,
        MaxWorkers=8,
        tags={
            "mwaa-cp:off-hours": "scale-down",
            "mwaa-cp:window": WORK_WEEK_NIGHTS,
            "mwaa-cp:off-hours-class": "mw1.small",
        },
    )
    mwaa.invoke_rest_api(
        Name="dev-analytics", Path="/variables", Method="POST", Body={"key": "s3_bucket", "value": "demo-raw"}
    )
    before = {k: v for k, v in mwaa.get_environment(Name="dev-analytics")["Environment"].items() if k != "Status"}
    results = [_console_action(aws, console, "hibernate.json", "dev-analytics")]
    gone = "dev-analytics" not in mwaa.list_environments()["Environments"]
    console.print(f"dev-analytics deleted: {gone}; its snapshot is in the KMS-encrypted, versioned snapshot bucket")
    results.append(_console_action(aws, console, "resume.json", "dev-analytics"))
    after = mwaa.get_environment(Name="dev-analytics")["Environment"]
    same = all(
        after.get(field) == before.get(field) for field in ("Tags", "EnvironmentClass", "RequirementsS3ObjectVersion")
    )
    variable = mwaa.invoke_rest_api(Name="dev-analytics", Path="/variables/s3_bucket", Method="GET")
    console.print(
        f"dev-analytics: {after['Status']}, tags and configuration as before: {same}, "
        f"variable s3_bucket = {variable['RestApiResponse']['value']!r} (restored)",
        highlight=False,
    )
    capacity = [tuple(mwaa.get_environment(Name="dev-ml")["Environment"][f] for f in CAPACITY_FIELDS)]
    for sample in ("scale-down.json", "scale-up.json"):
        results.append(_console_action(aws, console, sample, "dev-ml"))
        capacity.append(tuple(mwaa.get_environment(Name="dev-ml")["Environment"][f] for f in CAPACITY_FIELDS))
    table = Table(title="dev-ml capacity (class, workers min-max, schedulers, web servers min-max)")
    for column in ("when", *CAPACITY_FIELDS):
        table.add_column(column)
    for when, row in zip(("before", "scaled down for the night", "scaled up in the morning"), capacity, strict=True):
        table.add_row(when, *(str(value) for value in row))
    print_whole(console, table)
    return (
        all(r["status"] == "SUCCEEDED" for r in results)
        and gone
        and same
        and variable["RestApiResponse"]["value"] == "demo-raw"
        and capacity[0] == capacity[2] != capacity[1]
    )


def _cost(aws: LocalAws, console: Console) -> bool:
    console.print("mwaa-cp cost   (prices: environments/data/prices.json, each with its source and date)")
    report = cost_report(
        aws.client("mwaa"),
        aws.client("cloudwatch"),
        stack=StackDefaults(window=WORK_WEEK_NIGHTS, timezone="UTC"),
        now=aws.clock.now() if aws.clock else None,
    )
    print_whole(console, cost_table(report))
    by_name = {line.name: line for line in report.environments}
    hibernated = by_name.get("dev-analytics")
    saving = hibernated.saving if hibernated is not None else None
    if saving is not None:
        console.print(f"Hibernating dev-analytics nightly and at weekends saves {saving} USD a month.", highlight=False)
    return saving is not None and saving > 0


# The environment the worker-analysis section loads: the simulator's nightly-etl workload outgrows five mw1.small
# workers (the flow tests' capacity-bound case), so the expected cause is known.
ANALYSED = "dev-etl"
EXPECTED_CAUSE = "capacity_bound"
CHART_COPY = Path(tempfile.gettempdir()) / "mwaa-cp-demo-worker-analysis-chart.png"


def _s3_object(aws: LocalAws, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return bytes(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def _png_size(png: bytes) -> tuple[int, int] | None:
    """Width and height from the PNG's IHDR chunk (None: not a PNG)."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n") or len(png) < 24:
        return None
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def _alarm_event(alarm: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The sample alarm event from events/worker-analysis/, for one of the alarms the reconciler created."""
    event: dict[str, Any] = json.loads((EVENTS / "worker-analysis" / "alarm-queue-backlog.json").read_text())
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["resources"] = [alarm["AlarmArn"]]
    event["detail"]["alarmName"] = alarm["AlarmName"]
    event["detail"]["state"]["value"] = "ALARM"
    return event


def _worker_analysis(aws: LocalAws, console: Console) -> bool:
    """Opt an environment in, reconcile its alarms, load it with the simulator, fire the alarm through EventBridge,
    and follow worker-analysis to its diagnosis and its automatic (capped, locked) capacity change."""
    mwaa = aws.client("mwaa")
    cloudwatch = aws.client("cloudwatch")
    tags = {"mwaa-cp:analysis": "on", "mwaa-cp:remediation": "auto"}
    console.print(
        f"CreateEnvironment {ANALYSED} (mw1.small, workers 1-5) tagged "
        + ", ".join(f"{k}={v}" for k, v in tags.items()),
        highlight=False,
    )
    create_environment(aws, ANALYSED, tags=tags, MinWorkers=1, MaxWorkers=5)

    console.print("fire(AlarmsReconcileSchedule): the alarms reconciler puts the alarms of opted-in environments")
    aws.fire("AlarmsReconcileSchedule")
    aws.events.drain()
    found = cloudwatch.describe_alarms()["MetricAlarms"]
    ours = sorted((a for a in found if f"/worker-analysis/{ANALYSED}/" in a["AlarmName"]), key=lambda a: a["AlarmName"])
    table = Table(title=f"CloudWatch alarms for {ANALYSED} (no actions: EventBridge carries the state change)")
    for column in ("alarm", "metrics", "periods", "missing data"):
        table.add_column(column)
    for alarm in ours:
        metrics = sum(1 for m in alarm.get("Metrics", []) if "MetricStat" in m) or 1
        table.add_row(
            alarm["AlarmName"], str(metrics), str(alarm["EvaluationPeriods"]), alarm.get("TreatMissingData", "-")
        )
    print_whole(console, table)
    backlog = [a for a in ours if a["AlarmName"].endswith("/queue-backlog")]
    if not backlog:
        console.print(f"[red]the reconciler created no queue-backlog alarm for {ANALYSED}[/]")
        return False

    now = aws.clock.now() if aws.clock else datetime.now(UTC)
    end = now.replace(second=0, microsecond=0)
    simulation = mwaa_emulator.simulate_workload(aws, ANALYSED, "nightly-etl", end=end)
    console.print(
        f"simulate_workload({ANALYSED}, nightly-etl): the emulator plays the workload with Celery autoscaling "
        f"and publishes its metrics into the local CloudWatch for the {len(simulation.minutes)} minutes up to "
        f"{end:%H:%M} UTC: up to {max(m.queued for m in simulation.minutes)} tasks queued, "
        f"{max(m.running for m in simulation.minutes)} running, {max(m.workers for m in simulation.minutes)} workers",
        highlight=False,
    )

    event = _alarm_event(backlog[0], now)
    console.print(
        f"{backlog[0]['AlarmName']} -> ALARM: PutEvents 'CloudWatch Alarm State Change' to the default bus "
        "(the event CloudWatch sends; the stack's rule starts worker-analysis for its own alarms in ALARM)",
        highlight=False,
    )
    already = len(aws.executions("worker-analysis"))
    inbox = Inbox(aws, queue_name="demo-analysis-inbox")
    entry = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "Resources": event["resources"],
        "Time": now,  # the virtual clock's now: the window is the AnalysisWindowMinutes before the event's time
    }
    aws.client("events").put_events(Entries=[entry])
    aws.events.drain()
    executions = sorted(aws.wait_for_executions("worker-analysis", already + 1), key=lambda e: e["startDate"])
    description = follow_execution(aws.client("stepfunctions"), executions[-1]["executionArn"], console)
    if description["status"] != "SUCCEEDED":
        console.print(f"[red]{description['status']}[/]: {description.get('error')} {description.get('cause')}")
        return False
    output = json.loads(description.get("output") or "{}")
    uris = output.get("report", {})
    report = json.loads(_s3_object(aws, uris["report_uri"]))
    top = report["findings"][0]
    evidence = ", ".join(f"{k} {v}" for k, v in top["evidence"].items())
    recommendation = report["recommendation"]
    cost = recommendation.get("cost") or {}
    lines = [
        f"cause: [bold]{report['cause']}[/]" + (f" (limit {report['limit']})" if report.get("limit") else ""),
        f"window: {report['window']['start']} -> {report['window']['end']}",
        f"top finding ({top['rule']}): {top['message']}",
        f"  evidence: {evidence}",
        f"recommendation ({recommendation['action']}): {recommendation['summary']}",
    ]
    if cost:
        lines.append(
            f"  monthly cost: {cost.get('before_monthly')} -> {cost.get('after_monthly')} USD "
            f"(delta {cost.get('delta_monthly')} USD at MinWorkers; up to {cost.get('delta_monthly_at_max')} USD "
            "more if the new MaxWorkers ran all month)"
        )
    lines.append(f"report: {uris['report_uri'].rsplit('/', 1)[0]}/ (report.json, report.md, scenario.json)")
    print_whole(console, Panel("\n".join(lines), title=f"worker-analysis: {ANALYSED}", highlight=False))

    png = _s3_object(aws, uris["chart_uri"])
    size = _png_size(png)
    CHART_COPY.write_bytes(png)
    console.print(
        f"chart: {uris['chart_uri']} ({len(png):,} bytes"
        + (f", {size[0]}x{size[1]} px" if size else ", [red]not a PNG[/]")
        + f"; drawn offline by the control plane, copied to {CHART_COPY})",
        highlight=False,
    )
    try:  # SNS delivers asynchronously, as on AWS; the last notification of an auto run is "change applied"
        arrived = inbox.wait_for(lambda m: "change applied" in m["subject"], timeout=5)
    except TimeoutError:
        arrived = inbox.messages()
    told = [m for m in arrived if "worker analysis" in m["subject"].lower()]
    for message in told:
        console.print(f"SNS: {message['subject']}", highlight=False)

    environment = mwaa.get_environment(Name=ANALYSED)["Environment"]
    change = output.get("change") or {}
    proposed = (output.get("remediation") or {}).get("change_request") or {}
    console.print(
        f"mwaa-cp:remediation=auto: {change.get('result', 'no change')} through environment-change "
        f"(change {(output.get('outcome') or {}).get('change_id', '-')}); {ANALYSED} now {environment['Status']}, "
        f"workers {environment['MinWorkers']}-{environment['MaxWorkers']} (was 1-5)",
        highlight=False,
    )
    return (
        report["cause"] == EXPECTED_CAUSE
        and size is not None
        and change.get("result") == "applied"
        and environment["MaxWorkers"] == proposed.get("max_workers")
    )


# The variables section: an environment reading variables through the SSM secrets backend, under its own prefixes.
VARIABLES_ENVIRONMENT = "dev-reporting"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
DEMO_VARIABLE = ("data_bucket", "reporting-data-dev", "reporting-data-dev-v2")
# Made up for the demo, and never printed: the section shows its fingerprint (hash prefix and length) only.
DEMO_SECRET = ("partner_api_token", "demo-token-0f3e9a7c51d24b8e", "demo-token-rotated-6b1d0c93e2f7")


def _propagated(aws: LocalAws, console: Console, puts: list[tuple[str, str, str]], *, follow: bool) -> bool:
    """Put source parameters; the stack's rule starts variable-propagation for each; follow them to the end."""
    ssm = aws.client("ssm")
    already = len(aws.executions("variable-propagation"))
    for key, value, kind in puts:
        name = f"/mwaa-cp/variables/global/{key}"
        shown = "****" if kind == "SecureString" else value
        console.print(f"aws ssm put-parameter --name {name} --type {kind} --value {shown} --overwrite", highlight=False)
        ssm.put_parameter(Name=name, Value=value, Type=kind, Overwrite=True)
    aws.events.drain()
    executions = sorted(
        aws.wait_for_executions("variable-propagation", already + len(puts)), key=lambda e: e["startDate"]
    )
    sfn = aws.client("stepfunctions")
    results = []
    for index, execution in enumerate(executions[already:]):
        arn = execution["executionArn"]
        event = json.loads(sfn.describe_execution(executionArn=arn)["input"])
        about = f"[bold]variable-propagation[/] for {event['detail']['name']} ({event['detail']['operation']})"
        if follow and index == 0:  # one walk step by step; the others alike, in a line each
            console.print(about, highlight=False)
            results.append(follow_execution(sfn, arn, console))
            continue
        description = aws.wait_for_execution(arn)
        results.append(description)
        writes = sum(
            1
            for e in aws.history(arn)
            if e["type"] == "TaskStateEntered"
            and e["stateEnteredEventDetails"]["name"] == "Write the changes to the target"
        )
        colour = "green" if description["status"] == "SUCCEEDED" else "red"
        console.print(f"{about}: [{colour}]{description['status']}[/], {writes} write step(s)", highlight=False)
    return all(r["status"] == "SUCCEEDED" for r in results)


def _variables(aws: LocalAws, console: Console) -> bool:
    """Tag an environment with the SSM backend, change a variable and a secret in the source tree, let the
    Parameter Store Change events propagate them, then show the plan view and what its Airflow reads (masked)."""
    from mwaa_control_plane.airflow import AirflowClient
    from mwaa_control_plane.clock import get_clock
    from mwaa_control_plane.variables.names import fingerprint
    from mwaa_control_plane.variables.propagation import Connections, PropagationRequest, plan_propagation
    from mwaa_cp_cli.vars import print_plan
    from mwaa_cp_local.mwaa import airflow_of, read_variable

    prefix = f"/airflow/{VARIABLES_ENVIRONMENT}"
    kwargs = {
        "variables_prefix": f"{prefix}/variables",
        "connections_prefix": f"{prefix}/connections",
        "connections_lookup_pattern": "^(?!aws_default$).*",
    }
    console.print(
        f"CreateEnvironment {VARIABLES_ENVIRONMENT} tagged mwaa-cp:variables=on, with the SSM secrets backend "
        f"reading {prefix}/variables and {prefix}/connections",
        highlight=False,
    )
    create_environment(
        aws,
        VARIABLES_ENVIRONMENT,
        tags={"mwaa-cp:variables": "on"},
        AirflowConfigurationOptions={"secrets.backend": SSM_BACKEND, "secrets.backend_kwargs": json.dumps(kwargs)},
    )
    (variable, value, changed), (secret, token, rotated) = DEMO_VARIABLE, DEMO_SECRET
    ok = _propagated(aws, console, [(variable, value, "String"), (secret, token, "SecureString")], follow=True)
    console.print("A variable changed and the secret rotated:", highlight=False)
    ok = (
        _propagated(aws, console, [(variable, changed, "String"), (secret, rotated, "SecureString")], follow=False)
        and ok
    )

    clock = aws.clock or get_clock()
    connections = Connections(
        mwaa=aws.client("mwaa"),
        ssm=aws.client("ssm"),
        airflow=lambda name: AirflowClient(aws.client("mwaa"), name, clock=clock),
        clock=clock,
        kms_key_id="alias/aws/ssm",
        write_rate=3.0,
    )
    console.print("mwaa-cp vars plan   (what apply would still write: the events already did)", highlight=False)
    plan = plan_propagation(connections, PropagationRequest(mode="plan"))
    print_plan(console, plan)

    instance = airflow_of(VARIABLES_ENVIRONMENT)
    read = {key: read_variable(instance, key, on="worker") for key in (variable, secret)}
    ssm = aws.client("ssm")
    written = ssm.get_parameter(Name=f"{prefix}/variables/{secret}")["Parameter"]
    table = Table(title=f"{VARIABLES_ENVIRONMENT}: what a task reads through the SSM secrets backend")
    for column in ("Variable.get", "parameter", "type", "value"):
        table.add_column(column)
    table.add_row(variable, f"{prefix}/variables/{variable}", "String", repr(read[variable]))
    token_read = read[secret]
    shown = "None" if token_read is None else f"{fingerprint(token_read)} (masked)"
    table.add_row(secret, f"{prefix}/variables/{secret}", written["Type"], shown)
    print_whole(console, table)
    in_sync = all(not p.changes and not p.problems for p in plan.environments) and len(plan.environments) == 1
    return (
        ok and in_sync and read[variable] == changed and read[secret] == rotated and written["Type"] == "SecureString"
    )
