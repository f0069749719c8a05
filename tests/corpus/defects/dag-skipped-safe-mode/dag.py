from datetime import datetime

from platform_lib import DAG, EmptyOperator

with DAG("hidden", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    EmptyOperator(task_id="t")
