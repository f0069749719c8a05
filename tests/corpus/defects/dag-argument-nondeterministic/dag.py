from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("moving_start", schedule="@daily", start_date=datetime.now(), catchup=False):
    EmptyOperator(task_id="t")
