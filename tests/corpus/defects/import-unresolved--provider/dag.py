from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.providers.slack.operators.slack_webhook import SlackWebhookOperator


with DAG("missing_provider", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    SlackWebhookOperator(task_id="t", slack_webhook_conn_id="slack")
