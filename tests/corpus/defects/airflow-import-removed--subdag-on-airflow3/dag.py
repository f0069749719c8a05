from datetime import datetime

from airflow import DAG
from airflow.operators.subdag import SubDagOperator

with DAG("subdag3", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    SubDagOperator(task_id="section")
