from airflow import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.utils.dates import days_ago

with DAG("days_ago3", schedule="@daily", start_date=days_ago(1), catchup=False):
    EmptyOperator(task_id="t")
