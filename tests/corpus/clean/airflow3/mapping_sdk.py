"""Airflow 3: dynamic task mapping with expand_kwargs and a @task_group mapped over inputs."""

from __future__ import annotations

import pendulum

from airflow.sdk import dag, task, task_group


@dag(schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False)
def mapping_sdk():
    @task
    def configs() -> list[dict[str, int]]:
        return [{"x": 1, "y": 2}, {"x": 3, "y": 4}]

    @task
    def add(x: int, y: int) -> int:
        return x + y

    @task_group
    def square_and_report(value: int):
        @task
        def square(v: int) -> int:
            return v * v

        @task
        def report(v: int) -> None:
            print(v)

        report(square(value))

    sums = add.expand_kwargs(configs())
    square_and_report.expand(value=sums)


mapping_sdk()
