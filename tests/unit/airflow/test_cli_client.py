"""AirflowClient on Airflow < 2.4.3: the CLI endpoint, base64 output, stderr that is not failure."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from mwaa_control_plane.airflow import Dag, DagImportError, Pool, Variable
from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.errors import (
    AirflowApiError,
    NotFoundError,
    ServiceUnavailableError,
    ThrottledError,
    UnsupportedAirflowVersionError,
)

from .fakes import HOSTNAME, FakeCliTransport, FakeMwaa, max_in_any_window, mwaa_error

OLD = "2.2.2"
# What Airflow 2.0-2.2 on MWAA prints to stderr on success: a Python warning with its source line,
# and a provider import failure logged as a WARNING with its traceback.
WARNINGS = """\
/usr/local/lib/python3.7/site-packages/airflow/configuration.py:357: DeprecationWarning: The auth_backend option \
in [api] has been renamed to auth_backends
  warnings.warn(
[2026-01-01 00:00:00,000] {providers_manager.py:200} WARNING - Exception when importing \
'airflow.providers.google.common.hooks.base_google.GoogleBaseHook' from 'apache-airflow-providers-google' package
Traceback (most recent call last):
  File "/usr/local/lib/python3.7/site-packages/airflow/providers_manager.py", line 180, in _sanity_check
    imported_class = import_string(class_name)
ModuleNotFoundError: No module named 'google.cloud'
"""
DAG_LIST = [
    {"dag_id": "sales_daily", "filepath": "sales/daily.py", "owner": "data", "paused": "False"},
    {"dag_id": "sales_hourly", "filepath": "sales/hourly.py", "owner": "data", "paused": True},
]


@pytest.fixture
def old_client(make_client):
    return make_client(OLD)


def test_old_airflow_uses_the_cli_endpoint_with_a_bearer_token(
    old_client, mwaa: FakeMwaa, transport: FakeCliTransport
) -> None:
    transport.respond(json.dumps(DAG_LIST))

    old_client.list_dags()

    request = transport.requests[0]
    assert old_client.interface == "cli"
    assert request.url == f"https://{HOSTNAME}/aws_mwaa/cli"
    assert request.headers == {"Authorization": "Bearer token-1", "Content-Type": "text/plain"}
    assert request.command == "dags list -o json"
    assert mwaa.rest_calls() == []


def test_cli_output_is_decoded_from_base64_and_normalised(old_client, transport: FakeCliTransport) -> None:
    transport.respond(json.dumps(DAG_LIST))

    assert old_client.list_dags() == [
        Dag(dag_id="sales_daily", fileloc="sales/daily.py", is_paused=False),
        Dag(dag_id="sales_hourly", fileloc="sales/hourly.py", is_paused=True),
    ]


def test_warnings_on_stderr_are_not_failure(old_client, transport: FakeCliTransport) -> None:
    transport.respond(json.dumps(DAG_LIST), stderr=WARNINGS)

    assert len(old_client.list_dags()) == 2


def test_log_lines_before_the_json_are_skipped(old_client, transport: FakeCliTransport) -> None:
    stdout = (
        "[2026-01-01 00:00:00,000] {dagbag.py:500} INFO - Filling up the DagBag from /usr/local/airflow/dags\n"
        + json.dumps(DAG_LIST, indent=4)
        + "\n"
    )
    transport.respond(stdout)

    assert [d.dag_id for d in old_client.list_dags()] == ["sales_daily", "sales_hourly"]


def test_an_empty_listing_says_no_data_found(old_client, transport: FakeCliTransport) -> None:
    transport.respond("No data found\n", stderr=WARNINGS)

    assert old_client.list_dags() == []


def test_a_single_dag_is_found_in_the_listing(old_client, transport: FakeCliTransport) -> None:
    transport.respond(json.dumps(DAG_LIST))
    transport.respond(json.dumps(DAG_LIST))

    assert old_client.get_dag("sales_hourly") == Dag(dag_id="sales_hourly", fileloc="sales/hourly.py", is_paused=True)
    assert old_client.get_dag("ghost") is None


def test_a_failed_command_is_an_api_error_with_the_last_error_line(old_client, transport: FakeCliTransport) -> None:
    stderr = (
        WARNINGS
        + 'Traceback (most recent call last):\n  File "x.py", line 1\nsqlalchemy.exc.OperationalError: db down\n'
    )
    transport.respond("", stderr=stderr)

    with pytest.raises(
        AirflowApiError, match=r"CLI dags list: command failed: sqlalchemy\.exc\.OperationalError: db down"
    ):
        old_client.list_dags()


def test_output_without_json_or_error_is_a_clear_error(old_client, transport: FakeCliTransport) -> None:
    transport.respond("something else entirely\n")

    with pytest.raises(AirflowApiError, match="CLI dags list: no JSON in the command output"):
        old_client.list_dags()


def test_a_command_this_airflow_lacks_is_unsupported(make_client, transport: FakeCliTransport) -> None:
    transport.respond(
        "",
        stderr=(
            "usage: airflow dags [-h] ...\n"
            "airflow dags: error: argument COMMAND: invalid choice: 'list-import-errors'\n"
        ),
    )

    with pytest.raises(UnsupportedAirflowVersionError, match="list-import-errors"):
        make_client("2.0.2").list_import_errors()


def test_import_errors_come_from_the_cli_without_timestamps(old_client, transport: FakeCliTransport) -> None:
    transport.respond(json.dumps([{"filepath": "/usr/local/airflow/dags/bad.py", "error": "SyntaxError: x"}]))

    assert old_client.list_import_errors() == [
        DagImportError(filename="/usr/local/airflow/dags/bad.py", stack_trace="SyntaxError: x")
    ]


def test_pools_come_from_the_cli_with_slots_as_text(old_client, transport: FakeCliTransport) -> None:
    transport.respond(json.dumps([{"pool": "default_pool", "slots": "128", "description": "Default pool"}]))

    assert old_client.list_pools() == [Pool(name="default_pool", slots=128, description="Default pool")]


# -- variables -----------------------------------------------------------------------------------


def test_a_variable_value_is_the_raw_stdout(old_client, transport: FakeCliTransport) -> None:
    transport.respond('{"a": 1}\n', stderr=WARNINGS)

    assert old_client.get_variable("config") == Variable(key="config", value='{"a": 1}')
    assert transport.commands == ["variables get config"]


def test_warnings_with_tracebacks_do_not_fail_a_command_without_output(old_client, transport: FakeCliTransport) -> None:
    transport.respond("", stderr=WARNINGS)

    old_client.set_variable("bucket", "s3://data")

    assert transport.commands == ["variables set bucket s3://data"]


def test_an_uncaught_exception_after_warnings_still_fails_the_command(old_client, transport: FakeCliTransport) -> None:
    stderr = WARNINGS + (
        "Traceback (most recent call last):\n"
        '  File "/usr/local/bin/airflow", line 8, in <module>\n'
        "    sys.exit(main())\n"
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not connect to server\n"
    )
    transport.respond("", stderr=stderr)

    with pytest.raises(AirflowApiError, match="could not connect to server"):
        old_client.set_dag_paused("sales_daily", True)


def test_a_missing_variable_is_none(old_client, transport: FakeCliTransport) -> None:
    transport.respond("", stderr=WARNINGS + "'Variable nope does not exist'\n")

    assert old_client.get_variable("nope") is None


def test_an_empty_variable_is_an_empty_string(old_client, transport: FakeCliTransport) -> None:
    transport.respond("\n")

    assert old_client.get_variable("blank") == Variable(key="blank", value="")


def test_setting_a_variable_quotes_key_value_and_description(old_client, transport: FakeCliTransport) -> None:
    transport.respond("Variable my key created\n")

    old_client.set_variable("my key", "a b'c", description="landing zone")

    assert transport.commands == ["variables set 'my key' 'a b'\"'\"'c' --description 'landing zone'"]


def test_a_failed_variable_set_never_shows_the_value(old_client, transport: FakeCliTransport) -> None:
    transport.respond("", stderr="Traceback (most recent call last):\nValueError: cannot store s3cr3t\n")

    with pytest.raises(AirflowApiError) as caught:
        old_client.set_variable("token", "s3cr3t")

    assert "s3cr3t" not in str(caught.value)


def test_a_description_on_an_airflow_without_it_is_unsupported(make_client, transport: FakeCliTransport) -> None:
    transport.respond("", stderr="airflow: error: unrecognized arguments: --description landing\n")

    with pytest.raises(UnsupportedAirflowVersionError):
        make_client("2.0.2").set_variable("bucket", "s3://x", description="landing")


def test_deleting_a_missing_variable_is_fine(old_client, transport: FakeCliTransport) -> None:
    transport.respond("", stderr="Variable gone does not exist\n")

    old_client.delete_variable("gone")

    assert transport.commands == ["variables delete gone"]


def test_variables_are_listed_by_key_only(old_client, transport: FakeCliTransport) -> None:
    transport.respond(json.dumps([{"key": "a"}, {"key": "b"}]))

    assert old_client.list_variables() == [Variable(key="a"), Variable(key="b")]


# -- DAG runs and pausing ------------------------------------------------------------------------


def test_triggering_names_the_run_and_reads_it_back(old_client, transport: FakeCliTransport) -> None:
    def created(run_id: str) -> str:
        return (
            f"Created <DagRun sales_daily @ 2026-01-01 00:00:00+00:00: {run_id}, state:queued, "
            "queued_at: 2026-01-01 00:00:00+00:00. externally triggered: True>\n"
        )

    transport.respond(created("nightly-1"), stderr=WARNINGS)

    run = old_client.trigger_dag_run("sales_daily", {"region": "eu"}, run_id="nightly-1")

    assert transport.commands == ['dags trigger sales_daily -r nightly-1 -c \'{"region": "eu"}\'']
    assert run.run_id == "nightly-1"
    assert run.state == "queued"
    assert run.logical_date == datetime(2026, 1, 1, tzinfo=UTC)


def test_triggering_with_unfamiliar_output_still_returns_the_named_run(old_client, transport: FakeCliTransport) -> None:
    transport.respond("Created dag run\n")

    run = old_client.trigger_dag_run("sales_daily")

    assert run.run_id.startswith("manual__2026-01-01T00:00:00+00:00_")
    assert f"-r {run.run_id}" in transport.commands[0]
    assert run.state is None


def test_triggering_an_unknown_dag_is_a_404(old_client, transport: FakeCliTransport) -> None:
    transport.respond(
        "", stderr="Traceback (most recent call last):\nairflow.exceptions.DagNotFound: Dag id ghost not found\n"
    )

    with pytest.raises(AirflowApiError) as caught:
        old_client.trigger_dag_run("ghost")

    assert caught.value.status == 404


@pytest.mark.parametrize(("paused", "command"), [(True, "dags pause sales_daily"), (False, "dags unpause sales_daily")])
def test_pausing_uses_pause_and_unpause(old_client, transport: FakeCliTransport, paused: bool, command: str) -> None:
    transport.respond("Dag: sales_daily, paused: True\n", stderr=WARNINGS)

    old_client.set_dag_paused("sales_daily", paused)

    assert transport.commands == [command]


# -- tokens --------------------------------------------------------------------------------------


def test_a_token_is_reused_within_fifty_seconds(
    old_client, mwaa: FakeMwaa, transport: FakeCliTransport, clock: ManualClock
) -> None:
    for _ in range(3):
        transport.respond("[]")

    old_client.list_pools()
    clock.advance(30)
    old_client.list_pools()
    clock.advance(19)
    old_client.list_pools()

    assert mwaa.count("CreateCliToken") == 1
    assert {r.headers["Authorization"] for r in transport.requests} == {"Bearer token-1"}


def test_a_token_is_renewed_after_fifty_seconds(
    old_client, mwaa: FakeMwaa, transport: FakeCliTransport, clock: ManualClock
) -> None:
    transport.respond("[]")
    transport.respond("[]")

    old_client.list_pools()
    clock.advance(50)
    old_client.list_pools()

    assert mwaa.count("CreateCliToken") == 2
    assert [r.headers["Authorization"] for r in transport.requests] == ["Bearer token-1", "Bearer token-2"]


def test_a_refused_token_is_renewed_once_and_the_command_repeated(
    old_client, mwaa: FakeMwaa, transport: FakeCliTransport
) -> None:
    transport.respond_raw(403, b"Forbidden")
    transport.respond("[]")

    assert old_client.list_pools() == []
    assert mwaa.count("CreateCliToken") == 2
    assert [r.headers["Authorization"] for r in transport.requests] == ["Bearer token-1", "Bearer token-2"]


def test_a_token_refused_twice_is_an_api_error(old_client, transport: FakeCliTransport) -> None:
    transport.respond_raw(401, b"")
    transport.respond_raw(401, b"")

    with pytest.raises(AirflowApiError) as caught:
        old_client.list_pools()

    assert caught.value.status == 401


def test_a_token_for_a_missing_environment_is_not_found(old_client, mwaa: FakeMwaa) -> None:
    mwaa.token_outcomes.append(
        mwaa_error("ResourceNotFoundException", {"message": "no env"}, http_status=404, operation="CreateCliToken")
    )

    with pytest.raises(NotFoundError):
        old_client.list_pools()


def test_a_token_response_without_a_hostname_is_a_clear_error(old_client, mwaa: FakeMwaa) -> None:
    mwaa.token_outcomes.append({"CliToken": "t"})

    with pytest.raises(AirflowApiError, match="CreateCliToken: malformed response"):
        old_client.list_pools()


# -- transport failures and malformed responses --------------------------------------------------


def test_timeouts_and_throttling_are_retried(old_client, transport: FakeCliTransport, clock: ManualClock) -> None:
    transport.fail(TimeoutError("no answer"))
    transport.respond_raw(429, b"Too Many Requests")
    transport.respond_raw(502, b"Bad Gateway")
    transport.respond("[]")

    assert old_client.list_pools() == []
    assert len(transport.requests) == 4
    assert [d for d in clock.slept if d >= 0.5] == [0.5, 1.0, 2.0]


def test_a_web_server_that_stays_down_is_service_unavailable(make_client, transport: FakeCliTransport) -> None:
    for _ in range(3):
        transport.respond_raw(503, b"")

    with pytest.raises(ServiceUnavailableError):
        make_client(OLD, max_attempts=3).list_pools()


def test_throttling_that_persists_is_throttled(make_client, transport: FakeCliTransport) -> None:
    for _ in range(2):
        transport.respond_raw(429, b"")

    with pytest.raises(ThrottledError):
        make_client(OLD, max_attempts=2).list_pools()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>Bad</html>", "not JSON"),
        (b'["stdout"]', "expected an object"),
        (b'{"stdout": "***not base64***", "stderr": ""}', "stdout is not base64"),
        (b'{"stdout": 42, "stderr": ""}', "stdout is not a string"),
    ],
)
def test_a_malformed_cli_response_is_a_clear_error(
    old_client, transport: FakeCliTransport, body: bytes, problem: str
) -> None:
    transport.respond_raw(200, body)

    with pytest.raises(AirflowApiError, match=f"CLI pools list: malformed response: {problem}"):
        old_client.list_pools()


def test_a_json_list_of_the_wrong_items_names_the_field(old_client, transport: FakeCliTransport) -> None:
    transport.respond(json.dumps([{"name": "default_pool"}]))

    with pytest.raises(AirflowApiError, match="CLI pools list: malformed response: pool: Field required"):
        old_client.list_pools()


def test_cli_calls_are_paced_under_ten_per_second(old_client, transport: FakeCliTransport) -> None:
    for _ in range(30):
        transport.respond("[]")

    for _ in range(30):
        old_client.list_pools()

    assert max_in_any_window([r.at for r in transport.requests]) < 10


def test_airflow_1_is_refused(make_client) -> None:
    with pytest.raises(UnsupportedAirflowVersionError):
        make_client("1.10.12").list_dags()


def test_a_retried_trigger_that_already_ran_returns_the_run_instead_of_a_second_one(
    old_client, transport: FakeCliTransport
) -> None:
    transport.fail(TimeoutError("no answer"))
    transport.respond(
        "",
        stderr=(
            "Traceback (most recent call last):\n"
            "airflow.exceptions.DagRunAlreadyExists: Run id manual__x already exists\n"
        ),
    )

    run = old_client.trigger_dag_run("sales_daily")

    first, second = transport.commands
    assert first == second
    assert f"-r {run.run_id}" in first


def test_an_endpoint_refusing_the_command_is_an_api_error_with_its_answer(
    old_client, transport: FakeCliTransport
) -> None:
    transport.respond_raw(400, b"Command is not supported")

    with pytest.raises(AirflowApiError, match="Command is not supported") as caught:
        old_client.list_pools()

    assert caught.value.status == 400
