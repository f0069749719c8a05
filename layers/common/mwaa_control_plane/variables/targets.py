"""Where an environment's Airflow reads variables and connections: SSM under its backend prefixes, or its database.

Two targets, one :class:`Target` protocol:

- :class:`SsmTarget`: parameters ``<prefix>/<key>`` as the SSM secrets backend reads them;
- :class:`RestTarget`: Airflow variables in the metadata database, through ``InvokeRestApi``
  (environments without the SSM backend; connections need the backend: the REST API never
  returns passwords, so what it holds could not be compared).

The control plane marks what it writes: the parameter's (or variable's) description says
where the value came from and carries the fingerprint of the value written. That mark is how
``prune`` knows what it may delete (never a value it did not write) and how drift (a value
changed by hand since) is told apart from a change in the source.

Every call goes through :class:`Pacer`: a token bucket on the injected clock (SSM's write
quota is per account and Region), and on ``ThrottlingException`` a backoff with jitter that
resumes the same call; the waits are counted so reports can say what throttling cost.
"""

from __future__ import annotations

import functools
import itertools
import random as _random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from botocore.exceptions import ClientError

from mwaa_control_plane.airflow.ratelimit import RateLimiter
from mwaa_control_plane.errors import AirflowApiError, ThrottledError, translate_client_error
from mwaa_control_plane.variables.names import ParameterType, Tier

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

    from mwaa_control_plane.airflow.client import AirflowClient
    from mwaa_control_plane.clock import Clock

Kind = Literal["variables", "connections"]
MARK = "Managed by mwaa-control-plane"
_MARK = re.compile(r"^Managed by mwaa-control-plane from (?P<source>\S+) \| (?P<fp>sha256:[0-9a-f]{12} \(\d+ chars\))$")
# Airflow's REST API shows a sensitive variable's value as this.
_MASKED = "***"
_THROTTLED = frozenset({"ThrottlingException", "TooManyUpdates", "RequestLimitExceeded"})


def mark(source: str, written: str) -> str:
    """The description written with a value: its source parameter and ``written``, the value's fingerprint."""
    return f"{MARK} from {source} | {written}"


@dataclass(frozen=True, slots=True)
class Marked:
    source: str
    fingerprint: str


def read_mark(description: str | None) -> Marked | None:
    match = _MARK.match(description or "")
    return None if match is None else Marked(match["source"], match["fp"])


@dataclass(frozen=True, slots=True)
class TargetValue:
    """What a target holds for one key. ``value`` None: the target does not show it (masked or not listed)."""

    key: str
    value: str | None = field(repr=False)
    parameter_type: ParameterType | None = None
    tier: Tier | None = None
    key_id: str | None = None
    marked: Marked | None = None


@dataclass(slots=True)
class Pacer:
    """Paces calls on the clock and rides out throttling; counts calls and the seconds spent waiting."""

    clock: Clock
    rate_per_second: float
    max_backoff_seconds: float = 20.0
    max_throttled_attempts: int = 8
    random: Callable[[], float] = _random.random
    calls: dict[str, int] = field(default_factory=dict)
    paced_seconds: float = 0.0
    throttled_seconds: float = 0.0
    throttles: int = 0
    _limiter: RateLimiter | None = None

    def call[T](self, operation: str, do: Callable[[], T]) -> T:
        if self._limiter is None:
            self._limiter = RateLimiter(self.clock, rate_per_second=self.rate_per_second, burst=1)
        attempt = 0
        while True:
            self.paced_seconds += self._limiter.acquire()
            self.calls[operation] = self.calls.get(operation, 0) + 1
            try:
                return do()
            except (ClientError, AirflowApiError) as exc:
                if not _is_throttle(exc):
                    raise
                attempt += 1
                self.throttles += 1
                if attempt >= self.max_throttled_attempts:
                    raise ThrottledError(f"{operation} still throttled after {attempt} attempts") from exc
                # Full jitter on an exponential ceiling, then the same call again.
                delay = min(self.max_backoff_seconds, 0.5 * 2**attempt) * (0.5 + self.random() / 2)
                self.clock.sleep(delay)
                self.throttled_seconds += delay


def _is_throttle(exc: ClientError | AirflowApiError) -> bool:
    if isinstance(exc, AirflowApiError):
        return exc.status == 429
    return exc.response.get("Error", {}).get("Code") in _THROTTLED


class Target(Protocol):
    """One kind (variables or connections) of one environment's target."""

    kind: Kind
    label: str
    """How reports name it: ``ssm:/airflow/variables`` or ``rest``."""
    kms_key_id: str | None
    """The key SecureString values are written with (None: the target does not encrypt)."""

    def name_of(self, key: str) -> str:
        """What the key is called in the target (the parameter name, or the key)."""
        ...

    def read(self, keys: Iterable[str] | None) -> dict[str, TargetValue]:
        """What the target holds: every key (None) or only these."""
        ...

    def put(self, key: str, value: str, *, parameter_type: ParameterType, tier: Tier, description: str) -> None: ...

    def delete(self, key: str) -> None: ...


class SsmTarget:
    """Parameters ``<prefix>/<key>``, SecureString with ``kms_key_id`` where the value is secret."""

    def __init__(
        self, ssm: SSMClient, pacer: Pacer, *, kind: Kind, prefix: str, kms_key_id: str, reads: Pacer | None = None
    ) -> None:
        self._ssm = ssm
        self._writes = pacer
        # Reads have their own, higher quota: pacing them at the write rate would spend a write budget on them.
        self._pacer = reads or pacer
        self.kind = kind
        self.prefix = "/" + prefix.strip("/")
        self.label = f"ssm:{self.prefix}"
        self.kms_key_id: str | None = kms_key_id

    def name_of(self, key: str) -> str:
        return f"{self.prefix}/{key}"

    def _key_of(self, name: str) -> str:
        return name.removeprefix(self.prefix + "/")

    def read(self, keys: Iterable[str] | None) -> dict[str, TargetValue]:
        try:
            if keys is None:
                return self._read_all()
            return self._read_keys(sorted(set(keys)))
        except ClientError as exc:
            raise translate_client_error(exc, operation="read target parameters") from exc

    def _read_all(self) -> dict[str, TargetValue]:
        metadata: dict[str, dict[str, Any]] = {}
        token: str | None = None
        while True:
            args: dict[str, Any] = {
                "ParameterFilters": [{"Key": "Path", "Option": "Recursive", "Values": [self.prefix]}],
                "MaxResults": 50,
            }
            if token:
                args["NextToken"] = token
            page: Any = self._pacer.call("DescribeParameters", functools.partial(self._ssm.describe_parameters, **args))
            for item in page.get("Parameters", []):
                metadata[item["Name"]] = dict(item)
            token = page.get("NextToken")
            if not token:
                break
        values: dict[str, str] = {}
        token = None
        while True:
            args = {"Path": self.prefix, "Recursive": True, "WithDecryption": True, "MaxResults": 10}
            if token:
                args["NextToken"] = token
            page = self._pacer.call("GetParametersByPath", functools.partial(self._ssm.get_parameters_by_path, **args))
            for item in page.get("Parameters", []):
                values[item["Name"]] = item.get("Value", "")
            token = page.get("NextToken")
            if not token:
                break
        return {
            self._key_of(name): self._value(name, meta, values.get(name))
            for name, meta in metadata.items()
            if name.startswith(self.prefix + "/")
        }

    def _read_keys(self, keys: list[str]) -> dict[str, TargetValue]:
        names = [self.name_of(key) for key in keys]
        metadata: dict[str, dict[str, Any]] = {}
        for chunk in itertools.batched(names, 50):
            args: dict[str, Any] = {"ParameterFilters": [{"Key": "Name", "Option": "Equals", "Values": list(chunk)}]}
            page: Any = self._pacer.call("DescribeParameters", functools.partial(self._ssm.describe_parameters, **args))
            for item in page.get("Parameters", []):
                metadata[item["Name"]] = dict(item)
        values: dict[str, str] = {}
        for chunk in itertools.batched([name for name in names if name in metadata], 10):
            answer: Any = self._pacer.call(
                "GetParameters", functools.partial(self._ssm.get_parameters, Names=list(chunk), WithDecryption=True)
            )
            for item in answer.get("Parameters", []):
                values[item["Name"]] = item.get("Value", "")
        return {self._key_of(name): self._value(name, meta, values.get(name)) for name, meta in metadata.items()}

    def _value(self, name: str, meta: dict[str, Any], value: str | None) -> TargetValue:
        return TargetValue(
            key=self._key_of(name),
            value=value,
            parameter_type=meta.get("Type"),
            tier=meta.get("Tier"),
            key_id=meta.get("KeyId"),
            marked=read_mark(meta.get("Description")),
        )

    def put(self, key: str, value: str, *, parameter_type: ParameterType, tier: Tier, description: str) -> None:
        args: dict[str, Any] = {
            "Name": self.name_of(key),
            "Value": value,
            "Type": parameter_type,
            "Overwrite": True,
            "Tier": tier,
            "Description": description,
        }
        if parameter_type == "SecureString":
            args["KeyId"] = self.kms_key_id
        self._writes.call("PutParameter", lambda: self._ssm.put_parameter(**args))

    def delete(self, key: str) -> None:
        name = self.name_of(key)
        try:
            self._writes.call("DeleteParameter", lambda: self._ssm.delete_parameter(Name=name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ParameterNotFound":
                raise


class RestTarget:
    """Airflow variables in the metadata database (InvokeRestApi through :class:`AirflowClient`)."""

    kind: Kind = "variables"
    label = "rest"
    kms_key_id: str | None = None

    def __init__(self, airflow: AirflowClient, pacer: Pacer, *, reads: Pacer | None = None) -> None:
        self._airflow = airflow
        self._writes = pacer
        self._pacer = reads or pacer

    def name_of(self, key: str) -> str:
        return key

    def read(self, keys: Iterable[str] | None) -> dict[str, TargetValue]:
        wanted = None if keys is None else set(keys)
        if wanted is not None and len(wanted) <= 10:
            found: dict[str, TargetValue] = {}
            for key in sorted(wanted):
                variable = self._pacer.call("InvokeRestApi", functools.partial(self._airflow.get_variable, key))
                if variable is not None:
                    found[key] = self._value(variable.key, variable.value, variable.description)
            return found
        listed = self._pacer.call("InvokeRestApi", self._airflow.list_variables)
        result: dict[str, TargetValue] = {}
        for variable in listed:
            if wanted is not None and variable.key not in wanted:
                continue
            value, description = variable.value, variable.description
            if value is None or value == _MASKED:
                # Listings without values (REST v1, the CLI): read the ones that matter one by one.
                one = self._pacer.call("InvokeRestApi", functools.partial(self._airflow.get_variable, variable.key))
                if one is None:
                    continue
                value, description = one.value, one.description if one.description is not None else description
            result[variable.key] = self._value(variable.key, value, description)
        return result

    def _value(self, key: str, value: str | None, description: str | None) -> TargetValue:
        return TargetValue(
            key=key,
            value=None if value == _MASKED else value,
            marked=read_mark(description),
        )

    def put(self, key: str, value: str, *, parameter_type: ParameterType, tier: Tier, description: str) -> None:  # noqa: ARG002
        self._writes.call("InvokeRestApi", lambda: self._airflow.set_variable(key, value, description))

    def delete(self, key: str) -> None:
        self._writes.call("InvokeRestApi", lambda: self._airflow.delete_variable(key))
