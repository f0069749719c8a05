"""A DAG factory shared by several DAG files."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator


def create_dag(dag_id: str, schedule: str) -> DAG:
    with DAG(dag_id, schedule=schedule, start_date=datetime(2024, 1, 1), catchup=False) as dag:
        EmptyOperator(task_id="start")
    return dag
