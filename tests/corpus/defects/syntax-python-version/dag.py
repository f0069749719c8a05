from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator


with DAG("pep701", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    names = {"a": 1}
    EmptyOperator(task_id=f"t_{names["a"]}")
