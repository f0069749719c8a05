"""An in-memory Airflow as the off-hours code sees it (AirflowStateClient and DrainReader), REST v1 or v2 flavoured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mwaa_control_plane.airflow.models import (
    DEFAULT_POOL,
    AirflowVersion,
    Connection,
    Dag,
    DagDetails,
    DagRun,
    Pool,
    TaskInstance,
    Variable,
)
from mwaa_control_plane.errors import AirflowApiError


def conflict(what: str) -> AirflowApiError:
    return AirflowApiError(f"{what} already exists", status=409)


def not_found(what: str) -> AirflowApiError:
    return AirflowApiError(f"{what} not found", status=404)


@dataclass
class FakeAirflow:
    """Variables, pools, connections and DAGs of one environment; ``version`` decides the v1/v2 listing shapes."""

    version: AirflowVersion = (2, 10, 3)
    variables: dict[str, Variable] = field(default_factory=dict)
    pools: dict[str, Pool] = field(default_factory=lambda: {DEFAULT_POOL: Pool(name=DEFAULT_POOL, slots=128)})
    connections: dict[str, Connection] = field(default_factory=dict)
    details: dict[str, DagDetails] = field(default_factory=dict)
    runs: dict[str, DagRun] = field(default_factory=dict)
    active: dict[str, bool] = field(default_factory=dict)
    tasks: list[TaskInstance] = field(default_factory=list)
    dag_runs: list[DagRun] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    fail_on: dict[str, Exception] = field(default_factory=dict)

    @property
    def airflow_version(self) -> AirflowVersion:
        return self.version

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail_on:
            raise self.fail_on.pop(name)

    # -- variables --------------------------------------------------------------------------

    def list_variables(self) -> list[Variable]:
        self._call("list_variables")
        if self.version[0] >= 3:
            return list(self.variables.values())
        return [Variable(key=v.key, description=v.description) for v in self.variables.values()]  # v1: keys only

    def get_variable(self, key: str) -> Variable | None:
        self._call(f"get_variable {key}")
        return self.variables.get(key)

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        self._call(f"set_variable {key}")
        self.variables[key] = Variable(key=key, value=value, description=description)

    # -- pools ------------------------------------------------------------------------------

    def list_pools(self) -> list[Pool]:
        self._call("list_pools")
        return [p.model_copy(update={"occupied_slots": 1, "open_slots": p.slots - 1}) for p in self.pools.values()]

    def create_pool(self, pool: Pool) -> None:
        self._call(f"create_pool {pool.name}")
        if pool.name in self.pools:
            raise conflict(pool.name)
        self.pools[pool.name] = pool

    def update_pool(self, pool: Pool) -> None:
        self._call(f"update_pool {pool.name}")
        if pool.name not in self.pools:
            raise not_found(pool.name)
        if pool.name == DEFAULT_POOL:
            current = self.pools[pool.name]
            pool = current.model_copy(update={"slots": pool.slots, "include_deferred": pool.include_deferred})
        self.pools[pool.name] = pool

    # -- connections ------------------------------------------------------------------------

    def list_connections(self) -> list[Connection]:
        self._call("list_connections")
        if self.version[0] >= 3:
            return list(self.connections.values())
        return [  # v1 lists without extra and never tells about a password
            c.model_copy(update={"extra": None, "extra_known": False, "password_set": None})
            for c in self.connections.values()
        ]

    def get_connection(self, connection_id: str) -> Connection | None:
        self._call(f"get_connection {connection_id}")
        connection = self.connections.get(connection_id)
        if connection is not None and self.version[0] < 3:
            return connection.model_copy(update={"password_set": None})
        return connection

    def create_connection(self, connection: Connection) -> None:
        self._call(f"create_connection {connection.connection_id}")
        if connection.connection_id in self.connections:
            raise conflict(connection.connection_id)
        self.connections[connection.connection_id] = connection

    # -- DAGs -------------------------------------------------------------------------------

    def add_dag(self, details: DagDetails, *, last_run: DagRun | None = None, active: bool = True) -> None:
        self.details[details.dag_id] = details
        self.active[details.dag_id] = active
        if last_run is not None:
            self.runs[details.dag_id] = last_run

    def list_dags(self) -> list[Dag]:
        self._call("list_dags")
        return [
            Dag(dag_id=d.dag_id, is_paused=d.is_paused, is_active=self.active.get(d.dag_id, True))
            for d in self.details.values()
        ]

    def get_dag_details(self, dag_id: str) -> DagDetails | None:
        self._call(f"get_dag_details {dag_id}")
        return self.details.get(dag_id)

    def last_scheduled_run(self, dag_id: str) -> DagRun | None:
        self._call(f"last_scheduled_run {dag_id}")
        return self.runs.get(dag_id)

    def set_dag_paused(self, dag_id: str, paused: bool) -> None:
        self._call(f"set_dag_paused {dag_id} {paused}")
        if dag_id not in self.details:
            raise not_found(dag_id)
        self.details[dag_id] = self.details[dag_id].model_copy(update={"is_paused": paused})

    # -- what runs --------------------------------------------------------------------------

    def list_task_instances(self, states: Sequence[str]) -> list[TaskInstance]:
        self._call("list_task_instances")
        return [t for t in self.tasks if t.state in states]

    def list_dag_runs(self, states: Sequence[str]) -> list[DagRun]:
        self._call("list_dag_runs")
        return [r for r in self.dag_runs if r.state in states]

    @property
    def paused(self) -> dict[str, bool | None]:
        return {dag_id: d.is_paused for dag_id, d in self.details.items()}
