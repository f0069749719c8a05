from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("bad_preset", schedule="@dayly", start_date=datetime(2024, 1, 1), catchup=False):
    EmptyOperator(task_id="t")
