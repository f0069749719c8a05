"""Classic operators, nested TaskGroups, branching and every way of declaring dependencies."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.models.baseoperator import chain, cross_downstream
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import BranchPythonOperator, PythonOperator
from airflow.utils.task_group import TaskGroup
from airflow.utils.trigger_rule import TriggerRule
from common.callbacks import DEFAULT_ARGS


def choose_branch(**context):
    return "weekday" if context["logical_date"].weekday() < 5 else "weekend"


def summarize(**context):
    print("run", context["run_id"], "interval", context["data_interval_start"])


with DAG(
    dag_id="classic_operators",
    description="Classic operators and groups",
    schedule="0 6 * * 1-5",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={**DEFAULT_ARGS, "retry_delay": timedelta(minutes=5)},
    max_active_runs=1,
    tags=["example"],
) as dag:
    start = EmptyOperator(task_id="start")
    end = EmptyOperator(task_id="end", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)

    branch = BranchPythonOperator(task_id="branch", python_callable=choose_branch)
    weekday = EmptyOperator(task_id="weekday")
    weekend = EmptyOperator(task_id="weekend")

    with TaskGroup("ingest", tooltip="Load raw files") as ingest:
        for source in ("orders", "customers", "products"):
            BashOperator(task_id=f"load_{source}", bash_command=f"echo loading {source}")

    with TaskGroup("quality") as quality:
        with TaskGroup("checks") as checks:
            not_null = BashOperator(task_id="not_null", bash_command="echo not null")
            unique = BashOperator(task_id="unique", bash_command="echo unique")
        report = PythonOperator(task_id="report", python_callable=summarize)
        checks >> report

    a = EmptyOperator(task_id="a")
    b = EmptyOperator(task_id="b")
    c = EmptyOperator(task_id="c")
    d = EmptyOperator(task_id="d")
    cross_downstream([a, b], [c, d])

    notify = BashOperator(task_id="notify", bash_command="echo done {{ ds }} {{ data_interval_end }}")
    notify.set_upstream(end)

    start >> branch >> [weekday, weekend] >> end
    chain(start, ingest, quality, [a, b])
    [c, d] >> end
