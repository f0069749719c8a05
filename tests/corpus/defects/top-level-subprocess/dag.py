from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
import subprocess

GIT_SHA = subprocess.check_output(["git", "rev-parse", "HEAD"])


with DAG("subprocess", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    EmptyOperator(task_id="t")
