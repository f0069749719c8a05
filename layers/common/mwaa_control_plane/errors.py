"""One error hierarchy for the whole control plane.

Step Functions matches ``Retry``/``Catch`` on the exception *class name* a Lambda raises,
so the names below are part of the state machines' contract: rename one only together
with every ASL file that lists it.
"""

from __future__ import annotations

# AWS error codes that mean "try again later", across the services the control plane calls
# (MWAA, S3, DynamoDB, Step Functions): one list for every adapter that translates ClientError.
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
UNAVAILABLE_CODES = frozenset(
    {
        "InternalServerException",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


class ControlPlaneError(Exception):
    """Base of every error the control plane raises on purpose."""


class InvalidInputError(ControlPlaneError):
    """The input (event, file, CLI argument) is malformed; retrying cannot help."""


class ConfigurationError(ControlPlaneError):
    """A setting or environment variable is missing or wrong."""


class NotFoundError(ControlPlaneError):
    """The named environment, object, DAG or resource does not exist."""


class RetryableError(ControlPlaneError):
    """Transient: the same call may succeed later. ASL files retry the subclasses by name."""


class ThrottledError(RetryableError):
    """AWS or the Airflow REST API asked us to slow down."""


class ServiceUnavailableError(RetryableError):
    """AWS or Airflow answered with a 5xx or timed out."""


class EnvironmentBusyError(RetryableError):
    """The MWAA environment is not in a state that accepts the operation (e.g. UPDATING)."""


class ConcurrentUpdateError(RetryableError):
    """Another execution holds the lock on the same object or environment; retry after it is done."""


class BurstInProgressError(RetryableError):
    """Uploads for the environment are still arriving or being validated; apply them together afterwards."""


class EnvironmentStateError(ControlPlaneError):
    """The MWAA environment is in a state the operation can never succeed from (e.g. DELETED)."""


class AirflowApiError(ControlPlaneError):
    """Airflow answered a REST or CLI call with a client error (4xx) or a failed command."""

    def __init__(self, message: str, *, status: int | None = None, body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class UnsupportedAirflowVersionError(ControlPlaneError):
    """The environment runs an Airflow version this operation does not support."""
