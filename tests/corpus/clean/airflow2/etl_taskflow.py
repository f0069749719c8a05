"""TaskFlow ETL: extract, transform, load with XCom passing."""

from __future__ import annotations

import json

import pendulum

from airflow.decorators import dag, task


@dag(
    dag_id="etl_taskflow",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "taskflow"],
    default_args={"retries": 1},
)
def etl_taskflow():
    @task()
    def extract() -> dict:
        data_string = '{"1001": 301.27, "1002": 433.21, "1003": 502.22}'
        return json.loads(data_string)

    @task(multiple_outputs=True)
    def transform(order_data: dict) -> dict:
        return {"total_order_value": sum(order_data.values())}

    @task()
    def load(total_order_value: float) -> None:
        print(f"Total order value is: {total_order_value:.2f}")

    order_data = extract()
    order_summary = transform(order_data)
    load(order_summary["total_order_value"])


etl_taskflow()
