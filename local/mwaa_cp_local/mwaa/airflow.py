"""An in-memory Apache Airflow behind each fake MWAA environment.

What it emulates, and why each piece exists:

* The DAG folder. MWAA copies ``s3://<bucket>/<DagS3Path>`` to ``/usr/local/airflow/dags``
  about every 30 s; the DAG processor lists that folder every ``dag_dir_list_interval``
  (300 s on MWAA) and re-parses known files every ``min_file_process_interval`` (30 s).
  :class:`DagFolder` keeps every change it has seen of each file with the clock time it
  landed in S3, and answers "what does Airflow show at time T" as a pure function of that
  history. The delays are the worst case of the real loops (a new file shows up
  ``sync + list`` seconds after its upload, a change ``sync + min_file_process_interval``
  seconds after), so tests are deterministic and the control plane never sees a DAG
  earlier than it would on MWAA.
* Parsing never executes DAG code: :func:`parse_dag_file` reads the module with ``ast``.
  A syntax error or a module-level ``raise`` becomes an import error, DAG ids are found
  statically. Safe mode (files must mention "airflow" and "dag", or "asset" on Airflow 3)
  and ``.airflowignore`` (regexp on Airflow 2, glob on Airflow 3, read by :mod:`.airflowignore`, not by
  the validator's engine) are honoured.
* The metadata the control plane touches: DAG pause flags, manual DAG runs, variables,
  pools and import errors, served through the stable REST API v1 (Airflow 2) or the
  REST API v2 (Airflow 3) as ``InvokeRestApi`` forwards them, and a small CLI subset as
  the ``/aws_mwaa/cli`` endpoint runs it.
* Secrets: ``airflow variables get`` and ``airflow connections get`` read through the SSM secrets
  backend first, then the metadata database, as ``Variable.get`` and ``BaseHook.get_connection`` do
  (:mod:`.secrets`); ``--worker`` (an emulator extension) reads as a task on a worker would. The
  REST API's variables and connections are the metadata database only, as in Airflow.
"""

from __future__ import annotations

import ast
import base64
import dataclasses
import functools
import json
import re
import shlex
import traceback
import uuid
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal, cast
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mwaa_control_plane.variables.names import MASKER_NAMES, MASKER_NAMES_AIRFLOW_3
from mwaa_cp_local.mwaa import secrets
from mwaa_cp_local.mwaa.airflowignore import AirflowIgnore, Syntax
from mwaa_cp_local.mwaa.s3 import ObjectVersion
from mwaa_cp_local.mwaa.scheduler import (
    CreatedRun,
    DagSchedule,
    Restriction,
    SchedulerLimitError,
    Timetable,
    create_runs,
    timetable_for,
)

DAGS_FOLDER = "/usr/local/airflow/dags"
BUNDLE_NAME = "dags-folder"
DEFAULT_POOL = "default_pool"
DEFAULT_POOL_SLOTS = 128
# [api] maximum_page_limit: Airflow caps every page at this many items, whatever ``limit`` asks.
MAXIMUM_PAGE_LIMIT = 100
DEFAULT_PAGE_LIMIT = 100

Json = Any


@dataclass(frozen=True)
class DagProcessingTimings:
    """How long MWAA and Airflow take to notice a change in the DAG folder, in seconds."""

    sync_seconds: float = 30.0
    dag_dir_list_interval: float = 300.0
    min_file_process_interval: float = 30.0
    # How long a triggered run of an unpaused DAG stays "running" before it succeeds.
    dag_run_seconds: float = 60.0


def airflow_major(version: str) -> int:
    return int(version.split(".", 1)[0])


# --------------------------------------------------------------------------------------------
# Parsing DAG files without running them
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedDag:
    dag_id: str
    relative_fileloc: str
    description: str | None = None
    tags: tuple[str, ...] = ()
    owners: tuple[str, ...] = ("airflow",)
    schedule: str | None = None
    schedule_given: bool = False
    is_paused_upon_creation: bool | None = None
    max_active_runs: int = 16
    max_active_tasks: int = 16
    # A ``timedelta`` schedule (``schedule`` then holds None).
    schedule_delta: timedelta | None = None
    # None: not set in the file, so the environment's ``scheduler.catchup_by_default`` decides.
    catchup: bool | None = None
    # Naive dates are in ``core.default_timezone``; the instance resolves them (see AirflowInstance.dates).
    start_date: datetime | None = None
    # Set in the file (the DAG or its default_args) but not a literal the parser can read.
    start_date_unresolved: bool = False
    end_date: datetime | None = None
    task_ids: tuple[str, ...] = ()

    @property
    def fileloc(self) -> str:
        return f"{DAGS_FOLDER}/{self.relative_fileloc}"


@dataclass(frozen=True)
class ParseResult:
    dags: tuple[ParsedDag, ...] = ()
    error: str | None = None


def might_contain_dag(source: str, major: int = 2) -> bool:
    """Airflow's safe mode: only files mentioning "airflow" and "dag" (or, on Airflow 3, "asset") are imported.

    The same heuristic as the validator's (``might_contain_dag_via_default_heuristic``).
    """
    lowered = source.lower()
    if "airflow" not in lowered:
        return False
    return "dag" in lowered or (major >= 3 and "asset" in lowered)


@functools.lru_cache(maxsize=4096)
def parse_dag_file(relative_path: str, source: str) -> ParseResult:
    """Find the DAGs a file defines, or the import error Airflow would record for it."""
    fileloc = f"{DAGS_FOLDER}/{relative_path}"
    try:
        tree = ast.parse(source, filename=fileloc)
    except SyntaxError as exc:
        return ParseResult(error=_syntax_error_trace(exc))
    for statement in tree.body:
        if isinstance(statement, ast.Raise):
            return ParseResult(error=_raise_trace(fileloc, statement, source))
    constants = _module_constants(tree)
    # The statements whose tasks belong to a DAG: the body of ``with DAG(...)`` and of a ``@dag`` function.
    with_bodies = {
        id(item.context_expr): statement.body
        for statement in ast.walk(tree)
        if isinstance(statement, ast.With | ast.AsyncWith)
        for item in statement.items
    }
    dags: dict[str, ParsedDag] = {}
    unscoped: list[str] = []
    for node in ast.walk(tree):
        found: ParsedDag | None = None
        if isinstance(node, ast.Call) and _callee_name(node.func) == "DAG":
            found = _dag_from_call(node, relative_path, constants)
            body = with_bodies.get(id(node))
            if found is not None and body is None:
                unscoped.append(found.dag_id)
            elif found is not None and body is not None:
                found = dataclasses.replace(found, task_ids=_task_ids(body))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found = _dag_from_decorated_function(node, relative_path, constants)
            if found is not None:
                found = dataclasses.replace(found, task_ids=_task_ids(node.body))
        if found is not None:
            dags[found.dag_id] = found
    if len(dags) == 1:
        (only,) = dags.values()
        if unscoped or not only.task_ids:
            # ``dag = DAG(...)`` with tasks passing ``dag=dag``, or ``@task`` functions defined outside the
            # ``with`` block: the file's only DAG owns every task in the file.
            dags[only.dag_id] = dataclasses.replace(only, task_ids=_task_ids(tree.body))
    return ParseResult(dags=tuple(dags.values()))


def _task_ids(statements: list[ast.stmt]) -> tuple[str, ...]:
    """Task ids found statically: ``task_id="..."`` arguments and ``@task`` functions, in file order."""
    found: dict[str, None] = {}
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    value = keyword.value
                    if keyword.arg == "task_id" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        found.setdefault(value.value, None)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    root = target.value if isinstance(target, ast.Attribute) else target
                    if isinstance(root, ast.Name) and root.id == "task":
                        explicit = next(
                            (
                                kw.value.value
                                for kw in (decorator.keywords if isinstance(decorator, ast.Call) else [])
                                if kw.arg == "task_id" and isinstance(kw.value, ast.Constant)
                            ),
                            None,
                        )
                        found.setdefault(explicit if isinstance(explicit, str) else node.name, None)
    return tuple(found)


# The frames importlib adds above a DAG file: Airflow's stack traces start with them.
_IMPORT_FRAMES = (
    '  File "<frozen importlib._bootstrap_external>", line 995, in exec_module\n'
    '  File "<frozen importlib._bootstrap_external>", line 1133, in get_code\n'
    '  File "<frozen importlib._bootstrap_external>", line 1063, in source_to_code\n'
    '  File "<frozen importlib._bootstrap>", line 488, in _call_with_frames_removed\n'
)


def _syntax_error_trace(exc: SyntaxError) -> str:
    return "Traceback (most recent call last):\n" + _IMPORT_FRAMES + "".join(traceback.format_exception_only(exc))


def _raise_trace(fileloc: str, statement: ast.Raise, source: str) -> str:
    line = source.splitlines()[statement.lineno - 1].strip()
    name, message = "RuntimeError", "No active exception to reraise"
    if statement.exc is not None:
        target = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        name = ast.unparse(target)
        message = ""
        if isinstance(statement.exc, ast.Call) and statement.exc.args:
            first = statement.exc.args[0]
            if isinstance(first, ast.Constant) and len(statement.exc.args) == 1:
                message = str(first.value)
            else:
                message = ", ".join(ast.unparse(arg) for arg in statement.exc.args)
    last = f"{name}: {message}" if message else name
    return (
        "Traceback (most recent call last):\n"
        '  File "<frozen importlib._bootstrap>", line 488, in _call_with_frames_removed\n'
        f'  File "{fileloc}", line {statement.lineno}, in <module>\n'
        f"    {line}\n"
        f"{last}\n"
    )


def _callee_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


_UNRESOLVED = object()


def _module_constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level ``name = <literal>`` assignments, so ``default_args=default_args`` resolves."""
    constants: dict[str, Any] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name):
            resolved = _static_value(value, constants)
            if resolved is not _UNRESOLVED:
                constants[target.id] = resolved
    return constants


def _static_value(node: ast.expr, constants: Mapping[str, Any]) -> Any:
    """The value of a literal expression, a known module constant, or _UNRESOLVED.

    Dicts resolve partially (``default_args`` often mixes literals with ``datetime(...)``).
    """
    if isinstance(node, ast.Name):
        return constants.get(node.id, _UNRESOLVED)
    if isinstance(node, ast.Dict):
        result: dict[Any, Any] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                continue
            key = _static_value(key_node, constants)
            if key is not _UNRESOLVED:
                # An unresolved value stays as _UNRESOLVED: "set, but not readable" differs from "not set".
                result[key] = _static_value(value_node, constants)
        return result
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_static_value(item, constants) for item in node.elts]
        return _UNRESOLVED if any(item is _UNRESOLVED for item in items) else items
    if isinstance(node, ast.Call):
        return _constructed_value(node, constants)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNRESOLVED


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        parent = _dotted(node.value)
        return f"{parent}.{node.attr}" if parent else None
    return None


_DATETIMES = {"datetime", "datetime.datetime", "pendulum.datetime", "pendulum.DateTime"}
_TIMEDELTAS = {"timedelta", "datetime.timedelta", "pendulum.duration", "duration"}
_UTC_NAMES = {"timezone.utc", "datetime.timezone.utc", "pendulum.UTC", "UTC", "datetime.UTC", "pendulum.timezone.utc"}
_ZONE_FACTORIES = {
    "ZoneInfo",
    "zoneinfo.ZoneInfo",
    "pendulum.timezone",
    "timezone",
    "pendulum.tz.timezone",
    "tz.timezone",
}


def _constructed_value(call: ast.Call, constants: Mapping[str, Any]) -> Any:
    """``datetime(...)``, ``pendulum.datetime(...)`` and ``timedelta(...)`` with literal arguments; else _UNRESOLVED.

    Naive datetimes stay naive: Airflow reads them in ``core.default_timezone``, which the file does not know.
    """
    name = _dotted(call.func)
    args = [_static_value(arg, constants) for arg in call.args]
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg is not None}
    if any(arg is _UNRESOLVED or isinstance(arg, bool) or not isinstance(arg, int | float) for arg in args):
        return _UNRESOLVED
    try:
        if name in _TIMEDELTAS:
            amounts = {key: _static_value(value, constants) for key, value in keywords.items()}
            if any(not isinstance(v, int | float) or isinstance(v, bool) for v in amounts.values()):
                return _UNRESOLVED
            return timedelta(*args, **amounts)
        if name in _DATETIMES:
            zone_node = keywords.pop("tz", None) or keywords.pop("tzinfo", None)
            fields = {key: _static_value(value, constants) for key, value in keywords.items()}
            if any(not isinstance(v, int) or isinstance(v, bool) for v in fields.values()):
                return _UNRESOLVED
            if any(not isinstance(arg, int) for arg in args):
                return _UNRESOLVED
            value = datetime(*args, **fields)
            zone = _zone_value(zone_node, constants) if zone_node is not None else None
            if zone is _UNRESOLVED:
                return _UNRESOLVED
            if zone is None and name.startswith("pendulum"):
                zone = UTC  # pendulum.datetime defaults to UTC
            return value.replace(tzinfo=zone) if zone is not None else value
    except (TypeError, ValueError, OverflowError):
        return _UNRESOLVED
    return _UNRESOLVED


def _zone_value(node: ast.expr, constants: Mapping[str, Any]) -> Any:
    """A time zone written as a string, ``timezone.utc``, ``ZoneInfo("...")`` or ``pendulum.timezone("...")``."""
    if _dotted(node) in _UTC_NAMES and not (isinstance(node, ast.Name) and node.id in constants):
        return UTC
    if isinstance(node, ast.Call) and _dotted(node.func) in _ZONE_FACTORIES and len(node.args) == 1:
        node = node.args[0]
    key = _static_value(node, constants)
    if not isinstance(key, str):
        return _UNRESOLVED
    if key.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return _UNRESOLVED


def _keywords(call: ast.Call | None, constants: Mapping[str, Any]) -> dict[str, Any]:
    if call is None:
        return {}
    return {kw.arg: _static_value(kw.value, constants) for kw in call.keywords if kw.arg is not None}


def _dag_from_call(call: ast.Call, relative_path: str, constants: Mapping[str, Any]) -> ParsedDag | None:
    keywords = _keywords(call, constants)
    dag_id = keywords.get("dag_id", _UNRESOLVED)
    if dag_id is _UNRESOLVED and call.args:
        dag_id = _static_value(call.args[0], constants)
    if not isinstance(dag_id, str) or not dag_id:
        # A dag_id computed at runtime (f-string, loop variable) cannot be known without running the file.
        return None
    return _parsed_dag(dag_id, relative_path, keywords)


def _dag_from_decorated_function(
    function: ast.FunctionDef | ast.AsyncFunctionDef, relative_path: str, constants: Mapping[str, Any]
) -> ParsedDag | None:
    for decorator in function.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        if _callee_name(call.func if call is not None else decorator) != "dag":
            continue
        keywords = _keywords(call, constants)
        dag_id = keywords.get("dag_id", function.name)
        if not isinstance(dag_id, str) or not dag_id:
            return None
        return _parsed_dag(dag_id, relative_path, keywords)
    return None


def _parsed_dag(dag_id: str, relative_path: str, keywords: Mapping[str, Any]) -> ParsedDag:
    def text(name: str) -> str | None:
        value = keywords.get(name)
        return value if isinstance(value, str) else None

    def number(name: str, default: int) -> int:
        value = keywords.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    tags = keywords.get("tags")
    default_args = keywords.get("default_args")
    defaults: Mapping[str, Any] = default_args if isinstance(default_args, dict) else {}
    owner = defaults.get("owner")
    schedule_given = "schedule" in keywords or "schedule_interval" in keywords
    schedule = keywords.get("schedule", keywords.get("schedule_interval"))
    paused = keywords.get("is_paused_upon_creation")
    catchup = keywords.get("catchup")

    def date(name: str) -> tuple[datetime | None, bool]:
        """(the DAG's date, whether it is set but unreadable); the DAG's own argument wins over default_args."""
        value = keywords[name] if name in keywords else defaults.get(name)
        if isinstance(value, datetime):
            return value, False
        return None, value is not None

    start_date, start_unresolved = date("start_date")
    end_date, _ = date("end_date")
    return ParsedDag(
        dag_id=dag_id,
        relative_fileloc=relative_path,
        description=text("description"),
        tags=tuple(sorted(str(tag) for tag in tags)) if isinstance(tags, list) else (),
        owners=tuple(owner.split(",")) if isinstance(owner, str) and owner else ("airflow",),
        schedule=schedule if isinstance(schedule, str) else None,
        schedule_given=schedule_given,
        is_paused_upon_creation=paused if isinstance(paused, bool) else None,
        max_active_runs=number("max_active_runs", 16),
        max_active_tasks=number("max_active_tasks", 16),
        schedule_delta=schedule if isinstance(schedule, timedelta) else None,
        catchup=catchup if isinstance(catchup, bool) else None,
        start_date=start_date,
        start_date_unresolved=start_unresolved,
        end_date=end_date,
    )


# --------------------------------------------------------------------------------------------
# The DAG folder as Airflow sees it over time
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    """A file landed in (content) or left (None) the DAG folder in S3 at ``at``, by the clock."""

    at: datetime
    content: bytes | None


@dataclass(frozen=True)
class VisibleFile:
    """A file the DAG processor knows at some time, with the content it last parsed."""

    relative_path: str
    content: bytes
    first_parsed_at: datetime
    last_parsed_at: datetime
    # Earlier contents the processor parsed while the file stayed listed, newest first: the
    # database keeps the DAGs of the last one that imported when the current one breaks.
    earlier_contents: tuple[bytes, ...] = ()


class DagFolder:
    """Everything the environment has seen of one S3 DAG folder, and what Airflow shows of it."""

    def __init__(self, bucket_arn: str, prefix: str) -> None:
        self.bucket_arn = bucket_arn
        self.prefix = prefix
        self._changes: dict[str, list[FileChange]] = {}
        # Identity of every S3 version already merged, with its content (None: deleted).
        self._seen: dict[str, bytes | None] = {}

    @property
    def known_versions(self) -> Container[str]:
        return self._seen.keys()

    def observe(self, versions: Mapping[str, list[ObjectVersion]], now: datetime) -> None:
        """Merge what S3 holds now into the history.

        Versioned buckets keep every version and delete marker with its clock stamp, so
        the history is exact. For what S3 no longer shows (an unversioned overwrite or
        delete, a version removed for good) the change is dated ``now``, the first moment
        it could be noticed.
        """
        present: set[str] = set()
        for key, key_versions in versions.items():
            relative = key[len(self.prefix) :]
            if not relative or relative.endswith("/"):
                continue
            present.add(relative)
            changes = self._changes.setdefault(relative, [])
            for version in key_versions:
                if version.identity in self._seen:
                    continue
                content = None if version.is_delete_marker else version.content
                self._seen[version.identity] = content
                stamp = min(version.stamp, now) if version.stamp is not None else now
                changes.append(FileChange(stamp, content))
            changes.sort(key=lambda change: change.at)
            current = self._seen[key_versions[-1].identity] if key_versions else None
            if changes and changes[-1].content != current:
                changes.append(FileChange(now, current))
        for relative, changes in self._changes.items():
            if relative not in present and changes and changes[-1].content is not None:
                changes.append(FileChange(now, None))

    def local_files(self, at: datetime, started_at: datetime, timings: DagProcessingTimings) -> list[VisibleFile]:
        """The files in /usr/local/airflow/dags at ``at`` (what a CLI command parsing the folder reads)."""
        sync = timedelta(seconds=timings.sync_seconds)
        files = []
        for relative, changes in sorted(self._changes.items()):
            present = [change for change in changes if max(change.at + sync, started_at) <= at]
            if present and present[-1].content is not None:
                files.append(VisibleFile(relative, present[-1].content, at, at))
        return files

    def visible_files(self, at: datetime, started_at: datetime, timings: DagProcessingTimings) -> list[VisibleFile]:
        """The files the DAG processor lists at ``at`` and the content it parsed of each."""
        visible = []
        for relative, changes in sorted(self._changes.items()):
            file = _visible_file(relative, changes, at, started_at, timings)
            if file is not None:
                visible.append(file)
        return visible


def _visible_file(
    relative: str, changes: list[FileChange], at: datetime, started_at: datetime, timings: DagProcessingTimings
) -> VisibleFile | None:
    sync = timedelta(seconds=timings.sync_seconds)
    listing = timedelta(seconds=timings.dag_dir_list_interval)
    reparse = timedelta(seconds=timings.min_file_process_interval)

    # Files already in S3 when Airflow starts are synced and listed at start-up.
    def local(change: FileChange) -> datetime:
        return max(change.at + sync, started_at)

    def listed(local_at: datetime) -> datetime:
        return started_at if local_at <= started_at else local_at + listing

    def reparsed(local_at: datetime) -> datetime:
        return started_at if local_at <= started_at else local_at + reparse

    local_times = [local(change) for change in changes]
    latest = None
    for index, local_at in enumerate(local_times):
        if listed(local_at) <= at:
            latest = index
    if latest is None or changes[latest].content is None:
        return None
    run_start = latest
    while run_start > 0 and changes[run_start - 1].content is not None:
        run_start -= 1
    listed_at = listed(local_times[run_start])
    parsed = [
        index
        for index in range(run_start, len(changes))
        if changes[index].content is not None
        and (local_times[index] <= listed_at or reparsed(local_times[index]) <= at)
    ]
    chosen = parsed[-1] if parsed else run_start
    content = changes[chosen].content
    assert content is not None
    first_parsed = max(listed_at, reparsed(local_times[chosen]))
    loops = int((at - listed_at) / reparse) if reparse.total_seconds() > 0 else 0
    last_parsed = max(first_parsed, listed_at + loops * reparse)
    earlier = tuple(
        earlier_content
        for index in reversed(parsed[:-1])
        if (earlier_content := changes[index].content) is not None and earlier_content != content
    )
    return VisibleFile(relative, content, first_parsed, last_parsed, earlier)


# --------------------------------------------------------------------------------------------
# Metadata: the Airflow database of one environment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DagState:
    dag: ParsedDag
    is_paused: bool
    is_active: bool
    last_parsed_time: datetime | None
    has_import_errors: bool


@dataclass(frozen=True)
class ImportErrorRecord:
    import_error_id: int
    relative_path: str
    stack_trace: str
    timestamp: datetime

    @property
    def filename(self) -> str:
        return f"{DAGS_FOLDER}/{self.relative_path}"


@dataclass
class DagRun:
    dag_id: str
    run_id: str
    logical_date: datetime | None
    queued_at: datetime
    run_after: datetime
    conf: dict[str, Any]
    note: str | None
    triggered_by: str
    started_at: datetime | None = None
    run_type: str = "manual"
    # Scheduled runs only: manual runs show their logical date as both ends, as Airflow does.
    data_interval: tuple[datetime, datetime] | None = None


@dataclass(frozen=True)
class RunHold:
    """A test hook: runs of one DAG last ``seconds`` once started, their task instances in ``task_state``."""

    seconds: float
    task_state: str = "running"


@dataclass
class Connection:
    conn_type: str
    description: str | None = None
    host: str | None = None
    login: str | None = None
    schema: str | None = None
    port: int | None = None
    password: str | None = None
    extra: str | None = None


@dataclass
class Variable:
    value: str
    description: str | None = None


@dataclass
class Pool:
    slots: int
    description: str | None = None
    include_deferred: bool = False


@dataclass(frozen=True)
class SimulatedTask:
    """A task instance of the workload simulator (:mod:`mwaa_cp_local.mwaa.workload`)."""

    dag_id: str
    run_id: str
    task_id: str
    state: str
    pool: str = DEFAULT_POOL


@dataclass(frozen=True)
class SimulatedRun:
    dag_id: str
    run_id: str
    state: str


@dataclass(frozen=True)
class SimulatedLoad:
    """What the workload simulator left running when its window ended: the REST API shows it with the real runs."""

    tasks: tuple[SimulatedTask, ...] = ()
    runs: tuple[SimulatedRun, ...] = ()


@dataclass(frozen=True)
class DagBag:
    dags: dict[str, ParsedDag]
    import_errors: dict[str, tuple[str, datetime]]
    last_parsed: dict[str, datetime]
    first_parsed: dict[str, datetime] = field(default_factory=dict)


class AirflowInstance:
    """The Airflow of one environment: its DAG folder and its metadata database."""

    def __init__(self, *, airflow_version: str, started_at: datetime) -> None:
        self.airflow_version = airflow_version
        self.started_at = started_at
        self.configuration: dict[str, str] = {}
        self.folder: DagFolder | None = None
        self.variables: dict[str, Variable] = {}
        self.pools: dict[str, Pool] = {DEFAULT_POOL: Pool(DEFAULT_POOL_SLOTS, "Default pool", False)}
        self.runs: list[DagRun] = []
        self.connections: dict[str, Connection] = {}
        # Every SSM parameter name the secrets backend read, oldest first (mwaa_cp_local.mwaa.secrets).
        self.secrets_lookups: list[str] = []
        # Test hooks (see mwaa_cp_local.mwaa.models.hold_runs), set by the environment before each request.
        self.run_holds: dict[str, RunHold] = {}
        # Set by the workload simulator (mwaa_cp_local.mwaa.workload.simulate_workload).
        self.simulated = SimulatedLoad()
        self._schedules: dict[str, DagSchedule] = {}
        self._paused: dict[str, bool] = {}
        self._unpaused_since: dict[str, datetime] = {}
        self._known_dags: dict[str, ParsedDag] = {}
        self._import_error_ids: dict[tuple[str, str], int] = {}

    @property
    def major(self) -> int:
        return airflow_major(self.airflow_version)

    def use_folder(self, bucket_arn: str, prefix: str, now: datetime) -> DagFolder:
        """The DAG folder for this source; a new source is synced from scratch as on a restart."""
        if self.folder is None or (self.folder.bucket_arn, self.folder.prefix) != (bucket_arn, prefix):
            if self.folder is not None:
                self.started_at = max(self.started_at, now)
            self.folder = DagFolder(bucket_arn, prefix)
        return self.folder

    def _ignore_syntax(self) -> Syntax:
        configured = self.configuration.get("core.dag_ignore_file_syntax")
        if configured in ("regexp", "glob"):
            return cast(Syntax, configured)
        return "regexp" if self.major < 3 else "glob"

    def dag_bag(self, now: datetime, timings: DagProcessingTimings) -> DagBag:
        """What the DAG processor has parsed by ``now`` (the metadata database's view)."""
        files = self.folder.visible_files(now, self.started_at, timings) if self.folder else []
        bag = self._parse(files, keep_last_good=True)
        self._known_dags.update(bag.dags)
        return bag

    def local_dag_bag(self, now: datetime, timings: DagProcessingTimings) -> DagBag:
        """A fresh parse of the synced folder, as Airflow 2's ``dags list`` does (no listing delay)."""
        files = self.folder.local_files(now, self.started_at, timings) if self.folder else []
        return self._parse(files)

    def _parse(self, files: list[VisibleFile], *, keep_last_good: bool = False) -> DagBag:
        ignore = AirflowIgnore.of_folder(((file.relative_path, file.content) for file in files), self._ignore_syntax())
        dags: dict[str, ParsedDag] = {}
        errors: dict[str, tuple[str, datetime]] = {}
        last_parsed: dict[str, datetime] = {}
        first_parsed: dict[str, datetime] = {}
        for file in files:
            path = file.relative_path
            if not path.endswith(".py") or "__pycache__" in path.split("/") or ignore.is_ignored(path):
                continue
            source = file.content.decode("utf-8", "replace")
            if not might_contain_dag(source, self.major):
                continue
            result = parse_dag_file(path, source)
            if result.error is not None:
                errors[path] = (result.error, file.first_parsed_at)
                if keep_last_good:
                    # The database keeps the DAGs of the last version that imported, flagged with the error.
                    result = next(
                        (
                            earlier
                            for content in file.earlier_contents
                            if (earlier := parse_dag_file(path, content.decode("utf-8", "replace"))).error is None
                        ),
                        ParseResult(),
                    )
            for dag in result.dags:
                dags[dag.dag_id] = dag
                last_parsed[dag.dag_id] = file.last_parsed_at
                first_parsed[dag.dag_id] = file.first_parsed_at
        return DagBag(dags, errors, last_parsed, first_parsed)

    def dag_states(self, now: datetime, timings: DagProcessingTimings) -> dict[str, DagState]:
        """Every DAG Airflow knows, active (parsed now) or not (seen before, file gone).

        The scheduler catches up to ``now`` first, so scheduled runs due by now exist.
        """
        bag = self.dag_bag(now, timings)
        self._run_scheduler(bag, now, timings)
        states = {}
        for dag_id, dag in sorted(self._known_dags.items()):
            states[dag_id] = DagState(
                dag=bag.dags.get(dag_id, dag),
                is_paused=self.is_paused(dag),
                is_active=dag_id in bag.dags,
                last_parsed_time=bag.last_parsed.get(dag_id),
                has_import_errors=dag.relative_fileloc in bag.import_errors,
            )
        return states

    def import_errors(self, now: datetime, timings: DagProcessingTimings) -> list[ImportErrorRecord]:
        records = []
        for path, (stack_trace, timestamp) in sorted(self.dag_bag(now, timings).import_errors.items()):
            key = (path, stack_trace)
            if key not in self._import_error_ids:
                self._import_error_ids[key] = len(self._import_error_ids) + 1
            records.append(ImportErrorRecord(self._import_error_ids[key], path, stack_trace, timestamp))
        return sorted(records, key=lambda record: record.import_error_id)

    def is_paused(self, dag: ParsedDag) -> bool:
        if dag.dag_id in self._paused:
            return self._paused[dag.dag_id]
        if dag.is_paused_upon_creation is not None:
            return dag.is_paused_upon_creation
        # MWAA keeps Airflow's default: new DAGs start paused.
        return self.configuration.get("core.dags_are_paused_at_creation", "True").lower() != "false"

    def set_paused(self, dag_id: str, paused: bool, now: datetime, timings: DagProcessingTimings) -> None:
        # The scheduler first does what it would have done under the old state, up to now.
        self._run_scheduler(self.dag_bag(now, timings), now, timings)
        self._paused[dag_id] = paused
        if paused:
            self._unpaused_since.pop(dag_id, None)
        else:
            self._unpaused_since.setdefault(dag_id, now)

    def run_seconds(self, dag_id: str, timings: DagProcessingTimings) -> float:
        hold = self.run_holds.get(dag_id)
        return hold.seconds if hold is not None else timings.dag_run_seconds

    def run_state(self, run: DagRun, now: datetime, timings: DagProcessingTimings) -> tuple[str, datetime | None]:
        """(state, end_date) of a run: queued while its DAG is paused, then running, then success."""
        if run.started_at is None:
            dag = self._known_dags.get(run.dag_id)
            if dag is None or self.is_paused(dag):
                return "queued", None
            since = self._unpaused_since.get(run.dag_id, run.queued_at)
            run.started_at = max(run.queued_at, since)
        if now < run.started_at:
            return "queued", None
        finished = run.started_at + timedelta(seconds=self.run_seconds(run.dag_id, timings))
        if now < finished:
            return "running", None
        return "success", finished

    def sensitive_names(self) -> frozenset[str]:
        """The words that mark a secret, plus ``core.sensitive_var_conn_names`` (MWAA sets ``proxy,proxies``)."""
        configured = self.configuration.get("core.sensitive_var_conn_names", "proxy,proxies")
        extra = {name.strip().lower() for name in configured.split(",") if name.strip()}
        base = SENSITIVE_FIELDS | SENSITIVE_FIELDS_3 if self.major >= 3 else SENSITIVE_FIELDS
        return base | extra

    def task_state(self, run: DagRun, now: datetime, timings: DagProcessingTimings) -> str | None:
        """The state of the task instances of ``run``.

        A queued run's task instances have no state yet (Airflow creates them without one); a
        running run's are running, or what :class:`RunHold` says; a finished run's succeeded.
        """
        state, _ = self.run_state(run, now, timings)
        if state == "queued":
            return None
        if state == "running":
            hold = self.run_holds.get(run.dag_id)
            return hold.task_state if hold is not None else "running"
        return state

    # -- the scheduler ------------------------------------------------------------------------

    def _option(self, section_key: str) -> bool | None:
        value = self.configuration.get(section_key)
        if value is None:
            return None
        return value.strip().lower() in ("true", "t", "1", "yes", "y")

    def catchup(self, dag: ParsedDag) -> bool:
        """The DAG's ``catchup``, else ``scheduler.catchup_by_default`` (True on Airflow 2, False on 3)."""
        if dag.catchup is not None:
            return dag.catchup
        configured = self._option("scheduler.catchup_by_default")
        return configured if configured is not None else self.major < 3

    def _default_timezone(self) -> tzinfo:
        name = self.configuration.get("core.default_timezone", "utc")
        if name.lower() in ("utc", "system"):
            return UTC
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC

    def timezone(self, dag: ParsedDag) -> tzinfo:
        """The DAG's time zone: its start date's, else ``core.default_timezone`` (UTC on MWAA)."""
        if dag.start_date is not None and dag.start_date.tzinfo is not None:
            return dag.start_date.tzinfo
        return self._default_timezone()

    def dates(self, dag: ParsedDag) -> tuple[datetime | None, datetime | None]:
        """(start_date, end_date) as aware datetimes; naive ones are in the default time zone."""

        def aware(value: datetime | None) -> datetime | None:
            if value is None:
                return None
            return value if value.tzinfo is not None else value.replace(tzinfo=self._default_timezone())

        return aware(dag.start_date), aware(dag.end_date)

    def timetable(self, dag: ParsedDag) -> Timetable | None:
        """The timetable Airflow builds for the DAG; None when it is never scheduled (or not emulated)."""
        if dag.start_date_unresolved:
            # A start date only running the file would tell (days_ago(), a function call): no honest schedule.
            return None
        if self.major < 3:
            delta = dag.schedule_delta
            if delta is None and not dag.schedule_given:
                delta = timedelta(days=1)  # Airflow 2's default schedule
            return timetable_for(dag.schedule, delta, self.timezone(dag), data_intervals=True)
        option = (
            "scheduler.create_delta_data_intervals" if dag.schedule_delta else "scheduler.create_cron_data_intervals"
        )
        return timetable_for(
            dag.schedule, dag.schedule_delta, self.timezone(dag), data_intervals=bool(self._option(option))
        )

    def _run_scheduler(self, bag: DagBag, now: datetime, timings: DagProcessingTimings) -> None:
        """Create the scheduled runs each unpaused DAG is due by ``now`` (lazily: nothing runs in between)."""
        created: list[DagRun] = []
        for dag_id in self._known_dags:
            dag = bag.dags.get(dag_id)
            schedule = self._schedules.get(dag_id)
            if dag is None:
                # A DAG whose file is gone is not scheduled; it starts again from when it comes back.
                if schedule is not None:
                    schedule.cursor = max(schedule.cursor, now)
                continue
            if schedule is None:
                schedule = self._schedules[dag_id] = DagSchedule(cursor=min(bag.first_parsed.get(dag_id, now), now))
            timetable = self.timetable(dag)
            if self.is_paused(dag) or timetable is None or now < schedule.cursor:
                schedule.cursor = max(schedule.cursor, now)
                continue
            start, end = self.dates(dag)
            for run in create_runs(
                schedule,
                timetable,
                Restriction(start, end, self.catchup(dag)),
                until=now,
                max_active_runs=dag.max_active_runs,
                run_seconds=self.run_seconds(dag_id, timings),
            ):
                created.append(self._scheduled_run(dag_id, run))
        if created:
            self.runs.extend(created)
            self.runs.sort(key=lambda run: run.queued_at)

    def _scheduled_run(self, dag_id: str, run: CreatedRun) -> DagRun:
        info = run.info
        # Airflow 3 names scheduled runs after run_after, Airflow 2 after the logical date.
        named_after = info.run_after if self.major >= 3 else info.logical_date
        return DagRun(
            dag_id=dag_id,
            run_id=f"scheduled__{named_after.isoformat()}",
            logical_date=info.logical_date,
            queued_at=run.created_at,
            run_after=info.run_after,
            conf={},
            note=None,
            triggered_by="timetable",
            started_at=run.created_at,
            run_type="scheduled",
            data_interval=(info.data_interval_start, info.data_interval_end),
        )


# --------------------------------------------------------------------------------------------
# REST API: stable v1 (Airflow 2) and v2 (Airflow 3)
# --------------------------------------------------------------------------------------------


class HttpError(Exception):
    """An Airflow REST API error; ``detail`` is a string or, for v2 validation errors, a list."""

    def __init__(self, status: int, title: str, detail: Json) -> None:
        super().__init__(f"{status} {title}")
        self.status = status
        self.title = title
        self.detail = detail


_PROBLEM_TYPES = {
    400: "BadRequest",
    401: "Unauthenticated",
    403: "PermissionDenied",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "AlreadyExists",
    500: "Unknown",
}


@dataclass(frozen=True)
class RestResponse:
    status: int
    body: Json


Handler = Callable[["RestApi", dict[str, str]], RestResponse]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    versions: frozenset[int] = field(default_factory=lambda: frozenset({2, 3}))


_ROUTES: list[_Route] = []


def _route(method: str, path: str, versions: Iterable[int] = (2, 3)) -> Callable[[Handler], Handler]:
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")

    def register(handler: Handler) -> Handler:
        _ROUTES.append(_Route(method, regex, handler, frozenset(versions)))
        return handler

    return register


def _iso(value: datetime | None, major: int) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    # FastAPI (v2) writes UTC as "Z"; connexion (v1) as "+00:00".
    return text.replace("+00:00", "Z") if major >= 3 else text


class RestApi:
    """One request to an environment's Airflow REST API."""

    def __init__(
        self,
        instance: AirflowInstance,
        *,
        now: datetime,
        timings: DagProcessingTimings,
        query: Mapping[str, Any] | None,
        body: Json,
    ) -> None:
        self.instance = instance
        self.major = instance.major
        self.now = now
        self.timings = timings
        self.query = dict(query or {})
        self.body = body

    def handle(self, method: str, path: str) -> RestResponse:
        """Route ``method path`` (relative to /api/v1 or /api/v2) and render errors the way Airflow does."""
        if "?" in path:
            path, _, raw_query = path.partition("?")
            for pair in raw_query.split("&"):
                if pair:
                    name, _, value = pair.partition("=")
                    self.query.setdefault(unquote(name), unquote(value))
        try:
            allowed = False
            for route in _ROUTES:
                if self.major not in route.versions:
                    continue
                match = route.pattern.match(path)
                if match is None:
                    continue
                if route.method != method.upper():
                    allowed = True
                    continue
                params = {name: unquote(value) for name, value in match.groupdict().items()}
                return route.handler(self, params)
            if allowed:
                raise HttpError(405, "Method Not Allowed", "The method is not allowed for the requested URL.")
            if self.major >= 3:
                raise HttpError(404, "Not Found", "Not Found")
            raise HttpError(
                404,
                "Not Found",
                "The requested URL was not found on the server. If you entered the URL manually please check "
                "your spelling and try again.",
            )
        except HttpError as error:
            return RestResponse(error.status, self._problem(error))
        except SchedulerLimitError as error:
            # A refusal the test sees, never a wrong count.
            return RestResponse(500, self._problem(HttpError(500, "Internal Server Error", str(error))))

    def _problem(self, error: HttpError) -> Json:
        if self.major >= 3:
            return {"detail": error.detail}
        docs = (
            f"https://airflow.apache.org/docs/apache-airflow/{self.instance.airflow_version}/stable-rest-api-ref.html"
        )
        kind = _PROBLEM_TYPES.get(error.status)
        return {
            "detail": error.detail,
            "status": error.status,
            "title": error.title,
            "type": f"{docs}#section/Errors/{kind}" if kind else "about:blank",
        }

    # -- request helpers ------------------------------------------------------------------

    def _bad_request(self, message: str, *, location: tuple[str, ...], kind: str, value: Any = None) -> HttpError:
        if self.major >= 3:
            return HttpError(
                422, "Unprocessable Entity", [{"type": kind, "loc": list(location), "msg": message, "input": value}]
            )
        return HttpError(400, "Bad Request", message)

    def _query_value(self, name: str) -> Any:
        value = self.query.get(name)
        if isinstance(value, list):
            return value[0] if value else None
        return value

    def _query_list(self, name: str) -> list[str]:
        value = self.query.get(name)
        if value is None:
            return []
        if isinstance(value, list):
            return [str(item) for item in value]
        return [str(value)]

    def _query_int(self, name: str, default: int) -> int:
        value = self._query_value(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise self._bad_request(
                f"'{value}' is not of type 'integer'"
                if self.major < 3
                else "Input should be a valid integer, unable to parse string as an integer",
                location=("query", name),
                kind="int_parsing",
                value=value,
            ) from None
        if number < 0:
            raise self._bad_request(
                f"{number} is less than the minimum of 0"
                if self.major < 3
                else "Input should be greater than or equal to 0",
                location=("query", name),
                kind="greater_than_equal",
                value=value,
            )
        return number

    def _query_bool(self, name: str) -> bool | None:
        value = self._query_value(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        lowered = str(value).lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise self._bad_request(
            f"'{value}' is not of type 'boolean'"
            if self.major < 3
            else "Input should be a valid boolean, unable to interpret input",
            location=("query", name),
            kind="bool_parsing",
            value=value,
        )

    def _page(self, items: list[Any]) -> list[Any]:
        limit = min(self._query_int("limit", DEFAULT_PAGE_LIMIT), MAXIMUM_PAGE_LIMIT)
        offset = self._query_int("offset", 0)
        return items[offset : offset + limit]

    def _body_object(self) -> dict[str, Any]:
        if self.body is None:
            body: Json = {}
        else:
            body = self.body
        if not isinstance(body, dict):
            raise self._bad_request(
                f"{json.dumps(body)} is not of type 'object'"
                if self.major < 3
                else "Input should be a valid dictionary",
                location=("body",),
                kind="dict_type",
                value=body,
            )
        return body

    def _require(self, body: Mapping[str, Any], name: str) -> Any:
        if name not in body:
            raise self._bad_request(
                f"'{name}' is a required property" if self.major < 3 else "Field required",
                location=("body", name),
                kind="missing",
                value=dict(body),
            )
        return body[name]

    def _forbid_extra(self, body: Mapping[str, Any], allowed: Iterable[str]) -> None:
        # v2 request bodies are StrictBaseModel: unknown keys are a 422.
        if self.major < 3:
            return
        extra = sorted(set(body) - set(allowed))
        if extra:
            raise HttpError(
                422,
                "Unprocessable Entity",
                [
                    {
                        "type": "extra_forbidden",
                        "loc": ["body", name],
                        "msg": "Extra inputs are not permitted",
                        "input": body[name],
                    }
                    for name in extra
                ],
            )

    # -- DAGs -----------------------------------------------------------------------------

    def _dag_states(self) -> dict[str, DagState]:
        return self.instance.dag_states(self.now, self.timings)

    def _dag_or_404(self, dag_id: str) -> DagState:
        state = self._dag_states().get(dag_id)
        if state is None:
            if self.major >= 3:
                raise HttpError(404, "Not Found", f"Dag with id {dag_id} was not found")
            raise HttpError(404, "DAG not found", f"DAG with dag_id: '{dag_id}' not found")
        return state

    def dag_json(self, state: DagState) -> dict[str, Any]:
        dag = state.dag
        if self.major >= 3:
            return {
                "dag_id": dag.dag_id,
                "dag_display_name": dag.dag_id,
                "is_paused": state.is_paused,
                "is_stale": not state.is_active,
                "last_parsed_time": _iso(state.last_parsed_time, self.major),
                "last_expired": None,
                "bundle_name": BUNDLE_NAME,
                "bundle_version": None,
                "relative_fileloc": dag.relative_fileloc,
                "fileloc": dag.fileloc,
                "description": dag.description,
                "timetable_summary": dag.schedule,
                "timetable_description": _timetable_description(dag.schedule),
                "tags": [{"name": tag, "dag_id": dag.dag_id} for tag in dag.tags],
                "max_active_tasks": dag.max_active_tasks,
                "max_active_runs": dag.max_active_runs,
                "max_consecutive_failed_dag_runs": 0,
                "has_task_concurrency_limits": False,
                "has_import_errors": state.has_import_errors,
                "next_dagrun_logical_date": None,
                "next_dagrun_data_interval_start": None,
                "next_dagrun_data_interval_end": None,
                "next_dagrun_run_after": None,
                "owners": list(dag.owners),
                "file_token": _file_token(dag.relative_fileloc),
            }
        if dag.schedule is not None:
            schedule: Json = {"__type": "CronExpression", "value": dag.schedule}
        elif dag.schedule_delta is not None:
            delta = dag.schedule_delta
            schedule = {
                "__type": "TimeDelta",
                "days": delta.days,
                "seconds": delta.seconds,
                "microseconds": delta.microseconds,
            }
        elif dag.schedule_given:
            schedule = None
        else:
            # Airflow 2's default schedule is one day.
            schedule = {"__type": "TimeDelta", "days": 1, "seconds": 0, "microseconds": 0}
        return {
            "dag_id": dag.dag_id,
            "dag_display_name": dag.dag_id,
            "root_dag_id": None,
            "is_paused": state.is_paused,
            "is_active": state.is_active,
            "is_subdag": False,
            "last_parsed_time": _iso(state.last_parsed_time, self.major),
            "last_pickled": None,
            "last_expired": None,
            "scheduler_lock": None,
            "pickle_id": None,
            "default_view": "grid",
            "fileloc": dag.fileloc,
            "file_token": _file_token(dag.relative_fileloc),
            "owners": list(dag.owners),
            "description": dag.description,
            "schedule_interval": schedule,
            "timetable_description": _timetable_description(dag.schedule),
            "tags": [{"name": tag} for tag in dag.tags],
            "max_active_tasks": dag.max_active_tasks,
            "max_active_runs": dag.max_active_runs,
            "has_task_concurrency_limits": False,
            "has_import_errors": state.has_import_errors,
            "next_dagrun": None,
            "next_dagrun_data_interval_start": None,
            "next_dagrun_data_interval_end": None,
            "next_dagrun_create_after": None,
        }

    @_route("GET", "/dags")
    def list_dags(self, _: dict[str, str]) -> RestResponse:
        states = list(self._dag_states().values())
        if self.major >= 3:
            exclude_stale = self._query_bool("exclude_stale")
            if exclude_stale is None or exclude_stale:
                states = [state for state in states if state.is_active]
        else:
            only_active = self._query_bool("only_active")
            if only_active is None or only_active:
                states = [state for state in states if state.is_active]
        paused = self._query_bool("paused")
        if paused is not None:
            states = [state for state in states if state.is_paused == paused]
        pattern = self._query_value("dag_id_pattern")
        if pattern:
            states = [state for state in states if str(pattern).lower() in state.dag.dag_id.lower()]
        tags = self._query_list("tags")
        if tags:
            states = [state for state in states if set(tags) & set(state.dag.tags)]
        order_by = str(self._query_value("order_by") or "dag_id")
        states.sort(key=lambda state: state.dag.dag_id, reverse=order_by.startswith("-"))
        return RestResponse(
            200,
            {
                "dags": [self.dag_json(state) for state in self._page(states)],
                "total_entries": len(states),
            },
        )

    @_route("GET", "/dags/{dag_id}")
    def get_dag(self, params: dict[str, str]) -> RestResponse:
        return RestResponse(200, self.dag_json(self._dag_or_404(params["dag_id"])))

    @_route("GET", "/dags/{dag_id}/details")
    def get_dag_details(self, params: dict[str, str]) -> RestResponse:
        state = self._dag_or_404(params["dag_id"])
        dag = state.dag
        start_date, end_date = self.instance.dates(dag)
        zone = self.instance.timezone(dag)
        details: dict[str, Any] = {
            **self.dag_json(state),
            "catchup": self.instance.catchup(dag),
            "start_date": _iso(start_date, self.major),
            "end_date": _iso(end_date, self.major),
            "is_paused_upon_creation": dag.is_paused_upon_creation,
            "timezone": getattr(zone, "key", None) or str(zone),
            "dag_run_timeout": None,
            "doc_md": None,
            "params": {},
            "render_template_as_native_obj": False,
            "last_parsed": _iso(state.last_parsed_time, self.major),
            "concurrency": dag.max_active_tasks,
        }
        if self.major >= 3:
            details.update(
                {
                    "asset_expression": None,
                    "template_search_path": None,
                    "owner_links": {},
                    "latest_dag_version": None,
                }
            )
        else:
            details.update(
                {
                    "orientation": "LR",
                    "dataset_expression": None,
                    "template_search_path": None,
                }
            )
        return RestResponse(200, details)

    @_route("PATCH", "/dags/{dag_id}")
    def patch_dag(self, params: dict[str, str]) -> RestResponse:
        state = self._dag_or_404(params["dag_id"])
        body = self._body_object()
        self._forbid_extra(body, {"is_paused"})
        paused = self._require(body, "is_paused")
        if not isinstance(paused, bool):
            raise self._bad_request(
                f"{json.dumps(paused)} is not of type 'boolean'"
                if self.major < 3
                else "Input should be a valid boolean",
                location=("body", "is_paused"),
                kind="bool_type",
                value=paused,
            )
        self.instance.set_paused(state.dag.dag_id, paused, self.now, self.timings)
        return RestResponse(200, self.dag_json(self._dag_or_404(params["dag_id"])))

    # -- DAG runs -------------------------------------------------------------------------

    def run_json(self, run: DagRun) -> dict[str, Any]:
        state, end_date = self.instance.run_state(run, self.now, self.timings)
        start_date = run.started_at if state != "queued" else None
        interval_start, interval_end = run.data_interval or (run.logical_date, run.logical_date)
        common = {
            "dag_run_id": run.run_id,
            "dag_id": run.dag_id,
            "logical_date": _iso(run.logical_date, self.major),
            "start_date": _iso(start_date, self.major),
            "end_date": _iso(end_date, self.major),
            "data_interval_start": _iso(interval_start, self.major),
            "data_interval_end": _iso(interval_end, self.major),
            "last_scheduling_decision": _iso(start_date, self.major),
            "run_type": run.run_type,
            "state": state,
            "conf": run.conf,
            "note": run.note,
        }
        if self.major >= 3:
            duration = (end_date - start_date).total_seconds() if end_date and start_date else None
            return {
                **common,
                "queued_at": _iso(run.queued_at, self.major),
                "duration": duration,
                "run_after": _iso(run.run_after, self.major),
                "triggered_by": run.triggered_by,
                "triggering_user_name": "admin",
                "dag_versions": [],
                "bundle_version": None,
                "dag_display_name": run.dag_id,
            }
        return {
            **common,
            "execution_date": _iso(run.logical_date, self.major),
            "external_trigger": run.run_type == "manual",
        }

    @_route("POST", "/dags/{dag_id}/dagRuns")
    def trigger_dag_run(self, params: dict[str, str]) -> RestResponse:
        dag_id = params["dag_id"]
        body = self._body_object()
        if self.major >= 3:
            self._forbid_extra(
                body,
                {"dag_run_id", "data_interval_start", "data_interval_end", "logical_date", "run_after", "conf", "note"},
            )
            self._require(body, "logical_date")
        state = self._dag_states().get(dag_id)
        if state is None or not state.is_active:
            if self.major >= 3:
                raise HttpError(404, "Not Found", f"The Dag with ID: `{dag_id}` was not found")
            raise HttpError(404, "DAG not found", f"DAG with dag_id: '{dag_id}' not found")
        conf = body.get("conf") or {}
        if not isinstance(conf, dict):
            raise self._bad_request(
                f"{json.dumps(conf)} is not of type 'object'"
                if self.major < 3
                else "Input should be a valid dictionary",
                location=("body", "conf"),
                kind="dict_type",
                value=conf,
            )
        logical_date = self._parse_date(body.get("logical_date", body.get("execution_date")), "logical_date")
        if logical_date is None and self.major < 3:
            logical_date = self.now
        run_after = logical_date or self.now
        run_id = body.get("dag_run_id") or f"manual__{(logical_date or run_after).isoformat()}"
        if any(run.dag_id == dag_id and run.run_id == run_id for run in self.instance.runs):
            detail = f"DAGRun with DAG ID: '{dag_id}' and DAGRun ID: '{run_id}' already exists"
            raise HttpError(409, "Conflict", detail)
        run = DagRun(dag_id, str(run_id), logical_date, self.now, run_after, conf, body.get("note"), "rest_api")
        self.instance.runs.append(run)
        return RestResponse(200, self.run_json(run))

    def _parse_date(self, value: Any, name: str) -> datetime | None:
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise self._bad_request(
                f"'{value}' is not a 'date-time'" if self.major < 3 else "Input should be a valid datetime",
                location=("body", name),
                kind="datetime_from_date_parsing",
                value=value,
            ) from None
        if parsed.tzinfo is None:
            raise self._bad_request(
                f"'{value}' is not a 'date-time'" if self.major < 3 else "Input should have timezone info",
                location=("body", name),
                kind="timezone_aware",
                value=value,
            )
        return parsed

    def _runs(self, dag_id: str) -> list[DagRun]:
        """The runs of ``dag_id`` (``~``: of every DAG) once the scheduler has caught up, filtered by ``state``."""
        states = self._dag_states()
        if dag_id != "~" and dag_id not in states:
            self._dag_or_404(dag_id)
        runs = [run for run in self.instance.runs if dag_id in ("~", run.dag_id)]
        wanted = self._query_list("state")
        if wanted:
            runs = [run for run in runs if self.instance.run_state(run, self.now, self.timings)[0] in wanted]
        return runs

    @_route("GET", "/dags/{dag_id}/dagRuns")
    def list_dag_runs(self, params: dict[str, str]) -> RestResponse:
        dag_id = params["dag_id"]
        wanted = self._query_list("state")
        items = [self.run_json(run) for run in self._runs(dag_id)] + [
            self.simulated_run_json(run)
            for run in self.instance.simulated.runs
            if dag_id in ("~", run.dag_id) and (not wanted or run.state in wanted)
        ]
        return RestResponse(200, {"dag_runs": self._page(items), "total_entries": len(items)})

    def simulated_run_json(self, run: SimulatedRun) -> dict[str, Any]:
        """A run of the workload simulator, with the fields the control plane reads."""
        return {
            "dag_run_id": run.run_id,
            "dag_id": run.dag_id,
            "logical_date": None,
            "run_type": "scheduled",
            "state": run.state,
            "conf": {},
            "note": None,
        }

    def _run_or_404(self, dag_id: str, run_id: str) -> DagRun:
        self._dag_states()  # the scheduler catches up first
        for run in self.instance.runs:
            if run.dag_id == dag_id and run.run_id == run_id:
                return run
        if self.major >= 3:
            detail = f"The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
            raise HttpError(404, "Not Found", detail)
        detail = f"DAGRun with DAG ID: '{dag_id}' and DagRun ID: '{run_id}' not found"
        raise HttpError(404, "DAGRun not found", detail)

    @_route("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}")
    def get_dag_run(self, params: dict[str, str]) -> RestResponse:
        return RestResponse(200, self.run_json(self._run_or_404(params["dag_id"], params["dag_run_id"])))

    # -- task instances -------------------------------------------------------------------

    def task_instance_json(self, run: DagRun, task_id: str) -> dict[str, Any]:
        _, end_date = self.instance.run_state(run, self.now, self.timings)
        state = self.instance.task_state(run, self.now, self.timings)
        start_date = run.started_at if state in ("running", "success") else None
        end_date = end_date if state == "success" else None
        duration = (end_date - start_date).total_seconds() if end_date and start_date else None
        queued_when = run.started_at if state is not None else None
        common: dict[str, Any] = {
            "task_id": task_id,
            "task_display_name": task_id,
            "dag_id": run.dag_id,
            "dag_run_id": run.run_id,
            "map_index": -1,
            "start_date": _iso(start_date, self.major),
            "end_date": _iso(end_date, self.major),
            "duration": duration,
            "state": state,
            "try_number": 0 if state is None else 1,
            "max_tries": 0,
            "hostname": "" if state is None else "ip-10-0-1-23.ec2.internal",
            "unixname": "airflow",
            "pool": DEFAULT_POOL,
            "pool_slots": 1,
            "queue": "default",
            "priority_weight": 1,
            "operator": None,
            "queued_when": _iso(queued_when, self.major),
            "pid": None,
            "executor": None,
            "executor_config": "{}",
            "note": None,
            "rendered_map_index": None,
            "rendered_fields": {},
            "trigger": None,
            "triggerer_job": None,
        }
        if self.major >= 3:
            key = f"{run.dag_id}/{run.run_id}/{task_id}".encode()
            return {
                **common,
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, key.decode())),
                "logical_date": _iso(run.logical_date, self.major),
                "run_after": _iso(run.run_after, self.major),
                "scheduled_when": _iso(queued_when, self.major),
                "dag_version": None,
            }
        return {**common, "execution_date": _iso(run.logical_date, self.major), "sla_miss": None}

    @_route("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances")
    def list_task_instances(self, params: dict[str, str]) -> RestResponse:
        dag_id, run_id = params["dag_id"], params["dag_run_id"]
        states = self._dag_states()
        if dag_id != "~" and dag_id not in states:
            self._dag_or_404(dag_id)
        if run_id != "~":
            if dag_id == "~":
                raise self._bad_request(
                    "dag_id cannot be '~' when dag_run_id is not '~'" if self.major < 3 else "Invalid dag_id",
                    location=("path", "dag_id"),
                    kind="value_error",
                    value=dag_id,
                )
            runs = [self._run_or_404(dag_id, run_id)]
        else:
            runs = [run for run in self.instance.runs if dag_id in ("~", run.dag_id)]
        # "none" (and Airflow 2's "no_status") asks for task instances without a state.
        wanted = {None if state in ("none", "no_status", "null") else state for state in self._query_list("state")}
        instances = []
        for run in runs:
            if wanted and self.instance.task_state(run, self.now, self.timings) not in wanted:
                continue
            dag_state = states.get(run.dag_id)
            for task_id in dag_state.dag.task_ids if dag_state is not None else ():
                instances.append((run, task_id))
        simulated = [
            task
            for task in self.instance.simulated.tasks
            if dag_id in ("~", task.dag_id) and run_id in ("~", task.run_id) and (not wanted or task.state in wanted)
        ]
        page = self._page([*instances, *simulated])
        return RestResponse(
            200,
            {
                "task_instances": [
                    self.simulated_task_json(item)
                    if isinstance(item, SimulatedTask)
                    else self.task_instance_json(*item)
                    for item in page
                ],
                "total_entries": len(instances) + len(simulated),
            },
        )

    def simulated_task_json(self, task: SimulatedTask) -> dict[str, Any]:
        """A task instance of the workload simulator, with the fields the control plane reads."""
        return {
            "task_id": task.task_id,
            "dag_id": task.dag_id,
            "dag_run_id": task.run_id,
            "map_index": -1,
            "state": task.state,
            "pool": task.pool,
            "pool_slots": 1,
            "queue": "default",
        }

    # -- import errors --------------------------------------------------------------------

    def import_error_json(self, record: ImportErrorRecord) -> dict[str, Any]:
        if self.major >= 3:
            return {
                "import_error_id": record.import_error_id,
                "timestamp": _iso(record.timestamp, self.major),
                "filename": record.relative_path,
                "bundle_name": BUNDLE_NAME,
                "stack_trace": record.stack_trace,
            }
        return {
            "import_error_id": record.import_error_id,
            "timestamp": _iso(record.timestamp, self.major),
            "filename": record.filename,
            "stack_trace": record.stack_trace,
        }

    @_route("GET", "/importErrors")
    def list_import_errors(self, _: dict[str, str]) -> RestResponse:
        records = self.instance.import_errors(self.now, self.timings)
        return RestResponse(
            200,
            {
                "import_errors": [self.import_error_json(record) for record in self._page(records)],
                "total_entries": len(records),
            },
        )

    @_route("GET", "/importErrors/{import_error_id}")
    def get_import_error(self, params: dict[str, str]) -> RestResponse:
        for record in self.instance.import_errors(self.now, self.timings):
            if str(record.import_error_id) == params["import_error_id"]:
                return RestResponse(200, self.import_error_json(record))
        if self.major >= 3:
            raise HttpError(
                404, "Not Found", f"The ImportError with import_error_id: `{params['import_error_id']}` was not found"
            )
        raise HttpError(
            404,
            "Import error not found",
            f"The ImportError with import_error_id: `{params['import_error_id']}` was not found",
        )

    # -- variables ------------------------------------------------------------------------

    def variable_json(self, key: str, variable: Variable) -> dict[str, Any]:
        result: dict[str, Any] = {"key": key, "value": variable.value, "description": variable.description}
        if self.major >= 3:
            result["is_encrypted"] = True
        return result

    def _variable_or_404(self, key: str) -> Variable:
        variable = self.instance.variables.get(key)
        if variable is None:
            if self.major >= 3:
                raise HttpError(404, "Not Found", f"The Variable with key: `{key}` was not found")
            raise HttpError(404, "Variable not found", "Variable does not exist")
        return variable

    def _variable_value(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if self.major >= 3:
            # v2 accepts any JSON value and stores its JSON text.
            return json.dumps(value)
        raise self._bad_request(
            f"{json.dumps(value)} is not of type 'string'", location=("body", "value"), kind="string_type", value=value
        )

    @_route("GET", "/variables")
    def list_variables(self, _: dict[str, str]) -> RestResponse:
        items = sorted(self.instance.variables.items())
        return RestResponse(
            200,
            {
                "variables": [self.variable_json(key, variable) for key, variable in self._page(items)],
                "total_entries": len(items),
            },
        )

    @_route("POST", "/variables")
    def create_variable(self, _: dict[str, str]) -> RestResponse:
        body = self._body_object()
        self._forbid_extra(body, {"key", "value", "description"})
        key = str(self._require(body, "key"))
        value = self._variable_value(self._require(body, "value"))
        if self.major >= 3 and key in self.instance.variables:
            raise HttpError(409, "Conflict", f"The Variable with key: `{key}` already exists")
        variable = Variable(value, body.get("description"))
        self.instance.variables[key] = variable
        return RestResponse(201 if self.major >= 3 else 200, self.variable_json(key, variable))

    @_route("GET", "/variables/{key}")
    def get_variable(self, params: dict[str, str]) -> RestResponse:
        key = params["key"]
        return RestResponse(200, self.variable_json(key, self._variable_or_404(key)))

    @_route("PATCH", "/variables/{key}")
    def patch_variable(self, params: dict[str, str]) -> RestResponse:
        key = params["key"]
        variable = self._variable_or_404(key)
        body = self._body_object()
        self._forbid_extra(body, {"key", "value", "description"})
        if str(self._require(body, "key")) != key:
            raise HttpError(400, "Invalid post body", "key from request body doesn't match uri parameter")
        mask = self._query_list("update_mask")
        if not mask or "value" in mask:
            variable.value = self._variable_value(self._require(body, "value"))
        if "description" in body and (not mask or "description" in mask):
            variable.description = body["description"]
        return RestResponse(200, self.variable_json(key, variable))

    @_route("DELETE", "/variables/{key}")
    def delete_variable(self, params: dict[str, str]) -> RestResponse:
        self._variable_or_404(params["key"])
        del self.instance.variables[params["key"]]
        return RestResponse(204, None)

    # -- pools ----------------------------------------------------------------------------

    def pool_json(self, name: str, pool: Pool) -> dict[str, Any]:
        running = sum(
            1
            for run in self.instance.runs
            if name == DEFAULT_POOL and self.instance.run_state(run, self.now, self.timings)[0] == "running"
        )
        simulated = [task.state for task in self.instance.simulated.tasks if task.pool == name]
        running += simulated.count("running")
        queued = simulated.count("queued")
        result: dict[str, Any] = {
            "name": name,
            "slots": pool.slots,
            "occupied_slots": running + queued,
            "running_slots": running,
            "queued_slots": queued,
            "scheduled_slots": simulated.count("scheduled"),
            "deferred_slots": 0,
            "open_slots": -1 if pool.slots == -1 else pool.slots - running - queued,
            "description": pool.description,
            "include_deferred": pool.include_deferred,
        }
        if self.major >= 3:
            result["team_name"] = None
        return result

    def _pool_or_404(self, name: str) -> Pool:
        pool = self.instance.pools.get(name)
        if pool is None:
            if self.major >= 3:
                raise HttpError(404, "Not Found", f"The Pool with name: `{name}` was not found")
            raise HttpError(404, "Pool not found", f"Pool with name:'{name}' not found")
        return pool

    def _slots(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise self._bad_request(
                f"{json.dumps(value)} is not of type 'integer'"
                if self.major < 3
                else "Input should be a valid integer greater than or equal to -1",
                location=("body", "slots"),
                kind="int_type",
                value=value,
            )
        return value

    @_route("GET", "/pools")
    def list_pools(self, _: dict[str, str]) -> RestResponse:
        items = sorted(self.instance.pools.items())
        return RestResponse(
            200,
            {
                "pools": [self.pool_json(name, pool) for name, pool in self._page(items)],
                "total_entries": len(items),
            },
        )

    @_route("POST", "/pools")
    def create_pool(self, _: dict[str, str]) -> RestResponse:
        body = self._body_object()
        self._forbid_extra(body, {"name", "slots", "description", "include_deferred"})
        name = str(self._require(body, "name"))
        slots = self._slots(self._require(body, "slots"))
        if name in self.instance.pools:
            if self.major >= 3:
                raise HttpError(409, "Conflict", f"The Pool with name: `{name}` already exists")
            raise HttpError(409, "Conflict", f"Pool: {name} already exists")
        pool = Pool(slots, body.get("description"), bool(body.get("include_deferred", False)))
        self.instance.pools[name] = pool
        return RestResponse(201 if self.major >= 3 else 200, self.pool_json(name, pool))

    @_route("GET", "/pools/{name}")
    def get_pool(self, params: dict[str, str]) -> RestResponse:
        name = params["name"]
        return RestResponse(200, self.pool_json(name, self._pool_or_404(name)))

    @_route("PATCH", "/pools/{name}")
    def patch_pool(self, params: dict[str, str]) -> RestResponse:
        name = params["name"]
        pool = self._pool_or_404(name)
        body = self._body_object()
        self._forbid_extra(body, {"name", "pool", "slots", "description", "include_deferred"})
        mask = self._query_list("update_mask")

        def wanted(field_name: str) -> bool:
            return field_name in body and (not mask or field_name in mask)

        new_name = body.get("name", body.get("pool", name))
        if name == DEFAULT_POOL and (new_name != name or wanted("include_deferred")):
            raise HttpError(
                400,
                "Bad Request",
                "Only slots and included_deferred can be modified on Default Pool"
                if self.major >= 3
                else "Default Pool's name can't be modified",
            )
        if wanted("slots"):
            pool.slots = self._slots(body["slots"])
        if wanted("description"):
            pool.description = body["description"]
        if wanted("include_deferred"):
            pool.include_deferred = bool(body["include_deferred"])
        if new_name != name:
            if new_name in self.instance.pools:
                raise HttpError(409, "Conflict", f"Pool: {new_name} already exists")
            self.instance.pools[str(new_name)] = self.instance.pools.pop(name)
            name = str(new_name)
        return RestResponse(200, self.pool_json(name, pool))

    @_route("DELETE", "/pools/{name}")
    def delete_pool(self, params: dict[str, str]) -> RestResponse:
        name = params["name"]
        if name == DEFAULT_POOL:
            raise HttpError(400, "Bad Request", "Default Pool can't be deleted")
        self._pool_or_404(name)
        del self.instance.pools[name]
        return RestResponse(204, None)

    # -- connections ----------------------------------------------------------------------

    def connection_json(self, connection_id: str, connection: Connection, *, item: bool = False) -> dict[str, Any]:
        """A connection as the API shows it: never its password (v1 omits it, v2 masks it), secrets in extra masked.

        ``item``: v1's list shows ConnectionCollectionItem, without ``extra``.
        """
        result: dict[str, Any] = {
            "connection_id": connection_id,
            "conn_type": connection.conn_type,
            "description": connection.description,
            "host": connection.host,
            "login": connection.login,
            "schema": connection.schema,
            "port": connection.port,
        }
        if self.major >= 3:
            result["password"] = None if connection.password is None else MASK
            result["extra"] = self._redacted_extra(connection.extra)
        elif not item:
            result["extra"] = self._redacted_extra(connection.extra)
        return result

    def _redacted_extra(self, extra: str | None) -> str | None:
        if extra is None:
            return None
        try:
            parsed = json.loads(extra)
        except json.JSONDecodeError:
            return extra  # Airflow cannot redact an unstructured extra either
        return json.dumps(_redact(parsed, self.instance.sensitive_names()))

    def _connection_or_404(self, connection_id: str) -> Connection:
        connection = self.instance.connections.get(connection_id)
        if connection is None:
            detail = f"The Connection with connection_id: `{connection_id}` was not found"
            raise HttpError(404, "Not Found" if self.major >= 3 else "Connection not found", detail)
        return connection

    _CONNECTION_FIELDS = (
        "connection_id",
        "conn_type",
        "description",
        "host",
        "login",
        "schema",
        "port",
        "password",
        "extra",
    )

    def _connection_fields(self, body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        """The connection fields of a request body, checked as Airflow checks them."""
        if self.major < 3:
            unknown = sorted(set(body) - set(self._CONNECTION_FIELDS))
            if unknown:
                raise HttpError(400, "Bad Request", str({name: ["Unknown field."] for name in unknown}))
        else:
            self._forbid_extra(body, self._CONNECTION_FIELDS)
        if not partial or self.major >= 3:
            self._require(body, "connection_id")
            self._require(body, "conn_type")
        for name in self._CONNECTION_FIELDS:
            value = body.get(name)
            expected: type | tuple[type, ...] = int if name == "port" else str
            if value is not None and (not isinstance(value, expected) or isinstance(value, bool)):
                kind = "integer" if name == "port" else "string"
                raise self._bad_request(
                    f"{json.dumps(value)} is not of type '{kind}'"
                    if self.major < 3
                    else f"Input should be a valid {kind}",
                    location=("body", name),
                    kind=f"{'int' if name == 'port' else 'string'}_type",
                    value=value,
                )
        connection_id = body.get("connection_id")
        if connection_id is not None and (not _CONNECTION_ID.fullmatch(connection_id) or len(connection_id) > 200):
            if self.major >= 3:
                raise self._bad_request(
                    "String should match pattern '^[\\w.-]+$'",
                    location=("body", "connection_id"),
                    kind="string_pattern_mismatch",
                    value=connection_id,
                )
            raise HttpError(
                400,
                "Bad Request",
                "The key has to be made of alphanumeric characters, dashes, dots and underscores exclusively",
            )
        extra = body.get("extra")
        if self.major >= 3 and extra is not None and extra != "":
            try:
                is_object = isinstance(json.loads(extra), dict)
            except json.JSONDecodeError:
                is_object = False
            if not is_object:
                raise self._bad_request(
                    "Value error, The `extra` field must be a valid JSON object (e.g., {'key': 'value'})",
                    location=("body", "extra"),
                    kind="value_error",
                    value=extra,
                )
        return {name: body[name] for name in self._CONNECTION_FIELDS if name in body}

    @_route("GET", "/connections")
    def list_connections(self, _: dict[str, str]) -> RestResponse:
        # Ordered by id, i.e. creation order, as Airflow's default order_by.
        items = list(self.instance.connections.items())
        return RestResponse(
            200,
            {
                "connections": [self.connection_json(key, value, item=True) for key, value in self._page(items)],
                "total_entries": len(items),
            },
        )

    @_route("GET", "/connections/{connection_id}")
    def get_connection(self, params: dict[str, str]) -> RestResponse:
        connection_id = params["connection_id"]
        return RestResponse(200, self.connection_json(connection_id, self._connection_or_404(connection_id)))

    @_route("POST", "/connections")
    def create_connection(self, _: dict[str, str]) -> RestResponse:
        fields = self._connection_fields(self._body_object(), partial=False)
        connection_id = str(fields.pop("connection_id"))
        if connection_id in self.instance.connections:
            if self.major >= 3:
                raise HttpError(
                    409,
                    "Conflict",
                    {
                        "reason": "Unique constraint violation",
                        "statement": "INSERT INTO connection (conn_id, conn_type, description, host, schema, login, "
                        "password, port, is_encrypted, is_extra_encrypted, extra) VALUES (%(conn_id)s, "
                        "%(conn_type)s, %(description)s, %(host)s, %(schema)s, %(login)s, %(password)s, %(port)s, "
                        "%(is_encrypted)s, %(is_extra_encrypted)s, %(extra)s) RETURNING connection.id",
                        "orig_error": 'duplicate key value violates unique constraint "connection_conn_id_uq"\n'
                        f"DETAIL:  Key (conn_id)=({connection_id}) already exists.\n",
                        "message": "Serious error when handling your request. Check logs for more details - "
                        "you will find it in api server when you look for ID "
                        f"{uuid.uuid5(uuid.NAMESPACE_URL, connection_id).hex[:8]}",
                    },
                )
            raise HttpError(409, "Conflict", f"Connection already exist. ID: {connection_id}")
        if fields.get("extra") == "" and self.major >= 3:
            fields["extra"] = "{}"
        connection = Connection(**fields)
        self.instance.connections[connection_id] = connection
        return RestResponse(201 if self.major >= 3 else 200, self.connection_json(connection_id, connection))

    @_route("PATCH", "/connections/{connection_id}")
    def patch_connection(self, params: dict[str, str]) -> RestResponse:
        connection_id = params["connection_id"]
        body = self._body_object()
        fields = self._connection_fields(body, partial=True)
        if self.major >= 3 and fields["connection_id"] != connection_id:
            raise HttpError(
                400, "Bad Request", "The connection_id in the request body does not match the URL parameter"
            )
        connection = self._connection_or_404(connection_id)
        if self.major < 3 and fields.get("connection_id", connection_id) != connection_id:
            raise HttpError(400, "Bad Request", "The connection_id cannot be updated.")
        mask = self._query_list("update_mask")
        for name in mask:
            if name not in self._CONNECTION_FIELDS or name == "connection_id":
                raise HttpError(400, "Bad Request", f"'{name}' is unknown or cannot be updated.")
        for name, value in fields.items():
            if name == "connection_id" or (mask and name not in mask):
                continue
            setattr(connection, name, value)
        return RestResponse(200, self.connection_json(connection_id, connection))

    @_route("DELETE", "/connections/{connection_id}")
    def delete_connection(self, params: dict[str, str]) -> RestResponse:
        self._connection_or_404(params["connection_id"])
        del self.instance.connections[params["connection_id"]]
        return RestResponse(204, None)

    # -- service --------------------------------------------------------------------------

    @_route("GET", "/version")
    def version(self, _: dict[str, str]) -> RestResponse:
        return RestResponse(200, {"version": self.instance.airflow_version, "git_version": None})

    @_route("GET", "/health", versions=(2,))
    def health(self, _: dict[str, str]) -> RestResponse:
        return RestResponse(200, self._health())

    @_route("GET", "/monitor/health", versions=(3,))
    def monitor_health(self, _: dict[str, str]) -> RestResponse:
        return RestResponse(200, self._health())

    def _health(self) -> dict[str, Any]:
        heartbeat = _iso(self.now, self.major)
        return {
            "metadatabase": {"status": "healthy"},
            "scheduler": {"status": "healthy", "latest_scheduler_heartbeat": heartbeat},
            "triggerer": {"status": "healthy", "latest_triggerer_heartbeat": heartbeat},
        }


MASK = "***"
_CONNECTION_ID = re.compile(r"[\w.-]+")
# airflow.utils.log.secrets_masker.DEFAULT_SENSITIVE_FIELDS (Airflow 2.10; Airflow 3 adds the second set): the same
# fact the control plane uses to decide what is a secret, kept in one place.
SENSITIVE_FIELDS = MASKER_NAMES
SENSITIVE_FIELDS_3 = MASKER_NAMES_AIRFLOW_3


def _redact(value: Any, sensitive: frozenset[str], key: str | None = None) -> Any:
    """Airflow's ``redact``: the value of every key whose name contains a sensitive word becomes ``***``."""
    if key is not None and any(word in key.lower() for word in sensitive):
        return MASK
    if isinstance(value, dict):
        return {k: _redact(v, sensitive, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(item, sensitive) for item in value]
    return value


def _timetable_description(schedule: str | None) -> str | None:
    descriptions = {
        "@once": "Once, as soon as possible",
        "@hourly": "At 00 minutes past the hour",
        "@daily": "At 00:00",
        "@weekly": "At 00:00, only on Sunday",
        "@monthly": "At 00:00, on day 1 of the month",
    }
    if schedule is None:
        return "Never, external triggers only"
    return descriptions.get(schedule, schedule)


def _file_token(relative_fileloc: str) -> str:
    # Airflow signs the path with the webserver secret; an opaque, stable token is all callers use.
    return base64.urlsafe_b64encode(relative_fileloc.encode()).decode().rstrip("=")


def invoke_rest_api(
    instance: AirflowInstance,
    *,
    method: str,
    path: str,
    query: Mapping[str, Any] | None,
    body: Json,
    now: datetime,
    timings: DagProcessingTimings,
) -> RestResponse:
    """Serve one Airflow REST API call (``path`` relative to the API root, as InvokeRestApi takes it)."""
    return RestApi(instance, now=now, timings=timings, query=query, body=body).handle(method, path)


# --------------------------------------------------------------------------------------------
# CLI: the subset MWAA's /aws_mwaa/cli endpoint is used for
# --------------------------------------------------------------------------------------------

_TOP_LEVEL_COMMANDS = (
    "cheat-sheet",
    "config",
    "connections",
    "dag-processor",
    "dags",
    "db",
    "info",
    "jobs",
    "kerberos",
    "plugins",
    "pools",
    "providers",
    "roles",
    "rotate-fernet-key",
    "scheduler",
    "standalone",
    "sync-perm",
    "tasks",
    "triggerer",
    "users",
    "variables",
    "version",
    "webserver",
)
_SUBCOMMANDS = {
    "dags": (
        "backfill",
        "delete",
        "details",
        "list",
        "list-import-errors",
        "list-jobs",
        "list-runs",
        "next-execution",
        "pause",
        "report",
        "reserialize",
        "show",
        "show-dependencies",
        "state",
        "test",
        "trigger",
        "unpause",
    ),
    "variables": ("delete", "export", "get", "import", "list", "set"),
    "connections": ("add", "create-default-connections", "delete", "export", "get", "import", "list", "test"),
    "pools": ("delete", "export", "get", "import", "list", "set"),
}


@dataclass(frozen=True)
class CliResult:
    stdout: str
    stderr: str


class _CliUsageError(Exception):
    pass


def _usage(group: str | None, choice: str) -> str:
    if group is None:
        choices = ", ".join(f"'{name}'" for name in _TOP_LEVEL_COMMANDS)
        return (
            "usage: airflow [-h] GROUP_OR_COMMAND ...\n\n"
            f"airflow command error: argument GROUP_OR_COMMAND: invalid choice: '{choice}' (choose from {choices}), "
            "see help above.\n"
        )
    choices = ", ".join(f"'{name}'" for name in _SUBCOMMANDS.get(group, ()))
    return (
        f"usage: airflow {group} [-h] COMMAND ...\n\n"
        f"airflow {group} command error: argument COMMAND: invalid choice: '{choice}' (choose from {choices}), "
        "see help above.\n"
    )


def _render(rows: list[dict[str, Any]], output: str) -> str:
    if output == "json":
        return json.dumps(rows, default=str) + "\n"
    if output == "plain" and rows:
        columns = list(rows[0])
        widths = {column: max(len(column), *(len(str(row[column])) for row in rows)) for column in columns}
        plain = ["  ".join(column.ljust(widths[column]) for column in columns)]
        plain.extend("  ".join(str(row[column]).ljust(widths[column]) for column in columns) for row in rows)
        return "\n".join(line.rstrip() for line in plain) + "\n"
    if output == "json":
        return json.dumps(rows) + "\n"
    if output == "yaml":
        return (
            "".join("- " + "\n  ".join(f"{key}: {value}" for key, value in row.items()) + "\n" for row in rows)
            or "[]\n"
        )
    if not rows:
        return "No data found\n"
    columns = list(rows[0])
    widths = {column: max(len(column), *(len(str(row[column])) for row in rows)) for column in columns}
    lines = [
        " | ".join(column.ljust(widths[column]) for column in columns),
        "=+=".join("=" * widths[column] for column in columns),
    ]
    lines.extend(" | ".join(str(row[column]).ljust(widths[column]) for column in columns) for row in rows)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def run_cli(
    instance: AirflowInstance,
    command_line: str,
    *,
    now: datetime,
    timings: DagProcessingTimings,
    warning: str = "",
) -> CliResult:
    """Run one Airflow CLI command line as MWAA's CLI endpoint would; never raises for a bad command."""
    try:
        argv = shlex.split(command_line)
    except ValueError as exc:
        return CliResult("", warning + f"airflow command error: {exc}\n")
    if not argv:
        return CliResult("", warning + "usage: airflow [-h] GROUP_OR_COMMAND ...\n")
    try:
        stdout = _run_command(instance, argv, now, timings)
    except _CliUsageError as exc:
        return CliResult("", warning + str(exc))
    except _CliFailure as exc:
        return CliResult(exc.stdout, warning + exc.stderr)
    except SchedulerLimitError as exc:
        return CliResult("", warning + f"{exc}\n")
    return CliResult(stdout, warning)


class _CliFailure(Exception):
    def __init__(self, stderr: str, stdout: str = "") -> None:
        super().__init__(stderr)
        self.stderr = stderr
        self.stdout = stdout


def _option(argv: list[str], *names: str, default: str | None = None) -> tuple[str | None, list[str]]:
    """Pull ``-o json`` / ``--output=json`` style options out of argv; return (value, rest)."""
    rest: list[str] = []
    value = default
    index = 0
    while index < len(argv):
        arg = argv[index]
        name, _, inline = arg.partition("=")
        if name in names:
            if inline:
                value = inline
            elif index + 1 < len(argv):
                value = argv[index + 1]
                index += 1
        else:
            rest.append(arg)
        index += 1
    return value, rest


def _run_command(instance: AirflowInstance, argv: list[str], now: datetime, timings: DagProcessingTimings) -> str:
    group, args = argv[0], argv[1:]
    if group == "version":
        return f"{instance.airflow_version}\n"
    if group not in _SUBCOMMANDS:
        raise _CliUsageError(_usage(None, group))
    if not args:
        raise _CliUsageError(
            f"usage: airflow {group} [-h] COMMAND ...\n\nairflow {group} command error: "
            "the following arguments are required: COMMAND, see help above.\n"
        )
    command, args = args[0], args[1:]
    output, args = _option(args, "-o", "--output", default="table")
    handler = _CLI_COMMANDS.get((group, command))
    if handler is None:
        raise _CliUsageError(_usage(group, command))
    return handler(instance, args, output or "table", now, timings)


CliHandler = Callable[[AirflowInstance, list[str], str, datetime, DagProcessingTimings], str]


def _positional(args: list[str], count: int, usage: str) -> list[str]:
    positional = [arg for arg in args if not arg.startswith("-")]
    if len(positional) < count:
        raise _CliUsageError(
            f"usage: airflow {usage}\n\nairflow command error: the following arguments are required, see help above.\n"
        )
    return positional


def _dags_list(
    instance: AirflowInstance, _: list[str], output: str, now: datetime, timings: DagProcessingTimings
) -> str:
    if instance.major >= 3:
        # Airflow 3 lists what the DAG processor stored in the database.
        dags = [state.dag for state in instance.dag_states(now, timings).values() if state.is_active]
    else:
        # Airflow 2 parses the synced folder on the spot, so it sees files before the scheduler does.
        bag = instance.local_dag_bag(now, timings)
        dags = sorted(bag.dags.values(), key=lambda dag: dag.dag_id)
        if bag.import_errors:
            raise _CliFailure(
                "Error: Failed to load all files. For details, run `airflow dags list-import-errors`\n",
                stdout=_render(_dag_rows(instance, dags), output),
            )
    return _render(_dag_rows(instance, dags), output)


def _dag_rows(instance: AirflowInstance, dags: list[ParsedDag]) -> list[dict[str, Any]]:
    rows = []
    for dag in dags:
        row: dict[str, Any] = {
            "dag_id": dag.dag_id,
            "fileloc": dag.fileloc,
            "owners": ",".join(dag.owners),
            "is_paused": instance.is_paused(dag),
        }
        if instance.major >= 3:
            row.update({"bundle_name": BUNDLE_NAME, "bundle_version": None})
        rows.append(row)
    return rows


def _dags_list_import_errors(
    instance: AirflowInstance, _: list[str], output: str, now: datetime, timings: DagProcessingTimings
) -> str:
    rows: list[dict[str, Any]] = []
    if instance.major >= 3:
        for record in instance.import_errors(now, timings):
            rows.append({"bundle_name": BUNDLE_NAME, "filepath": record.relative_path, "error": record.stack_trace})
    else:
        for path, (stack_trace, _parsed_at) in sorted(instance.local_dag_bag(now, timings).import_errors.items()):
            rows.append({"filepath": f"{DAGS_FOLDER}/{path}", "error": stack_trace})
    return _render(rows, output)


def _dag_or_fail(instance: AirflowInstance, dag_id: str, now: datetime, timings: DagProcessingTimings) -> ParsedDag:
    state = instance.dag_states(now, timings).get(dag_id)
    if state is None or not state.is_active:
        raise _CliFailure(
            "Traceback (most recent call last):\n"
            '  File "/usr/local/airflow/.local/bin/airflow", line 8, in <module>\n'
            "    sys.exit(main())\n"
            f"airflow.exceptions.DagNotFound: Dag id {dag_id} not found in DagModel\n"
        )
    return state.dag


def _dags_trigger(
    instance: AirflowInstance, args: list[str], output: str, now: datetime, timings: DagProcessingTimings
) -> str:
    conf_text, args = _option(args, "-c", "--conf")
    run_id, args = _option(args, "-r", "--run-id")
    dag_id = _positional(args, 1, "dags trigger [-h] [-c CONF] [-r RUN_ID] dag_id")[0]
    dag = _dag_or_fail(instance, dag_id, now, timings)
    try:
        conf = json.loads(conf_text) if conf_text else {}
    except json.JSONDecodeError as exc:
        raise _CliFailure(f"json.decoder.JSONDecodeError: {exc}\n") from None
    logical_date = now if instance.major < 3 else None
    run = DagRun(
        dag.dag_id,
        run_id or f"manual__{now.isoformat()}",
        logical_date,
        now,
        now,
        conf if isinstance(conf, dict) else {},
        None,
        "cli",
    )
    instance.runs.append(run)
    row = {
        "conf": run.conf,
        "dag_id": run.dag_id,
        "dag_run_id": run.run_id,
        "data_interval_start": _iso(run.logical_date, instance.major),
        "data_interval_end": _iso(run.logical_date, instance.major),
        "end_date": None,
        "external_trigger": True,
        "last_scheduling_decision": None,
        "logical_date": _iso(run.logical_date, instance.major),
        "run_type": "manual",
        "start_date": None,
        "state": "queued",
    }
    return _render([row], output)


def _dags_pause(paused: bool) -> CliHandler:
    def handler(
        instance: AirflowInstance, args: list[str], _: str, now: datetime, timings: DagProcessingTimings
    ) -> str:
        verb = "pause" if paused else "unpause"
        dag_id = _positional(args, 1, f"dags {verb} [-h] dag_id")[0]
        dag = _dag_or_fail(instance, dag_id, now, timings)
        instance.set_paused(dag.dag_id, paused, now, timings)
        return f"Dag: {dag.dag_id}, paused: {paused}\n"

    return handler


# --------------------------------------------------------------------------------------------
# Variables and connections as a task or the CLI reads them: the secrets backend, then the database
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """Where a value was found: ``source`` is "secrets_backend", "metastore" or None (nowhere)."""

    source: str | None
    value: Any = None
    parameter: str | None = None  # the SSM parameter looked up, if one was
    errors: tuple[str, ...] = ()


def connection_from_value(value: str) -> Connection:
    """A connection from its value in SSM (Airflow's URI or JSON form); InvalidConnectionError if neither."""
    return Connection(**secrets.parse_connection(value))


def _from_backend(
    instance: AirflowInstance,
    kind: Literal["variables", "connections"],
    key: str,
    on: secrets.Side,
    reader: secrets.ParameterReader | None,
) -> tuple[str | None, str | None]:
    backend = secrets.configured_backend(instance.configuration, major=instance.major, on=on)
    name = backend.parameter_name(kind, key) if backend is not None else None
    if name is None:
        return None, None
    instance.secrets_lookups.append(name)
    read = reader if reader is not None else secrets.reader_for(instance)
    return name, (read(name) if read is not None else None)


def lookup_variable(
    instance: AirflowInstance,
    key: str,
    *,
    on: secrets.Side = "scheduler",
    reader: secrets.ParameterReader | None = None,
) -> Lookup:
    """Look ``key`` up as ``Variable.get`` does: the SSM secrets backend, then the metadata database.

    ``on="worker"``: as a task on a worker (Airflow 3 workers use ``workers.secrets_backend_kwargs``).
    Raises :class:`~mwaa_cp_local.mwaa.secrets.SecretsBackendConfigError` for kwargs that are not JSON.
    """
    name, value = _from_backend(instance, "variables", key, on, reader)
    if value is not None:
        return Lookup("secrets_backend", value, name)
    variable = instance.variables.get(key)
    if variable is not None:
        return Lookup("metastore", variable.value, name)
    return Lookup(None, None, name)


def lookup_connection(
    instance: AirflowInstance,
    conn_id: str,
    *,
    on: secrets.Side = "scheduler",
    reader: secrets.ParameterReader | None = None,
) -> Lookup:
    """Look ``conn_id`` up as ``BaseHook.get_connection`` does: the SSM secrets backend, then the database.

    A value in SSM that is not a connection is logged (``errors``) and the database is tried, as Airflow does.
    """
    name, value = _from_backend(instance, "connections", conn_id, on, reader)
    errors: tuple[str, ...] = ()
    if value is not None:
        try:
            return Lookup("secrets_backend", connection_from_value(value), name)
        except secrets.InvalidConnectionError as exc:
            errors = (
                f"Unable to retrieve connection from secrets backend (SystemsManagerParameterStoreBackend): {exc}. "
                "Checking subsequent secrets backend.",
            )
    connection = instance.connections.get(conn_id)
    if connection is not None:
        return Lookup("metastore", connection, name, errors)
    return Lookup(None, None, name, errors)


def read_variable(
    instance: AirflowInstance,
    key: str,
    *,
    on: secrets.Side = "scheduler",
    reader: secrets.ParameterReader | None = None,
) -> str | None:
    """The value a task (``on="worker"``) or the scheduler and CLI see for variable ``key``; None if none."""
    value = lookup_variable(instance, key, on=on, reader=reader).value
    return None if value is None else str(value)


def read_connection(
    instance: AirflowInstance,
    conn_id: str,
    *,
    on: secrets.Side = "scheduler",
    reader: secrets.ParameterReader | None = None,
) -> Connection | None:
    """The connection a task (``on="worker"``) or the scheduler and CLI get for ``conn_id``; None if none."""
    found: Connection | None = lookup_connection(instance, conn_id, on=on, reader=reader).value
    return found


def _side(args: list[str]) -> tuple[secrets.Side, list[str]]:
    """Our own ``--worker`` flag (not Airflow's): read as a task on a worker would, not as the CLI does."""
    return ("worker" if "--worker" in args else "scheduler"), [arg for arg in args if arg != "--worker"]


def _backend_failure(exc: secrets.SecretsBackendConfigError) -> _CliFailure:
    return _CliFailure(f"airflow.exceptions.AirflowConfigException: {exc}\n")


def _variables_get(instance: AirflowInstance, args: list[str], *_: Any) -> str:
    side, args = _side(args)
    key = _positional(args, 1, "variables get [-h] [--worker] key")[0]
    try:
        found = lookup_variable(instance, key, on=side)
    except secrets.SecretsBackendConfigError as exc:
        raise _backend_failure(exc) from None
    if found.source is None:
        raise _CliFailure(f"Variable {key} does not exist\n")
    return f"{found.value}\n"


def connection_row(instance: AirflowInstance, conn_id: str, connection: Connection, *, stored: bool) -> dict[str, Any]:
    """A connection as ``airflow connections get`` prints it (password included, as Airflow prints it).

    ``stored``: it comes from the metadata database (it has an ``id``); a secrets-backend connection has none.
    """
    return {
        "id": list(instance.connections).index(conn_id) + 1 if stored else None,
        "conn_id": conn_id,
        "conn_type": connection.conn_type,
        "description": connection.description,
        "host": connection.host,
        "schema": connection.schema,
        "login": connection.login,
        "password": connection.password,
        "port": connection.port,
        # MWAA sets a Fernet key, so a password or extra is encrypted as soon as it is set.
        "is_encrypted": connection.password is not None,
        "is_extra_encrypted": connection.extra is not None,
        "extra_dejson": secrets.extra_dejson(connection),
        "get_uri": secrets.connection_uri(connection),
    }


def _connections_get(instance: AirflowInstance, args: list[str], output: str, *_: Any) -> str:
    side, args = _side(args)
    _color, args = _option(args, "--color")
    args = [arg for arg in args if arg not in ("-v", "--verbose")]
    usage = "connections get [-h] [--color {auto,off,on}] [-o table, json, yaml, plain] [-v] [--worker] conn_id"
    conn_id = _positional(args, 1, usage)[0]
    try:
        found = lookup_connection(instance, conn_id, on=side)
    except secrets.SecretsBackendConfigError as exc:
        raise _backend_failure(exc) from None
    logged = "".join(f"ERROR - {error}\n" for error in found.errors)
    if found.source is None:
        raise _CliFailure(logged + "Connection not found.\n")
    row = connection_row(instance, conn_id, found.value, stored=found.source == "metastore")
    rendered = _render([row], output)
    if logged:
        # Airflow logs the unreadable SSM value on stderr and still prints what the database had.
        raise _CliFailure(logged, stdout=rendered)
    return rendered


def _variables_set(instance: AirflowInstance, args: list[str], *_: Any) -> str:
    description, args = _option(args, "--description")
    key, value = _positional(args, 2, "variables set [-h] [--description DESCRIPTION] key VALUE")[:2]
    instance.variables[key] = Variable(value, description)
    return f"Variable {key} created\n"


def _variables_delete(instance: AirflowInstance, args: list[str], *_: Any) -> str:
    key = _positional(args, 1, "variables delete [-h] key")[0]
    if instance.variables.pop(key, None) is None:
        raise _CliFailure(f"Variable {key} does not exist\n")
    return f"Variable {key} deleted\n"


def _variables_list(instance: AirflowInstance, _: list[str], output: str, *__: Any) -> str:
    return _render([{"key": key} for key in sorted(instance.variables)], output)


def _pools_list(instance: AirflowInstance, _: list[str], output: str, *__: Any) -> str:
    rows = [
        {"pool": name, "slots": pool.slots, "description": pool.description, "include_deferred": pool.include_deferred}
        for name, pool in sorted(instance.pools.items())
    ]
    return _render(rows, output)


_CLI_COMMANDS: dict[tuple[str, str], CliHandler] = {
    ("dags", "list"): _dags_list,
    ("dags", "list-import-errors"): _dags_list_import_errors,
    ("dags", "trigger"): _dags_trigger,
    ("dags", "pause"): _dags_pause(True),
    ("dags", "unpause"): _dags_pause(False),
    ("variables", "get"): _variables_get,
    ("variables", "set"): _variables_set,
    ("variables", "delete"): _variables_delete,
    ("variables", "list"): _variables_list,
    ("connections", "get"): _connections_get,
    ("pools", "list"): _pools_list,
}

__all__ = [
    "DAGS_FOLDER",
    "AirflowInstance",
    "CliResult",
    "Connection",
    "DagFolder",
    "DagProcessingTimings",
    "Lookup",
    "ParseResult",
    "ParsedDag",
    "RestResponse",
    "airflow_major",
    "connection_from_value",
    "invoke_rest_api",
    "lookup_connection",
    "lookup_variable",
    "might_contain_dag",
    "parse_dag_file",
    "read_connection",
    "read_variable",
    "run_cli",
]
