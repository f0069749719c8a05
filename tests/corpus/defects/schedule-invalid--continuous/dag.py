from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("continuous", schedule="@continuous", start_date=datetime(2024, 1, 1), catchup=False):
    EmptyOperator(task_id="t")
