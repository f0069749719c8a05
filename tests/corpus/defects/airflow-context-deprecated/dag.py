from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.bash import BashOperator


with DAG("context2", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    BashOperator(task_id="echo", bash_command="echo {{ next_ds }}")
