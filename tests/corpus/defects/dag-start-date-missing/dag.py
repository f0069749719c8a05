from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("no_start", schedule=None, catchup=False, default_args={"retries": 1}):
    EmptyOperator(task_id="t")
