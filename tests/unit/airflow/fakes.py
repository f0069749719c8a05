"""In-memory stand-ins for the MWAA client and the CLI transport, with botocore's real error shapes."""

from __future__ import annotations

import base64
import json
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.exceptions import ClientError
from botocore.parsers import create_parser

from mwaa_control_plane.clock import ManualClock

HOSTNAME = "abc123-example.c2.airflow.us-east-1.on.aws"

Handler = Callable[[dict[str, Any]], Any]


@cache
def _service_model() -> Any:
    return botocore.session.get_session().get_service_model("mwaa")


@cache
def _exceptions() -> Any:
    # Creating a client makes no network call; it gives botocore's own exception classes.
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return session.client("mwaa").exceptions


def mwaa_error(
    code: str, body: Mapping[str, Any], *, http_status: int = 400, operation: str = "InvokeRestApi"
) -> ClientError:
    """A ClientError exactly as botocore builds it from a wire response (modeled members at the top level)."""
    model = _service_model()
    parser = create_parser(model.metadata["protocol"])
    raw = {
        "status_code": http_status,
        "headers": {"x-amzn-errortype": f"{code}:http://internal.amazon.com/coral/com.amazonaws.airflow/"},
        "body": json.dumps(body).encode(),
    }
    parsed = parser.parse(raw, model.operation_model(operation).output_shape)
    error_shape = model.shape_for_error_code(code)
    if error_shape is not None:
        modeled = parser.parse(raw, error_shape)
        modeled.pop("ResponseMetadata", None)
        modeled.pop("Error", None)
        parsed.update(modeled)
    exception_class = _exceptions().from_code(code)
    return exception_class(parsed, operation)


def rest_client_error(status: int, response: Mapping[str, Any] | None = None) -> ClientError:
    payload = response if response is not None else {"status": status, "title": f"HTTP {status}", "detail": "problem"}
    return mwaa_error("RestApiClientException", {"RestApiStatusCode": status, "RestApiResponse": payload})


def rest_server_error(status: int) -> ClientError:
    return mwaa_error(
        "RestApiServerException", {"RestApiStatusCode": status, "RestApiResponse": {"title": "Server error"}}
    )


@dataclass
class Call:
    operation: str
    request: dict[str, Any]
    at: datetime


@dataclass
class FakeMwaa:
    """Implements get_environment, invoke_rest_api and create_cli_token from scripted outcomes.

    An outcome is a payload (answered with status 200), a ``(status, payload)`` tuple, an exception
    to raise, or a callable taking the request and returning one of those.
    """

    clock: ManualClock
    airflow_version: str | None = "2.8.1"
    status: str = "AVAILABLE"
    calls: list[Call] = field(default_factory=list)
    _routes: dict[tuple[str, str], deque[Any]] = field(default_factory=lambda: defaultdict(deque))
    _fixed: dict[tuple[str, str], Any] = field(default_factory=dict)
    token_outcomes: deque[Any] = field(default_factory=deque)
    tokens_minted: int = 0

    # -- scripting ---------------------------------------------------------------------------

    def answer(self, method: str, path: str, *outcomes: Any) -> None:
        """Answer the next calls to ``method path`` with ``outcomes``, in order."""
        self._routes[(method, path)].extend(outcomes)

    def always(self, method: str, path: str, outcome: Any) -> None:
        self._fixed[(method, path)] = outcome

    # -- the MWAA API ------------------------------------------------------------------------

    def get_environment(self, **request: Any) -> dict[str, Any]:
        self.calls.append(Call("GetEnvironment", request, self.clock.now()))
        environment: dict[str, Any] = {"Name": request["Name"], "Status": self.status, "WebserverUrl": HOSTNAME}
        if self.airflow_version is not None:
            environment["AirflowVersion"] = self.airflow_version
        return {"Environment": environment}

    def invoke_rest_api(self, **request: Any) -> dict[str, Any]:
        self.calls.append(Call("InvokeRestApi", request, self.clock.now()))
        key = (request["Method"], request["Path"])
        if self._routes[key]:
            outcome = self._routes[key].popleft()
        elif key in self._fixed:
            outcome = self._fixed[key]
        else:
            raise AssertionError(f"unscripted call {key}")
        if callable(outcome) and not isinstance(outcome, type):
            outcome = outcome(request)
        if isinstance(outcome, BaseException):
            raise outcome
        status, payload = outcome if isinstance(outcome, tuple) else (200, outcome)
        return {"RestApiStatusCode": status, "RestApiResponse": payload, "ResponseMetadata": {}}

    def create_cli_token(self, **request: Any) -> dict[str, Any]:
        self.calls.append(Call("CreateCliToken", request, self.clock.now()))
        if self.token_outcomes:
            outcome = self.token_outcomes.popleft()
            if isinstance(outcome, BaseException):
                raise outcome
            return dict(outcome)
        self.tokens_minted += 1
        return {"CliToken": f"token-{self.tokens_minted}", "WebServerHostname": HOSTNAME}

    # -- inspection --------------------------------------------------------------------------

    def rest_calls(self, method: str | None = None, path: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.operation == "InvokeRestApi"
            and (method is None or c.request["Method"] == method)
            and (path is None or c.request["Path"] == path)
        ]

    def count(self, operation: str) -> int:
        return sum(1 for c in self.calls if c.operation == operation)


def paged(items_key: str, items: list[dict[str, Any]], *, total: bool = True) -> Handler:
    """A handler serving ``items`` by the request's limit/offset, like Airflow's collection endpoints."""

    def handle(request: dict[str, Any]) -> dict[str, Any]:
        query = request.get("QueryParameters") or {}
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
        page: dict[str, Any] = {items_key: items[offset : offset + limit]}
        if total:
            page["total_entries"] = len(items)
        return page

    return handle


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@dataclass
class CliRequest:
    url: str
    headers: dict[str, str]
    command: str
    timeout: float
    at: datetime


@dataclass
class FakeCliTransport:
    """Answers POSTs to the CLI endpoint from a queue: ``(status, raw body)`` pairs or exceptions."""

    clock: ManualClock
    requests: list[CliRequest] = field(default_factory=list)
    outcomes: deque[Any] = field(default_factory=deque)

    def respond(self, stdout: str = "", stderr: str = "", *, status: int = 200) -> None:
        self.outcomes.append((status, json.dumps({"stdout": b64(stdout), "stderr": b64(stderr)}).encode()))

    def respond_raw(self, status: int, body: bytes) -> None:
        self.outcomes.append((status, body))

    def fail(self, exc: BaseException) -> None:
        self.outcomes.append(exc)

    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> tuple[int, bytes]:
        self.requests.append(CliRequest(url, dict(headers), body.decode(), timeout, self.clock.now()))
        if not self.outcomes:
            raise AssertionError(f"unscripted CLI command {body.decode()!r}")
        outcome = self.outcomes.popleft()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[no-any-return]

    @property
    def commands(self) -> list[str]:
        return [r.command for r in self.requests]


def max_in_any_window(times: list[datetime], seconds: float = 1.0) -> int:
    """The most timestamps that fall in any window [t, t + seconds) starting at one of them."""
    ordered = sorted(times)
    best = 0
    for i, start in enumerate(ordered):
        count = sum(1 for t in ordered[i:] if (t - start).total_seconds() < seconds)
        best = max(best, count)
    return best
