"""Fault injection: make a chosen AWS operation fail N times.

Rules match on service and operation (client names such as ``mwaa`` / ``GetEnvironment`` or
``stepfunctions`` / ``StartExecution``; botocore's event names such as ``sfn`` work too) and
answer with a real error response for that service's protocol, before moto sees the request.
Every in-process caller goes through botocore (handlers, the Step Functions interpreter's SDK
integrations, the CLI), so the same fault reaches all of them.

A fault counts HTTP attempts, not SDK calls: ``aws.faults.inject("ssm", "PutParameter", times=5)``
throttles the next five PutParameter requests with ``ThrottlingException`` (HTTP 400, the
defaults), and botocore's own retries spend some of them before the caller sees an error.
The emulated Airflow's secrets backend reads moto directly, so SSM faults never reach it.
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.exceptions import UnknownServiceError

FAULTED = "_mwaa_cp_fault_answered"
# rest-xml services; query-protocol services are recognised by their form-encoded request body.
_REST_XML_SERVICES = {"s3", "s3-control", "route-53", "cloudfront"}


@dataclass
class Fault:
    service: str
    operation: str
    error_code: str = "ThrottlingException"
    status: int = 400
    message: str = "Rate exceeded"
    times: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    injected: int = 0

    def matches(self, service: str, operation: str) -> bool:
        return self.injected < self.times and self.service == service and self.operation == operation


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body


class FaultInjector:
    """Holds the armed faults; installed as the first ``before-send`` handler of botocore."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._lock = threading.Lock()

    def inject(
        self,
        service: str,
        operation: str,
        *,
        error_code: str = "ThrottlingException",
        times: int = 1,
        status: int = 400,
        message: str = "Rate exceeded",
        extra: dict[str, Any] | None = None,
    ) -> Fault:
        """Arm a fault: the next ``times`` calls of ``service.operation`` fail with ``error_code``."""
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = Fault(_event_service_name(service), operation, error_code, status, message, times, dict(extra or {}))
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def __call__(self, event_name: str, request: Any, **_: Any) -> AWSResponse | None:
        parts = event_name.split(".")
        if len(parts) < 3:
            return None
        service, operation = parts[1], parts[2]
        with self._lock:
            fault = next((f for f in self.faults if f.matches(service, operation)), None)
            if fault is None:
                return None
            fault.injected += 1
        # botocore asks every before-send handler, not only until one answers: mark the request so that moto's
        # stubber leaves it alone (a throttled UpdateEnvironment must not update the environment anyway).
        setattr(request, FAULTED, True)
        return _error_response(request, service, fault)


def skipping_faulted(original: Any) -> Any:
    """moto's ``BotocoreStubber.__call__`` that does not process a request a fault already answered."""

    def stubber_call(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if getattr(request, FAULTED, False):
            return None
        return original(self, event_name, request, **kwargs)

    return stubber_call


@functools.cache
def _event_service_name(service: str) -> str:
    """botocore names events by the hyphenised service id: stepfunctions -> sfn, events -> eventbridge."""
    try:
        return str(botocore.session.get_session().get_service_model(service).service_id.hyphenize())
    except UnknownServiceError:
        return service  # already the event name


def _header(request: Any, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _cbor_text_map(values: dict[str, str]) -> bytes:
    """The few bytes of CBOR an error body needs: a map of short text strings (CloudWatch speaks rpc-v2-cbor)."""

    def text(value: str) -> bytes:
        data = value.encode()
        size = len(data)
        if size < 24:
            head = bytes([0x60 | size])
        elif size < 256:
            head = bytes([0x78, size])
        else:
            head = b"\x79" + size.to_bytes(2, "big")
        return head + data

    return bytes([0xA0 | len(values)]) + b"".join(text(k) + text(v) for k, v in values.items())


def _error_response(request: Any, service: str, fault: Fault) -> AWSResponse:
    url = request.url
    if _header(request, "smithy-protocol") == "rpc-v2-cbor":
        body = _cbor_text_map({"__type": fault.error_code, "message": fault.message})
        headers = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
    elif service in _REST_XML_SERVICES or "x-www-form-urlencoded" in _header(request, "Content-Type"):
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault.error_code}</Code>"
            f"<Message>{fault.message}</Message></Error><RequestId>fault-injection</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    else:
        body = json.dumps({"__type": fault.error_code, "message": fault.message, **fault.extra}).encode()
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": fault.error_code}
    return AWSResponse(url, fault.status, headers, _Raw(body))  # type: ignore[arg-type]
