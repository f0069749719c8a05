"""``mwaa-cp local demo``: the product working, offline, in about a minute.

Every section runs the real ``template.yaml``, state machines and handlers in the local
runtime and prints what happened, step by step, the way a person would check it in the
AWS console.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from mwaa_control_plane.cli.envs import environments_table
from mwaa_control_plane.cli.progress import follow_execution
from mwaa_control_plane.environments.inventory import list_environment_summaries
from mwaa_control_plane.local.runtime import LocalAws
from mwaa_control_plane.local.seed import create_environment, source_bucket_name

HELLO_DAG = b"""from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG(dag_id="hello_mwaa", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False):
    EmptyOperator(task_id="start")
"""


def run_demo(console: Console) -> bool:
    """Run every demo section; True when each one showed what it should."""
    started = time.perf_counter()
    console.rule("[bold]mwaa-control-plane: offline demo")
    console.print("Provisioning template.yaml into the embedded local AWS (moto + project plugins)...")
    with LocalAws() as aws:
        resources = aws.stack.resources
        console.print(
            f"  {len(resources)} resources created; flows: "
            + ", ".join(
                sorted(
                    r.attributes["Name"].removeprefix(f"{aws.stack_name}-")
                    for r in aws.stack.of_type("AWS::StepFunctions::StateMachine").values()
                )
            )
        )
        sections: list[tuple[str, Callable[[LocalAws, Console], bool]]] = [
            ("MWAA environments in the emulator", _environments),
            ("Environment health, started by the daily schedule", _environment_health),
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
    aws.client("s3").put_object(Bucket=source_bucket_name("dev-analytics"), Key="dags/hello_mwaa.py", Body=HELLO_DAG)
    summaries = list_environment_summaries(aws.client("mwaa"))
    console.print(environments_table(summaries))
    return [s.status for s in summaries] == ["AVAILABLE", "AVAILABLE"]


def _environment_health(aws: LocalAws, console: Console) -> bool:
    # Let the emulated MWAA sync and list the DAG folder (30 s + 300 s of virtual time).
    aws.clock.sleep(400) if aws.clock else None
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
    console.print(table)
    console.print(
        Panel.fit(
            f"{len(aws.lambdas.invocations)} in-process Lambda invocations; logs are in "
            "CloudWatch Logs of the local runtime (/aws/lambda/...)",
            style="dim",
        )
    )
    return len(reports) == 2 and all(r["healthy"] for r in reports) and reports[0]["dag_count"] >= 1
