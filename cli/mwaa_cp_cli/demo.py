"""``mwaa-cp local demo``: the product working, offline, in about a minute.

Every section runs the real ``template.yaml``, state machines and handlers in the local
runtime and prints what happened, step by step, the way a person would check it in the
AWS console.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from mwaa_control_plane.environments.inventory import list_environment_summaries
from mwaa_control_plane.environments.offhours.tags import StackDefaults
from mwaa_cp_cli.cost import cost_report, cost_table
from mwaa_cp_cli.envs import environments_table
from mwaa_cp_cli.output import print_whole
from mwaa_cp_cli.progress import follow_execution
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
    return len(reports) == 2 and all(r["healthy"] for r in reports) and by_name["dev-analytics"]["dag_count"] >= 1


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
