"""Airflow DAG that starts the Glue and EMR Serverless jobs whose scripts are kept in jobs/."""

from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

SCRIPTS = "s3://example-mwaa-bucket/dags/jobs"

with DAG("orders_jobs", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    dedup = GlueJobOperator(
        task_id="dedup_orders",
        job_name="orders-dedup",
        script_location=f"{SCRIPTS}/glue_orders_dedup.py",
    )
    rollup = EmrServerlessStartJobOperator(
        task_id="rollup_clickstream",
        application_id="00example0000000",
        execution_role_arn="arn:aws:iam::123456789012:role/emr-serverless-jobs",
        job_driver={"sparkSubmit": {"entryPoint": f"{SCRIPTS}/spark_clickstream_rollup.py"}},
    )
    dedup >> rollup
