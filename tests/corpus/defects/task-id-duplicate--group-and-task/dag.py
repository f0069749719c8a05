from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup


with DAG("group_vs_task", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    with TaskGroup("load"):
        EmptyOperator(task_id="files")
    EmptyOperator(task_id="load")
