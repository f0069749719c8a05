"""Sensors and AWS operators from the preinstalled Amazon provider."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.sensors.external_task import ExternalTaskSensor
from airflow.sensors.time_delta import TimeDeltaSensor

with DAG(
    "sensors_and_aws",
    schedule="30 2 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    dagrun_timeout=timedelta(hours=2),
) as dag:
    wait_upstream = ExternalTaskSensor(
        task_id="wait_for_classic",
        external_dag_id="classic_operators",
        external_task_id="end",
        mode="reschedule",
        timeout=3600,
    )
    wait_file = S3KeySensor(
        task_id="wait_for_file",
        bucket_key="s3://example-landing/{{ ds }}/_SUCCESS",
        deferrable=True,
        poke_interval=60,
    )
    settle = TimeDeltaSensor(task_id="settle", delta=timedelta(minutes=10), mode="reschedule")
    glue = GlueJobOperator(
        task_id="transform",
        job_name="transform-orders",
        script_args={"--run_date": "{{ ds }}"},
        wait_for_completion=True,
    )
    athena = AthenaOperator(
        task_id="report",
        query="sql/daily_report.sql",
        database="analytics",
        output_location="s3://example-athena-results/",
    )
    [wait_upstream, wait_file] >> settle >> glue >> athena
