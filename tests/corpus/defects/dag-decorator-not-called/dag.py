import pendulum

from airflow.decorators import dag, task


@dag(schedule="@daily", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False)
def forgotten():
    @task
    def hello():
        print("hello")

    hello()
