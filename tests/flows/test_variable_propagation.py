"""variable-propagation: the real ASL and handlers, driven by parameter changes, files and console inputs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment
from tests.conftest import load_event
from tests.flows.helpers import Notifications, last_state, staging_bucket

pytestmark = pytest.mark.flow

FLOW = "variable-propagation"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"


def backend_options(variables: str, connections: str, *, pattern: bool = True) -> dict[str, str]:
    kwargs: dict[str, Any] = {"variables_prefix": variables, "connections_prefix": connections}
    if pattern:
        kwargs["connections_lookup_pattern"] = "^(?!aws_default$).*"
    return {"secrets.backend": SSM_BACKEND, "secrets.backend_kwargs": json.dumps(kwargs)}


def managed(
    aws: LocalAws,
    name: str,
    *,
    mode: str = "on",
    options: dict[str, str] | None = None,
    airflow_version: str = "2.10.3",
) -> None:
    extra: dict[str, Any] = {}
    if options:
        extra["AirflowConfigurationOptions"] = options
    create_environment(aws, name, airflow_version=airflow_version, tags={"mwaa-cp:variables": mode}, **extra)


def put_source(aws: LocalAws, name: str, value: str, *, secure: bool = False) -> None:
    aws.client("ssm").put_parameter(Name=name, Value=value, Type="SecureString" if secure else "String", Overwrite=True)


def settle(aws: LocalAws) -> list[dict[str, Any]]:
    """Wait until every variable-propagation execution started so far has ended."""
    aws.events.drain(timeout=30)
    return aws.wait_for_executions(FLOW, len(aws.executions(FLOW)) or 0) if aws.executions(FLOW) else []


def run(aws: LocalAws, payload: dict[str, Any]) -> dict[str, Any]:
    settle(aws)
    arn = aws.start_execution(FLOW, payload)
    result = aws.wait_for_execution(arn)
    assert result["status"] == "SUCCEEDED", (last_state(aws, arn), result.get("cause"))
    return result


def parameter(aws: LocalAws, name: str) -> dict[str, Any] | None:
    ssm = aws.client("ssm")
    try:
        return dict(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"])
    except ssm.exceptions.ParameterNotFound:
        return None


@pytest.fixture
def two_environments(aws: LocalAws) -> LocalAws:
    managed(aws, "dev-analytics", options=backend_options("/airflow/dev/variables", "/airflow/dev/connections"))
    managed(
        aws, "staging-analytics", options=backend_options("/airflow/staging/variables", "/airflow/staging/connections")
    )
    create_environment(aws, "prod-unmanaged")
    return aws


def test_a_parameter_change_propagates_to_every_managed_environment(two_environments: LocalAws) -> None:
    aws = two_environments
    put_source(aws, "/mwaa-cp/variables/global/data_bucket", "analytics-data")
    executions = settle(aws)

    assert executions, "the Parameter Store Change event started no execution"
    assert parameter(aws, "/airflow/dev/variables/data_bucket")["Value"] == "analytics-data"
    assert parameter(aws, "/airflow/staging/variables/data_bucket")["Value"] == "analytics-data"
    assert parameter(aws, "/airflow/dev/variables/data_bucket")["Type"] == "String"
    assert parameter(aws, "/airflow/variables/data_bucket") is None


def test_an_environment_override_wins_over_the_global_value(two_environments: LocalAws) -> None:
    aws = two_environments
    put_source(aws, "/mwaa-cp/variables/global/data_bucket", "analytics-data")
    put_source(aws, "/mwaa-cp/variables/env/dev-analytics/data_bucket", "analytics-data-dev")
    settle(aws)

    assert parameter(aws, "/airflow/dev/variables/data_bucket")["Value"] == "analytics-data-dev"
    assert parameter(aws, "/airflow/staging/variables/data_bucket")["Value"] == "analytics-data"

    # Deleting the override puts the global value back (an update, not a delete).
    aws.client("ssm").delete_parameter(Name="/mwaa-cp/variables/env/dev-analytics/data_bucket")
    settle(aws)
    assert parameter(aws, "/airflow/dev/variables/data_bucket")["Value"] == "analytics-data"


SECRET = "s3cr3t-Value-never-shown-0123456789"


def test_a_secret_named_key_becomes_securestring_and_its_value_is_never_shown(
    two_environments: LocalAws,
    inbox: Notifications,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    aws = two_environments
    caplog.set_level(logging.INFO)  # botocore logs request bodies at DEBUG: never enable that in production
    put_source(aws, "/mwaa-cp/variables/global/partner_api_token", SECRET)  # a plain String in the source
    settle(aws)
    run(aws, load_event("variable-propagation/plan-all.json"))

    target = parameter(aws, "/airflow/dev/variables/partner_api_token")
    assert target["Type"] == "SecureString"
    assert target["Value"] == SECRET
    s3 = aws.client("s3")
    bucket = staging_bucket(aws)
    reports = [
        s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode()
        for o in s3.list_objects_v2(Bucket=bucket, Prefix="reports/variable-propagation/").get("Contents", [])
    ]
    assert reports, "no report stored"
    messages = inbox.wait_for(lambda m: "variable propagation planned" in m["subject"])
    captured = capfd.readouterr()
    everything = [*reports, *(m["message"] for m in inbox.messages()), caplog.text, captured.out, captured.err]
    assert not [text for text in everything if SECRET in text]
    assert "partner_api_token" in messages[-1]["message"] or "0 to create" in messages[-1]["message"]


def test_drift_is_reported_by_the_daily_reconcile_and_repaired_by_an_apply(
    two_environments: LocalAws, inbox: Notifications
) -> None:
    aws = two_environments
    put_source(aws, "/mwaa-cp/variables/global/data_bucket", "analytics-data")
    settle(aws)
    # Someone edits the target by hand.
    put_source(aws, "/airflow/dev/variables/data_bucket", "hand-edited")
    aws.fire("VariablesReconcileSchedule")
    settle(aws)

    drift = inbox.wait_for(lambda m: "drifted" in m["subject"])
    assert "data_bucket" in drift[-1]["message"] and "drift" in drift[-1]["message"]
    assert "hand-edited" not in drift[-1]["message"]
    assert parameter(aws, "/airflow/dev/variables/data_bucket")["Value"] == "hand-edited"  # reported, not repaired

    run(aws, {"mode": "apply", "environment": "dev-analytics", "prune": False})
    assert parameter(aws, "/airflow/dev/variables/data_bucket")["Value"] == "analytics-data"


def test_the_reconcile_repairs_drift_when_the_stack_says_so() -> None:
    with LocalAws(parameters={"VariablesRepairDrift": "true"}) as aws:
        managed(aws, "dev-analytics", options=backend_options("/airflow/dev/variables", "/airflow/dev/connections"))
        put_source(aws, "/mwaa-cp/variables/global/data_bucket", "analytics-data")
        settle(aws)
        put_source(aws, "/airflow/dev/variables/data_bucket", "hand-edited")
        aws.fire("VariablesReconcileSchedule")
        settle(aws)
        assert parameter(aws, "/airflow/dev/variables/data_bucket")["Value"] == "analytics-data"


def test_prune_deletes_only_what_the_source_no_longer_has(two_environments: LocalAws) -> None:
    aws = two_environments
    put_source(aws, "/mwaa-cp/variables/global/keep_me", "1")
    put_source(aws, "/mwaa-cp/variables/global/retired", "2")
    put_source(aws, "/airflow/dev/variables/made_by_hand", "3")  # never written by the control plane
    settle(aws)
    aws.client("ssm").delete_parameter(Name="/mwaa-cp/variables/global/retired")
    settle(aws)
    assert parameter(aws, "/airflow/dev/variables/retired") is not None  # deletes need prune

    run(aws, load_event("variable-propagation/apply-prune.json"))

    assert parameter(aws, "/airflow/dev/variables/retired") is None
    assert parameter(aws, "/airflow/staging/variables/retired") is None
    assert parameter(aws, "/airflow/dev/variables/keep_me")["Value"] == "1"
    assert parameter(aws, "/airflow/dev/variables/made_by_hand")["Value"] == "3"


def test_a_no_op_apply_makes_no_write_calls(two_environments: LocalAws) -> None:
    aws = two_environments
    put_source(aws, "/mwaa-cp/variables/global/data_bucket", "analytics-data")
    put_source(aws, "/mwaa-cp/connections/global/warehouse", "postgresql://etl:pw@warehouse:5432/analytics")
    settle(aws)
    before = parameter(aws, "/airflow/dev/variables/data_bucket")["Version"]

    result = run(aws, load_event("variable-propagation/apply-all.json"))

    arn = result["executionArn"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in aws.history(arn) if e["type"].endswith("StateEntered")]
    assert "Write the changes to the target" not in entered
    assert parameter(aws, "/airflow/dev/variables/data_bucket")["Version"] == before


def test_an_environment_without_the_backend_receives_variables_through_the_rest_api(aws: LocalAws) -> None:
    from mwaa_cp_local.mwaa import airflow_of

    managed(aws, "dev-rest")  # mwaa-cp:variables=on, no secrets backend: the REST API target
    managed(aws, "dev-rest3", airflow_version="3.0.6", mode="rest")
    put_source(aws, "/mwaa-cp/variables/global/data_bucket", "analytics-data")
    put_source(aws, "/mwaa-cp/connections/global/warehouse", "postgresql://etl:pw@warehouse:5432/analytics")
    settle(aws)

    for name in ("dev-rest", "dev-rest3"):
        variable = airflow_of(name).variables["data_bucket"]
        assert variable.value == "analytics-data"
        assert (variable.description or "").startswith("Managed by mwaa-control-plane")
        assert "warehouse" not in airflow_of(name).connections
    assert parameter(aws, "/airflow/variables/data_bucket") is None

    # A no-op run reads through the API and writes nothing.
    run(aws, {"mode": "apply", "environment": None, "prune": False})
    assert airflow_of("dev-rest").variables["data_bucket"].value == "analytics-data"


def test_connections_propagate_and_the_emulated_airflow_reads_them_through_the_backend(aws: LocalAws) -> None:
    from mwaa_cp_local.mwaa import airflow_of, read_connection, read_variable

    options = backend_options("/airflow/dev/variables", "/airflow/dev/connections")
    options["workers.secrets_backend_kwargs"] = options["secrets.backend_kwargs"]
    managed(aws, "dev3", airflow_version="3.0.6", options=options)
    put_source(
        aws, "/mwaa-cp/connections/global/warehouse", "postgresql://etl:pw%40x@warehouse.internal:5432/analytics"
    )
    put_source(
        aws,
        "/mwaa-cp/connections/env/dev3/api",
        json.dumps({"conn_type": "http", "host": "api.internal", "password": "tok"}),
        secure=True,
    )
    put_source(aws, "/mwaa-cp/variables/global/data_bucket", "analytics-data")
    settle(aws)

    assert parameter(aws, "/airflow/dev/connections/warehouse")["Type"] == "SecureString"
    instance = airflow_of("dev3")
    for side in ("scheduler", "worker"):
        warehouse = read_connection(instance, "warehouse", on=side)
        assert warehouse is not None
        assert (warehouse.conn_type, warehouse.host, warehouse.login, warehouse.password, warehouse.port) == (
            "postgres",
            "warehouse.internal",
            "etl",
            "pw@x",
            5432,
        )
        api = read_connection(instance, "api", on=side)
        assert api is not None
        assert (api.host, api.password) == ("api.internal", "tok")
        assert read_variable(instance, "data_bucket", on=side) == "analytics-data"


def test_a_missing_or_inconsistent_backend_is_reported_and_fixed_only_with_the_flag(
    aws: LocalAws, inbox: Notifications
) -> None:
    from mwaa_cp_local.mwaa import airflow_of, read_variable

    options = backend_options("/airflow/dev3/variables", "/airflow/dev3/connections", pattern=False)
    managed(aws, "dev3", airflow_version="3.0.6", options=options)  # no worker kwargs, MWAA's pattern lost
    managed(aws, "dev-forced", mode="ssm")  # forced SSM, no backend at all
    put_source(aws, "/mwaa-cp/variables/global/data_bucket", "analytics-data")
    put_source(aws, "/mwaa-cp/variables/env/dev3/report_day", "monday")
    settle(aws)

    run(aws, {"mode": "plan", "environment": None, "prune": False})
    message = inbox.wait_for(lambda m: "planned" in m["subject"])[-1]["message"]
    for code in ("worker-kwargs-missing", "default-connections-pattern-lost", "forced-ssm-without-backend"):
        assert code in message
    assert aws.executions("environment-change") == []
    assert read_variable(airflow_of("dev3"), "report_day", on="scheduler") == "monday"
    assert read_variable(airflow_of("dev3"), "report_day", on="worker") is None  # workers look elsewhere

    run(aws, load_event("variable-propagation/apply-fix-backend.json"))

    changes = aws.wait_for_executions("environment-change", 1)
    sfn = aws.client("stepfunctions")
    inputs = [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in changes]
    assert [i["environment_name"] for i in inputs] == ["dev3"]
    assert inputs[0]["requested_by"]["flow"] == "variable-propagation"
    configuration = aws.client("mwaa").get_environment(Name="dev3")["Environment"]["AirflowConfigurationOptions"]
    assert json.loads(configuration["workers.secrets_backend_kwargs"]) == json.loads(
        configuration["secrets.backend_kwargs"]
    )
    assert read_variable(airflow_of("dev3"), "report_day", on="worker") == "monday"
