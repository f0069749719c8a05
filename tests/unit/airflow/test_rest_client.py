"""AirflowClient over InvokeRestApi: API v1 on Airflow 2.4.3+, API v2 on Airflow 3."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mwaa_control_plane.airflow import Dag, DagImportError, Pool, Variable
from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.errors import (
    AirflowApiError,
    EnvironmentBusyError,
    InvalidInputError,
    NotFoundError,
    ServiceUnavailableError,
    ThrottledError,
)

from .fakes import FakeMwaa, max_in_any_window, mwaa_error, paged, rest_client_error, rest_server_error

V1_DAG = {
    "dag_id": "sales_daily",
    "fileloc": "/usr/local/airflow/dags/sales/daily.py",
    "is_paused": False,
    "is_active": True,
    "is_subdag": False,
    "owners": ["data"],
    "tags": [{"name": "sales"}, {"name": "daily"}],
}
V2_DAG = {
    "dag_id": "sales_daily",
    "dag_display_name": "sales_daily",
    "fileloc": "/usr/local/airflow/dags/sales/daily.py",
    "is_paused": True,
    "is_stale": False,
    "has_import_errors": False,
    "owners": ["data"],
    "tags": [{"name": "sales", "dag_id": "sales_daily"}],
}


def dags(count: int) -> list[dict[str, object]]:
    return [{**V1_DAG, "dag_id": f"dag_{i:03}"} for i in range(count)]


# -- version detection -------------------------------------------------------------------------


def test_the_version_is_read_once_from_get_environment(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/variables/k", {"key": "k", "value": "v"})
    client = make_client("2.10.3")

    client.get_variable("k")
    client.get_variable("k")

    assert client.airflow_version == (2, 10, 3)
    assert client.interface == "rest-v1"
    assert client.webserver_hostname.endswith(".on.aws")
    assert mwaa.count("GetEnvironment") == 1


def test_nothing_is_called_until_the_client_is_used(make_client, mwaa: FakeMwaa) -> None:
    make_client("2.8.1")

    assert mwaa.calls == []


def test_airflow_3_is_served_by_api_v2(make_client) -> None:
    assert make_client("3.0.6").interface == "rest-v2"


def test_an_environment_without_a_version_is_refused_clearly(make_client) -> None:
    from mwaa_control_plane.errors import UnsupportedAirflowVersionError

    with pytest.raises(UnsupportedAirflowVersionError, match="dev-env reports no Airflow version"):
        make_client(None).list_dags()


def test_a_missing_environment_is_not_found(make_client, mwaa: FakeMwaa) -> None:
    def missing(**_: object) -> None:
        raise mwaa_error(
            "ResourceNotFoundException",
            {"message": "Environment dev-env not found"},
            http_status=404,
            operation="GetEnvironment",
        )

    mwaa.get_environment = missing  # type: ignore[method-assign]

    with pytest.raises(NotFoundError, match="not found"):
        make_client().list_dags()


# -- DAGs ----------------------------------------------------------------------------------------


def test_listing_dags_pages_through_every_entry(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/dags", paged("dags", dags(250)))

    listed = make_client().list_dags()

    assert [d.dag_id for d in listed] == [f"dag_{i:03}" for i in range(250)]
    assert [c.request["QueryParameters"] for c in mwaa.rest_calls("GET", "/dags")] == [
        {"limit": 100, "offset": 0},
        {"limit": 100, "offset": 100},
        {"limit": 100, "offset": 200},
    ]


def test_paging_follows_a_server_page_size_smaller_than_asked(make_client, mwaa: FakeMwaa) -> None:
    items = dags(120)

    def fifty_at_most(request: dict) -> dict:  # type: ignore[type-arg]
        offset = request["QueryParameters"]["offset"]
        return {"dags": items[offset : offset + 50], "total_entries": len(items)}

    mwaa.always("GET", "/dags", fifty_at_most)

    assert len(make_client().list_dags()) == 120
    assert len(mwaa.rest_calls("GET", "/dags")) == 3


def test_paging_without_a_total_stops_at_a_short_page(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/dags", paged("dags", dags(130), total=False))

    assert len(make_client().list_dags()) == 130
    assert len(mwaa.rest_calls("GET", "/dags")) == 2


def test_an_empty_listing_takes_one_call(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/dags", {"dags": [], "total_entries": 0})

    assert make_client().list_dags() == []
    assert len(mwaa.rest_calls()) == 1


def test_a_dag_added_while_paging_is_listed_once(make_client, mwaa: FakeMwaa) -> None:
    first = dags(100)
    shifted = [first[99], *dags(101)[100:]]  # the next page starts with the last one again
    mwaa.answer("GET", "/dags", {"dags": first, "total_entries": 101}, {"dags": shifted, "total_entries": 102})

    listed = make_client().list_dags()

    assert len(listed) == 101
    assert len({d.dag_id for d in listed}) == 101


def test_a_v1_dag_is_normalised(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/dags/sales_daily", V1_DAG)

    dag = make_client("2.8.1").get_dag("sales_daily")

    assert dag == Dag(
        dag_id="sales_daily",
        fileloc="/usr/local/airflow/dags/sales/daily.py",
        is_paused=False,
        is_active=True,
        tags=("sales", "daily"),
    )


def test_a_v2_dag_reports_active_as_not_stale(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/dags/sales_daily", V2_DAG)

    dag = make_client("3.0.6").get_dag("sales_daily")

    assert dag is not None
    assert dag.is_active is True
    assert dag.is_paused is True
    assert dag.tags == ("sales",)


def test_an_unknown_dag_is_none(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/dags/ghost", rest_client_error(404, {"title": "DAG not found", "status": 404}))

    assert make_client().get_dag("ghost") is None


def test_pausing_a_dag_patches_is_paused(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("PATCH", "/dags/sales_daily", {**V1_DAG, "is_paused": True})

    make_client().set_dag_paused("sales_daily", True)

    assert mwaa.rest_calls("PATCH")[0].request["Body"] == {"is_paused": True}


def test_pausing_an_unknown_dag_is_an_api_error_with_404(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("PATCH", "/dags/ghost", rest_client_error(404))

    with pytest.raises(AirflowApiError) as caught:
        make_client().set_dag_paused("ghost", False)

    assert caught.value.status == 404


# -- DAG runs ----------------------------------------------------------------------------------


def test_triggering_on_airflow_2_sends_conf_and_a_run_id(make_client, mwaa: FakeMwaa, clock: ManualClock) -> None:
    mwaa.answer(
        "POST",
        "/dags/sales_daily/dagRuns",
        lambda request: {
            "dag_id": "sales_daily",
            "dag_run_id": request["Body"]["dag_run_id"],
            "logical_date": "2026-01-01T00:00:00+00:00",
            "execution_date": "2026-01-01T00:00:00+00:00",
            "state": "queued",
        },
    )

    run = make_client("2.8.1").trigger_dag_run("sales_daily", {"region": "eu"})

    body = mwaa.rest_calls("POST")[0].request["Body"]
    assert body["conf"] == {"region": "eu"}
    assert "logical_date" not in body
    assert body["dag_run_id"].startswith("manual__2026-01-01T00:00:00+00:00_")
    assert run.run_id == body["dag_run_id"]
    assert run.state == "queued"
    assert run.logical_date == datetime(2026, 1, 1, tzinfo=UTC)


def test_triggering_on_airflow_3_sends_a_null_logical_date(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer(
        "POST",
        "/dags/sales_daily/dagRuns",
        {
            "dag_id": "sales_daily",
            "dag_run_id": "nightly-1",
            "logical_date": None,
            "state": "queued",
            "run_after": "2026-01-01T00:00:00Z",
        },
    )

    run = make_client("3.0.6").trigger_dag_run("sales_daily", run_id="nightly-1")

    body = mwaa.rest_calls("POST")[0].request["Body"]
    assert body == {"dag_run_id": "nightly-1", "conf": {}, "logical_date": None}
    assert run.run_id == "nightly-1"
    assert run.logical_date is None


def test_a_retried_trigger_that_already_ran_returns_the_run_instead_of_a_second_one(
    make_client, mwaa: FakeMwaa
) -> None:
    mwaa.answer("POST", "/dags/sales_daily/dagRuns", rest_server_error(504), rest_client_error(409))

    run = make_client().trigger_dag_run("sales_daily")

    first, second = mwaa.rest_calls("POST")
    assert first.request["Body"]["dag_run_id"] == second.request["Body"]["dag_run_id"] == run.run_id
    assert run.state is None


def test_a_conflict_on_a_run_id_the_caller_chose_is_an_error(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("POST", "/dags/sales_daily/dagRuns", rest_client_error(409))

    with pytest.raises(AirflowApiError) as caught:
        make_client().trigger_dag_run("sales_daily", run_id="taken")

    assert caught.value.status == 409


def test_a_trigger_that_airflow_rejects_does_not_echo_the_conf(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("POST", "/dags/sales_daily/dagRuns", rest_client_error(400, {"detail": "conf token=abc is invalid"}))

    with pytest.raises(AirflowApiError) as caught:
        make_client().trigger_dag_run("sales_daily", {"token": "abc"})

    assert "abc" not in str(caught.value)
    assert caught.value.status == 400


# -- import errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.8.1", "3.0.6"])
def test_import_errors_are_listed_with_their_stack_traces(make_client, mwaa: FakeMwaa, version: str) -> None:
    mwaa.always(
        "GET",
        "/importErrors",
        paged(
            "import_errors",
            [
                {
                    "import_error_id": 1,
                    "filename": "/usr/local/airflow/dags/bad.py",
                    "stack_trace": "SyntaxError: invalid syntax",
                    "timestamp": "2026-01-01T10:00:00Z",
                }
            ],
        ),
    )

    errors = make_client(version).list_import_errors()

    assert errors == [
        DagImportError(
            filename="/usr/local/airflow/dags/bad.py",
            stack_trace="SyntaxError: invalid syntax",
            timestamp=datetime(2026, 1, 1, 10, tzinfo=UTC),
        )
    ]


# -- variables -----------------------------------------------------------------------------------


def test_a_variable_is_read_with_its_value_and_description(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/variables/bucket", {"key": "bucket", "value": "s3://data", "description": "landing"})

    assert make_client().get_variable("bucket") == Variable(key="bucket", value="s3://data", description="landing")


def test_a_missing_variable_is_none(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/variables/nope", rest_client_error(404, {"title": "Variable not found"}))

    assert make_client().get_variable("nope") is None


def test_a_variable_key_is_escaped_in_the_path(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/variables/team%2Fbucket", {"key": "team/bucket", "value": "x"})

    assert make_client().get_variable("team/bucket") is not None


def test_a_key_too_long_for_invoke_rest_api_is_refused_before_any_call(make_client, mwaa: FakeMwaa) -> None:
    with pytest.raises(InvalidInputError, match="at most 64"):
        make_client().get_variable("k" * 60)

    assert mwaa.rest_calls() == []


def test_setting_a_variable_posts_it(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("POST", "/variables", {"key": "bucket", "value": "s3://new"})

    make_client().set_variable("bucket", "s3://new", description="landing")

    assert mwaa.rest_calls("POST")[0].request["Body"] == {
        "key": "bucket",
        "value": "s3://new",
        "description": "landing",
    }


def test_setting_an_existing_variable_on_airflow_3_patches_it_after_the_conflict(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer(
        "POST", "/variables", rest_client_error(409, {"detail": "The Variable with key: `bucket` already exists"})
    )
    mwaa.answer("PATCH", "/variables/bucket", {"key": "bucket", "value": "s3://new"})

    make_client("3.0.6").set_variable("bucket", "s3://new")

    assert mwaa.rest_calls("PATCH")[0].request["Body"] == {"key": "bucket", "value": "s3://new"}


def test_deleting_a_missing_variable_is_fine(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("DELETE", "/variables/gone", rest_client_error(404))

    make_client().delete_variable("gone")

    assert len(mwaa.rest_calls("DELETE")) == 1


def test_deleting_a_variable_airflow_refuses_is_an_error(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("DELETE", "/variables/locked", rest_client_error(403))

    with pytest.raises(AirflowApiError):
        make_client().delete_variable("locked")


def test_v1_lists_variable_keys_without_values(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/variables", paged("variables", [{"key": "a", "description": None}, {"key": "b"}]))

    assert make_client("2.8.1").list_variables() == [Variable(key="a"), Variable(key="b")]


def test_v2_lists_variables_with_values(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/variables", paged("variables", [{"key": "a", "value": "1", "is_encrypted": True}]))

    assert make_client("3.0.6").list_variables() == [Variable(key="a", value="1")]


# -- pools ---------------------------------------------------------------------------------------


def test_pools_are_listed_with_their_slot_usage(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always(
        "GET",
        "/pools",
        paged(
            "pools",
            [
                {
                    "name": "default_pool",
                    "slots": 128,
                    "occupied_slots": 3,
                    "running_slots": 2,
                    "queued_slots": 1,
                    "open_slots": 125,
                    "scheduled_slots": 0,
                    "description": "Default pool",
                }
            ],
        ),
    )

    assert make_client().list_pools() == [
        Pool(
            name="default_pool",
            slots=128,
            occupied_slots=3,
            running_slots=2,
            queued_slots=1,
            open_slots=125,
            description="Default pool",
        )
    ]


# -- throttling, retries, failures ---------------------------------------------------------------


def test_throttling_is_retried_with_backoff_then_succeeds(make_client, mwaa: FakeMwaa, clock: ManualClock) -> None:
    mwaa.answer(
        "GET",
        "/variables/k",
        rest_client_error(429),
        mwaa_error("ThrottlingException", {"message": "Rate exceeded"}, http_status=429),
        {"key": "k", "value": "v"},
    )

    assert make_client().get_variable("k") == Variable(key="k", value="v")
    assert len(mwaa.rest_calls()) == 3
    assert 0.5 in clock.slept
    assert 1.0 in clock.slept


def test_throttling_that_never_ends_raises_throttled_after_the_attempts(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/dags", rest_client_error(429))

    with pytest.raises(ThrottledError):
        make_client(max_attempts=3).list_dags()

    assert len(mwaa.rest_calls()) == 3


def test_server_errors_that_persist_raise_service_unavailable(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/dags", rest_server_error(502))

    with pytest.raises(ServiceUnavailableError):
        make_client().list_dags()

    assert len(mwaa.rest_calls()) == 5


def test_a_status_of_500_inside_a_successful_response_is_still_a_failure(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/dags/x", (500, {"title": "Internal"}), V1_DAG)

    assert make_client().get_dag("x") is not None
    assert len(mwaa.rest_calls()) == 2


def test_a_client_error_is_raised_at_once_with_status_and_body(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/dags", rest_client_error(403, {"title": "Forbidden", "status": 403}))

    with pytest.raises(AirflowApiError) as caught:
        make_client().list_dags()

    assert caught.value.status == 403
    assert caught.value.body == {"title": "Forbidden", "status": 403}
    assert len(mwaa.rest_calls()) == 1


def test_a_validation_error_while_updating_is_environment_busy(make_client, mwaa: FakeMwaa) -> None:
    client = make_client()
    mwaa.always("GET", "/dags", mwaa_error("ValidationException", {"message": "Unable to access environment"}))
    client.airflow_version  # noqa: B018 - version read while AVAILABLE
    mwaa.status = "UPDATING"

    with pytest.raises(EnvironmentBusyError, match="UPDATING"):
        client.list_dags()


def test_fifty_calls_stay_under_ten_per_second(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/variables/k", {"key": "k", "value": "v"})
    client = make_client()

    for _ in range(50):
        client.get_variable("k")

    assert max_in_any_window([c.at for c in mwaa.rest_calls()]) < 10


# -- malformed responses -------------------------------------------------------------------------


def test_a_listing_without_its_collection_is_a_clear_error(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/dags", {"unexpected": True})

    with pytest.raises(AirflowApiError, match=r"GET /dags: malformed response: expected a list under 'dags'"):
        make_client().list_dags()


def test_an_item_missing_a_field_names_the_field(make_client, mwaa: FakeMwaa) -> None:
    mwaa.always("GET", "/dags", {"dags": [{"fileloc": "/x.py"}], "total_entries": 1})

    with pytest.raises(AirflowApiError, match=r"malformed response: dag_id: Field required"):
        make_client().list_dags()


def test_a_malformed_variable_never_shows_its_value(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/variables/k", {"key": "k", "value": {"nested": "s3cr3t"}})

    with pytest.raises(AirflowApiError) as caught:
        make_client().get_variable("k")

    assert "value" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


def test_a_response_that_is_not_an_object_is_a_clear_error(make_client, mwaa: FakeMwaa) -> None:
    mwaa.answer("GET", "/dags/x", ["not", "an", "object"])

    with pytest.raises(AirflowApiError, match="expected an object, got list"):
        make_client().get_dag("x")


def test_a_long_key_can_still_be_set_on_airflow_2_where_post_overwrites(make_client, mwaa: FakeMwaa) -> None:
    long_key = "team_" + "k" * 70
    mwaa.answer("POST", "/variables", {"key": long_key, "value": "v"})

    make_client("2.8.1").set_variable(long_key, "v")

    assert mwaa.rest_calls("POST")[0].request["Body"]["key"] == long_key
