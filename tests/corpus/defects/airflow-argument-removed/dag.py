from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("interval3", schedule_interval="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    EmptyOperator(task_id="t")
