from airflow.sdk import dag, task
