from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.models import Variable


with DAG("variable", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    EmptyOperator(task_id=Variable.get("task_name"))
