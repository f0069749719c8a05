from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.contrib.operators.emr_add_steps_operator import EmrAddStepsOperator


with DAG("contrib", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    EmrAddStepsOperator(task_id="t", job_flow_id="j-1", steps=[])
