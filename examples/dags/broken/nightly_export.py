"""A DAG with the mistakes `mwaa-cp validate` exists to catch; it is rejected on purpose.

An import removed from Airflow 2, a credential in the source, a start_date that changes at every
parse, a deprecated argument and a cron hour that does not exist.
"""

from datetime import datetime

from airflow import DAG
from airflow.contrib.operators.bash_operator import BashOperator

AWS_SECRET = "AKIAIOSFODNN7EXAMPLE"  # the credential the validator must find

with DAG(dag_id="nightly_export", start_date=datetime.now(), schedule_interval="0 25 * * *"):
    BashOperator(task_id="export", bash_command="echo export")
