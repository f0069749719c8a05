import pendulum

from airflow.decorators import dag, task


@dag(schedule="@daily", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False)
def taskflow_cycle():
    @task
    def extract():
        return 1

    @task
    def load(value):
        return value

    first = extract()
    loaded = load(first)
    loaded >> first


taskflow_cycle()
