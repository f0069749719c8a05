"""Airflow 3: Task SDK imports, assets and asset-triggered DAGs."""

from __future__ import annotations

import pendulum

from airflow.sdk import Asset, dag, task

RAW = Asset("s3://example-lake/raw/events/")
CLEAN = Asset("s3://example-lake/clean/events/")


@dag(schedule="@daily", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, tags=["assets"])
def produce_raw():
    @task(outlets=[RAW])
    def ingest() -> None:
        print("ingested")

    ingest()


@dag(schedule=[RAW], start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False)
def clean_events():
    @task(inlets=[RAW], outlets=[CLEAN])
    def clean(**context) -> None:
        print("cleaning for", context["logical_date"])

    clean()


produce_raw()
clean_events()
