# Statically fine; fails when Airflow imports it (a parse-time dependency that is missing at runtime).
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

raise RuntimeError("connection 'warehouse' is not defined")

with DAG(dag_id="good_dag", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False):
    EmptyOperator(task_id="start")
