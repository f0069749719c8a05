from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.models.baseoperator import cross_downstream


with DAG("cycle_cross", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    a = EmptyOperator(task_id="a")
    b = EmptyOperator(task_id="b")
    c = EmptyOperator(task_id="c")
    d = EmptyOperator(task_id="d")
    cross_downstream([a, b], [c, d])
    d << c
    d >> a
