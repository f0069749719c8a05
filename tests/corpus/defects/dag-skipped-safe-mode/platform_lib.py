"""Re-exports of Airflow classes for the team's DAGs."""

from airflow import DAG
from airflow.operators.empty import EmptyOperator

__all__ = ["DAG", "EmptyOperator"]
