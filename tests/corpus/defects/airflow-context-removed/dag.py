from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def report(**context):
    print(context["execution_date"])


with DAG("context3", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    PythonOperator(task_id="report", python_callable=report) >> BashOperator(
        task_id="echo", bash_command="echo {{ execution_date }}"
    )
