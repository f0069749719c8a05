"""variable-propagation: the real ASL and handlers, driven by parameter changes, files and console inputs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment
from tests.conftest import load_event
from tests.flows.helpers import Notifications, last_state, staging_bucket, upload

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


@pytest.fixture(autouse=True)
def quick_creation(request: pytest.FixtureRequest) -> None:
    """Environments here only need to exist: a 60 s creation instead of MWAA's 25 minutes of virtual time."""
    if "aws" in request.fixturenames:
        from mwaa_cp_local import mwaa

        request.getfixturevalue("aws")
        mwaa.configure(create_seconds=60)


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


KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0b7c8f4e-5d1a-4e8b-9c3f-2a6d7e9f1b4c"


def test_secrets_are_encrypted_with_the_configured_key_which_only_the_roles_that_need_it_may_use() -> None:
    from mwaa_cp_local import mwaa
    from mwaa_cp_local.mwaa import airflow_of, read_connection, read_variable

    with LocalAws(parameters={"VariablesKmsKeyArn": KMS_KEY}) as aws:
        mwaa.configure(create_seconds=60)
        managed(aws, "dev-analytics", options=backend_options("/airflow/dev/variables", "/airflow/dev/connections"))
        put_source(aws, "/mwaa-cp/variables/global/partner_api_token", SECRET)
        put_source(aws, "/mwaa-cp/variables/global/data_bucket", "analytics-data")
        put_source(aws, "/mwaa-cp/connections/global/warehouse", "postgresql://etl:pw@warehouse.internal:5432/dw")
        settle(aws)

        described = aws.client("ssm").describe_parameters(
            ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": ["/airflow/dev"]}]
        )["Parameters"]
        keys = {p["Name"]: (p["Type"], p.get("KeyId")) for p in described}
        assert keys == {
            "/airflow/dev/variables/partner_api_token": ("SecureString", KMS_KEY),
            "/airflow/dev/connections/warehouse": ("SecureString", KMS_KEY),
            "/airflow/dev/variables/data_bucket": ("String", None),
        }
        instance = airflow_of("dev-analytics")
        assert read_variable(instance, "partner_api_token") == SECRET
        warehouse = read_connection(instance, "warehouse")
        assert warehouse is not None and warehouse.password == "pw"

        # The roles that decrypt or encrypt parameter values may use the key, through SSM only; no other role may
        # (off-hours' snapshot reads parameters without decrypting them).
        iam = aws.client("iam")
        with_key: set[str] = set()
        for role in iam.list_roles()["Roles"]:
            name = role["RoleName"]
            statements = [
                statement
                for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
                for statement in _statements(iam.get_role_policy(RoleName=name, PolicyName=policy))
            ]
            for statement in statements:
                if "ssm." in json.dumps(statement.get("Condition", {})):
                    assert _listed(statement["Resource"]) == [KMS_KEY], name
                    assert statement["Condition"]["StringEquals"]["kms:ViaService"] == "ssm.us-east-1.amazonaws.com"
                    with_key.add(name)
        functions = ("ImportVariablesFile", "PlanVariablePropagation", "ApplyVariableChanges")
        assert with_key == {aws.stack.ref(f"{function}FunctionRole") for function in functions}


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    document = policy["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


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
    from mwaa_cp_local import mwaa

    with LocalAws(parameters={"VariablesRepairDrift": "true"}) as aws:
        mwaa.configure(create_seconds=60)
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

    # A no-op run reads through the API and writes nothing; the plan says why the backend would be better.
    run(aws, {"mode": "apply", "environment": None, "prune": False})
    arn = run(aws, {"mode": "plan", "environment": "dev-rest", "prune": False})["executionArn"]
    plan_key = json.loads(aws.wait_for_execution(arn)["output"])["plan"]["value"]["plan_key"]
    stored = aws.client("s3").get_object(Bucket=staging_bucket(aws), Key=plan_key)["Body"].read().decode()
    assert "no SSM secrets backend" in stored and "connections are not propagated" in stored
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

    options = backend_options("/airflow/dev-analytics/variables", "/airflow/dev-analytics/connections", pattern=False)
    managed(aws, "dev-analytics", airflow_version="3.0.6", options=options)  # no worker kwargs, MWAA's pattern lost
    managed(aws, "dev-forced", mode="ssm")  # forced SSM, no backend at all
    put_source(aws, "/mwaa-cp/variables/global/data_bucket", "analytics-data")
    put_source(aws, "/mwaa-cp/variables/env/dev-analytics/report_day", "monday")
    settle(aws)

    run(aws, {"mode": "plan", "environment": None, "prune": False})
    message = inbox.wait_for(lambda m: "planned" in m["subject"])[-1]["message"]
    for code in ("worker-kwargs-missing", "default-connections-pattern-lost", "forced-ssm-without-backend"):
        assert code in message
    assert aws.executions("environment-change") == []
    assert read_variable(airflow_of("dev-analytics"), "report_day", on="scheduler") == "monday"
    assert read_variable(airflow_of("dev-analytics"), "report_day", on="worker") is None  # workers look elsewhere

    run(aws, load_event("variable-propagation/apply-fix-backend.json"))

    changes = aws.wait_for_executions("environment-change", 1)
    sfn = aws.client("stepfunctions")
    inputs = [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in changes]
    assert [i["environment_name"] for i in inputs] == ["dev-analytics"]
    assert inputs[0]["requested_by"]["flow"] == "variable-propagation"
    environment = aws.client("mwaa").get_environment(Name="dev-analytics")["Environment"]
    configuration = environment["AirflowConfigurationOptions"]
    assert json.loads(configuration["workers.secrets_backend_kwargs"]) == json.loads(
        configuration["secrets.backend_kwargs"]
    )
    assert read_variable(airflow_of("dev-analytics"), "report_day", on="worker") == "monday"


# ---------------------------------------------------------------------------------------- bad input


def test_a_malformed_console_input_is_refused_with_the_reason(aws: LocalAws, inbox: Notifications) -> None:
    arn = aws.start_execution(FLOW, load_event("variable-propagation/malformed.json"))
    result = aws.wait_for_execution(arn)

    assert result["status"] == "FAILED"
    assert last_state(aws, arn) == "Input refused"
    messages = inbox.wait_for(lambda m: "variable propagation refused" in m["subject"])
    message = next(m["message"] for m in messages if "variable propagation refused" in m["subject"])
    assert "mode" in message and "prune" in message


def test_events_outside_the_source_tree_or_its_layout_change_nothing(aws: LocalAws) -> None:
    managed(aws, "dev-analytics", options=backend_options("/airflow/dev/variables", "/airflow/dev/connections"))
    outside = load_event("variable-propagation/parameter-change.json")
    outside["detail"]["name"] = "/team/other/thing"
    arn = aws.start_execution(FLOW, outside)
    assert aws.wait_for_execution(arn)["status"] == "SUCCEEDED"
    assert last_state(aws, arn) == "Nothing to propagate"

    misplaced = load_event("variable-propagation/parameter-change.json")
    misplaced["detail"]["name"] = "/mwaa-cp/variables/data_bucket"
    arn = aws.start_execution(FLOW, misplaced)
    assert aws.wait_for_execution(arn)["status"] == "FAILED"
    assert last_state(aws, arn) == "Input refused"


def test_duplicate_and_out_of_order_events_converge_without_extra_writes(two_environments: LocalAws) -> None:
    aws = two_environments
    put_source(aws, "/mwaa-cp/variables/global/data_bucket", "first")
    put_source(aws, "/mwaa-cp/variables/global/data_bucket", "second")
    settle(aws)
    version = parameter(aws, "/airflow/dev/variables/data_bucket")["Version"]

    event = load_event("variable-propagation/parameter-change.json")
    older = load_event("variable-propagation/parameter-change.json")
    older["detail"]["operation"] = "Create"
    arns = [aws.start_execution(FLOW, e) for e in (event, event, older)]
    assert [aws.wait_for_execution(a)["status"] for a in arns] == ["SUCCEEDED"] * 3

    target = parameter(aws, "/airflow/dev/variables/data_bucket")
    assert (target["Value"], target["Version"]) == ("second", version)


BULK = """
variables:
  global:
    data_bucket: analytics-data
    retry_policy: {value: {max: 3}}
    "bad key!": refused
    huge_blob: {value: "%(huge)s"}
    large_schema: "%(large)s"
  env:
    dev-analytics:
      data_bucket: analytics-data-dev
      partner_api_token: {value: "%(secret)s", secret: true}
connections:
  global:
    warehouse: postgresql://etl:pw@warehouse.internal:5432/analytics
    broken: not-a-uri
"""


def test_a_variables_file_applies_what_it_can_and_names_each_refused_key(
    two_environments: LocalAws, inbox: Notifications
) -> None:
    aws = two_environments
    body = BULK % {"huge": "x" * 9000, "large": "y" * 5000, "secret": SECRET}
    upload(aws, "variables/bulk.yaml", body)
    settle(aws)

    assert parameter(aws, "/mwaa-cp/variables/global/data_bucket")["Value"] == "analytics-data"
    assert parameter(aws, "/airflow/dev/variables/data_bucket")["Value"] == "analytics-data-dev"
    assert parameter(aws, "/airflow/staging/variables/data_bucket")["Value"] == "analytics-data"
    assert parameter(aws, "/airflow/dev/variables/retry_policy")["Value"] == '{"max":3}'
    assert parameter(aws, "/airflow/dev/variables/partner_api_token")["Type"] == "SecureString"
    assert parameter(aws, "/airflow/staging/variables/partner_api_token") is None
    assert parameter(aws, "/airflow/dev/connections/warehouse")["Type"] == "SecureString"
    large = aws.client("ssm").describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": ["/airflow/dev/variables/large_schema"]}]
    )["Parameters"]
    assert large[0]["Tier"] == "Advanced"
    for refused in ("huge_blob", "broken"):
        assert parameter(aws, f"/mwaa-cp/variables/global/{refused}") is None
        assert parameter(aws, f"/mwaa-cp/connections/global/{refused}") is None

    messages = inbox.wait_for(lambda m: "variables/bulk.yaml" in m["message"])
    text = "\n".join(m["message"] for m in messages)
    assert "bad key!" in text and "characters" in text
    assert "huge_blob" in text and "8192" in text
    assert "broken" in text and "URI" in text
    # The Advanced price is told by the run that wrote the parameter: the file's own, or one its writes started.
    aws.events.drain()
    everything = "\n".join(m["message"] for m in [*messages, *inbox.messages()])
    assert "Advanced" in everything and "USD a month" in everything
    assert SECRET not in everything
    told = next(m for m in messages if "variables/bulk.yaml" in m["message"])
    assert "error(s)" in told["subject"], told["subject"]  # refused keys are errors, not an "applied"


def test_a_malformed_variables_file_is_refused_and_writes_nothing(
    two_environments: LocalAws, inbox: Notifications
) -> None:
    aws = two_environments
    upload(aws, "variables/bulk.yaml", "variables:\n  global:\n    data_bucket: [unclosed\n")
    settle(aws)

    messages = inbox.wait_for(lambda m: "variables file refused" in m["subject"])
    message = next(m["message"] for m in messages if "variables file refused" in m["subject"])
    assert "not valid YAML" in message and "line" in message
    assert aws.client("ssm").get_parameters_by_path(Path="/mwaa-cp", Recursive=True)["Parameters"] == []
    # dag-delivery leaves the variables/ prefix alone.
    delivery = aws.executions("dag-delivery")
    assert all(e["status"] == "SUCCEEDED" for e in aws.wait_for_executions("dag-delivery", len(delivery)))


def test_throttling_is_backed_off_and_a_key_that_stays_throttled_is_reported_while_the_rest_applies(
    two_environments: LocalAws, inbox: Notifications
) -> None:
    aws = two_environments
    ssm = aws.client("ssm")
    events = aws.client("events")
    rule = aws.stack.ref("VariablesParameterChangeRule")
    events.disable_rule(Name=rule)  # write the source without starting a propagation per key
    for index in range(6):
        put_source(aws, f"/mwaa-cp/variables/global/key_{index}", str(index))
    events.enable_rule(Name=rule)
    # The first write is throttled past every retry (8 attempts); later ones ride out two throttles.
    aws.faults.inject("ssm", "PutParameter", times=8)

    run(aws, {"mode": "apply", "environment": "dev-analytics", "prune": False})
    aws.faults.inject("ssm", "PutParameter", times=2)
    run(aws, {"mode": "apply", "environment": "staging-analytics", "prune": False})

    dev = [parameter(aws, f"/airflow/dev/variables/key_{i}") for i in range(6)]
    assert dev[0] is None and all(p is not None for p in dev[1:])
    assert all(parameter(aws, f"/airflow/staging/variables/key_{i}") is not None for i in range(6))
    messages = "\n".join(m["message"] for m in inbox.wait_for(lambda m: "error" in m["subject"]))
    assert "key_0" in messages and "throttled" in messages
    assert ssm.get_parameter(Name="/mwaa-cp/variables/global/key_0")["Parameter"]["Value"] == "0"
