"""Fault injection: make a chosen AWS operation fail N times.

Rules match on service and operation (botocore names, e.g. ``mwaa`` / ``GetEnvironment``,
``stepfunctions`` / ``StartExecution``) and answer with a real error response for that
service's protocol, before moto sees the request. Every in-process caller goes through
botocore (handlers, the Step Functions interpreter's SDK integrations, the CLI), so the
same fault reaches all of them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

_XML_PROTOCOL_SERVICES = {"s3", "sns", "sqs", "iam", "sts", "cloudwatch", "cloudformation"}


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
        fault = Fault(service, operation, error_code, status, message, times, dict(extra or {}))
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
        return _error_response(request.url, service, fault)


def _error_response(url: str, service: str, fault: Fault) -> AWSResponse:
    if service in _XML_PROTOCOL_SERVICES:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault.error_code}</Code>"
            f"<Message>{fault.message}</Message></Error><RequestId>fault-injection</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    else:
        body = json.dumps({"__type": fault.error_code, "message": fault.message, **fault.extra}).encode()
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": fault.error_code}
    return AWSResponse(url, fault.status, headers, _Raw(body))  # type: ignore[arg-type]


def install(injector: FaultInjector) -> Callable[[], None]:
    """Put ``injector`` ahead of moto's stubber in every botocore session created from now on."""
    import boto3
    import botocore.handlers

    handlers = botocore.handlers.BUILTIN_HANDLERS
    entry = ("before-send", injector)
    handlers.insert(0, entry)
    boto3.DEFAULT_SESSION = None  # sessions made earlier do not know the handler

    def undo() -> None:
        if entry in handlers:
            handlers.remove(entry)
        boto3.DEFAULT_SESSION = None

    return undo
