"""Error translation and retries for every call that reaches MWAA or its web server.

:func:`translate_error` is the one adapter from botocore and HTTP failures to the control
plane's errors; :class:`RetryPolicy` paces calls through the rate limiter and retries
only what the adapter calls transient (throttling, 5xx, timeouts), with exponential
backoff and full jitter. Everything else surfaces at once: an ``EnvironmentBusyError``
lasts minutes, so the state machine, not this loop, waits for it.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from mwaa_control_plane.errors import (
    AirflowApiError,
    AwsRequestError,
    ControlPlaneError,
    EnvironmentBusyError,
    EnvironmentStateError,
    InvalidInputError,
    ServiceUnavailableError,
    ThrottledError,
    translate_client_error,
)
from mwaa_control_plane.observability import logger
from mwaa_control_plane.statuses import TERMINAL_STATES, USABLE_STATES

if TYPE_CHECKING:
    from mwaa_control_plane.airflow.ratelimit import RateLimiter
    from mwaa_control_plane.clock import Clock

T = TypeVar("T")

_MAX_DETAIL = 300


class HttpStatusError(Exception):
    """A non-2xx answer from the MWAA CLI endpoint (the REST path gets botocore ClientErrors instead)."""

    def __init__(self, status: int, body: object = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


def translate_error(
    exc: BaseException,
    *,
    operation: str,
    sensitive: bool = False,
    environment_status: Callable[[], str | None] | None = None,
) -> ControlPlaneError | None:
    """Map a failure of ``operation`` to the control plane's error, or None when it is not an I/O failure (a bug).

    ``sensitive`` drops Airflow's answer from the error: validation errors may echo a variable's value.
    ``environment_status`` is asked only for a ValidationException, to tell "environment busy" from bad input.

    Mapping (one place, so every caller and the ASL see the same classes):

    - ThrottlingException, TooManyRequestsException, ...; Airflow 429 -> ThrottledError
    - InternalServerException, ServiceUnavailable, any AWS 5xx; Airflow 5xx or 408; timeouts and
      connection errors -> ServiceUnavailableError
    - RestApiClientException and CLI HTTP 4xx -> AirflowApiError(status, body); ``get_*`` turn 404 into None
    - ResourceNotFoundException -> NotFoundError (the environment)
    - ValidationException: environment CREATE_FAILED/DELETING/DELETED -> EnvironmentStateError; any other
      state but AVAILABLE/UPDATE_FAILED -> EnvironmentBusyError; otherwise -> InvalidInputError
    - AccessDeniedException -> ConfigurationError (the role lacks airflow:InvokeRestApi or CreateCliToken)
    - any other ClientError -> AirflowApiError(status = HTTP status)
    """
    if isinstance(exc, ControlPlaneError):
        return exc
    if isinstance(exc, HttpStatusError):
        return _from_airflow_status(exc.status, exc.body, operation=operation, sensitive=sensitive)
    if isinstance(exc, ClientError):
        return _from_client_error(exc, operation=operation, sensitive=sensitive, environment_status=environment_status)
    if isinstance(exc, HTTPClientError | BotocoreConnectionError | OSError):
        # Timeouts and dropped connections: botocore's own, and the CLI transport's (TimeoutError, ConnectionError).
        return ServiceUnavailableError(f"{operation}: {type(exc).__name__}")
    return None


def _from_client_error(
    exc: ClientError,
    *,
    operation: str,
    sensitive: bool,
    environment_status: Callable[[], str | None] | None,
) -> ControlPlaneError:
    response = exc.response
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "") or "")
    http_status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")

    if code in ("RestApiClientException", "RestApiServerException"):
        # Modeled members of both exceptions: the status and body Airflow answered with.
        status = response.get("RestApiStatusCode")
        body = response.get("RestApiResponse")
        if isinstance(status, int):
            return _from_airflow_status(status, body, operation=operation, sensitive=sensitive)
        if code == "RestApiServerException":
            return ServiceUnavailableError(f"{operation}: Airflow server error without a status")
        return AirflowApiError(f"{operation}: Airflow client error without a status", body=None if sensitive else body)
    if code == "ValidationException":
        return _from_validation(message, operation=operation, environment_status=environment_status)
    generic = translate_client_error(exc, operation=operation)
    if isinstance(generic, AwsRequestError):
        # Not a throttle, outage, missing environment or denied call: Airflow's side refused it.
        return AirflowApiError(f"{operation}: {code} {message}".strip(), status=http_status)
    return generic


def _from_validation(
    message: str, *, operation: str, environment_status: Callable[[], str | None] | None
) -> ControlPlaneError:
    # MWAA answers ValidationException both for bad input and for an environment that is not ready;
    # the environment's status tells them apart without depending on the message text.
    status = _safe_status(environment_status)
    if status in TERMINAL_STATES:
        return EnvironmentStateError(f"{operation}: environment is {status}")
    if status is not None and status not in USABLE_STATES:
        return EnvironmentBusyError(f"{operation}: environment is {status}")
    if status is None and any(word in message.upper() for word in ("UPDATING", "CREATING", "NOT AVAILABLE")):
        return EnvironmentBusyError(f"{operation}: {message}")
    return InvalidInputError(f"{operation}: {message}")


def _safe_status(lookup: Callable[[], str | None] | None) -> str | None:
    if lookup is None:
        return None
    try:
        return lookup()
    except Exception:  # the lookup only refines the diagnosis; the original error still surfaces
        logger.warning("environment status lookup failed while translating an error", exc_info=True)
        return None


def _from_airflow_status(status: int, body: object, *, operation: str, sensitive: bool) -> ControlPlaneError:
    if status == 429:
        return ThrottledError(f"{operation}: Airflow answered 429")
    if status >= 500 or status == 408:
        return ServiceUnavailableError(f"{operation}: Airflow answered {status}")
    summary = "" if sensitive else _summary(body)
    message = f"{operation}: Airflow answered {status}" + (f" ({summary})" if summary else "")
    return AirflowApiError(message, status=status, body=None if sensitive else body)


def _summary(body: object) -> str:
    """Airflow's own short description: ``title``/``detail`` of a problem document, never echoed input."""
    if isinstance(body, Mapping):
        for key in ("detail", "title", "message"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:_MAX_DETAIL]
    if isinstance(body, bytes):
        return body[:_MAX_DETAIL].decode("utf-8", "replace")
    return ""


def is_not_found(error: ControlPlaneError) -> bool:
    return isinstance(error, AirflowApiError) and error.status == 404


def is_conflict(error: ControlPlaneError) -> bool:
    return isinstance(error, AirflowApiError) and error.status == 409


@dataclass
class RetryPolicy:
    """Pace every call through the rate limiter; retry transient failures with backoff and full jitter."""

    clock: Clock
    rate_limiter: RateLimiter
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    random: Callable[[], float] = field(default=_random.random)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**(attempt - 1))]."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return self.random() * ceiling

    def call(
        self,
        operation: str,
        fn: Callable[[], T],
        *,
        sensitive: bool = False,
        environment_status: Callable[[], str | None] | None = None,
    ) -> T:
        """Run ``fn``; return its result or raise the translated error once retries are spent."""
        attempt = 1
        while True:
            self.rate_limiter.acquire()
            try:
                return fn()
            except Exception as exc:
                error = translate_error(
                    exc, operation=operation, sensitive=sensitive, environment_status=environment_status
                )
                if error is None:
                    raise
                transient = isinstance(error, ThrottledError | ServiceUnavailableError)
                if not transient or attempt >= self.max_attempts:
                    if transient:
                        logger.warning(
                            "airflow call gave up",
                            extra={"operation": operation, "attempts": attempt, "error": type(error).__name__},
                        )
                    if error is exc:
                        raise
                    raise error from exc
                delay = self.backoff(attempt)
                logger.info(
                    "airflow call retried",
                    extra={
                        "operation": operation,
                        "attempt": attempt,
                        "delay_seconds": round(delay, 3),
                        "error": type(error).__name__,
                    },
                )
                self.clock.sleep(delay)
                attempt += 1
