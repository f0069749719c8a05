"""Usage meter: what the control plane asks of each AWS service while the local runtime runs its flows.

The figures AWS bills the stack by, counted where the local runtime already sees them:

- **Step Functions state transitions** (standard workflows bill per transition): when an execution ends, from its
  history: one per state entered, plus one per retried task attempt (AWS counts retries as transitions).
- **Lambda invocations and duration**: each in-process invocation with its function's ``MemorySize`` from
  ``template.yaml``. The duration is the **CPU time of the handler's thread** in this process (``time.thread_time``):
  it includes moto answering the handler's AWS calls in-process and excludes any network wait, so it is not the
  wall time Lambda bills; the module that loads the handler (a cold start's INIT) is not counted.
- **AWS API calls** made by the control plane: by its Lambda handlers (clients whose user agent carries
  ``mwaa-control-plane`` while a function runs), by Step Functions' service integrations (the interpreter's clients,
  marked in :mod:`.stepfunctions`) and by EventBridge delivering to targets (its delivery threads). Calls the
  runtime's driver makes (a test or bench uploading a DAG, polling an execution) are not the stack's and are only
  tallied as ``outside_calls``. DynamoDB calls also count read and write request units, from the sizes of the items
  written and read, as on-demand tables bill them.

Off by default and free when off: :class:`~mwaa_cp_local.runtime.LocalAws` installs a meter only when given one
(``LocalAws(meter=UsageMeter())``), and the hooks do nothing without one. Counters only; nothing is stored.
"""

from __future__ import annotations

import math
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from mwaa_cp_local.lambda_dispatch import Invocation

#: Who made an AWS call: the stack's parts, and everything else (``outside``: not billed to the stack).
LAMBDA = "lambda"
STEP_FUNCTIONS = "step-functions"
EVENTBRIDGE = "eventbridge"
OUTSIDE = "outside"
_CONTROL_PLANE_USER_AGENT = "mwaa-control-plane"
_CALLER_KEY = "mwaa_cp_caller"
_PARAMS_KEY = "mwaa_cp_params"
# EventDelivery's thread pool (eventbridge.py) names its threads with this prefix.
_EVENTBRIDGE_THREADS = "eventbridge"
_SCHEDULED_EVENTS = frozenset({"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"})
_WRITE_UNIT = 1024
_READ_UNIT = 4096


class FunctionUsage(BaseModel):
    """One function's invocations; ``billed_ms`` rounds each invocation's measured duration up to 1 ms, as Lambda."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    memory_mb: int
    invocations: int = 0
    billed_ms: int = 0
    log_bytes: int = 0

    @property
    def gb_seconds(self) -> Decimal:
        return Decimal(self.memory_mb) / 1024 * Decimal(self.billed_ms) / 1000


class Usage(BaseModel):
    """A reading of the meter: counts since it was last reset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    executions: dict[str, int] = {}
    """Ended executions by state machine name."""
    state_transitions: dict[str, int] = {}
    functions: dict[str, FunctionUsage] = {}
    calls: dict[str, int] = {}
    """The stack's AWS calls as ``service:Operation`` (botocore's service name, e.g. ``s3:GetObject``)."""
    calls_by_caller: dict[str, dict[str, int]] = {}
    dynamodb_read_units: Decimal = Decimal(0)
    dynamodb_write_units: Decimal = Decimal(0)
    s3_requests_by_bucket: dict[str, int] = {}
    outside_calls: int = 0

    @property
    def transitions(self) -> int:
        return sum(self.state_transitions.values())

    def calls_of(self, service: str) -> dict[str, int]:
        """The stack's calls of one service, by operation."""
        prefix = f"{service}:"
        return {key.removeprefix(prefix): count for key, count in self.calls.items() if key.startswith(prefix)}


def transitions_in(history: Iterable[Mapping[str, Any]]) -> int:
    """State transitions an execution history bills: states entered, plus each task attempt beyond the first."""
    entered = scheduled = task_states = 0
    for event in history:
        kind = str(getattr(event.get("type"), "value", event.get("type")))
        if kind.endswith("StateEntered"):
            entered += 1
            if kind == "TaskStateEntered":
                task_states += 1
        elif kind in _SCHEDULED_EVENTS:
            scheduled += 1
    return entered + max(0, scheduled - task_states)


@dataclass
class UsageMeter:
    """Thread-safe counters the runtime's hooks feed; :meth:`reading` takes a :class:`Usage`."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _executions: Counter[str] = field(default_factory=Counter)
    _transitions: Counter[str] = field(default_factory=Counter)
    _functions: dict[str, FunctionUsage] = field(default_factory=dict)
    _calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    _read_units: Decimal = Decimal(0)
    _write_units: Decimal = Decimal(0)
    _buckets: Counter[str] = field(default_factory=Counter)
    _outside: int = 0

    def reset(self) -> None:
        with self._lock:
            self._executions.clear()
            self._transitions.clear()
            self._functions.clear()
            self._calls.clear()
            self._buckets.clear()
            self._read_units = self._write_units = Decimal(0)
            self._outside = 0

    def reading(self) -> Usage:
        with self._lock:
            calls: dict[str, int] = {}
            by_caller: dict[str, dict[str, int]] = {}
            for (caller, call), count in sorted(self._calls.items()):
                calls[call] = calls.get(call, 0) + count
                by_caller.setdefault(caller, {})[call] = count
            return Usage(
                executions=dict(self._executions),
                state_transitions=dict(self._transitions),
                functions=dict(self._functions),
                calls=calls,
                calls_by_caller=by_caller,
                dynamodb_read_units=self._read_units,
                dynamodb_write_units=self._write_units,
                s3_requests_by_bucket=dict(self._buckets),
                outside_calls=self._outside,
            )

    # ------------------------------------------------------------------ what the hooks report
    def record_execution(self, state_machine_arn: str, history: Iterable[Mapping[str, Any]]) -> None:
        name = state_machine_arn.rsplit(":", 1)[-1]
        count = transitions_in(history)
        with self._lock:
            self._executions[name] += 1
            self._transitions[name] += count

    def record_invocation(self, invocation: Invocation) -> None:
        billed_ms = max(1, math.ceil(invocation.cpu_seconds * 1000))
        with self._lock:
            before = self._functions.get(invocation.function_name) or FunctionUsage(memory_mb=invocation.memory_mb)
            self._functions[invocation.function_name] = FunctionUsage(
                memory_mb=invocation.memory_mb,
                invocations=before.invocations + 1,
                billed_ms=before.billed_ms + billed_ms,
                log_bytes=before.log_bytes + len(invocation.log.encode("utf-8")),
            )

    def record_call(self, caller: str, service: str, operation: str, params: Mapping[str, Any], parsed: Any) -> None:
        if caller == OUTSIDE:
            with self._lock:
                self._outside += 1
            return
        read, write = dynamodb_units(operation, params, parsed) if service == "dynamodb" else (0, 0)
        with self._lock:
            self._calls[(caller, f"{service}:{operation}")] += 1
            self._read_units += Decimal(str(read))
            self._write_units += Decimal(str(write))
            if service == "s3" and params.get("Bucket"):
                self._buckets[str(params["Bucket"])] += 1

    # ------------------------------------------------------------------ botocore handlers
    def _keep_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS_KEY] = params

    def _count(self, model: Any, parsed: Any, context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        self.record_call(_caller(context), service, model.name, context.get(_PARAMS_KEY) or {}, parsed)

    def botocore_handlers(self) -> list[tuple[str, Callable[..., None]]]:
        """(event, handler) pairs for botocore's ``BUILTIN_HANDLERS``: every session made afterwards counts."""
        return [("before-parameter-build", self._keep_params), ("after-call", self._count)]


def _caller(context: Mapping[str, Any]) -> str:
    marked = context.get(_CALLER_KEY)
    if marked:
        return str(marked)
    config = context.get("client_config")
    if _CONTROL_PLANE_USER_AGENT in (getattr(config, "user_agent_extra", None) or ""):
        # The CLI uses the same clients; only a call made while a function runs is the stack's.
        return LAMBDA if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else OUTSIDE
    if threading.current_thread().name.startswith(_EVENTBRIDGE_THREADS):
        return EVENTBRIDGE
    return OUTSIDE


def mark_caller(client: Any, caller: str) -> Any:
    """Make every call ``client`` makes count as ``caller``'s (the Step Functions interpreter's clients)."""

    def mark(context: dict[str, Any], **_: Any) -> None:
        context[_CALLER_KEY] = caller

    client.meta.events.register_first("before-parameter-build", mark)
    return client


# ---------------------------------------------------------------------------------------- DynamoDB units


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values (docs: Item sizes and formats)."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    (kind, data), *_ = value.items()
    if kind == "S":
        return len(str(data).encode("utf-8"))
    if kind == "N":
        digits = str(data).lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: element}) for element in data)
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + _value_size(element) for name, element in data.items())
    return 0


def _write_units(size: int, transactional: bool = False) -> int:
    return max(1, math.ceil(size / _WRITE_UNIT)) * (2 if transactional else 1)


def _read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / _READ_UNIT))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def dynamodb_units(operation: str, params: Mapping[str, Any], parsed: Any) -> tuple[float, int]:
    """(read, write) request units one DynamoDB call bills on an on-demand table.

    Writes are sized from the request (a conditional write that fails still bills one unit; an update or delete
    whose stored item is larger bills more than counted here). Reads are sized from what came back, a miss bills
    the minimum. A Query or Scan is sized from the items it returned (a filter would read more).
    """
    answer = parsed if isinstance(parsed, Mapping) else {}
    consistent = bool(params.get("ConsistentRead"))
    if operation == "PutItem":
        return 0.0, _write_units(item_size(params.get("Item") or {}))
    if operation in ("UpdateItem", "DeleteItem"):
        values = params.get("ExpressionAttributeValues") or {}
        return 0.0, _write_units(item_size(params.get("Key") or {}) + item_size(values))
    if operation == "GetItem":
        return _read_units(item_size(answer.get("Item") or {}), consistent), 0
    if operation in ("Query", "Scan"):
        return _read_units(sum(item_size(item) for item in answer.get("Items") or []), consistent), 0
    if operation == "BatchWriteItem":
        requests = [request for batch in (params.get("RequestItems") or {}).values() for request in batch]
        return 0.0, sum(_write_units(item_size(_written(request))) for request in requests)
    if operation == "TransactWriteItems":
        items = [next(iter(entry.values())) for entry in params.get("TransactItems") or []]
        return 0.0, sum(_write_units(item_size(item.get("Item") or item.get("Key") or {}), True) for item in items)
    if operation == "BatchGetItem":
        found = [item for items in (answer.get("Responses") or {}).values() for item in items]
        return sum(_read_units(item_size(item), consistent) for item in found), 0
    if operation == "TransactGetItems":
        found = [entry.get("Item") or {} for entry in answer.get("Responses") or []]
        return sum(_read_units(item_size(item), True, True) for item in found), 0
    return 0.0, 0


def _written(request: Mapping[str, Any]) -> Mapping[str, Any]:
    if "PutRequest" in request:
        return dict(request["PutRequest"].get("Item") or {})
    return dict(request.get("DeleteRequest", {}).get("Key") or {})


# ---------------------------------------------------------------------------------------- installing

_active: UsageMeter | None = None


class _Patches(Protocol):
    """What :func:`install` needs of :class:`~mwaa_cp_local.patches.Patches` (named here without importing it:
    patches imports the plugin modules, this one among them through stepfunctions)."""

    def replace(self, owner: Any, name: str, replacement: Any, *, why: str) -> None: ...


def current() -> UsageMeter | None:
    """The meter of the running local runtime, or None (the default: nothing is counted)."""
    return _active


def install(meter: UsageMeter, patches: _Patches) -> Callable[[], None]:
    """Count the stack's usage into ``meter`` until the returned function is called (and ``patches`` undone).

    botocore hands ``BUILTIN_HANDLERS`` to every session it creates from now on, as the fault injector's patch
    does: a fresh copy of the list is put in place through ``patches``, so undoing them removes the meter's
    handlers with everything else, and boto3's default session is rebuilt so that it carries them.
    """
    import boto3
    import botocore.handlers

    global _active
    patches.replace(
        botocore.handlers,
        "BUILTIN_HANDLERS",
        [*botocore.handlers.BUILTIN_HANDLERS, *meter.botocore_handlers()],
        why="every new botocore session reports the stack's AWS calls to the usage meter",
    )
    patches.replace(boto3, "DEFAULT_SESSION", None, why="rebuild the default session with the usage meter's handlers")
    _active = meter

    def uninstall() -> None:
        global _active
        if _active is meter:
            _active = None

    return uninstall
