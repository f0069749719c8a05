"""@task_group, setup/teardown tasks, a Snowflake query and Slack from requirements.txt."""

from __future__ import annotations

import pendulum

from airflow.decorators import dag, setup, task, task_group, teardown
from airflow.models import Variable
from airflow.providers.snowflake.operators.snowflake import SnowflakeOperator


@dag(
    schedule="@weekly",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={"region": "eu"},
)
def groups_and_setup():
    @setup
    def create_cluster() -> str:
        return "cluster-1"

    @teardown
    def delete_cluster(cluster_id: str) -> None:
        print("deleting", cluster_id)

    @task_group(group_id="per_region")
    def per_region(cluster_id: str):
        @task
        def extract(cluster: str) -> list[int]:
            threshold = Variable.get("row_threshold", default_var="10")
            return [int(threshold), 2, 3]

        @task
        def load(rows: list[int]) -> int:
            import pandas as pd

            return int(pd.Series(rows).sum())

        load(extract(cluster_id))

    cluster = create_cluster()
    merge = SnowflakeOperator(
        task_id="merge",
        sql="CALL merge_orders('{{ params.region }}')",
        snowflake_conn_id="snowflake_default",
    )
    per_region(cluster) >> merge >> delete_cluster(cluster)


groups_and_setup()
