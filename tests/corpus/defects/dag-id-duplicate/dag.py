from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("reports", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    EmptyOperator(task_id="daily")

with DAG("reports", schedule="@weekly", start_date=datetime(2024, 1, 1), catchup=False):
    EmptyOperator(task_id="weekly")
