from datetime import datetime

from airflow import DAG

with DAG(dag_id="broken", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False)
    pass
