"""Finance Airflow DAGs, built by the shared factory."""

from factory import create_dag

finance = create_dag("finance", schedule="@daily")
