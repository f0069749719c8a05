"""Airflow 3: core operators from the standard provider, TaskGroup and chain from the SDK."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensorAsync
from airflow.sdk import DAG, TaskGroup, chain
from include.helpers import greeting


def say_hello() -> None:
    print(greeting("mwaa"))


with DAG(
    dag_id="standard_provider",
    schedule="15 4 * * *",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_tasks=8,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
) as dag:
    begin = EmptyOperator(task_id="begin")
    wait = TimeDeltaSensorAsync(task_id="wait", delta=timedelta(minutes=1))
    with TaskGroup("work") as work:
        hello = PythonOperator(task_id="hello", python_callable=say_hello)
        shell = BashOperator(task_id="shell", bash_command="echo {{ logical_date }} {{ data_interval_start }}")
        hello >> shell
    done = EmptyOperator(task_id="done")
    chain(begin, wait, work, done)
