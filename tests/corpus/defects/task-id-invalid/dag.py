from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator


with DAG("bad_task_id", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    EmptyOperator(task_id="extract data")
