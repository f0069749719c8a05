"""Airflow >= 2.4.3 through MWAA's ``InvokeRestApi``: stable API v1 on Airflow 2, API v2 on Airflow 3.

MWAA prefixes ``Path`` with the API root itself, so paths here start at the resource
(``/dags``, ``/importErrors``). The two API versions share every path this module uses
and the collection envelopes (``{"dags": [...], "total_entries": n}``); what differs is
handled in the wire models below:

- DAG liveness: v1 ``is_active``, v2 ``is_stale`` (its negation).
- Triggering: v2 requires the ``logical_date`` key on Airflow 3.0 (nullable; optional from 3.1),
  v1 fills it in itself. Sending ``null`` works on every 3.x.
- Variable creation: v1 ``POST /variables`` overwrites, v2 answers 409 for an existing key,
  so creation falls back to ``PATCH /variables/{key}`` on 409 for both.
- Listing variables: v2 items carry values, v1 items do not (``Variable.value`` is None then).
- Validation errors: 400 on v1, 422 on v2; both are ``AirflowApiError`` with the status.
- Connections: v1 lists them without ``extra`` and never returns a password; v2 lists them whole and
  masks a set password as ``***``. Both mask sensitive keys inside ``extra``.
- DAG details (``/dags/{id}/details``): v1 has ``schedule_interval`` (an object with ``__type``),
  v2 ``timetable_summary`` (a string); v2 renamed ``next_dagrun_create_after`` to ``next_dagrun_run_after``.
- ``~`` stands for "every DAG" (and "every run") in the DAG run and task instance listings. A list
  filter such as ``state`` is sent one value per request: how InvokeRestApi encodes a repeated
  query parameter is not documented.
- Pools: ``default_pool`` takes only ``slots`` and ``include_deferred``, named in ``update_mask``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field, ValidationError

from mwaa_control_plane.airflow.models import (
    DEFAULT_POOL,
    Connection,
    Dag,
    DagDetails,
    DagImportError,
    DagRun,
    Pool,
    TaskInstance,
    Variable,
    new_run_id,
    schedule_from_summary,
    schedule_from_v1,
)
from mwaa_control_plane.airflow.resilience import HttpStatusError, RetryPolicy, is_conflict, is_not_found
from mwaa_control_plane.errors import AirflowApiError, InvalidInputError
from mwaa_control_plane.observability import logger
from mwaa_control_plane.payloads import Payload, validation_problems

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_mwaa.literals import RestApiMethodType
    from mypy_boto3_mwaa.type_defs import InvokeRestApiRequestTypeDef

    from mwaa_control_plane.clock import Clock

ApiVersion = Literal["v1", "v2"]

PAGE_SIZE = 100  # Airflow's default maximum_page_limit; a lower server limit only means more pages.
MAX_PATH_LENGTH = 64  # InvokeRestApi's Path constraint.
_MAX_PAGES = 10_000  # a server that ignores offset must not loop us forever
_PENDULUM_ZONE = re.compile(r"^Timezone\('(?P<name>[^']+)'\)$")
EVERY = "~"  # Airflow's "every DAG" / "every run" in a path


class _WireTag(Payload):
    name: str


class _WireDag(Payload):
    dag_id: str
    fileloc: str | None = None
    is_paused: bool | None = None
    is_active: bool | None = None  # v1
    is_stale: bool | None = None  # v2
    tags: list[_WireTag] | None = None

    def to_model(self) -> Dag:
        active = self.is_active
        if active is None and self.is_stale is not None:
            active = not self.is_stale
        return Dag(
            dag_id=self.dag_id,
            fileloc=self.fileloc,
            is_paused=self.is_paused,
            is_active=active,
            tags=tuple(t.name for t in self.tags or ()),
        )


class _WireImportError(Payload):
    filename: str | None = None
    stack_trace: str | None = None
    timestamp: datetime | None = None

    def to_model(self) -> DagImportError:
        return DagImportError(
            filename=self.filename or "", stack_trace=self.stack_trace or "", timestamp=self.timestamp
        )


class _WireVariable(Payload):
    key: str
    value: str | None = None
    description: str | None = None

    def to_model(self) -> Variable:
        return Variable(key=self.key, value=self.value, description=self.description)


class _WirePool(Payload):
    name: str
    slots: int
    occupied_slots: int | None = None
    running_slots: int | None = None
    queued_slots: int | None = None
    open_slots: int | None = None
    description: str | None = None
    include_deferred: bool | None = None

    def to_model(self) -> Pool:
        return Pool(**self.model_dump())


class _WireDagRun(Payload):
    dag_id: str
    dag_run_id: str
    state: str | None = None
    logical_date: datetime | None = None
    execution_date: datetime | None = None  # v1's older name for logical_date
    run_type: str | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    run_after: datetime | None = None  # v2

    def to_model(self) -> DagRun:
        return DagRun(
            dag_id=self.dag_id,
            run_id=self.dag_run_id,
            state=self.state,
            logical_date=self.logical_date or self.execution_date,
            run_type=self.run_type,
            data_interval_start=self.data_interval_start,
            data_interval_end=self.data_interval_end,
            run_after=self.run_after,
        )


class _WireTaskInstance(Payload):
    dag_id: str
    task_id: str
    dag_run_id: str | None = None
    map_index: int | None = None
    state: str | None = None
    start_date: datetime | None = None

    def to_model(self) -> TaskInstance:
        return TaskInstance(
            dag_id=self.dag_id,
            task_id=self.task_id,
            run_id=self.dag_run_id,
            map_index=self.map_index,
            state=self.state,
            start_date=self.start_date,
        )


class _WireConnection(Payload):
    connection_id: str
    conn_type: str | None = None
    description: str | None = None
    host: str | None = None
    login: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    port: int | None = None
    password: str | None = None  # v2 only, masked; never kept
    extra: str | None = None

    def to_model(self) -> Connection:
        return Connection(
            connection_id=self.connection_id,
            conn_type=self.conn_type,
            description=self.description,
            host=self.host,
            login=self.login,
            schema_name=self.schema_,
            port=self.port,
            extra=self.extra,
            extra_known="extra" in self.model_fields_set,
            password_set=None if "password" not in self.model_fields_set else self.password is not None,
        )


class _WireDagDetails(Payload):
    dag_id: str
    is_paused: bool | None = None
    catchup: bool | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    schedule_interval: Any = None  # v1
    timetable_summary: str | None = None  # v2
    timezone: str | None = None
    next_dagrun_create_after: datetime | None = None  # v1
    next_dagrun_run_after: datetime | None = None  # v2

    def to_model(self, api_version: ApiVersion) -> DagDetails:
        if api_version == "v1":
            schedule = schedule_from_v1(self.schedule_interval)
        else:
            schedule = schedule_from_summary(self.timetable_summary)
        return DagDetails(
            dag_id=self.dag_id,
            is_paused=self.is_paused,
            catchup=self.catchup,
            start_date=self.start_date,
            end_date=self.end_date,
            schedule=schedule,
            timezone=_zone_name(self.timezone),
            next_dagrun_create_after=self.next_dagrun_create_after or self.next_dagrun_run_after,
        )


def _zone_name(text: str | None) -> str | None:
    """``Timezone('Europe/Berlin')`` (v1, pendulum's repr) or ``Europe/Berlin`` (v2) -> ``Europe/Berlin``."""
    if not text:
        return None
    match = _PENDULUM_ZONE.match(text.strip())
    return match["name"] if match else text.strip()


class RestBackend:
    """The Airflow operations over ``InvokeRestApi`` for one environment and API version."""

    def __init__(
        self,
        mwaa: MWAAClient,
        environment: str,
        *,
        api_version: ApiVersion,
        policy: RetryPolicy,
        clock: Clock,
        environment_status: Callable[[], str | None] | None = None,
    ) -> None:
        self._mwaa = mwaa
        self._environment = environment
        self._api_version = api_version
        self._policy = policy
        self._clock = clock
        self._environment_status = environment_status

    # -- DAGs -------------------------------------------------------------------------------

    def list_dags(self) -> list[Dag]:
        dags: dict[str, Dag] = {}
        for item in self._paginate("/dags", "dags"):
            dag = parse_payload(_WireDag, item, "GET /dags").to_model()
            dags.setdefault(dag.dag_id, dag)  # a DAG added mid-listing can shift pages: keep the first copy
        return list(dags.values())

    def get_dag(self, dag_id: str) -> Dag | None:
        path = _path("/dags/", dag_id, what="DAG id")
        try:
            payload = self._invoke("GET", path)
        except AirflowApiError as exc:
            if is_not_found(exc):
                return None
            raise
        return parse_payload(_WireDag, payload, f"GET {path}").to_model()

    def set_dag_paused(self, dag_id: str, paused: bool) -> None:
        path = _path("/dags/", dag_id, what="DAG id")
        self._invoke("PATCH", path, body={"is_paused": paused})

    def trigger_dag_run(self, dag_id: str, conf: dict[str, Any] | None, run_id: str | None) -> DagRun:
        path = _path("/dags/", dag_id, "/dagRuns", what="DAG id")
        # Always name the run: a retry after a lost answer then meets 409 instead of starting a second run.
        generated = run_id is None
        name = run_id or new_run_id(self._clock.now())
        body: dict[str, Any] = {"dag_run_id": name, "conf": conf or {}}
        if self._api_version == "v2":
            body["logical_date"] = None  # required key on Airflow 3.0; null = "now, no data interval"
        try:
            payload = self._invoke("POST", path, body=body, sensitive=True)
        except AirflowApiError as exc:
            if generated and is_conflict(exc):
                logger.info("dag run already created by an earlier attempt", extra={"dag_id": dag_id, "run_id": name})
                return DagRun(dag_id=dag_id, run_id=name)
            raise
        return parse_payload(_WireDagRun, payload, f"POST {path}").to_model()

    def list_import_errors(self) -> list[DagImportError]:
        return [
            parse_payload(_WireImportError, item, "GET /importErrors").to_model()
            for item in self._paginate("/importErrors", "import_errors")
        ]

    # -- variables --------------------------------------------------------------------------

    def get_variable(self, key: str) -> Variable | None:
        path = _path("/variables/", key, what="variable key")
        try:
            payload = self._invoke("GET", path, sensitive=True)
        except AirflowApiError as exc:
            if is_not_found(exc):
                return None
            raise
        return parse_payload(_WireVariable, payload, f"GET {path}").to_model()

    def set_variable(self, key: str, value: str, description: str | None) -> None:
        if not key:
            raise InvalidInputError("variable key must not be empty")
        body: dict[str, Any] = {"key": key, "value": value}
        if description is not None:
            body["description"] = description
        try:
            self._invoke("POST", "/variables", body=body, sensitive=True)
        except AirflowApiError as exc:
            if not is_conflict(exc):
                raise
            # v2 refuses to create an existing key; PATCH without update_mask replaces value (and description if sent).
            # Only this call puts the key in the path: v1's POST overwrites, so long keys still work there.
            self._invoke("PATCH", _path("/variables/", key, what="variable key"), body=body, sensitive=True)

    def delete_variable(self, key: str) -> None:
        path = _path("/variables/", key, what="variable key")
        try:
            self._invoke("DELETE", path)
        except AirflowApiError as exc:
            if not is_not_found(exc):
                raise

    def list_variables(self) -> list[Variable]:
        return [
            parse_payload(_WireVariable, item, "GET /variables").to_model()
            for item in self._paginate("/variables", "variables", sensitive=True)
        ]

    # -- pools ------------------------------------------------------------------------------

    def list_pools(self) -> list[Pool]:
        return [parse_payload(_WirePool, item, "GET /pools").to_model() for item in self._paginate("/pools", "pools")]

    def create_pool(self, pool: Pool) -> None:
        self._invoke("POST", "/pools", body=_pool_body(pool))

    def update_pool(self, pool: Pool) -> None:
        path = _path("/pools/", pool.name, what="pool name")
        if pool.name == DEFAULT_POOL:
            # Airflow refuses any other field on the default pool, and wants the mask to say so.
            self._invoke("PATCH", path, query={"update_mask": "slots"}, body={"name": pool.name, "slots": pool.slots})
            if pool.include_deferred is not None:
                body = {"name": pool.name, "include_deferred": pool.include_deferred}
                self._invoke("PATCH", path, query={"update_mask": "include_deferred"}, body=body)
            return
        self._invoke("PATCH", path, body=_pool_body(pool))

    def delete_pool(self, name: str) -> None:
        if name == DEFAULT_POOL:
            raise InvalidInputError("the default pool cannot be deleted")
        path = _path("/pools/", name, what="pool name")
        try:
            self._invoke("DELETE", path)
        except AirflowApiError as exc:
            if not is_not_found(exc):
                raise

    # -- connections ------------------------------------------------------------------------

    def list_connections(self) -> list[Connection]:
        return [
            parse_payload(_WireConnection, item, "GET /connections").to_model()
            for item in self._paginate("/connections", "connections", sensitive=True)
        ]

    def get_connection(self, connection_id: str) -> Connection | None:
        path = _path("/connections/", connection_id, what="connection id")
        try:
            payload = self._invoke("GET", path, sensitive=True)
        except AirflowApiError as exc:
            if is_not_found(exc):
                return None
            raise
        return parse_payload(_WireConnection, payload, f"GET {path}").to_model()

    def create_connection(self, connection: Connection) -> None:
        self._invoke("POST", "/connections", body=_connection_body(connection), sensitive=True)

    def patch_connection(self, connection: Connection, update_mask: Sequence[str] | None) -> None:
        path = _path("/connections/", connection.connection_id, what="connection id")
        query = {"update_mask": ",".join(update_mask)} if update_mask else None
        self._invoke("PATCH", path, query=query, body=_connection_body(connection), sensitive=True)

    def delete_connection(self, connection_id: str) -> None:
        path = _path("/connections/", connection_id, what="connection id")
        try:
            self._invoke("DELETE", path)
        except AirflowApiError as exc:
            if not is_not_found(exc):
                raise

    # -- what runs, what ran ----------------------------------------------------------------

    def get_dag_details(self, dag_id: str) -> DagDetails | None:
        path = _path("/dags/", dag_id, "/details", what="DAG id")
        try:
            payload = self._invoke("GET", path)
        except AirflowApiError as exc:
            if is_not_found(exc):
                return None
            raise
        return parse_payload(_WireDagDetails, payload, f"GET {path}").to_model(self._api_version)

    def list_dag_runs(self, states: Sequence[str]) -> list[DagRun]:
        path = f"/dags/{EVERY}/dagRuns"
        runs: dict[tuple[str, str], DagRun] = {}
        for state in states:
            for item in self._paginate(path, "dag_runs", query={"state": state}, sensitive=True):
                run = parse_payload(_WireDagRun, item, f"GET {path}").to_model()
                runs.setdefault((run.dag_id, run.run_id), run)
        return list(runs.values())

    def list_task_instances(self, states: Sequence[str]) -> list[TaskInstance]:
        path = f"/dags/{EVERY}/dagRuns/{EVERY}/taskInstances"
        found: dict[tuple[str, str, str | None, int | None], TaskInstance] = {}
        for state in states:
            for item in self._paginate(path, "task_instances", query={"state": state}):
                ti = parse_payload(_WireTaskInstance, item, f"GET {path}").to_model()
                found.setdefault((ti.dag_id, ti.task_id, ti.run_id, ti.map_index), ti)
        return list(found.values())

    def last_scheduled_run(self, dag_id: str) -> DagRun | None:
        path = _path("/dags/", dag_id, "/dagRuns", what="DAG id")
        if self._api_version == "v2":
            query = {"run_type": "scheduled", "order_by": "-logical_date", "limit": 1}
            payload = self._invoke("GET", path, query=query, sensitive=True)
            items, _ = _page(payload, "dag_runs", operation=f"GET {path}")
            return parse_payload(_WireDagRun, items[0], f"GET {path}").to_model() if items else None
        # v1 cannot filter on run_type: newest first, the first scheduled one wins.
        for item in self._paginate(path, "dag_runs", query={"order_by": "-execution_date"}, sensitive=True):
            run = parse_payload(_WireDagRun, item, f"GET {path}").to_model()
            if run.run_type == "scheduled" or (run.run_type is None and run.run_id.startswith("scheduled__")):
                return run
        return None

    # -- plumbing ---------------------------------------------------------------------------

    def _invoke(
        self,
        method: RestApiMethodType,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        sensitive: bool = False,
    ) -> object:
        operation = f"{method} {path}"

        def call() -> object:
            request: InvokeRestApiRequestTypeDef = {"Name": self._environment, "Path": path, "Method": method}
            if query:
                request["QueryParameters"] = query
            if body is not None:
                request["Body"] = body
            response = self._mwaa.invoke_rest_api(**request)
            status = response.get("RestApiStatusCode", 200)
            payload = response.get("RestApiResponse")
            # MWAA raises RestApiClient/ServerException for Airflow errors; this covers a 4xx/5xx that slips through.
            if isinstance(status, int) and status >= 400:
                raise HttpStatusError(status, payload)
            return payload

        return self._policy.call(operation, call, sensitive=sensitive, environment_status=self._environment_status)

    def _paginate(
        self, path: str, items_key: str, *, query: dict[str, Any] | None = None, sensitive: bool = False
    ) -> Iterator[object]:
        offset = 0
        for _ in range(_MAX_PAGES):
            page_query = {**(query or {}), "limit": PAGE_SIZE, "offset": offset}
            payload = self._invoke("GET", path, query=page_query, sensitive=sensitive)
            items, total = _page(payload, items_key, operation=f"GET {path}")
            yield from items
            offset += len(items)
            if not items or (total is not None and offset >= total) or (total is None and len(items) < PAGE_SIZE):
                return
        raise AirflowApiError(f"GET {path}: still paginating after {_MAX_PAGES} pages", status=200)


def parse_payload[W: BaseModel](model: type[W], payload: object, operation: str) -> W:
    """Validate one response item; a wrong shape becomes an AirflowApiError naming the field, never the value."""
    if not isinstance(payload, dict):
        raise AirflowApiError(f"{operation}: malformed response: expected an object, got {type(payload).__name__}")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise AirflowApiError(f"{operation}: malformed response: {validation_problems(exc)}") from None


def _page(payload: object, items_key: str, *, operation: str) -> tuple[list[object], int | None]:
    if not isinstance(payload, dict) or not isinstance(payload.get(items_key), list):
        raise AirflowApiError(f"{operation}: malformed response: expected a list under {items_key!r}")
    total = payload.get("total_entries")
    return list(payload[items_key]), total if isinstance(total, int) and not isinstance(total, bool) else None


def _pool_body(pool: Pool) -> dict[str, Any]:
    body: dict[str, Any] = {"name": pool.name, "slots": pool.slots}
    if pool.description is not None:
        body["description"] = pool.description
    if pool.include_deferred is not None:  # Airflow before 2.7 does not know the field
        body["include_deferred"] = pool.include_deferred
    return body


def _connection_body(connection: Connection) -> dict[str, Any]:
    """The POST/PATCH body: every field the connection has, never a password (the control plane holds none)."""
    if not connection.conn_type:
        raise InvalidInputError(f"connection {connection.connection_id!r} has no conn_type; Airflow requires one")
    body: dict[str, Any] = {"connection_id": connection.connection_id, "conn_type": connection.conn_type}
    for name, value in (
        ("description", connection.description),
        ("host", connection.host),
        ("login", connection.login),
        ("schema", connection.schema_name),
        ("port", connection.port),
        ("extra", connection.extra),
    ):
        if value is not None:
            body[name] = value
    return body


def _path(prefix: str, identifier: str, suffix: str = "", *, what: str) -> str:
    if not identifier:
        raise InvalidInputError(f"{what} must not be empty")
    path = f"{prefix}{quote(identifier, safe='')}{suffix}"
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidInputError(
            f"{what} {identifier!r} makes the InvokeRestApi path {len(path)} characters long;"
            f" MWAA accepts at most {MAX_PATH_LENGTH}"
        )
    return path
