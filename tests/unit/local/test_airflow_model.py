"""The in-memory Airflow behind the fake MWAA: DAG folder sync and parsing, REST API v1/v2, CLI."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from mwaa_control_plane.clock import ManualClock
from mwaa_cp_local import mwaa
from mwaa_cp_local.mwaa.airflow import might_contain_dag, parse_dag_file

pytestmark = pytest.mark.usefixtures("clock")
REGION = "us-east-1"
BUCKET = "analytics-mwaa-source"
SYNC_AND_LIST = 30 + 300
SYNC_AND_REPARSE = 30 + 30

HELLO = b"""
from airflow import DAG
from datetime import datetime

with DAG("hello", start_date=datetime(2024, 1, 1), schedule="@daily", tags=["demo"]) as dag:
    pass
"""
BROKEN_SYNTAX = b"from airflow import DAG\nwith DAG('broken' as dag:\n    pass\n"
RAISING = b"from airflow import DAG\nimport os\nraise RuntimeError('missing connection settings')\n"


# ------------------------------------------------------------------------------- parsing, no moto


def test_dag_ids_are_found_in_calls_context_managers_and_decorators() -> None:
    source = """
from airflow import DAG
from airflow.decorators import dag

first = DAG("positional")
second = DAG(dag_id="keyword")
with DAG(dag_id="context") as third:
    pass

@dag(schedule=None)
def decorated():
    pass

@dag(dag_id="renamed")
def other():
    pass
"""
    result = parse_dag_file("pipelines.py", source)
    assert result.error is None
    assert sorted(dag.dag_id for dag in result.dags) == ["context", "decorated", "keyword", "positional", "renamed"]


def test_dag_attributes_are_read_from_literal_arguments_and_module_constants() -> None:
    source = """
from airflow import DAG
default_args = {"owner": "data-team", "retries": 2}
with DAG("report", description="Daily report", tags=["b", "a"], default_args=default_args,
         schedule="@hourly", is_paused_upon_creation=False) as dag:
    pass
"""
    (dag,) = parse_dag_file("sub/report.py", source).dags
    assert dag.fileloc == "/usr/local/airflow/dags/sub/report.py"
    assert (dag.description, dag.tags, dag.owners) == ("Daily report", ("a", "b"), ("data-team",))
    assert (dag.schedule, dag.is_paused_upon_creation) == ("@hourly", False)


def test_a_dag_id_computed_at_runtime_is_not_guessed() -> None:
    source = "from airflow import DAG\nfor n in range(3):\n    DAG(f'dag_{n}')\n"
    assert parse_dag_file("dynamic.py", source).dags == ()


def test_a_syntax_error_becomes_an_import_error_with_a_traceback() -> None:
    result = parse_dag_file("broken.py", BROKEN_SYNTAX.decode())
    assert result.dags == ()
    assert result.error is not None
    assert result.error.startswith("Traceback (most recent call last):")
    assert 'File "/usr/local/airflow/dags/broken.py", line 2' in result.error
    assert "SyntaxError" in result.error


def test_a_module_level_raise_becomes_an_import_error_with_its_message() -> None:
    result = parse_dag_file("raising.py", RAISING.decode())
    assert result.error is not None
    assert result.error.rstrip().endswith("RuntimeError: missing connection settings")
    assert 'File "/usr/local/airflow/dags/raising.py", line 3, in <module>' in result.error


def test_safe_mode_only_considers_files_mentioning_airflow_and_dag() -> None:
    assert might_contain_dag("from airflow import DAG")
    assert not might_contain_dag("def helper():\n    return 'airflow'\n")


def test_safe_mode_on_airflow_3_also_considers_files_mentioning_asset() -> None:
    source = "from airflow.sdk import Asset\n"
    assert might_contain_dag(source, 3)
    assert not might_contain_dag(source, 2)


# ------------------------------------------------------------------------------- fixtures


@dataclass
class Env:
    """One available environment and shortcuts to its bucket, REST API and CLI."""

    client: Any
    s3: Any
    clock: ManualClock
    name: str = "analytics"

    def upload(self, path: str, content: bytes) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=f"dags/{path}", Body=content)

    def delete(self, path: str) -> None:
        self.s3.delete_object(Bucket=BUCKET, Key=f"dags/{path}")

    def rest(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None) -> tuple[int, Any]:
        request: dict[str, Any] = {"Name": self.name, "Path": path, "Method": method}
        if query is not None:
            request["QueryParameters"] = query
        if body is not None:
            request["Body"] = body
        try:
            response = self.client.invoke_rest_api(**request)
        except (
            self.client.exceptions.RestApiClientException,
            self.client.exceptions.RestApiServerException,
        ) as error:
            return error.response["RestApiStatusCode"], error.response["RestApiResponse"]
        return response["RestApiStatusCode"], response["RestApiResponse"]

    def dag_ids(self) -> list[str]:
        status, body = self.rest("GET", "/dags")
        assert status == 200
        return [dag["dag_id"] for dag in body["dags"]]

    def cli(self, command: str) -> tuple[str, str]:
        token = self.client.create_cli_token(Name=self.name)
        status, answer = mwaa.handle_cli_request(token["WebServerHostname"], f"Bearer {token['CliToken']}", command)
        assert status == 200
        return base64.b64decode(answer["stdout"]).decode(), base64.b64decode(answer["stderr"]).decode()


def _environment(s3: Any, clock: ManualClock, version: str, **options: Any) -> Env:
    client = boto3.client("mwaa", region_name=REGION)
    client.create_environment(
        Name="analytics",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/mwaa-execution",
        SourceBucketArn=f"arn:aws:s3:::{BUCKET}",
        DagS3Path="dags",
        NetworkConfiguration={"SubnetIds": ["subnet-0aaa", "subnet-0bbb"], "SecurityGroupIds": ["sg-0aaa"]},
        AirflowVersion=version,
        **options,
    )
    clock.advance(mwaa.settings().create_seconds)
    return Env(client, s3, clock)


@pytest.fixture
def airflow2(s3: Any, clock: ManualClock) -> Env:
    return _environment(s3, clock, "2.10.3")


@pytest.fixture
def airflow3(s3: Any, clock: ManualClock) -> Env:
    return _environment(s3, clock, "3.0.6")


def _with_hello(env: Env) -> Env:
    env.upload("hello.py", HELLO)
    env.clock.advance(SYNC_AND_LIST)
    return env


# ------------------------------------------------------------------------------- the DAG folder over time


def test_a_new_dag_appears_only_after_the_sync_and_listing_intervals(airflow2: Env, clock: ManualClock) -> None:
    airflow2.upload("hello.py", HELLO)
    clock.advance(SYNC_AND_LIST - 1)
    assert airflow2.dag_ids() == []
    clock.advance(1)
    assert airflow2.dag_ids() == ["hello"]


def test_dag_files_uploaded_before_the_environment_is_available_are_parsed_at_start(
    s3: Any, clock: ManualClock
) -> None:
    s3.put_object(Bucket=BUCKET, Key="dags/hello.py", Body=HELLO)
    env = _environment(s3, clock, "2.10.3")
    assert env.dag_ids() == ["hello"]


def test_the_listing_interval_is_configurable(airflow2: Env, clock: ManualClock) -> None:
    mwaa.configure(sync_seconds=5, dag_dir_list_interval=10)
    airflow2.upload("hello.py", HELLO)
    clock.advance(15)
    assert airflow2.dag_ids() == ["hello"]


def test_a_changed_dag_file_is_reparsed_after_the_sync_and_min_file_process_intervals(
    airflow2: Env, clock: ManualClock
) -> None:
    _with_hello(airflow2)
    airflow2.upload("hello.py", HELLO.replace(b'tags=["demo"]', b'tags=["changed"]'))
    clock.advance(SYNC_AND_REPARSE - 1)
    assert airflow2.rest("GET", "/dags/hello")[1]["tags"] == [{"name": "demo"}]
    clock.advance(1)
    assert airflow2.rest("GET", "/dags/hello")[1]["tags"] == [{"name": "changed"}]


def test_deleting_a_dag_file_removes_its_dag_after_the_sync_and_listing_intervals(
    airflow2: Env, clock: ManualClock
) -> None:
    _with_hello(airflow2)
    airflow2.delete("hello.py")
    clock.advance(SYNC_AND_LIST - 1)
    assert airflow2.dag_ids() == ["hello"]
    clock.advance(1)
    assert airflow2.dag_ids() == []
    _, body = airflow2.rest("GET", "/dags", query={"only_active": "false"})
    assert [(dag["dag_id"], dag["is_active"]) for dag in body["dags"]] == [("hello", False)]


def test_a_file_without_the_words_airflow_and_dag_is_never_parsed(airflow2: Env, clock: ManualClock) -> None:
    airflow2.upload("helpers.py", b"def broken(:\n    pass\n")
    clock.advance(SYNC_AND_LIST)
    assert airflow2.rest("GET", "/importErrors")[1]["total_entries"] == 0


def test_airflowignore_uses_regular_expressions_on_airflow_2(airflow2: Env, clock: ManualClock) -> None:
    airflow2.upload(".airflowignore", b"scratch_.*\n")
    airflow2.upload("scratch_hello.py", HELLO.replace(b'"hello"', b'"scratch"'))
    airflow2.upload("hello.py", HELLO)
    clock.advance(SYNC_AND_LIST)
    assert airflow2.dag_ids() == ["hello"]


def test_a_nested_airflowignore_regexp_is_matched_against_the_path_from_the_dags_folder(
    airflow2: Env, clock: ManualClock
) -> None:
    airflow2.upload("team/.airflowignore", b"^team/draft_  # drafts stay out\n")
    airflow2.upload("team/draft_one.py", HELLO.replace(b'"hello"', b'"draft"'))
    airflow2.upload("hello.py", HELLO)
    clock.advance(SYNC_AND_LIST)
    assert airflow2.dag_ids() == ["hello"]


def test_airflowignore_globs_support_character_classes(airflow3: Env, clock: ManualClock) -> None:
    airflow3.upload(".airflowignore", b"scratch_[ab].py\n")
    airflow3.upload("scratch_a.py", HELLO.replace(b'"hello"', b'"a"'))
    airflow3.upload("scratch_c.py", HELLO.replace(b'"hello"', b'"c"'))
    clock.advance(SYNC_AND_LIST)
    assert airflow3.dag_ids() == ["c"]


def test_airflowignore_uses_globs_on_airflow_3(airflow3: Env, clock: ManualClock) -> None:
    airflow3.upload(".airflowignore", b"scratch/\n*_wip.py\n")
    airflow3.upload("scratch/one.py", HELLO.replace(b'"hello"', b'"one"'))
    airflow3.upload("two_wip.py", HELLO.replace(b'"hello"', b'"two"'))
    airflow3.upload("hello.py", HELLO)
    clock.advance(SYNC_AND_LIST)
    assert airflow3.dag_ids() == ["hello"]


def test_a_nested_airflowignore_re_includes_with_a_negated_glob_on_airflow_3(airflow3: Env, clock: ManualClock) -> None:
    airflow3.upload(".airflowignore", b"*_wip.py\n")
    airflow3.upload("team/.airflowignore", b"!ready_wip.py\n")
    airflow3.upload("team/ready_wip.py", HELLO.replace(b'"hello"', b'"ready"'))
    airflow3.upload("team/other_wip.py", HELLO.replace(b'"hello"', b'"other"'))
    airflow3.upload("ready_wip.py", HELLO.replace(b'"hello"', b'"top"'))
    clock.advance(SYNC_AND_LIST)
    assert airflow3.dag_ids() == ["ready"]


def test_the_glob_syntax_can_be_configured_on_airflow_2(s3: Any, clock: ManualClock) -> None:
    env = _environment(s3, clock, "2.10.3", AirflowConfigurationOptions={"core.dag_ignore_file_syntax": "glob"})
    env.upload(".airflowignore", b"*_wip.py\n")
    env.upload("two_wip.py", HELLO.replace(b'"hello"', b'"two"'))
    env.upload("hello.py", HELLO)
    clock.advance(SYNC_AND_LIST)
    assert env.dag_ids() == ["hello"]


# ------------------------------------------------------------------------------- REST API v1 (Airflow 2)


def test_v1_lists_dags_with_stable_api_fields(airflow2: Env) -> None:
    _with_hello(airflow2)
    status, body = airflow2.rest("GET", "/dags")
    assert status == 200
    assert body["total_entries"] == 1
    dag = body["dags"][0]
    assert dag["fileloc"] == "/usr/local/airflow/dags/hello.py"
    assert (dag["is_paused"], dag["is_active"]) == (True, True)
    assert dag["last_parsed_time"] is not None
    assert dag["owners"] == ["airflow"]


def test_v1_reports_import_errors_for_syntax_errors_and_module_level_raises(airflow2: Env, clock: ManualClock) -> None:
    airflow2.upload("broken.py", BROKEN_SYNTAX)
    airflow2.upload("raising.py", RAISING)
    clock.advance(SYNC_AND_LIST)
    status, body = airflow2.rest("GET", "/importErrors")
    assert status == 200
    assert body["total_entries"] == 2
    errors = {error["filename"]: error for error in body["import_errors"]}
    assert set(errors) == {"/usr/local/airflow/dags/broken.py", "/usr/local/airflow/dags/raising.py"}
    assert "SyntaxError" in errors["/usr/local/airflow/dags/broken.py"]["stack_trace"]
    assert "RuntimeError: missing connection settings" in errors["/usr/local/airflow/dags/raising.py"]["stack_trace"]
    assert set(errors["/usr/local/airflow/dags/broken.py"]) == {
        "import_error_id",
        "filename",
        "stack_trace",
        "timestamp",
    }


def test_an_import_error_disappears_once_the_file_is_fixed(airflow2: Env, clock: ManualClock) -> None:
    airflow2.upload("hello.py", BROKEN_SYNTAX)
    clock.advance(SYNC_AND_LIST)
    airflow2.upload("hello.py", HELLO)
    clock.advance(SYNC_AND_REPARSE)
    assert airflow2.rest("GET", "/importErrors")[1]["total_entries"] == 0
    assert airflow2.dag_ids() == ["hello"]


def test_a_dag_whose_file_breaks_keeps_its_last_good_version_with_has_import_errors(
    airflow2: Env, clock: ManualClock
) -> None:
    _with_hello(airflow2)
    airflow2.upload("hello.py", HELLO + b"\nraise ValueError('bad')\n")
    clock.advance(SYNC_AND_REPARSE)
    dag = airflow2.rest("GET", "/dags/hello")[1]
    assert (dag["is_active"], dag["has_import_errors"]) == (True, True)


def test_v1_pauses_and_unpauses_a_dag(airflow2: Env) -> None:
    _with_hello(airflow2)
    status, body = airflow2.rest("PATCH", "/dags/hello", body={"is_paused": False})
    assert (status, body["is_paused"]) == (200, False)
    assert airflow2.rest("GET", "/dags", query={"paused": "false"})[1]["total_entries"] == 1


def test_v1_answers_404_for_an_unknown_dag_in_problem_json(airflow2: Env) -> None:
    status, body = airflow2.rest("GET", "/dags/nope")
    assert status == 404
    assert body["title"] == "DAG not found"
    assert body["status"] == 404


def test_v1_a_triggered_run_of_a_paused_dag_stays_queued(airflow2: Env, clock: ManualClock) -> None:
    _with_hello(airflow2)
    status, run = airflow2.rest("POST", "/dags/hello/dagRuns", body={"conf": {"day": "monday"}})
    assert status == 200
    assert (run["state"], run["conf"], run["external_trigger"]) == ("queued", {"day": "monday"}, True)
    clock.advance(3600)
    runs = airflow2.rest("GET", "/dags/hello/dagRuns")[1]
    assert [run["state"] for run in runs["dag_runs"]] == ["queued"]


def test_v1_a_run_of_an_unpaused_dag_runs_then_succeeds(airflow2: Env, clock: ManualClock) -> None:
    _with_hello(airflow2)
    airflow2.rest("PATCH", "/dags/hello", body={"is_paused": False})
    run_id = airflow2.rest("POST", "/dags/hello/dagRuns", body={"dag_run_id": "manual_1"})[1]["dag_run_id"]
    clock.advance(1)
    assert airflow2.rest("GET", f"/dags/hello/dagRuns/{run_id}")[1]["state"] == "running"
    clock.advance(mwaa.settings().timings.dag_run_seconds)
    assert airflow2.rest("GET", f"/dags/hello/dagRuns/{run_id}")[1]["state"] == "success"


def test_v1_refuses_a_duplicate_run_id_with_409(airflow2: Env) -> None:
    _with_hello(airflow2)
    airflow2.rest("POST", "/dags/hello/dagRuns", body={"dag_run_id": "same"})
    assert airflow2.rest("POST", "/dags/hello/dagRuns", body={"dag_run_id": "same"})[0] == 409


def test_v1_variables_can_be_created_read_updated_listed_and_deleted(airflow2: Env) -> None:
    assert airflow2.rest("POST", "/variables", body={"key": "env", "value": "dev"})[0] == 200
    assert airflow2.rest("GET", "/variables/env")[1] == {"key": "env", "value": "dev", "description": None}
    assert airflow2.rest("PATCH", "/variables/env", body={"key": "env", "value": "prod"})[1]["value"] == "prod"
    assert airflow2.rest("GET", "/variables")[1]["total_entries"] == 1
    assert airflow2.rest("DELETE", "/variables/env")[0] == 204
    assert airflow2.rest("GET", "/variables/env")[0] == 404


def test_v1_refuses_a_variable_without_a_value(airflow2: Env) -> None:
    status, body = airflow2.rest("POST", "/variables", body={"key": "env"})
    assert status == 400
    assert "'value' is a required property" in body["detail"]


def test_pools_start_with_the_default_pool(airflow2: Env) -> None:
    status, body = airflow2.rest("GET", "/pools")
    assert status == 200
    assert [(pool["name"], pool["slots"]) for pool in body["pools"]] == [("default_pool", 128)]


def test_pools_can_be_created_updated_and_deleted(airflow2: Env) -> None:
    assert airflow2.rest("POST", "/pools", body={"name": "etl", "slots": 4})[0] == 200
    assert airflow2.rest("POST", "/pools", body={"name": "etl", "slots": 4})[0] == 409
    assert airflow2.rest("PATCH", "/pools/etl", body={"name": "etl", "slots": 8})[1]["slots"] == 8
    assert airflow2.rest("DELETE", "/pools/etl")[0] == 204
    assert airflow2.rest("GET", "/pools/etl")[0] == 404


def test_the_default_pool_cannot_be_deleted(airflow2: Env) -> None:
    status, body = airflow2.rest("DELETE", "/pools/default_pool")
    assert status == 400
    assert body["detail"] == "Default Pool can't be deleted"


def test_pages_hold_at_most_100_items_whatever_the_limit(airflow2: Env) -> None:
    for index in range(105):
        airflow2.rest("POST", "/variables", body={"key": f"k{index:03d}", "value": "v"})
    status, body = airflow2.rest("GET", "/variables", query={"limit": "500"})
    assert (status, len(body["variables"]), body["total_entries"]) == (200, 100, 105)
    offset = airflow2.rest("GET", "/variables", query={"limit": "10", "offset": "100"})[1]
    assert [variable["key"] for variable in offset["variables"]] == [f"k{index}" for index in range(100, 105)]


def test_an_unknown_path_is_a_404_rest_api_client_exception(airflow2: Env) -> None:
    status, body = airflow2.rest("GET", "/unknown")
    assert status == 404
    assert body["title"] == "Not Found"


# ------------------------------------------------------------------------------- REST API v2 (Airflow 3)


def test_v2_lists_dags_with_api_v2_fields(airflow3: Env) -> None:
    _with_hello(airflow3)
    dag = airflow3.rest("GET", "/dags")[1]["dags"][0]
    assert (dag["dag_id"], dag["is_stale"], dag["bundle_name"], dag["relative_fileloc"]) == (
        "hello",
        False,
        "dags-folder",
        "hello.py",
    )
    assert dag["tags"] == [{"name": "demo", "dag_id": "hello"}]
    assert dag["last_parsed_time"].endswith("Z")


def test_v2_reports_import_errors_with_bundle_name_and_relative_filename(airflow3: Env, clock: ManualClock) -> None:
    airflow3.upload("raising.py", RAISING)
    clock.advance(SYNC_AND_LIST)
    body = airflow3.rest("GET", "/importErrors")[1]
    (error,) = body["import_errors"]
    assert set(error) == {"import_error_id", "timestamp", "filename", "bundle_name", "stack_trace"}
    assert (error["filename"], error["bundle_name"]) == ("raising.py", "dags-folder")


def test_v2_requires_the_logical_date_key_to_trigger_a_run(airflow3: Env) -> None:
    _with_hello(airflow3)
    status, body = airflow3.rest("POST", "/dags/hello/dagRuns", body={"conf": {}})
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "logical_date"]


def test_v2_triggers_a_run_with_a_null_logical_date(airflow3: Env) -> None:
    _with_hello(airflow3)
    status, run = airflow3.rest("POST", "/dags/hello/dagRuns", body={"logical_date": None})
    assert status == 200
    assert (run["logical_date"], run["state"], run["triggered_by"]) == (None, "queued", "rest_api")


def test_v2_refuses_to_create_a_variable_that_exists(airflow3: Env) -> None:
    assert airflow3.rest("POST", "/variables", body={"key": "env", "value": "dev"})[0] == 201
    status, body = airflow3.rest("POST", "/variables", body={"key": "env", "value": "dev"})
    assert status == 409
    assert "already exists" in body["detail"]


def test_v2_answers_404_with_a_detail_only_body(airflow3: Env) -> None:
    assert airflow3.rest("GET", "/dags/nope") == (404, {"detail": "Dag with id nope was not found"})


# ------------------------------------------------------------------------------- CLI


def test_cli_dags_list_prints_json_on_stdout_and_a_warning_on_stderr(airflow2: Env) -> None:
    _with_hello(airflow2)
    stdout, stderr = airflow2.cli("dags list -o json")
    assert json.loads(stdout) == [
        {"dag_id": "hello", "fileloc": "/usr/local/airflow/dags/hello.py", "owners": "airflow", "is_paused": True}
    ]
    assert "FutureWarning" in stderr


def test_cli_on_airflow_2_sees_a_synced_file_before_the_scheduler_lists_it(airflow2: Env, clock: ManualClock) -> None:
    airflow2.upload("hello.py", HELLO)
    clock.advance(30)
    assert [dag["dag_id"] for dag in json.loads(airflow2.cli("dags list -o json")[0])] == ["hello"]
    assert airflow2.dag_ids() == []


def test_cli_lists_import_errors_as_json(airflow2: Env, clock: ManualClock) -> None:
    airflow2.upload("raising.py", RAISING)
    clock.advance(SYNC_AND_LIST)
    (error,) = json.loads(airflow2.cli("dags list-import-errors -o json")[0])
    assert error["filepath"] == "/usr/local/airflow/dags/raising.py"
    assert "missing connection settings" in error["error"]


def test_cli_trigger_creates_a_run_the_rest_api_shows(airflow2: Env) -> None:
    _with_hello(airflow2)
    airflow2.cli("dags trigger hello")
    assert airflow2.rest("GET", "/dags/hello/dagRuns")[1]["total_entries"] == 1


def test_cli_pause_and_unpause_change_the_dag(airflow2: Env) -> None:
    _with_hello(airflow2)
    assert airflow2.cli("dags unpause hello")[0] == "Dag: hello, paused: False\n"
    assert airflow2.rest("GET", "/dags/hello")[1]["is_paused"] is False
    airflow2.cli("dags pause hello")
    assert airflow2.rest("GET", "/dags/hello")[1]["is_paused"] is True


def test_cli_variables_set_get_list_and_delete(airflow2: Env) -> None:
    airflow2.cli("variables set region 'eu west'")
    assert airflow2.cli("variables get region")[0] == "eu west\n"
    assert json.loads(airflow2.cli("variables list -o json")[0]) == [{"key": "region"}]
    airflow2.cli("variables delete region")
    stdout, stderr = airflow2.cli("variables get region")
    assert stdout == ""
    assert "Variable region does not exist" in stderr


def test_cli_lists_pools_as_json(airflow2: Env) -> None:
    pools = json.loads(airflow2.cli("pools list -o json")[0])
    assert pools == [{"pool": "default_pool", "slots": 128, "description": "Default pool", "include_deferred": False}]


def test_cli_an_unknown_command_answers_usage_on_stderr_not_an_http_error(airflow2: Env) -> None:
    stdout, stderr = airflow2.cli("frobnicate now")
    assert stdout == ""
    assert "usage: airflow" in stderr
    assert "invalid choice: 'frobnicate'" in stderr


def test_cli_on_airflow_3_prints_no_warning(airflow3: Env) -> None:
    stdout, stderr = airflow3.cli("version")
    assert (stdout, stderr) == ("3.0.6\n", "")


def test_cli_requests_to_the_web_server_reach_the_endpoint_inside_mock_aws(airflow2: Env) -> None:
    import requests

    token = airflow2.client.create_cli_token(Name="analytics")
    response = requests.post(
        f"https://{token['WebServerHostname']}/aws_mwaa/cli",
        headers={"Authorization": f"Bearer {token['CliToken']}", "Content-Type": "text/plain"},
        data="version",
        timeout=5,
    )
    assert response.status_code == 200
    assert base64.b64decode(response.json()["stdout"]) == b"2.10.3\n"


def test_a_file_deleted_from_an_unversioned_bucket_disappears_once_noticed(aws: None, clock: ManualClock) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    env = _with_hello(_environment(s3, clock, "2.10.3"))
    assert env.dag_ids() == ["hello"]
    env.delete("hello.py")
    env.dag_ids()  # S3 keeps no delete marker here: the deletion is dated when it is first noticed.
    clock.advance(SYNC_AND_LIST)
    assert env.dag_ids() == []
