"""Dynamic task mapping: expand over TaskFlow output and over literals."""

from __future__ import annotations

import pendulum

from airflow.decorators import dag, task
from airflow.operators.bash import BashOperator


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "mapping"],
)
def dynamic_mapping():
    @task
    def list_files() -> list[str]:
        return ["a.csv", "b.csv", "c.csv"]

    @task
    def process(file_name: str, multiplier: int) -> int:
        return len(file_name) * multiplier

    @task
    def total(sizes: list[int]) -> int:
        return sum(sizes)

    sizes = process.partial(multiplier=2).expand(file_name=list_files())
    total(sizes)

    echo = BashOperator.partial(task_id="echo", retries=1).expand(
        bash_command=["echo 1", "echo 2", "echo 3"],
    )
    sizes >> echo


dynamic_mapping()
