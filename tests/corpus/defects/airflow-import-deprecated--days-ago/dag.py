from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.utils.dates import days_ago

with DAG("days_ago2", schedule="@daily", start_date=days_ago(1), catchup=False):
    EmptyOperator(task_id="t")
