"""Connections through the REST API: what a snapshot can read back, and what it never can (the password)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mwaa_control_plane.clock import ManualClock
from tests.unit.local.airflow_env import Env, available

WAREHOUSE = {
    "connection_id": "warehouse",
    "conn_type": "postgres",
    "description": "Reporting database",
    "host": "db.internal",
    "login": "report",
    "schema": "analytics",
    "port": 5432,
    "password": "s3cr3t",
    "extra": json.dumps({"sslmode": "require", "api_key": "abc"}),
}


@pytest.fixture
def airflow2(s3: Any, clock: ManualClock) -> Env:
    return available(s3, clock)


@pytest.fixture
def airflow3(s3: Any, clock: ManualClock) -> Env:
    return available(s3, clock, "3.0.6")


# ------------------------------------------------------------------------------- v1 (Airflow 2)


def test_v1_a_created_connection_reads_back_without_its_password(airflow2: Env) -> None:
    airflow2.ok("POST", "/connections", body=WAREHOUSE)
    connection = airflow2.ok("GET", "/connections/warehouse")
    assert "password" not in connection
    assert {k: connection[k] for k in ("conn_type", "host", "login", "schema", "port")} == {
        "conn_type": "postgres",
        "host": "db.internal",
        "login": "report",
        "schema": "analytics",
        "port": 5432,
    }


def test_v1_creating_a_connection_answers_200_without_the_password(airflow2: Env) -> None:
    status, connection = airflow2.rest("POST", "/connections", body=WAREHOUSE)
    assert status == 200
    assert "password" not in connection


def test_secrets_in_extra_are_masked(airflow2: Env) -> None:
    airflow2.ok("POST", "/connections", body=WAREHOUSE)
    extra = json.loads(airflow2.ok("GET", "/connections/warehouse")["extra"])
    assert extra == {"sslmode": "require", "api_key": "***"}


def test_v1_lists_connections_without_extra_with_the_total(airflow2: Env) -> None:
    airflow2.ok("POST", "/connections", body=WAREHOUSE)
    airflow2.ok("POST", "/connections", body={"connection_id": "slack", "conn_type": "http"})
    listing = airflow2.ok("GET", "/connections", {"limit": 1})
    assert listing["total_entries"] == 2
    assert [c["connection_id"] for c in listing["connections"]] == ["warehouse"]
    assert "extra" not in listing["connections"][0]
    assert "password" not in listing["connections"][0]


def test_v1_a_duplicate_connection_is_a_409(airflow2: Env) -> None:
    airflow2.ok("POST", "/connections", body=WAREHOUSE)
    status, problem = airflow2.rest("POST", "/connections", body=WAREHOUSE)
    assert (status, problem["title"], problem["detail"]) == (409, "Conflict", "Connection already exist. ID: warehouse")


def test_v1_a_connection_without_conn_type_is_a_400(airflow2: Env) -> None:
    status, problem = airflow2.rest("POST", "/connections", body={"connection_id": "slack"})
    assert (status, problem["detail"]) == (400, "'conn_type' is a required property")


def test_v1_an_unknown_field_is_a_400(airflow2: Env) -> None:
    status, problem = airflow2.rest("POST", "/connections", body={**WAREHOUSE, "extras": "{}"})
    assert (status, problem["detail"]) == (400, "{'extras': ['Unknown field.']}")


def test_v1_an_unknown_connection_is_a_404_problem(airflow2: Env) -> None:
    status, problem = airflow2.rest("GET", "/connections/nope")
    assert (status, problem["title"]) == (404, "Connection not found")
    assert problem["detail"] == "The Connection with connection_id: `nope` was not found"


def test_v1_patch_changes_the_fields_given(airflow2: Env) -> None:
    airflow2.ok("POST", "/connections", body=WAREHOUSE)
    airflow2.ok(
        "PATCH", "/connections/warehouse", body={"connection_id": "warehouse", "conn_type": "postgres", "port": 6432}
    )
    assert airflow2.ok("GET", "/connections/warehouse")["port"] == 6432


def test_v1_patch_with_an_update_mask_changes_only_the_masked_fields(airflow2: Env) -> None:
    airflow2.ok("POST", "/connections", body=WAREHOUSE)
    airflow2.ok(
        "PATCH",
        "/connections/warehouse",
        {"update_mask": ["host"]},
        {"connection_id": "warehouse", "conn_type": "postgres", "host": "db2.internal", "port": 1},
    )
    connection = airflow2.ok("GET", "/connections/warehouse")
    assert (connection["host"], connection["port"]) == ("db2.internal", 5432)


def test_v1_patch_cannot_rename_a_connection(airflow2: Env) -> None:
    airflow2.ok("POST", "/connections", body=WAREHOUSE)
    status, problem = airflow2.rest("PATCH", "/connections/warehouse", body={"connection_id": "other"})
    assert (status, problem["detail"]) == (400, "The connection_id cannot be updated.")


def test_a_deleted_connection_is_gone(airflow2: Env) -> None:
    airflow2.ok("POST", "/connections", body=WAREHOUSE)
    assert airflow2.rest("DELETE", "/connections/warehouse")[0] == 204
    assert airflow2.rest("GET", "/connections/warehouse")[0] == 404


def test_an_invalid_connection_id_is_refused(airflow2: Env) -> None:
    status, _ = airflow2.rest("POST", "/connections", body={"connection_id": "bad id", "conn_type": "http"})
    assert status == 400


# ------------------------------------------------------------------------------- v2 (Airflow 3)


def test_v2_creating_a_connection_answers_201(airflow3: Env) -> None:
    assert airflow3.rest("POST", "/connections", body=WAREHOUSE)[0] == 201


def test_v2_masks_a_set_password_and_shows_null_for_none(airflow3: Env) -> None:
    airflow3.ok("POST", "/connections", body=WAREHOUSE)
    airflow3.ok("POST", "/connections", body={"connection_id": "slack", "conn_type": "http"})
    passwords = {c["connection_id"]: c["password"] for c in airflow3.ok("GET", "/connections")["connections"]}
    assert passwords == {"warehouse": "***", "slack": None}


def test_v2_a_duplicate_connection_is_a_409_unique_constraint_violation(airflow3: Env) -> None:
    airflow3.ok("POST", "/connections", body=WAREHOUSE)
    status, body = airflow3.rest("POST", "/connections", body=WAREHOUSE)
    assert (status, body["detail"]["reason"]) == (409, "Unique constraint violation")


def test_v2_a_connection_without_conn_type_is_a_422(airflow3: Env) -> None:
    status, body = airflow3.rest("POST", "/connections", body={"connection_id": "slack"})
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "conn_type"]


def test_v2_extra_must_be_a_json_object(airflow3: Env) -> None:
    status, body = airflow3.rest("POST", "/connections", body={**WAREHOUSE, "extra": "[1, 2]"})
    assert (status, body["detail"][0]["loc"]) == (422, ["body", "extra"])


def test_v2_patch_refuses_a_body_naming_another_connection(airflow3: Env) -> None:
    airflow3.ok("POST", "/connections", body=WAREHOUSE)
    status, body = airflow3.rest("PATCH", "/connections/warehouse", body={"connection_id": "x", "conn_type": "http"})
    assert (status, body["detail"]) == (400, "The connection_id in the request body does not match the URL parameter")


def test_v2_an_unknown_connection_is_a_404_with_a_detail(airflow3: Env) -> None:
    assert airflow3.rest("GET", "/connections/nope") == (
        404,
        {"detail": "The Connection with connection_id: `nope` was not found"},
    )
