from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG(dag_id="good_dag", start_date=datetime(2024, 1, 1), schedule="@hourly", catchup=False):
    EmptyOperator(task_id="start") >> EmptyOperator(task_id="middle") >> EmptyOperator(task_id="end")
