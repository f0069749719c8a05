"""What off-hours asks of Airflow: connections, pools, DAG details, runs and task instances (REST v1 and v2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mwaa_control_plane.airflow import Connection, Pool
from mwaa_control_plane.airflow.models import Schedule, schedule_from_summary, schedule_from_v1
from mwaa_control_plane.errors import AirflowApiError, InvalidInputError, UnsupportedAirflowVersionError

from .fakes import FakeMwaa, paged, rest_client_error

V1_CONNECTION_ITEM = {
    "connection_id": "warehouse",
    "conn_type": "postgres",
    "description": None,
    "host": "db.internal",
    "login": "etl",
    "schema": "analytics",
    "port": 5432,
}
V2_CONNECTION = {
    **V1_CONNECTION_ITEM,
    "password": "***",
    "extra": '{"sslmode": "require", "api_key": "***"}',
    "team_name": None,
}


# -- connections ---------------------------------------------------------------------------------


def test_v1_lists_connections_without_extra_and_says_so(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/connections", paged("connections", [V1_CONNECTION_ITEM]))

    [connection] = make_client("2.10.3").list_connections()

    assert connection == Connection(
        connection_id="warehouse",
        conn_type="postgres",
        host="db.internal",
        login="etl",
        schema_name="analytics",
        port=5432,
        extra_known=False,
        password_set=None,
    )


def test_v2_lists_connections_whole_and_tells_a_password_is_set_without_keeping_it(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/connections", paged("connections", [V2_CONNECTION, {**V2_CONNECTION, "password": None}]))

    first, second = make_client("3.0.6").list_connections()

    assert first.password_set is True
    assert second.password_set is False
    assert first.extra == '{"sslmode": "require", "api_key": "***"}'
    assert first.extra_known is True
    assert "***" not in repr(first)


def test_a_v1_connection_read_alone_carries_its_extra(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/connections/warehouse", {**V1_CONNECTION_ITEM, "extra": '{"sslmode": "require"}'})

    connection = make_client("2.10.3").get_connection("warehouse")

    assert connection is not None
    assert connection.extra == '{"sslmode": "require"}'
    assert connection.extra_known is True
    assert connection.password_set is None


def test_a_missing_connection_is_none(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/connections/ghost", rest_client_error(404))

    assert make_client().get_connection("ghost") is None


def test_creating_a_connection_sends_its_fields_and_never_a_password(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("POST", "/connections", {})
    connection = Connection(
        connection_id="warehouse", conn_type="postgres", host="db.internal", schema_name="analytics", port=5432
    )

    make_client("3.0.6").create_connection(connection)

    assert mwaa.rest_calls("POST")[0].request["Body"] == {
        "connection_id": "warehouse",
        "conn_type": "postgres",
        "host": "db.internal",
        "schema": "analytics",
        "port": 5432,
    }


def test_creating_an_existing_connection_is_a_conflict(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("POST", "/connections", rest_client_error(409, {"detail": "Connection already exists"}))

    with pytest.raises(AirflowApiError) as caught:
        make_client().create_connection(Connection(connection_id="warehouse", conn_type="postgres"))

    assert caught.value.status == 409


def test_a_connection_without_a_type_is_refused_before_any_call(make_client, mwaa: FakeMwaa) -> None:
    with pytest.raises(InvalidInputError, match="no conn_type"):
        make_client().create_connection(Connection(connection_id="warehouse"))

    assert mwaa.rest_calls() == []


def test_patching_a_connection_names_the_fields_in_the_update_mask(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("PATCH", "/connections/warehouse", {})

    make_client().patch_connection(
        Connection(connection_id="warehouse", conn_type="postgres", host="db2"), update_mask=["host", "port"]
    )

    call = mwaa.rest_calls("PATCH")[0].request
    assert call["QueryParameters"] == {"update_mask": "host,port"}
    assert call["Body"] == {"connection_id": "warehouse", "conn_type": "postgres", "host": "db2"}


def test_deleting_a_missing_connection_is_fine(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("DELETE", "/connections/gone", rest_client_error(404))

    make_client().delete_connection("gone")

    assert len(mwaa.rest_calls("DELETE")) == 1


def test_an_airflow_error_on_a_connection_does_not_echo_its_body(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("POST", "/connections", rest_client_error(400, {"detail": "extra s3cr3t is not JSON"}))

    with pytest.raises(AirflowApiError) as caught:
        make_client().create_connection(Connection(connection_id="c", conn_type="http", extra="s3cr3t"))

    assert "s3cr3t" not in str(caught.value)


# -- pools ---------------------------------------------------------------------------------------


def test_pools_carry_include_deferred_when_airflow_reports_it(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/pools", paged("pools", [{"name": "etl", "slots": 4, "include_deferred": True}]))

    assert make_client().list_pools() == [Pool(name="etl", slots=4, include_deferred=True)]


def test_creating_a_pool_posts_name_slots_and_description(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("POST", "/pools", {"name": "etl", "slots": 4})

    make_client().create_pool(Pool(name="etl", slots=4, description="nightly loads"))

    assert mwaa.rest_calls("POST")[0].request["Body"] == {"name": "etl", "slots": 4, "description": "nightly loads"}


def test_updating_a_pool_patches_every_field_it_has(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("PATCH", "/pools/etl", {"name": "etl", "slots": 8})

    make_client("3.0.6").update_pool(Pool(name="etl", slots=8, description=None, include_deferred=False))

    call = mwaa.rest_calls("PATCH")[0].request
    assert call["Body"] == {"name": "etl", "slots": 8, "include_deferred": False}
    assert "QueryParameters" not in call


def test_the_default_pool_is_updated_through_an_update_mask_of_slots(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("PATCH", "/pools/default_pool", {"name": "default_pool", "slots": 64})

    make_client().update_pool(Pool(name="default_pool", slots=64, description="Default pool", include_deferred=True))

    slots, deferred = mwaa.rest_calls("PATCH")
    assert slots.request["QueryParameters"] == {"update_mask": "slots"}
    assert slots.request["Body"] == {"name": "default_pool", "slots": 64}
    assert deferred.request["QueryParameters"] == {"update_mask": "include_deferred"}
    assert deferred.request["Body"] == {"name": "default_pool", "include_deferred": True}


def test_the_default_pool_is_never_deleted(make_client, mwaa: FakeMwaa) -> None:
    with pytest.raises(InvalidInputError, match="default pool"):
        make_client().delete_pool("default_pool")

    assert mwaa.rest_calls() == []


def test_deleting_a_missing_pool_is_fine(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("DELETE", "/pools/gone", rest_client_error(404))

    make_client().delete_pool("gone")


# -- DAG details ---------------------------------------------------------------------------------


def test_v1_dag_details_read_the_schedule_interval_object(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer(
        "GET",
        "/dags/sales_daily/details",
        {
            "dag_id": "sales_daily",
            "is_paused": False,
            "catchup": True,
            "start_date": "2025-01-01T00:00:00+00:00",
            "end_date": None,
            "schedule_interval": {"__type": "CronExpression", "value": "@daily"},
            "timetable_description": "At 00:00",
            "timezone": "Timezone('Europe/Berlin')",
            "next_dagrun_create_after": "2026-01-02T00:00:00+00:00",
        },
    )

    details = make_client("2.10.3").get_dag_details("sales_daily")

    assert details is not None
    assert details.catchup is True
    assert details.start_date == datetime(2025, 1, 1, tzinfo=UTC)
    assert details.schedule == Schedule(kind="cron", text="@daily", cron="0 0 * * *")
    assert details.timezone == "Europe/Berlin"
    assert details.next_dagrun_create_after == datetime(2026, 1, 2, tzinfo=UTC)


def test_v2_dag_details_read_the_timetable_summary(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer(
        "GET",
        "/dags/sales_daily/details",
        {
            "dag_id": "sales_daily",
            "is_paused": True,
            "catchup": False,
            "start_date": "2025-01-01T00:00:00Z",
            "end_date": "2027-01-01T00:00:00Z",
            "timetable_summary": "0 6 * * 1-5",
            "timezone": "UTC",
            "next_dagrun_run_after": "2026-01-02T06:00:00Z",
            "asset_expression": None,
        },
    )

    details = make_client("3.0.6").get_dag_details("sales_daily")

    assert details is not None
    assert details.schedule.kind == "cron"
    assert details.schedule.cron == "0 6 * * 1-5"
    assert details.end_date == datetime(2027, 1, 1, tzinfo=UTC)
    assert details.next_dagrun_create_after == datetime(2026, 1, 2, 6, tzinfo=UTC)


def test_dag_details_of_an_unknown_dag_are_none(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/dags/ghost/details", rest_client_error(404))

    assert make_client().get_dag_details("ghost") is None


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (None, Schedule(kind="none")),
        ("None", Schedule(kind="none")),
        ("@once", Schedule(kind="once", text="@once")),
        ("@continuous", Schedule(kind="continuous", text="@continuous")),
        ("Asset", Schedule(kind="asset", text="Asset")),
        ("Dataset", Schedule(kind="asset", text="Dataset")),
        ("@hourly", Schedule(kind="cron", text="@hourly", cron="0 * * * *")),
        ("*/15 * * * *", Schedule(kind="cron", text="*/15 * * * *", cron="*/15 * * * *")),
        ("1 day, 0:00:00", Schedule(kind="delta", text="1 day, 0:00:00", delta_seconds=86400)),
        ("0:30:00", Schedule(kind="delta", text="0:30:00", delta_seconds=1800)),
        ("relativedelta(months=+1)", Schedule(kind="other", text="relativedelta(months=+1)")),
        ("Dataset or 0 0 * * *", Schedule(kind="other", text="Dataset or 0 0 * * *")),
    ],
)
def test_a_timetable_summary_is_classified(summary: str | None, expected: Schedule) -> None:
    assert schedule_from_summary(summary) == expected


def test_a_v1_timedelta_schedule_is_a_delta() -> None:
    schedule = schedule_from_v1({"__type": "TimeDelta", "days": 1, "seconds": 3600, "microseconds": 0})

    assert schedule.kind == "delta"
    assert schedule.delta_seconds == 90000


def test_a_v1_relativedelta_schedule_cannot_be_counted() -> None:
    assert schedule_from_v1({"__type": "RelativeDelta", "months": 1}).kind == "other"


# -- runs and task instances across DAGs ---------------------------------------------------------


def _run(dag_id: str, run_id: str, state: str, run_type: str = "scheduled") -> dict[str, object]:
    return {
        "dag_id": dag_id,
        "dag_run_id": run_id,
        "state": state,
        "run_type": run_type,
        "execution_date": "2026-01-01T00:00:00+00:00",
        "logical_date": "2026-01-01T00:00:00+00:00",
        "data_interval_start": "2025-12-31T00:00:00+00:00",
        "data_interval_end": "2026-01-01T00:00:00+00:00",
        "conf": {"token": "never-shown"},
    }


def test_dag_runs_of_every_dag_are_listed_one_state_per_request(make_client, mwaa: FakeMwaa) -> None:
    def by_state(request: dict) -> dict:  # type: ignore[type-arg]
        state = request["QueryParameters"]["state"]
        runs = {"running": [_run("a", "r1", "running")], "queued": [_run("b", "r2", "queued")]}[state]
        return paged("dag_runs", runs)(request)

    mwaa.always("GET", "/dags/~/dagRuns", by_state)

    runs = make_client().list_dag_runs(["running", "queued"])

    assert [(r.dag_id, r.state) for r in runs] == [("a", "running"), ("b", "queued")]
    assert [c.request["QueryParameters"]["state"] for c in mwaa.rest_calls("GET", "/dags/~/dagRuns")] == [
        "running",
        "queued",
    ]
    assert runs[0].data_interval_end == datetime(2026, 1, 1, tzinfo=UTC)


def test_task_instances_of_every_run_are_listed_and_paged(make_client, mwaa: FakeMwaa) -> None:
    items = [
        {"dag_id": "a", "task_id": f"t{i}", "dag_run_id": "r1", "map_index": -1, "state": "running"} for i in range(150)
    ]
    mwaa.always("GET", "/dags/~/dagRuns/~/taskInstances", paged("task_instances", items))

    found = make_client("3.0.6").list_task_instances(["running"])

    assert len(found) == 150
    assert found[0].run_id == "r1"
    assert [c.request["QueryParameters"] for c in mwaa.rest_calls()] == [
        {"state": "running", "limit": 100, "offset": 0},
        {"state": "running", "limit": 100, "offset": 100},
    ]


def test_v2_asks_for_the_newest_scheduled_run_only(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/dags/sales_daily/dagRuns", {"dag_runs": [_run("sales_daily", "s1", "success")]})

    run = make_client("3.0.6").last_scheduled_run("sales_daily")

    assert run is not None
    assert run.run_id == "s1"
    assert mwaa.rest_calls()[0].request["QueryParameters"] == {
        "run_type": "scheduled",
        "order_by": "-logical_date",
        "limit": 1,
    }


def test_v1_skips_manual_runs_to_find_the_newest_scheduled_one(make_client, mwaa: FakeMwaa) -> None:
    runs = [
        _run("sales_daily", "manual__x", "success", run_type="manual"),
        _run("sales_daily", "scheduled__y", "success"),
    ]
    mwaa.always("GET", "/dags/sales_daily/dagRuns", paged("dag_runs", runs))

    run = make_client("2.10.3").last_scheduled_run("sales_daily")

    assert run is not None
    assert run.run_id == "scheduled__y"
    assert mwaa.rest_calls()[0].request["QueryParameters"]["order_by"] == "-execution_date"


def test_a_dag_that_never_ran_on_schedule_has_no_last_run(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/dags/x/dagRuns", paged("dag_runs", [_run("x", "manual__1", "success", run_type="manual")]))

    assert make_client("2.10.3").last_scheduled_run("x") is None


# -- the CLI endpoint ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.list_connections(),
        lambda c: c.create_pool(Pool(name="p", slots=1)),
        lambda c: c.get_dag_details("d"),
        lambda c: c.list_task_instances(["running"]),
        lambda c: c.last_scheduled_run("d"),
    ],
)
def test_airflow_before_2_4_3_cannot_do_what_off_hours_needs(make_client, mwaa: FakeMwaa, call) -> None:
    with pytest.raises(UnsupportedAirflowVersionError, match=r"2\.2\.2: only the REST API"):
        call(make_client("2.2.2"))

    assert mwaa.rest_calls() == []
