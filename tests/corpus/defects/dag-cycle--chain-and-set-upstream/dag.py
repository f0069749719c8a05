from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.models.baseoperator import chain


with DAG("cycle_chain", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    a = EmptyOperator(task_id="a")
    b = EmptyOperator(task_id="b")
    c = EmptyOperator(task_id="c")
    chain(a, [b, c])
    a.set_upstream(c)
