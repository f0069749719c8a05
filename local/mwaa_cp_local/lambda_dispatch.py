"""In-process Lambda dispatch: moto's Lambda backend calls our handlers instead of Docker.

When a state machine, EventBridge or a client invokes a function provisioned from
``template.yaml``, the dispatcher imports ``<CodeUri>/<module>.py`` (the same file
``sam build`` would package), sets the function's environment variables, calls the
handler with a Lambda context and returns the result. A raised exception comes back in
Lambda's ``Unhandled`` shape (``errorType`` = exception class name), which is what Step
Functions ``Retry``/``Catch`` match on AWS.

Invocations run one at a time (a process has one ``os.environ``); executions still
interleave between steps. With a :class:`~mwaa_cp_local.timewarp.VirtualClock`, virtual time
stands still while an invocation runs (or waits its turn), so a handler's compute time never
counts against a flow's deadlines.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from mwaa_control_plane import config
from mwaa_cp_local import streams
from mwaa_cp_local.timewarp import VirtualClock


@dataclass(frozen=True)
class LocalFunction:
    """A function of the stack as the dispatcher needs it."""

    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: Mapping[str, str]
    timeout_seconds: int = 60
    memory_mb: int = 256


@dataclass
class Invocation:
    """What one invocation did, for the CLI's display and for tests."""

    function_name: str
    request_id: str
    payload: Any
    result: Any = None
    error_type: str | None = None
    error_message: str | None = None
    log: str = ""
    # Named once per invocation: the context reports it and the captured output is written to it.
    log_stream_name: str = ""
    memory_mb: int = 0
    # CPU time of the handler call in this thread (the usage meter bills it): moto's in-process answers to the
    # handler's AWS calls included, network waits absent, loading the handler's module (INIT) left out.
    cpu_seconds: float = 0.0


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    timeout_seconds: int
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default=0.0, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LambdaDispatcher:
    """Registry of the stack's functions and the in-process invoker."""

    def __init__(self, *, region: str, base_environment: Mapping[str, str], clock: VirtualClock | None = None) -> None:
        self.region = region
        self.base_environment = dict(base_environment)
        self.clock = clock
        self.invocations: list[Invocation] = []
        self._functions: dict[str, LocalFunction] = {}
        self._modules: dict[Path, ModuleType] = {}
        self._lock = threading.RLock()
        self._last_environment: dict[str, str] | None = None
        self._listeners: list[Callable[[Invocation], None]] = []

    def register(self, function: LocalFunction) -> None:
        self._functions[function.name] = function
        self._functions[function.arn] = function

    def lookup(self, name_or_arn: str) -> LocalFunction | None:
        if name_or_arn in self._functions:
            return self._functions[name_or_arn]
        # Qualified ARNs (":$LATEST") and partial ARNs resolve to the function itself.
        base = name_or_arn.split(":function:")[-1].split(":")[0]
        return self._functions.get(base)

    def on_invocation(self, listener: Callable[[Invocation], None]) -> None:
        self._listeners.append(listener)

    def paused(self) -> AbstractContextManager[None]:
        """Virtual time stands still in this block (real time when there is no virtual clock)."""
        return self.clock.paused() if self.clock is not None else contextlib.nullcontext()

    def invoke(self, function: LocalFunction, payload: Any) -> Invocation:
        """Run the handler; never raises for handler errors (they are in the result)."""
        request_id = str(uuid.uuid4())
        record = Invocation(
            function_name=function.name,
            request_id=request_id,
            payload=payload,
            log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{request_id.replace('-', '')}",
            memory_mb=function.memory_mb,
        )
        with self.paused(), self._lock:
            environment = {
                **self.base_environment,
                **function.environment,
                "AWS_LAMBDA_FUNCTION_NAME": function.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "_HANDLER": function.handler,
            }
            if environment != self._last_environment:
                # Settings are cached per process, as on Lambda; here the process hosts every function.
                # (Clients depend only on service and Region, so they stay cached across functions.)
                config.clear_settings_cache()
                self._last_environment = environment
            context = LambdaContext(
                function_name=function.name,
                invoked_function_arn=function.arn,
                memory_limit_in_mb=function.memory_mb,
                aws_request_id=request_id,
                timeout_seconds=function.timeout_seconds,
                log_group_name=f"/aws/lambda/{function.name}",
                log_stream_name=record.log_stream_name,
                _deadline=time.monotonic() + function.timeout_seconds,
            )
            saved = dict(os.environ)
            router = streams.install()
            try:
                os.environ.update(environment)
                _configure_powertools(environment)
                with router.capture() as buffer:
                    started: float | None = None
                    try:
                        handler = self._load_handler(function)
                        started = time.thread_time()
                        record.result = handler(payload, context)
                        json.dumps(record.result)  # Lambda serialises the result: fail the same way.
                    except Exception as exc:
                        record.error_type = type(exc).__name__
                        record.error_message = str(exc)
                        print(
                            json.dumps(
                                {
                                    "level": "ERROR",
                                    "message": "Unhandled exception",
                                    "errorType": record.error_type,
                                    "errorMessage": record.error_message,
                                    "stackTrace": traceback.format_exception(exc)[-3:],
                                }
                            )
                        )
                    if started is not None:
                        record.cpu_seconds = time.thread_time() - started
                record.log = buffer.getvalue()
            finally:
                os.environ.clear()
                os.environ.update(saved)
            self.invocations.append(record)
        for listener in self._listeners:
            listener(record)
        return record

    def _load_handler(self, function: LocalFunction) -> Callable[[Any, LambdaContext], Any]:
        module_name, _, attribute = function.handler.rpartition(".")
        path = function.code_dir / f"{module_name.replace('.', '/')}.py"
        module = self._modules.get(path)
        if module is None:
            if not path.is_file():
                raise FileNotFoundError(f"handler module {path} of function {function.name} does not exist")
            spec = importlib.util.spec_from_file_location(f"mwaa_cp_local_functions.{function.code_dir.name}", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[path] = module
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise AttributeError(f"{path} has no callable {attribute!r} (Handler {function.handler})")
        return handler  # type: ignore[no-any-return]


def _configure_powertools(environment: Mapping[str, str]) -> None:
    """Give the shared Powertools objects this function's settings.

    On Lambda they are built after the environment is set; in-process they may have been
    built earlier (by the CLI importing the package), so their service, namespace and log
    level are applied per invocation from the function's ``POWERTOOLS_*`` variables.
    """
    from mwaa_control_plane import observability

    observability.metrics.namespace = environment.get("POWERTOOLS_METRICS_NAMESPACE")
    observability.metrics.service = environment.get("POWERTOOLS_SERVICE_NAME")
    if "POWERTOOLS_SERVICE_NAME" in environment:
        observability.logger.append_keys(service=environment["POWERTOOLS_SERVICE_NAME"])
    observability.logger.setLevel(environment.get("POWERTOOLS_LOG_LEVEL", "INFO"))


def error_payload(invocation: Invocation) -> dict[str, Any]:
    """The body Lambda returns with ``X-Amz-Function-Error: Unhandled``."""
    return {
        "errorMessage": invocation.error_message or "",
        "errorType": invocation.error_type or "Error",
        "requestId": invocation.request_id,
        "stackTrace": [],
    }


def dispatching_invoke(dispatcher: LambdaDispatcher, original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's Lambda backend ``invoke`` that runs the stack's functions in-process through ``dispatcher``
    (anything else still goes to ``original``)."""

    def invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> str | bytes | None:
        moto_function = self.get_function(function_name, qualifier)
        function = dispatcher.lookup(moto_function.function_arn)
        if function is None:
            return original(self, function_name, qualifier, body, headers, response_headers)  # type: ignore[no-any-return]
        payload = json.loads(body) if body else {}
        with dispatcher.paused():  # writing the logs is part of the invocation's cost, not of the flow's time
            record = dispatcher.invoke(function, payload)
            _write_logs(self.account_id, dispatcher.region, function.name, record)
        if record.error_type is not None:
            response_headers["x-amz-function-error"] = "Unhandled"
            answer = json.dumps(error_payload(record)).encode()
        else:
            answer = json.dumps(record.result).encode()
        response_headers["Content-Length"] = str(len(answer))
        return answer

    return invoke


def _write_logs(account_id: str, region: str, function_name: str, record: Invocation) -> None:
    """Put the captured output in /aws/lambda/<name>, where `aws logs tail` would find it."""
    from moto.logs import logs_backends

    backend = logs_backends[account_id][region]
    group = f"/aws/lambda/{function_name}"
    if group not in backend.groups:
        backend.create_log_group(group, {})
    stream = record.log_stream_name
    backend.create_log_stream(group, stream)
    now = int(time.time() * 1000)
    lines = [line for line in record.log.splitlines() if line.strip()] or ["(no output)"]
    backend.put_log_events(group, stream, [{"timestamp": now, "message": line} for line in lines])
