"""Airflow DAG whose author tried to silence a rule that guards an import error."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("refused", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):  # mwaa-cp: ignore[dag-cycle]
    EmptyOperator(task_id="only")
