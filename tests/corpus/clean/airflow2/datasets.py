"""Data-aware scheduling: one DAG updates a dataset, the other runs when it changes."""

from __future__ import annotations

import pendulum

from airflow.datasets import Dataset
from airflow.decorators import dag, task

ORDERS = Dataset("s3://example-data-lake/orders/")

START = pendulum.datetime(2024, 1, 1, tz="UTC")


@dag(dag_id="orders_producer", schedule="@hourly", start_date=START, catchup=False)
def orders_producer():
    @task(outlets=[ORDERS])
    def write_orders() -> None:
        print("orders written")

    write_orders()


@dag(dag_id="orders_consumer", schedule=[ORDERS], start_date=START, catchup=False)
def orders_consumer():
    @task
    def read_orders() -> None:
        print("orders read")

    read_orders()


orders_producer()
orders_consumer()
