from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

# Airflow 2 drops provide_context=True with a deprecation warning; Airflow 3's PythonOperator
# passes it on to BaseOperator, which raises TypeError for the unknown keyword.
with DAG("provide_context", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    PythonOperator(task_id="t", python_callable=print, provide_context=True)
