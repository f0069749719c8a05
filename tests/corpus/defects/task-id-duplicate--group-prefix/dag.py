from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup


with DAG("duplicate_prefixed", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    with TaskGroup("stage"):
        EmptyOperator(task_id="load")
    EmptyOperator(task_id="stage.load")
