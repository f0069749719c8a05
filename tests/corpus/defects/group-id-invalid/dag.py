from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup


with DAG("bad_group_id", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    with TaskGroup("stage.one"):
        EmptyOperator(task_id="t")
