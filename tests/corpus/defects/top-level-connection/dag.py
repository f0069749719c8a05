from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.hooks.base import BaseHook

WAREHOUSE = BaseHook.get_connection("warehouse").host


with DAG("connection", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    EmptyOperator(task_id="t")
