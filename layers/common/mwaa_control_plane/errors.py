"""One error hierarchy for the whole control plane.

Step Functions matches ``Retry``/``Catch`` on the exception *class name* a Lambda raises,
so the names below are part of the state machines' contract: rename one only together
with every ASL file that lists it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from botocore.exceptions import ClientError

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

# NoSuchEntity: IAM's (a role, a policy or one of its versions that does not exist).
NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "NoSuchKey",
        "NoSuchVersion",
        "NoSuchBucket",
        "NotFound",
        "404",
        "ParameterNotFound",
        "NoSuchEntity",
    }
)
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


class ControlPlaneError(Exception):
    """Base of every error the control plane raises on purpose."""


class InvalidInputError(ControlPlaneError):
    """The input (event, file, CLI argument) is malformed; retrying cannot help."""


class ConfigurationError(ControlPlaneError):
    """A setting or environment variable is missing or wrong."""


class AccessDeniedError(ConfigurationError):
    """AWS refused the call: the function's role (or a resource policy) lacks a permission."""


class AwsRequestError(ControlPlaneError):
    """AWS refused a request for a reason none of the other classes names; ``code`` is AWS's error code."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


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


class EnvironmentLockedError(RetryableError):
    """Another flow holds the environment's lock (the message names the holder); retry after it is released."""


class OffHoursTagError(InvalidInputError, ValueError):
    """The off-hours tags of an environment (or the stack's defaults) cannot be read; nothing is guessed.

    ``problems`` are the individual problems (each names its tag, value and what is wrong).
    """

    def __init__(self, problems: Sequence[object]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


class SnapshotError(ControlPlaneError):
    """Base of the off-hours snapshot errors: an environment is never deleted while one of them stands."""


class SnapshotNotVerifiedError(SnapshotError):
    """The stored snapshot could not be read back as written (missing version, checksum, encryption, shape)."""


class SnapshotIncompleteError(SnapshotError):
    """The snapshot lacks what CreateEnvironment needs, or holds a value that looks redacted; ``problems`` name them."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class DrainTimeoutError(ControlPlaneError):
    """Work kept running in Airflow past the drain policy's wait: the hibernate is skipped, not forced."""


class OffHoursRecordConflictError(ControlPlaneError):
    """Another execution changed the environment's off-hours record since it was read: re-read and decide again."""


class ConnectionSecretsWouldBeLostError(ControlPlaneError):
    """Hibernating would lose secrets the REST API cannot give back (connection passwords and masked extras,
    masked variable values) and the ``mwaa-cp:connections`` policy refuses that; ``items`` name them, never values."""

    def __init__(self, message: str, items: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.items = list(items)


class ChangeRefusedError(InvalidInputError):
    """An environment change that MWAA would refuse (bounds of the class, fixed fields); refused before the API."""


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


def translate_client_error(exc: ClientError, *, operation: str = "") -> ControlPlaneError:
    """The one adapter from an AWS ``ClientError`` (any service) to the control plane's error classes.

    Throttling -> ThrottledError; 5xx and unavailable -> ServiceUnavailableError; missing resource, key or
    version -> NotFoundError; access denied -> AccessDeniedError; anything else -> AwsRequestError(code).
    Conditional-check failures are the state repository's to interpret and never reach this function.
    """
    response = exc.response
    code = str(response.get("Error", {}).get("Code", "") or "")
    message = str(response.get("Error", {}).get("Message", "") or "")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    where = f"{operation or exc.operation_name}: "
    if code in THROTTLING_CODES:
        return ThrottledError(f"{where}{code}")
    if code in UNAVAILABLE_CODES or (isinstance(status, int) and status >= 500):
        return ServiceUnavailableError(f"{where}{code or status}")
    if code in NOT_FOUND_CODES:
        return NotFoundError(f"{where}{message or code}")
    if code in ACCESS_DENIED_CODES:
        return AccessDeniedError(f"{where}access denied ({message}); check the function's IAM role")
    return AwsRequestError(f"{where}{code} {message}".strip(), code=code)


class RemediationRejectedError(ControlPlaneError):
    """A person rejected a worker-analysis recommendation (``mwaa-cp reject``): nothing changes."""
