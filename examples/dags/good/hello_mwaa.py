"""A DAG that passes `mwaa-cp validate`: fixed start_date, explicit schedule and catchup."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG(dag_id="hello_mwaa", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False):
    EmptyOperator(task_id="start")
