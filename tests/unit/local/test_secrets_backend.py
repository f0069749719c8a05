"""The emulated Airflow reads variables and connections through the SSM secrets backend, as MWAA's Airflow does."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from mwaa_control_plane.clock import ManualClock
from mwaa_cp_local import mwaa
from mwaa_cp_local.mwaa.airflow import AirflowInstance, Connection, Variable
from mwaa_cp_local.mwaa.airflow import connection_from_value as parse_connection
from mwaa_cp_local.mwaa.secrets import (
    InvalidConnectionError,
    ParameterStoreBackend,
    SecretsBackendConfigError,
    configured_backend,
    connection_uri,
)
from tests.unit.local.airflow_env import REGION, Env, available

SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"


def options(kwargs: dict[str, Any] | None = None, **more: str) -> dict[str, str]:
    found = {"secrets.backend": SSM_BACKEND, **more}
    if kwargs is not None:
        found["secrets.backend_kwargs"] = json.dumps(kwargs)
    return found


def environment(s3: Any, clock: ManualClock, configuration: dict[str, str], version: str = "2.10.3") -> Env:
    return available(s3, clock, version, AirflowConfigurationOptions=configuration)


def airflow(env: Env) -> AirflowInstance:
    return mwaa.airflow_of(env.name)


def put(name: str, value: str, kind: str = "String") -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(Name=name, Value=value, Type=kind, Overwrite=True)


def cli(env: Env, command: str) -> tuple[str, str]:
    token = env.client.create_cli_token(Name=env.name)
    status, answer = mwaa.handle_cli_request(token["WebServerHostname"], f"Bearer {token['CliToken']}", command)
    assert status == 200, answer
    return base64.b64decode(answer["stdout"]).decode(), base64.b64decode(answer["stderr"]).decode()


PREFIXES = {"variables_prefix": "/airflow/variables", "connections_prefix": "/airflow/connections"}


# ------------------------------------------------------------------------------------------ variables


def test_a_variable_in_ssm_wins_over_the_metadata_database(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))
    airflow(env).variables["region"] = Variable("from-db")
    put("/airflow/variables/region", "from-ssm")

    assert mwaa.read_variable(airflow(env), "region") == "from-ssm"
    assert cli(env, "variables get region")[0] == "from-ssm\n"


def test_a_variable_missing_from_ssm_falls_through_to_the_metadata_database(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))
    airflow(env).variables["region"] = Variable("from-db")

    assert mwaa.read_variable(airflow(env), "region") == "from-db"
    assert airflow(env).secrets_lookups == ["/airflow/variables/region"]


def test_a_variable_nowhere_is_reported_missing_by_the_cli(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))

    assert cli(env, "variables get nowhere")[1].endswith("Variable nowhere does not exist\n")


def test_without_a_secrets_backend_ssm_is_never_read(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, {})
    put("/airflow/variables/region", "from-ssm")

    assert mwaa.read_variable(airflow(env), "region") is None
    assert airflow(env).secrets_lookups == []


def test_the_backends_default_prefix_is_airflow_variables_with_a_leading_slash(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options({}))
    put("/airflow/variables/region", "from-ssm")

    assert mwaa.read_variable(airflow(env), "region") == "from-ssm"


def test_a_custom_prefix_gets_its_leading_slash_and_loses_a_trailing_one(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options({"variables_prefix": "mwaa/dev/variables/"}))
    put("/mwaa/dev/variables/region", "dev")
    put("/airflow/variables/region", "default-prefix")

    assert mwaa.read_variable(airflow(env), "region") == "dev"


def test_a_null_prefix_turns_the_lookup_off(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options({"variables_prefix": None}))
    put("/airflow/variables/region", "from-ssm")
    airflow(env).variables["region"] = Variable("from-db")

    assert mwaa.read_variable(airflow(env), "region") == "from-db"
    assert airflow(env).secrets_lookups == []


def test_a_lookup_pattern_hides_keys_it_does_not_match(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options({**PREFIXES, "variables_lookup_pattern": "^shared_"}))
    put("/airflow/variables/shared_region", "a")
    put("/airflow/variables/region", "b")

    assert mwaa.read_variable(airflow(env), "SHARED_region") is None  # matched (case-insensitive), but no such key
    assert mwaa.read_variable(airflow(env), "shared_region") == "a"
    assert mwaa.read_variable(airflow(env), "region") is None
    assert airflow(env).secrets_lookups == ["/airflow/variables/SHARED_region", "/airflow/variables/shared_region"]


def test_a_secure_string_is_read_decrypted(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))
    put("/airflow/variables/api_token", "t0ken", "SecureString")

    assert mwaa.read_variable(airflow(env), "api_token") == "t0ken"


def test_kwargs_that_are_not_json_fail_the_cli_as_airflow_does(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, {"secrets.backend": SSM_BACKEND, "secrets.backend_kwargs": "{not json"})

    stdout, stderr = cli(env, "variables get region")

    assert stdout == ""
    assert "AirflowConfigException" in stderr
    with pytest.raises(SecretsBackendConfigError):
        mwaa.read_variable(airflow(env), "region")


def test_the_rest_api_reads_only_the_metadata_database(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))
    put("/airflow/variables/region", "from-ssm")

    status, _ = env.rest("GET", "/variables/region")

    assert status == 404


# ------------------------------------------------------------------------------------------ Airflow 3 workers


def test_on_airflow_3_a_worker_reads_with_the_workers_kwargs(s3: Any, clock: ManualClock) -> None:
    configuration = options(
        {"variables_prefix": "/scheduler/variables"},
        **{"workers.secrets_backend_kwargs": json.dumps({"variables_prefix": "/worker/variables"})},
    )
    env = environment(s3, clock, configuration, "3.0.6")
    put("/scheduler/variables/region", "scheduler")
    put("/worker/variables/region", "worker")

    assert mwaa.read_variable(airflow(env), "region") == "scheduler"
    assert mwaa.read_variable(airflow(env), "region", on="worker") == "worker"
    assert cli(env, "variables get region --worker")[0] == "worker\n"


def test_on_airflow_3_a_worker_without_workers_kwargs_ignores_the_secrets_kwargs(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options({"variables_prefix": "/custom/variables"}), "3.0.6")
    put("/custom/variables/region", "custom")
    put("/airflow/variables/region", "image-default")

    assert mwaa.read_variable(airflow(env), "region") == "custom"
    assert mwaa.read_variable(airflow(env), "region", on="worker") == "image-default"


def test_on_airflow_2_a_worker_reads_with_the_secrets_kwargs(s3: Any, clock: ManualClock) -> None:
    configuration = options(
        {"variables_prefix": "/custom/variables"},
        **{"workers.secrets_backend_kwargs": json.dumps({"variables_prefix": "/worker/variables"})},
    )
    env = environment(s3, clock, configuration)
    put("/custom/variables/region", "custom")

    assert mwaa.read_variable(airflow(env), "region", on="worker") == "custom"


# ------------------------------------------------------------------------------------------ connections


def test_a_uri_connection_in_ssm_is_parsed_with_its_encoded_parts_and_extra(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))
    put(
        "/airflow/connections/warehouse",
        "postgresql://report%40corp:p%40ss%2Fw0rd@db.internal:5432/analytics%20db?sslmode=require&application_name=x",
        "SecureString",
    )

    connection = mwaa.read_connection(airflow(env), "warehouse")

    assert connection == Connection(
        conn_type="postgres",
        host="db.internal",
        login="report@corp",
        password="p@ss/w0rd",
        schema="analytics db",
        port=5432,
        extra=json.dumps({"sslmode": "require", "application_name": "x"}),
    )


def test_a_uri_connection_may_carry_its_whole_extra_as_json(s3: Any, clock: ManualClock) -> None:
    extra = {"region_name": "eu-west-1", "config_kwargs": {"retries": {"max_attempts": 3}}}
    connection = parse_connection("aws://?__extra__=" + json.dumps(extra).replace(" ", "%20"))

    assert connection.conn_type == "aws"
    assert json.loads(connection.extra or "") == extra


def test_a_hyphenated_scheme_is_the_underscored_conn_type() -> None:
    assert parse_connection("google-cloud-platform://").conn_type == "google_cloud_platform"


def test_a_json_connection_in_ssm_is_parsed(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))
    value = {
        "conn_type": "postgres",
        "host": "db.internal",
        "login": "report",
        "password": "s3cr3t",
        "port": "5432",
        "schema": "analytics",
        "description": "Reporting database",
        "extra": {"sslmode": "require"},
    }
    put("/airflow/connections/warehouse", json.dumps(value), "SecureString")

    connection = mwaa.read_connection(airflow(env), "warehouse")

    assert connection == Connection(
        conn_type="postgres",
        description="Reporting database",
        host="db.internal",
        login="report",
        password="s3cr3t",
        schema="analytics",
        port=5432,
        extra=json.dumps({"sslmode": "require"}),
    )


@pytest.mark.parametrize("value", ['{"conn_type": "postgres", "port": "five"}', '{"conn_typo": "x"}', "not a uri"])
def test_a_value_that_is_neither_form_is_refused(value: str) -> None:
    with pytest.raises(InvalidConnectionError):
        parse_connection(value)


def test_an_unreadable_connection_value_falls_through_to_the_database(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))
    put("/airflow/connections/warehouse", '{"conn_type": "postgres", "port": "five"}')
    airflow(env).connections["warehouse"] = Connection(conn_type="postgres", host="db-from-metastore")

    stdout, stderr = cli(env, "connections get warehouse -o json")

    assert json.loads(stdout)[0]["host"] == "db-from-metastore"
    assert "Unable to retrieve connection from secrets backend" in stderr


def test_mwaas_default_lookup_pattern_keeps_aws_default_out_of_ssm(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, {"secrets.backend": SSM_BACKEND})
    put("/airflow/connections/aws_default", "aws://?region_name=from-ssm")
    put("/airflow/connections/warehouse", "postgres://db.internal")

    assert mwaa.read_connection(airflow(env), "aws_default") is None
    assert mwaa.read_connection(airflow(env), "warehouse") is not None


def test_own_kwargs_replace_mwaas_lookup_pattern(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))
    put("/airflow/connections/aws_default", "aws://?region_name=from-ssm")

    found = mwaa.read_connection(airflow(env), "aws_default")

    assert found is not None and json.loads(found.extra or "") == {"region_name": "from-ssm"}


def test_connections_get_prints_the_connection_with_its_password(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))
    put("/airflow/connections/warehouse", "postgres://report:s3cr3t@db.internal:5432/analytics?sslmode=require")

    [row] = json.loads(cli(env, "connections get warehouse -o json")[0])

    assert list(row) == [
        "id",
        "conn_id",
        "conn_type",
        "description",
        "host",
        "schema",
        "login",
        "password",
        "port",
        "is_encrypted",
        "is_extra_encrypted",
        "extra_dejson",
        "get_uri",
    ]
    assert (row["id"], row["conn_id"], row["password"], row["port"]) == (None, "warehouse", "s3cr3t", 5432)
    assert row["extra_dejson"] == {"sslmode": "require"}
    assert row["get_uri"] == "postgres://report:s3cr3t@db.internal:5432/analytics?sslmode=require"


def test_connections_get_reads_the_database_when_ssm_has_nothing(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))
    airflow(env).connections["warehouse"] = Connection(conn_type="postgres", host="db.internal", password="pw")

    [row] = json.loads(cli(env, "connections get warehouse -o json")[0])

    assert (row["id"], row["host"], row["is_encrypted"]) == (1, "db.internal", True)


def test_connections_get_of_a_missing_connection_says_so(s3: Any, clock: ManualClock) -> None:
    env = environment(s3, clock, options(PREFIXES))

    stdout, stderr = cli(env, "connections get nowhere")

    assert (stdout, stderr.splitlines()[-1]) == ("", "Connection not found.")


def test_connections_get_on_a_worker_uses_the_workers_kwargs(s3: Any, clock: ManualClock) -> None:
    configuration = options(PREFIXES, **{"workers.secrets_backend_kwargs": json.dumps({"connections_prefix": None})})
    env = environment(s3, clock, configuration, "3.0.6")
    put("/airflow/connections/warehouse", "postgres://db.internal")

    assert json.loads(cli(env, "connections get warehouse -o json")[0])[0]["host"] == "db.internal"
    assert cli(env, "connections get warehouse --worker")[1].endswith("Connection not found.\n")


def test_the_uri_of_a_connection_round_trips() -> None:
    original = Connection(
        conn_type="google_cloud_platform",
        host="h",
        login="a b",
        password="p@ss:/?",
        schema="s/x",
        port=1,
        extra=json.dumps({"nested": {"a": 1}}),
    )

    assert parse_connection(connection_uri(original)) == original


# ------------------------------------------------------------------------------------------ configuration alone


def test_a_backend_other_than_ssm_is_not_emulated() -> None:
    configuration = {"secrets.backend": "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"}

    assert configured_backend(configuration, major=2) is None


def test_a_parameter_name_is_none_when_the_pattern_does_not_match() -> None:
    backend = ParameterStoreBackend(connections_lookup_pattern="^(?!aws_default$).*")

    assert backend.parameter_name("connections", "aws_default") is None
    assert backend.parameter_name("connections", "AWS_DEFAULT_X") == "/airflow/connections/AWS_DEFAULT_X"
