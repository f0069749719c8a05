from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.dummy import DummyOperator


with DAG("dummy2", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    DummyOperator(task_id="t")
