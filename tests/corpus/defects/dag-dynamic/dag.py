from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

for customer in ("acme", "globex"):
    with DAG(f"export_{customer}", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
        EmptyOperator(task_id="export")
    globals()[f"export_{customer}"] = dag
