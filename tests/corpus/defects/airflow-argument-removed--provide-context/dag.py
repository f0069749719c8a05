from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator


with DAG("provide_context", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    PythonOperator(task_id="t", python_callable=print, provide_context=True)
