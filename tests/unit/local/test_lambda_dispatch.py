"""In-process Lambda invocation: results, errors in Lambda's shape, environment and logs."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from mwaa_control_plane import config
from mwaa_control_plane.clock import get_clock, set_clock
from mwaa_cp_local import streams
from mwaa_cp_local.lambda_dispatch import (
    Invocation,
    LambdaDispatcher,
    LocalFunction,
    error_payload,
)
from mwaa_cp_local.timewarp import VirtualClock

ARN = "arn:aws:lambda:us-east-1:123456789012:function:mwaa-cp-SyncDagFile-ABC"


@pytest.fixture
def dispatcher(capsys: pytest.CaptureFixture[str]) -> Iterator[LambdaDispatcher]:
    # Depends on capsys so that its stdout router is removed before capsys restores sys.stdout.
    original = sys.stdout
    yield LambdaDispatcher(region="us-east-1", base_environment={"POWERTOOLS_SERVICE_NAME": "mwaa-cp"})
    streams.uninstall()
    sys.stdout = original


def function(tmp_path: Path, source: str, *, handler: str = "app.handler", **environment: str) -> LocalFunction:
    code_dir = tmp_path / "functions" / "sync_dag_file"
    code_dir.mkdir(parents=True, exist_ok=True)
    (code_dir / "app.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return LocalFunction(
        name="mwaa-cp-SyncDagFile-ABC", arn=ARN, code_dir=code_dir, handler=handler, environment=environment
    )


ECHO = """
    def handler(event, context):
        return {"echo": event, "function": context.function_name}
"""


def test_the_handlers_result_is_returned(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    invocation = dispatcher.invoke(function(tmp_path, ECHO), {"key": "dags/a.py"})

    assert invocation.result == {"echo": {"key": "dags/a.py"}, "function": "mwaa-cp-SyncDagFile-ABC"}
    assert invocation.error_type is None


def test_every_invocation_is_recorded_and_announced(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    seen: list[Invocation] = []
    dispatcher.on_invocation(seen.append)

    invocation = dispatcher.invoke(function(tmp_path, ECHO), {})

    assert dispatcher.invocations == [invocation]
    assert seen == [invocation]


def test_the_context_carries_the_functions_identity_and_remaining_time(
    dispatcher: LambdaDispatcher, tmp_path: Path
) -> None:
    source = """
        def handler(event, context):
            return {
                "arn": context.invoked_function_arn,
                "request_id": context.aws_request_id,
                "memory": context.memory_limit_in_mb,
                "remaining_ms": context.get_remaining_time_in_millis(),
            }
    """
    invocation = dispatcher.invoke(function(tmp_path, source), {})

    assert invocation.result["arn"] == ARN
    assert invocation.result["request_id"] == invocation.request_id
    assert invocation.result["memory"] == 256
    assert 0 < invocation.result["remaining_ms"] <= 60_000


RAISES = """
    class EnvironmentBusyError(Exception):
        pass

    def handler(event, context):
        raise EnvironmentBusyError("dev-analytics is UPDATING")
"""


def test_an_exception_is_recorded_under_its_class_name(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    invocation = dispatcher.invoke(function(tmp_path, RAISES), {})

    assert invocation.error_type == "EnvironmentBusyError"
    assert invocation.error_message == "dev-analytics is UPDATING"
    assert invocation.result is None


def test_the_error_payload_has_lambdas_unhandled_shape(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    invocation = dispatcher.invoke(function(tmp_path, RAISES), {})

    assert error_payload(invocation) == {
        "errorType": "EnvironmentBusyError",
        "errorMessage": "dev-analytics is UPDATING",
        "requestId": invocation.request_id,
        "stackTrace": [],
    }


def test_an_exception_is_logged_to_the_functions_log(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    invocation = dispatcher.invoke(function(tmp_path, RAISES), {})

    record = json.loads(invocation.log.strip().splitlines()[-1])
    assert (record["level"], record["errorType"]) == ("ERROR", "EnvironmentBusyError")


def test_a_result_that_is_not_json_serialisable_is_an_error(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    source = """
        def handler(event, context):
            return {"when": object()}
    """
    invocation = dispatcher.invoke(function(tmp_path, source), {})

    assert invocation.error_type == "TypeError"


def test_a_missing_handler_module_is_recorded_not_raised(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    invocation = dispatcher.invoke(function(tmp_path, ECHO, handler="missing.handler"), {})

    assert invocation.error_type == "FileNotFoundError"
    assert "missing.py" in (invocation.error_message or "")


def test_a_missing_handler_attribute_is_recorded_not_raised(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    invocation = dispatcher.invoke(function(tmp_path, ECHO, handler="app.lambda_handler"), {})

    assert invocation.error_type == "AttributeError"
    assert "lambda_handler" in (invocation.error_message or "")


def test_a_module_that_fails_to_import_is_recorded_not_raised(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    invocation = dispatcher.invoke(function(tmp_path, "import a_module_that_does_not_exist\n"), {})

    assert invocation.error_type == "ModuleNotFoundError"


ENVIRONMENT = """
    import os

    def handler(event, context):
        return {name: os.environ.get(name) for name in event["names"]}
"""


def test_the_functions_environment_is_visible_inside_the_handler(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    names = ["STATE_TABLE_NAME", "POWERTOOLS_SERVICE_NAME", "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "_HANDLER"]

    invocation = dispatcher.invoke(function(tmp_path, ENVIRONMENT, STATE_TABLE_NAME="mwaa-cp-state"), {"names": names})

    assert invocation.result == {
        "STATE_TABLE_NAME": "mwaa-cp-state",
        "POWERTOOLS_SERVICE_NAME": "mwaa-cp",
        "AWS_LAMBDA_FUNCTION_NAME": "mwaa-cp-SyncDagFile-ABC",
        "AWS_REGION": "us-east-1",
        "_HANDLER": "app.handler",
    }


def test_the_process_environment_is_restored_after_the_handler(
    dispatcher: LambdaDispatcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    before = dict(os.environ)

    dispatcher.invoke(function(tmp_path, ENVIRONMENT, STATE_TABLE_NAME="mwaa-cp-state"), {"names": []})

    assert dict(os.environ) == before


def test_a_variable_set_by_the_handler_does_not_leak(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    source = """
        import os

        def handler(event, context):
            os.environ["LEAKED_BY_HANDLER"] = "1"
    """
    dispatcher.invoke(function(tmp_path, source), {})

    assert "LEAKED_BY_HANDLER" not in os.environ


def test_the_environment_is_restored_when_the_handler_raises(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    dispatcher.invoke(function(tmp_path, RAISES, STATE_TABLE_NAME="mwaa-cp-state"), {})

    assert os.environ.get("STATE_TABLE_NAME") != "mwaa-cp-state"


def test_what_the_handler_prints_is_captured_into_the_log_and_not_the_real_stdout(
    dispatcher: LambdaDispatcher, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = """
        def handler(event, context):
            print('{"level": "INFO", "message": "dag synced"}')
            return None
    """
    invocation = dispatcher.invoke(function(tmp_path, source), {})

    assert invocation.log == '{"level": "INFO", "message": "dag synced"}\n'
    assert capsys.readouterr().out == ""


def test_the_module_is_loaded_once_and_reused(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    source = """
        COLD_STARTS = []

        def handler(event, context):
            COLD_STARTS.append(1)
            return len(COLD_STARTS)
    """
    local = function(tmp_path, source)

    results = [dispatcher.invoke(local, {}).result for _ in range(3)]

    assert results == [1, 2, 3]


def test_each_function_reads_its_own_settings(dispatcher: LambdaDispatcher, tmp_path: Path) -> None:
    # One process hosts every function: the settings cache must not leak from one function to the next.
    source = """
        from mwaa_control_plane.config import CommonSettings, load_settings

        def handler(event, context):
            return load_settings(CommonSettings).state_table
    """
    topic = "arn:aws:sns:us-east-1:123456789012:mwaa-cp-notifications"
    first = function(tmp_path, source, STATE_TABLE_NAME="table-a", NOTIFICATION_TOPIC_ARN=topic)
    second = dataclasses.replace(
        first, name="other", arn=f"{ARN}-other", environment={**first.environment, "STATE_TABLE_NAME": "table-b"}
    )
    try:
        results = [dispatcher.invoke(f, {}).result for f in (first, second, first)]
    finally:
        config.clear_settings_cache()

    assert results == ["table-a", "table-b", "table-a"]


# --------------------------------------------------------------------------- lookup


@pytest.fixture
def registered(dispatcher: LambdaDispatcher, tmp_path: Path) -> LocalFunction:
    local = function(tmp_path, ECHO)
    dispatcher.register(local)
    return local


@pytest.mark.parametrize(
    "name_or_arn",
    [
        pytest.param("mwaa-cp-SyncDagFile-ABC", id="name"),
        pytest.param(ARN, id="ARN"),
        pytest.param(f"{ARN}:$LATEST", id="qualified ARN"),
        pytest.param("123456789012:function:mwaa-cp-SyncDagFile-ABC", id="partial ARN"),
    ],
)
def test_a_registered_function_is_found_by(
    dispatcher: LambdaDispatcher, registered: LocalFunction, name_or_arn: str
) -> None:
    assert dispatcher.lookup(name_or_arn) is registered


def test_an_unknown_function_is_not_found(dispatcher: LambdaDispatcher, registered: LocalFunction) -> None:
    assert dispatcher.lookup("arn:aws:lambda:us-east-1:123456789012:function:someone-else") is None


# --------------------------------------------------------------------------- virtual time


@pytest.fixture
def timed(capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[LambdaDispatcher, VirtualClock]]:
    """A dispatcher on a virtual clock of 1 ms per virtual second, which is also the process clock."""
    original_stdout, original_clock = sys.stdout, get_clock()
    clock = VirtualClock(0.001)
    set_clock(clock)
    yield LambdaDispatcher(region="us-east-1", base_environment={}, clock=clock), clock
    set_clock(original_clock)
    streams.uninstall()
    sys.stdout = original_stdout


BURNS_CPU = """
    import time

    def handler(event, context):
        started = time.monotonic()
        while time.monotonic() - started < event["seconds"]:
            sum(range(1000))
        return None
"""


def test_a_handler_computing_for_a_third_of_a_second_costs_almost_no_virtual_time(
    timed: tuple[LambdaDispatcher, VirtualClock], tmp_path: Path
) -> None:
    dispatcher, clock = timed
    before = clock.now()

    dispatcher.invoke(function(tmp_path, BURNS_CPU), {"seconds": 0.3})

    # The old compressed clock turned these 0.3 real seconds into 300 virtual ones.
    assert clock.now() - before < timedelta(seconds=5)


SLEEPS = """
    from mwaa_control_plane.clock import get_clock

    def handler(event, context):
        clock = get_clock()
        before = clock.now()
        clock.sleep(event["seconds"])
        return (clock.now() - before).total_seconds()
"""


def test_a_sleep_inside_a_handler_advances_virtual_time_by_exactly_that_much_at_once(
    timed: tuple[LambdaDispatcher, VirtualClock], tmp_path: Path
) -> None:
    dispatcher, clock = timed
    before = clock.now()
    started = time.monotonic()

    invocation = dispatcher.invoke(function(tmp_path, SLEEPS), {"seconds": 900})

    assert invocation.result == 900.0
    assert time.monotonic() - started < 0.5  # 0.9 s if the sleep waited for the compressed time
    assert timedelta(seconds=900) <= clock.now() - before < timedelta(seconds=905)


def test_a_handler_that_raises_leaves_virtual_time_running(
    timed: tuple[LambdaDispatcher, VirtualClock], tmp_path: Path
) -> None:
    dispatcher, clock = timed

    dispatcher.invoke(function(tmp_path, RAISES), {})

    assert not clock.is_paused
