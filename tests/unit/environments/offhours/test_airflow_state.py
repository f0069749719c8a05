"""Capturing what a hibernate would lose from Airflow, which secrets cannot come back, and restoring it idempotently."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mwaa_control_plane.airflow import AirflowClient
from mwaa_control_plane.airflow.models import Connection, DagDetails, DagRun, Pool, Variable, schedule_from_summary
from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.environments.offhours.airflow_state import (
    MASK,
    SSM_BACKEND,
    AirflowState,
    SsmConnectionsBackend,
    capture,
    check_secrets,
    restore,
    ssm_connections_backend,
)
from mwaa_control_plane.errors import ConnectionSecretsWouldBeLostError, InvalidInputError
from tests.unit.airflow.fakes import FakeMwaa as FakeMwaaApi
from tests.unit.airflow.fakes import paged

from .fakes import FakeAirflow

NOW = datetime(2026, 1, 14, 20, 0, tzinfo=UTC)
SSM_OPTIONS = {
    "secrets.backend": SSM_BACKEND,
    "secrets.backend_kwargs": json.dumps({"connections_prefix": "airflow/connections", "variables_prefix": "x"}),
}


@pytest.fixture
def ssm() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


def _daily(dag_id: str, *, paused: bool = False, catchup: bool = True) -> DagDetails:
    return DagDetails(
        dag_id=dag_id,
        is_paused=paused,
        catchup=catchup,
        start_date=datetime(2025, 1, 1, tzinfo=UTC),
        schedule=schedule_from_summary("0 0 * * *"),
        timezone="UTC",
    )


def _airflow(version: tuple[int, int, int] = (2, 10, 3)) -> FakeAirflow:
    airflow = FakeAirflow(version=version)
    airflow.variables = {
        "bucket": Variable(key="bucket", value="s3://landing", description="where files land"),
        "limits": Variable(key="limits", value='{"rows": 10}'),
    }
    airflow.pools["etl"] = Pool(name="etl", slots=4, description="loads", include_deferred=False)
    airflow.connections = {
        "warehouse": Connection(
            connection_id="warehouse",
            conn_type="postgres",
            host="db",
            login="etl",
            extra=json.dumps({"sslmode": "require", "api_key": MASK, "nested": {"token": MASK, "region": "eu"}}),
            password_set=True,
        ),
        "public_api": Connection(connection_id="public_api", conn_type="http", host="api.example.com"),
    }
    airflow.add_dag(_daily("sales_daily"), last_run=DagRun(dag_id="sales_daily", run_id="scheduled__1"))
    airflow.add_dag(_daily("paused_one", paused=True))
    airflow.add_dag(DagDetails(dag_id="manual_only", is_paused=False, schedule=schedule_from_summary(None)))
    airflow.add_dag(_daily("stale"), active=False)
    return airflow


# -- capture ---------------------------------------------------------------------------------------------------------


def test_airflow_2_variables_are_read_one_by_one_because_the_listing_has_no_values() -> None:
    airflow = _airflow()

    state = capture(airflow, configuration_options={}, ssm=None, now=NOW)

    assert {v.key: v.value for v in state.variables} == {"bucket": "s3://landing", "limits": '{"rows": 10}'}
    assert state.variables[0].description == "where files land"
    assert "get_variable bucket" in airflow.calls


def test_airflow_3_variables_come_with_the_listing() -> None:
    airflow = _airflow((3, 0, 6))

    state = capture(airflow, configuration_options={}, ssm=None, now=NOW)

    assert len(state.variables) == 2
    assert not [c for c in airflow.calls if c.startswith("get_variable")]


def test_a_masked_variable_is_at_risk_and_never_captured() -> None:
    airflow = _airflow((3, 0, 6))
    airflow.variables["api_key"] = Variable(key="api_key", value=MASK)
    airflow.variables["settings"] = Variable(key="settings", value='{"password": "***", "user": "x"}')

    state = capture(airflow, configuration_options={}, ssm=None, now=NOW)

    assert {v.key for v in state.variables} == {"bucket", "limits"}
    assert [s.describe() for s in state.secrets_at_risk if s.kind == "variable"] == [
        "variable 'api_key': Airflow masks its value",
        "variable 'settings': Airflow masks its value",
    ]


def test_pools_are_captured_without_their_momentary_occupancy() -> None:
    state = capture(_airflow(), configuration_options={}, ssm=None, now=NOW)

    assert Pool(name="etl", slots=4, description="loads", include_deferred=False) in state.pools
    assert all(p.occupied_slots is None and p.open_slots is None for p in state.pools)


def test_a_connection_password_and_masked_extras_are_secrets_at_risk_on_airflow_3() -> None:
    state = capture(_airflow((3, 0, 6)), configuration_options={}, ssm=None, now=NOW)

    assert [s.describe() for s in state.secrets_at_risk] == [
        "connection 'warehouse': password; extra key 'api_key' (masked); extra key 'nested.token' (masked)"
    ]


def test_on_airflow_2_a_login_counts_as_a_likely_password() -> None:
    airflow = _airflow()

    state = capture(airflow, configuration_options={}, ssm=None, now=NOW)

    [warehouse] = state.secrets_at_risk
    assert warehouse.reasons[0].startswith("login set, and Airflow 2's REST API does not say")
    assert "get_connection warehouse" in airflow.calls  # v1 lists without extra


def test_a_connection_is_captured_as_restore_creates_it_without_masked_values() -> None:
    state = capture(_airflow((3, 0, 6)), configuration_options={}, ssm=None, now=NOW)

    warehouse = next(c for c in state.connections if c.connection_id == "warehouse")
    assert json.loads(warehouse.extra or "") == {"sslmode": "require", "nested": {"region": "eu"}}
    assert MASK not in state.model_dump_json()


def test_an_unstructured_masked_extra_is_not_kept() -> None:
    airflow = _airflow((3, 0, 6))
    airflow.connections["odd"] = Connection(connection_id="odd", conn_type="http", extra="token=***")

    state = capture(airflow, configuration_options={}, ssm=None, now=NOW)

    assert next(c for c in state.connections if c.connection_id == "odd").extra is None
    assert "connection 'odd': extra (masked)" in [s.describe() for s in state.secrets_at_risk]


def test_a_connection_kept_in_the_ssm_backend_is_not_at_risk(ssm: Any) -> None:
    ssm.put_parameter(Name="/airflow/connections/warehouse", Value="postgres://etl:pw@db", Type="SecureString")

    state = capture(_airflow((3, 0, 6)), configuration_options=SSM_OPTIONS, ssm=ssm, now=NOW)

    assert state.secrets_at_risk == []
    assert state.connections_in_secrets_backend == ["warehouse"]


def test_a_connection_missing_from_the_ssm_backend_stays_at_risk(ssm: Any) -> None:
    ssm.put_parameter(Name="/airflow/connections/other", Value="x", Type="SecureString")

    state = capture(_airflow((3, 0, 6)), configuration_options=SSM_OPTIONS, ssm=ssm, now=NOW)

    assert [s.key for s in state.secrets_at_risk] == ["warehouse"]


def test_a_connection_the_lookup_pattern_skips_is_not_looked_up_in_ssm(ssm: Any) -> None:
    ssm.put_parameter(Name="/airflow/connections/warehouse", Value="x", Type="SecureString")
    options = {**SSM_OPTIONS, "secrets.backend_kwargs": json.dumps({"connections_lookup_pattern": "^aws"})}

    state = capture(_airflow((3, 0, 6)), configuration_options=options, ssm=ssm, now=NOW)

    assert [s.key for s in state.secrets_at_risk] == ["warehouse"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, None),
        ({"secrets.backend": "airflow.secrets.local_filesystem.LocalFilesystemBackend"}, None),
        ({"secrets.backend": SSM_BACKEND}, SsmConnectionsBackend(prefix="airflow/connections")),
        (
            {"secrets.backend": SSM_BACKEND, "secrets.backend_kwargs": '{"connections_prefix": "/team/conns/"}'},
            SsmConnectionsBackend(prefix="/team/conns"),
        ),
        ({"secrets.backend": SSM_BACKEND, "secrets.backend_kwargs": '{"connections_prefix": null}'}, None),
        ({"secrets.backend": SSM_BACKEND, "secrets.backend_kwargs": "{not json"}, None),
    ],
)
def test_the_ssm_backend_is_read_from_the_configuration(
    options: dict[str, str], expected: SsmConnectionsBackend | None
) -> None:
    assert ssm_connections_backend(options) == expected


def test_the_parameter_name_gets_a_leading_slash() -> None:
    assert SsmConnectionsBackend(prefix="airflow/connections").parameter_name("db") == "/airflow/connections/db"


def test_the_refuse_policy_stops_the_hibernate_naming_the_secrets_never_their_values() -> None:
    state = capture(_airflow((3, 0, 6)), configuration_options={}, ssm=None, now=NOW)

    with pytest.raises(ConnectionSecretsWouldBeLostError) as refused:
        check_secrets(state, "refuse")

    assert "connection 'warehouse': password" in str(refused.value)
    assert "mwaa-cp:connections=accept-loss" in str(refused.value)
    assert refused.value.items == [s.describe() for s in state.secrets_at_risk]


def test_accept_loss_lists_what_is_lost_and_lets_the_hibernate_go_on() -> None:
    state = capture(_airflow((3, 0, 6)), configuration_options={}, ssm=None, now=NOW)

    assert check_secrets(state, "accept-loss") == [s.describe() for s in state.secrets_at_risk]


def test_nothing_at_risk_passes_even_the_refuse_policy() -> None:
    assert check_secrets(AirflowState(airflow_version="2.10.3", captured_at=NOW), "refuse") == []


def test_dags_are_captured_with_details_and_the_last_scheduled_run_of_timed_ones() -> None:
    airflow = _airflow()

    state = capture(airflow, configuration_options={}, ssm=None, now=NOW)

    dags = {d.dag_id: d for d in state.dags}
    assert set(dags) == {"sales_daily", "paused_one", "manual_only"}  # the stale DAG's file is gone
    assert dags["sales_daily"].last_scheduled_run is not None
    assert dags["paused_one"].is_paused is True
    assert "last_scheduled_run manual_only" not in airflow.calls


def test_a_dag_whose_id_is_too_long_for_the_api_is_captured_with_a_note() -> None:
    airflow = _airflow()
    airflow.fail_on["get_dag_details sales_daily"] = InvalidInputError("the path is 70 characters long")

    state = capture(airflow, configuration_options={}, ssm=None, now=NOW)

    captured = next(d for d in state.dags if d.dag_id == "sales_daily")
    assert captured.details is None
    assert captured.note == "the path is 70 characters long"


@pytest.mark.parametrize(
    ("version", "options", "expected"),
    [
        ((2, 10, 3), {}, ("data-interval", "data-interval", True)),
        ((2, 10, 3), {"scheduler.catchup_by_default": "False"}, ("data-interval", "data-interval", False)),
        ((3, 0, 6), {}, ("trigger", "data-interval", False)),
        (
            (3, 0, 6),
            {"scheduler.create_cron_data_intervals": "True", "scheduler.create_delta_data_intervals": "false"},
            ("data-interval", "trigger", False),
        ),
    ],
)
def test_how_the_scheduler_reads_schedules_follows_the_version_and_configuration(
    version: tuple[int, int, int], options: dict[str, str], expected: tuple[str, str, bool]
) -> None:
    state = capture(FakeAirflow(version=version), configuration_options=options, ssm=None, now=NOW)

    assert (state.cron_timetable, state.delta_timetable, state.catchup_by_default) == expected


# -- restore ---------------------------------------------------------------------------------------------------------


def _fresh(source: FakeAirflow) -> FakeAirflow:
    """The recreated environment: same DAG files, every DAG paused at creation, nothing else."""
    fresh = FakeAirflow(version=source.version)
    for dag_id, details in source.details.items():
        if source.active.get(dag_id, True):
            fresh.add_dag(details.model_copy(update={"is_paused": True}))
    return fresh


def test_restore_writes_everything_back_and_unpauses_only_what_the_guard_allows() -> None:
    source = _airflow((3, 0, 6))
    state = capture(source, configuration_options={}, ssm=None, now=NOW)
    fresh = _fresh(source)

    report = restore(fresh, state, unpause={"manual_only"})

    assert {k: v.value for k, v in fresh.variables.items()} == {"bucket": "s3://landing", "limits": '{"rows": 10}'}
    assert fresh.pools["etl"] == Pool(name="etl", slots=4, description="loads", include_deferred=False)
    assert set(fresh.connections) == {"warehouse", "public_api"}
    assert fresh.paused == {"sales_daily": True, "paused_one": True, "manual_only": False}
    assert report.unpaused == ["manual_only"]
    assert report.complete
    assert MASK not in json.dumps([c.model_dump() for c in fresh.connections.values()])


def test_a_dag_unpaused_at_creation_is_paused_when_the_guard_holds_it() -> None:
    source = _airflow()
    state = capture(source, configuration_options={}, ssm=None, now=NOW)
    fresh = _fresh(source)
    fresh.details["sales_daily"] = fresh.details["sales_daily"].model_copy(update={"is_paused": False})

    report = restore(fresh, state, unpause=set())

    assert fresh.paused["sales_daily"] is True
    assert report.paused == ["sales_daily"]


def test_restore_run_twice_changes_nothing_the_second_time() -> None:
    source = _airflow()
    state = capture(source, configuration_options={}, ssm=None, now=NOW)
    fresh = _fresh(source)
    restore(fresh, state, unpause={"sales_daily", "manual_only"})
    fresh.calls.clear()

    again = restore(fresh, state, unpause={"sales_daily", "manual_only"})

    assert again.connections_created == []
    assert again.connections_existing == ["warehouse", "public_api"]
    assert again.paused == again.unpaused == []
    assert not [c for c in fresh.calls if c.startswith(("set_dag_paused", "create_pool", "update_pool"))]


def test_an_existing_connection_is_left_as_it_is() -> None:
    source = _airflow()
    state = capture(source, configuration_options={}, ssm=None, now=NOW)
    fresh = _fresh(source)
    entered = Connection(connection_id="warehouse", conn_type="postgres", host="db", login="etl", password_set=True)
    fresh.connections["warehouse"] = entered

    restore(fresh, state, unpause=set())

    assert fresh.connections["warehouse"] == entered


def test_dags_not_parsed_yet_are_pending_and_a_rerun_finishes_them() -> None:
    source = _airflow()
    state = capture(source, configuration_options={}, ssm=None, now=NOW)
    fresh = _fresh(source)
    late = fresh.details.pop("sales_daily")

    first = restore(fresh, state, unpause={"sales_daily"})
    fresh.add_dag(late)
    second = restore(fresh, state, unpause={"sales_daily"})

    assert first.pending_dags == ["sales_daily"]
    assert not first.complete
    assert second.unpaused == ["sales_daily"]
    assert second.complete


def test_the_default_pool_is_updated_not_created() -> None:
    source = _airflow()
    source.pools["default_pool"] = Pool(name="default_pool", slots=32)
    state = capture(source, configuration_options={}, ssm=None, now=NOW)
    fresh = _fresh(source)

    restore(fresh, state, unpause=set())

    assert fresh.pools["default_pool"].slots == 32
    assert "create_pool default_pool" not in fresh.calls
    assert fresh.pools["default_pool"].include_deferred is None  # unchanged: not sent


def test_capture_works_through_the_real_client_over_invoke_rest_api(clock: ManualClock) -> None:
    mwaa = FakeMwaaApi(clock, airflow_version="3.0.6")
    mwaa.always("GET", "/variables", paged("variables", [{"key": "k", "value": "v", "description": None}]))
    mwaa.always("GET", "/pools", paged("pools", [{"name": "default_pool", "slots": 128, "include_deferred": False}]))
    mwaa.always("GET", "/connections", paged("connections", []))
    mwaa.always("GET", "/dags", paged("dags", [{"dag_id": "d", "is_paused": False, "is_stale": False}]))
    mwaa.always(
        "GET",
        "/dags/d/details",
        {"dag_id": "d", "is_paused": False, "catchup": False, "timetable_summary": "@daily", "timezone": "UTC"},
    )
    mwaa.always("GET", "/dags/d/dagRuns", {"dag_runs": [], "total_entries": 0})
    client = AirflowClient(mwaa, "dev", clock=clock)  # type: ignore[arg-type]

    state = capture(client, configuration_options={}, ssm=None, now=NOW)

    assert state.airflow_version == "3.0.6"
    assert [v.key for v in state.variables] == ["k"]
    assert state.dags[0].details is not None
    assert state.dags[0].last_scheduled_run is None


def test_a_dag_id_too_long_for_the_api_path_is_reported_not_fatal() -> None:
    source = _airflow()
    state = capture(source, configuration_options={}, ssm=None, now=NOW)
    fresh = _fresh(source)
    fresh.fail_on["set_dag_paused manual_only False"] = InvalidInputError("the path is 70 characters long")

    report = restore(fresh, state, unpause={"manual_only"})

    assert report.unreachable_dags == ["manual_only"]
    assert report.complete
