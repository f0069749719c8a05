from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("no_catchup", schedule="@daily", start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="t")
