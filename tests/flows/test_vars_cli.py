"""`mwaa-cp vars plan|apply`: the propagation's plan and apply from a terminal, against the local runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment
from mwaa_cp_local.server import LocalServer
from tests.conftest import REPO

pytestmark = pytest.mark.flow

SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
SECRET = "s3cr3t-Value-never-printed-9876543210"
CHANGE_RULE = "mwaa-control-plane-variables-parameter-change"


def backend_options(name: str, *, workers: bool = False) -> dict[str, str]:
    kwargs = json.dumps(
        {
            "variables_prefix": f"/airflow/{name}/variables",
            "connections_prefix": f"/airflow/{name}/connections",
            "connections_lookup_pattern": "^(?!aws_default$).*",
        }
    )
    options = {"secrets.backend": SSM_BACKEND, "secrets.backend_kwargs": kwargs}
    if workers:
        options["workers.secrets_backend_kwargs"] = kwargs
    return options


def _mwaa_cp(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`mwaa-cp vars ...` piped (what `| cat` sees), against the served local runtime, writing quickly."""
    environment = {
        **{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "AWS_ENDPOINT_URL")},
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("cli", "layers/common", "local")),
    }
    command = [sys.executable, "-m", "mwaa_cp_cli.main", "vars", *args, "--endpoint-url", endpoint]
    if args and args[0] == "apply":
        command += ["--write-rate", "200"]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=180, check=False)


def parameter(aws: LocalAws, name: str) -> dict[str, Any] | None:
    ssm = aws.client("ssm")
    try:
        return dict(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"])
    except ssm.exceptions.ParameterNotFound:
        return None


def put_source(aws: LocalAws, key: str, value: str, *, secure: bool = False) -> None:
    aws.client("ssm").put_parameter(
        Name=f"/mwaa-cp/variables/global/{key}",
        Value=value,
        Type="SecureString" if secure else "String",
        Overwrite=True,
    )


@pytest.fixture
def served(aws: LocalAws) -> Iterator[tuple[LocalAws, str]]:
    """Two managed environments, one unmanaged; the source tree's change rule off, so only the CLI writes."""
    from mwaa_cp_local import mwaa

    mwaa.configure(create_seconds=60)
    aws.client("events").disable_rule(Name=CHANGE_RULE)
    create_environment(
        aws, "dev-analytics", tags={"mwaa-cp:variables": "on"}, AirflowConfigurationOptions=backend_options("dev")
    )
    create_environment(
        aws,
        "staging-analytics",
        tags={"mwaa-cp:variables": "on"},
        AirflowConfigurationOptions=backend_options("staging"),
    )
    create_environment(aws, "prod-unmanaged")
    server = LocalServer(port=0).start()
    try:
        yield aws, server.endpoint_url
    finally:
        server.stop()


def test_plan_shows_a_masked_diff_and_writes_nothing(served: tuple[LocalAws, str]) -> None:
    aws, endpoint = served
    put_source(aws, "data_bucket", "analytics-data")
    put_source(aws, "partner_api_token", SECRET)

    result = _mwaa_cp(endpoint, "plan")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "dev-analytics -> ssm:/airflow/dev/connections, ssm:/airflow/dev/variables" in lines
    assert "staging-analytics -> ssm:/airflow/staging/connections, ssm:/airflow/staging/variables" in lines
    created = [line for line in lines if line.startswith("  + variable data_bucket = sha256:")]
    assert len(created) == 2 and all("(14 chars) [String]" in line for line in created), lines
    token = [line for line in lines if line.startswith("  + variable partner_api_token")]
    assert len(token) == 2 and all("[SecureString]" in line for line in token)
    assert lines.count("  2 to create, 0 to update, 0 to delete, 0 unchanged") == 2
    assert "Plan only: nothing was written." in result.stdout
    assert "prod-unmanaged" not in result.stdout
    assert parameter(aws, "/airflow/dev/variables/data_bucket") is None
    assert SECRET not in result.stdout + result.stderr
    assert "analytics-data" not in result.stdout


def test_apply_writes_the_diff_and_a_second_apply_writes_nothing(served: tuple[LocalAws, str]) -> None:
    aws, endpoint = served
    put_source(aws, "data_bucket", "analytics-data")
    put_source(aws, "partner_api_token", SECRET, secure=True)

    first = _mwaa_cp(endpoint, "apply")

    assert first.returncode == 0, first.stdout + first.stderr
    assert "Apply complete: 4 created, 0 updated, 0 deleted in 2 environment(s); 0 error(s)." in first.stdout
    assert "dev-analytics: applied 2 created, 0 updated, 0 deleted" in first.stdout
    assert parameter(aws, "/airflow/dev/variables/data_bucket")["Value"] == "analytics-data"
    token = parameter(aws, "/airflow/staging/variables/partner_api_token")
    assert token["Value"] == SECRET and token["Type"] == "SecureString"
    version = parameter(aws, "/airflow/dev/variables/data_bucket")["Version"]

    second = _mwaa_cp(endpoint, "apply")

    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines().count("  0 to create, 0 to update, 0 to delete, 2 unchanged") == 2
    assert "Apply complete: 0 created, 0 updated, 0 deleted in 0 environment(s); 0 error(s)." in second.stdout
    assert parameter(aws, "/airflow/dev/variables/data_bucket")["Version"] == version
    assert SECRET not in first.stdout + first.stderr + second.stdout + second.stderr


def test_apply_deletes_what_the_source_no_longer_has_only_with_prune(served: tuple[LocalAws, str]) -> None:
    aws, endpoint = served
    put_source(aws, "keep_me", "1")
    put_source(aws, "retired", "2")
    aws.client("ssm").put_parameter(Name="/airflow/dev/variables/made_by_hand", Value="3", Type="String")
    assert _mwaa_cp(endpoint, "apply", "--env", "dev-analytics").returncode == 0
    aws.client("ssm").delete_parameter(Name="/mwaa-cp/variables/global/retired")

    kept = _mwaa_cp(endpoint, "apply", "--env", "dev-analytics")

    assert kept.returncode == 0, kept.stderr
    assert "1 managed value(s) no longer in the source (deleted only with prune)" in kept.stdout
    assert parameter(aws, "/airflow/dev/variables/retired") is not None

    pruned = _mwaa_cp(endpoint, "apply", "--env", "dev-analytics", "--prune")

    assert pruned.returncode == 0, pruned.stderr
    assert any(line.startswith("  - variable retired (was sha256:") for line in pruned.stdout.splitlines())
    assert "Apply complete: 0 created, 0 updated, 1 deleted in 1 environment(s)" in pruned.stdout
    assert parameter(aws, "/airflow/dev/variables/retired") is None
    assert parameter(aws, "/airflow/dev/variables/keep_me")["Value"] == "1"
    assert parameter(aws, "/airflow/dev/variables/made_by_hand")["Value"] == "3"
    assert parameter(aws, "/airflow/staging/variables/retired") is None  # --env: staging was never written


def test_an_unmanaged_environment_is_one_clear_line_and_exit_2(served: tuple[LocalAws, str]) -> None:
    _, endpoint = served

    unmanaged = _mwaa_cp(endpoint, "plan", "--env", "prod-unmanaged")
    missing = _mwaa_cp(endpoint, "apply", "--env", "dev-gone")

    assert unmanaged.returncode == 2
    assert "prod-unmanaged is not managed: tag it mwaa-cp:variables=on|ssm|rest" in unmanaged.stderr
    assert missing.returncode == 2
    assert "environment dev-gone does not exist" in missing.stderr
    assert "Traceback" not in unmanaged.stderr + missing.stderr


def test_a_tag_value_not_understood_is_shown_and_the_plan_exits_1(served: tuple[LocalAws, str]) -> None:
    aws, endpoint = served
    arn = aws.client("mwaa").get_environment(Name="prod-unmanaged")["Environment"]["Arn"]
    aws.client("mwaa").tag_resource(ResourceArn=arn, Tags={"mwaa-cp:variables": "yes"})

    result = _mwaa_cp(endpoint, "plan")

    assert result.returncode == 1, result.stdout
    assert "prod-unmanaged" in result.stdout and "'yes' is not one of" in result.stdout


def test_json_output_is_the_plan_and_the_report(served: tuple[LocalAws, str]) -> None:
    aws, endpoint = served
    put_source(aws, "data_bucket", "analytics-data")
    put_source(aws, "partner_api_token", SECRET)

    planned = _mwaa_cp(endpoint, "plan", "--format", "json")
    applied = _mwaa_cp(endpoint, "apply", "--env", "staging-analytics", "--format", "json")

    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["request"]["mode"] == "plan"
    assert sorted(e["environment"] for e in plan["environments"]) == ["dev-analytics", "staging-analytics"]
    assert {c["action"] for e in plan["environments"] for c in e["changes"]} == {"create"}
    assert applied.returncode == 0, applied.stderr
    report = json.loads(applied.stdout)
    [result] = report["applied"]
    assert (result["environment"], result["created"], result["failed_count"]) == ("staging-analytics", 2, 0)
    assert result["calls"]["PutParameter"] == 2
    assert report["backend_fixes"] == [] and report["backend_problems"] == {}
    assert SECRET not in planned.stdout + applied.stdout + applied.stderr


def test_a_backend_problem_exits_1_and_fix_backend_repairs_it_through_environment_change(
    served: tuple[LocalAws, str],
) -> None:
    from mwaa_cp_local.mwaa import airflow_of, read_variable

    aws, endpoint = served
    create_environment(
        aws,
        "dev3",
        airflow_version="3.0.6",
        tags={"mwaa-cp:variables": "on"},
        AirflowConfigurationOptions=backend_options("dev3"),
    )
    put_source(aws, "report_day", "monday")

    planned = _mwaa_cp(endpoint, "plan", "--env", "dev3", "--fix-backend")

    assert planned.returncode == 1
    assert "worker-kwargs-missing" in planned.stdout
    assert "dev3: backend repair through environment-change sets workers.secrets_backend_kwargs" in planned.stdout
    assert aws.executions("environment-change") == []

    fixed = _mwaa_cp(endpoint, "apply", "--env", "dev3", "--fix-backend")

    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    [change] = aws.executions("environment-change")
    request = json.loads(aws.client("stepfunctions").describe_execution(executionArn=change["executionArn"])["input"])
    assert request["requested_by"]["flow"] == "mwaa-cp vars"
    assert "environment-change SUCCEEDED" in fixed.stdout
    assert read_variable(airflow_of("dev3"), "report_day", on="worker") == "monday"
