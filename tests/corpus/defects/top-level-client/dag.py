from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
import boto3

TABLES = boto3.client("glue").get_tables(DatabaseName="raw")


with DAG("client", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    EmptyOperator(task_id="t")
