"""The one adapter from botocore/HTTP failures to the control plane's errors, and the retry loop around it."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from mwaa_control_plane.airflow import RateLimiter, RetryPolicy, translate_error
from mwaa_control_plane.airflow.resilience import HttpStatusError
from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.errors import (
    AccessDeniedError,
    AirflowApiError,
    EnvironmentBusyError,
    EnvironmentStateError,
    InvalidInputError,
    NotFoundError,
    ServiceUnavailableError,
    ThrottledError,
)

from .fakes import mwaa_error, rest_client_error, rest_server_error


def translate(exc: BaseException, **kwargs: object):  # type: ignore[no-untyped-def]
    return translate_error(exc, operation="GET /dags", **kwargs)  # type: ignore[arg-type]


def test_rest_api_errors_carry_airflows_status_and_body_at_the_top_of_the_response() -> None:
    error = rest_client_error(404, {"title": "DAG not found", "status": 404})

    assert isinstance(error, ClientError)
    assert error.response["Error"]["Code"] == "RestApiClientException"
    assert error.response["RestApiStatusCode"] == 404
    assert error.response["RestApiResponse"] == {"title": "DAG not found", "status": 404}


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (mwaa_error("ThrottlingException", {"message": "Rate exceeded"}, http_status=429), ThrottledError),
        (mwaa_error("TooManyRequestsException", {"message": "slow down"}, http_status=429), ThrottledError),
        (rest_client_error(429), ThrottledError),
        (rest_server_error(429), ThrottledError),
        (mwaa_error("InternalServerException", {"message": "oops"}, http_status=500), ServiceUnavailableError),
        (mwaa_error("ServiceUnavailable", {"message": "later"}, http_status=503), ServiceUnavailableError),
        (rest_server_error(500), ServiceUnavailableError),
        (rest_server_error(503), ServiceUnavailableError),
        (rest_server_error(504), ServiceUnavailableError),
        (rest_client_error(400), AirflowApiError),
        (rest_client_error(403), AirflowApiError),
        (rest_client_error(404), AirflowApiError),
        (rest_client_error(409), AirflowApiError),
        (rest_client_error(422), AirflowApiError),
        (mwaa_error("ResourceNotFoundException", {"message": "no env"}, http_status=404), NotFoundError),
        (mwaa_error("AccessDeniedException", {"Message": "denied"}, http_status=403), AccessDeniedError),
        (ReadTimeoutError(endpoint_url="https://airflow.us-east-1.amazonaws.com"), ServiceUnavailableError),
        (ConnectTimeoutError(endpoint_url="https://airflow.us-east-1.amazonaws.com"), ServiceUnavailableError),
        (EndpointConnectionError(endpoint_url="https://airflow.us-east-1.amazonaws.com"), ServiceUnavailableError),
        (TimeoutError("no answer"), ServiceUnavailableError),
        (ConnectionResetError("reset"), ServiceUnavailableError),
        (HttpStatusError(429), ThrottledError),
        (HttpStatusError(502), ServiceUnavailableError),
        (HttpStatusError(401), AirflowApiError),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else value.__name__,
)
def test_failures_map_to_control_plane_errors(exc: BaseException, expected: type[Exception]) -> None:
    assert type(translate(exc)) is expected


def test_an_airflow_client_error_keeps_status_and_body() -> None:
    error = translate(rest_client_error(400, {"title": "Bad Request", "detail": "limit must be positive"}))

    assert isinstance(error, AirflowApiError)
    assert error.status == 400
    assert error.body == {"title": "Bad Request", "detail": "limit must be positive"}
    assert "limit must be positive" in str(error)
    assert "GET /dags" in str(error)


def test_a_sensitive_call_keeps_airflows_answer_out_of_the_error() -> None:
    echoed = {"detail": [{"loc": ["body", "value"], "msg": "bad", "input": "s3cr3t"}], "title": "s3cr3t"}

    error = translate(rest_client_error(422, echoed), sensitive=True)

    assert isinstance(error, AirflowApiError)
    assert error.status == 422
    assert error.body is None
    assert "s3cr3t" not in str(error)


@pytest.mark.parametrize("status", ["UPDATING", "CREATING", "CREATING_SNAPSHOT", "ROLLING_BACK", "MAINTENANCE"])
def test_a_validation_error_while_the_environment_changes_means_busy(status: str) -> None:
    exc = mwaa_error("ValidationException", {"message": "Invalid request"})

    assert type(translate(exc, environment_status=lambda: status)) is EnvironmentBusyError


@pytest.mark.parametrize("status", ["DELETED", "DELETING", "CREATE_FAILED"])
def test_a_validation_error_on_a_dead_environment_is_a_state_error(status: str) -> None:
    exc = mwaa_error("ValidationException", {"message": "Invalid request"})

    assert type(translate(exc, environment_status=lambda: status)) is EnvironmentStateError


@pytest.mark.parametrize("status", ["AVAILABLE", "UPDATE_FAILED"])
def test_a_validation_error_on_a_usable_environment_is_bad_input(status: str) -> None:
    exc = mwaa_error("ValidationException", {"message": "Path too long"})

    error = translate(exc, environment_status=lambda: status)

    assert type(error) is InvalidInputError
    assert "Path too long" in str(error)


def test_without_a_status_the_validation_message_decides() -> None:
    busy = mwaa_error("ValidationException", {"message": "Environment is UPDATING"})
    bad = mwaa_error("ValidationException", {"message": "1 validation error detected"})

    assert type(translate(busy)) is EnvironmentBusyError
    assert type(translate(bad)) is InvalidInputError


def test_a_failing_status_lookup_does_not_hide_the_original_error() -> None:
    def broken() -> str:
        raise RuntimeError("GetEnvironment failed")

    error = translate(mwaa_error("ValidationException", {"message": "bad"}), environment_status=broken)

    assert type(error) is InvalidInputError


def test_bugs_are_not_translated() -> None:
    assert translate(KeyError("x")) is None


# -- the retry loop ----------------------------------------------------------------------------


def make_policy(clock: ManualClock, **kwargs: object) -> RetryPolicy:
    return RetryPolicy(clock=clock, rate_limiter=RateLimiter(clock), random=lambda: 1.0, **kwargs)  # type: ignore[arg-type]


def failing(*errors: BaseException, result: str = "ok"):  # type: ignore[no-untyped-def]
    remaining = list(errors)
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if remaining:
            raise remaining.pop(0)
        return result

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def test_full_jitter_stays_under_an_exponential_ceiling(clock: ManualClock) -> None:
    draws = iter([0.5, 0.25, 1.0, 1.0, 1.0, 1.0])
    policy = RetryPolicy(clock=clock, rate_limiter=RateLimiter(clock), random=lambda: next(draws))

    delays = [policy.backoff(attempt) for attempt in range(1, 7)]

    assert delays == [0.25, 0.25, 2.0, 4.0, 8.0, 8.0]


def test_transient_failures_are_retried_with_backoff_then_succeed(clock: ManualClock) -> None:
    fn = failing(rest_server_error(503), rest_client_error(429))

    assert make_policy(clock).call("GET /dags", fn) == "ok"
    assert len(fn.calls) == 3
    assert [d for d in clock.slept if d >= 0.5] == [0.5, 1.0]


def test_spent_retries_raise_the_translated_error_with_the_cause(clock: ManualClock) -> None:
    original = rest_client_error(429)
    fn = failing(*[original] * 10)

    with pytest.raises(ThrottledError) as caught:
        make_policy(clock, max_attempts=4).call("GET /dags", fn)

    assert len(fn.calls) == 4
    assert caught.value.__cause__ is original


def test_client_errors_are_not_retried(clock: ManualClock) -> None:
    fn = failing(rest_client_error(400))

    with pytest.raises(AirflowApiError):
        make_policy(clock).call("GET /dags", fn)

    assert len(fn.calls) == 1
    assert clock.slept == []


def test_a_busy_environment_is_left_to_the_state_machine_to_wait_for(clock: ManualClock) -> None:
    fn = failing(mwaa_error("ValidationException", {"message": "x"}))

    with pytest.raises(EnvironmentBusyError):
        make_policy(clock).call("GET /dags", fn, environment_status=lambda: "UPDATING")

    assert len(fn.calls) == 1


def test_bugs_propagate_unchanged_and_unretried(clock: ManualClock) -> None:
    fn = failing(KeyError("oops"))

    with pytest.raises(KeyError):
        make_policy(clock).call("GET /dags", fn)

    assert len(fn.calls) == 1


def test_at_least_one_attempt_is_required(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        make_policy(clock, max_attempts=0)
