"""The Airflow state a hibernate would lose, captured through the REST API before the delete and restored after.

Deleting an environment deletes its metadata database: variables, pools, pause states and
connections kept there are gone, and so is every DAG's run history. :func:`capture` reads
what the REST API can give back; :func:`restore` writes it into the recreated environment and
is idempotent, so a re-run after a partial restore finishes the job.

What the API cannot give back is a *secret at risk* (:class:`SecretAtRisk`): a connection's
password (v2 answers ``***`` when one is set; v1 never says, so there a login counts as a likely
password, and a password without a login cannot be seen), a connection extra that Airflow
masked (``***``: its secrets masker hides values under sensitive names), and a variable whose
value it masked. A sensitive-named value that comes back in clear (an Airflow that does not
mask it) is restorable, so not at risk. A connection that also exists in the SSM secrets
backend is not at risk either: the backend is looked up before the metadata database.
:func:`check_secrets` applies the ``mwaa-cp:connections`` policy. A masked value is never
written back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from botocore.exceptions import ClientError

from mwaa_control_plane.airflow.models import (
    DEFAULT_POOL,
    AirflowVersion,
    Connection,
    Dag,
    DagDetails,
    DagRun,
    Pool,
    Variable,
    format_version,
)
from mwaa_control_plane.airflow.resilience import is_conflict, is_not_found
from mwaa_control_plane.environments.change_request import Strict
from mwaa_control_plane.environments.offhours.tags import TAG_CONNECTIONS, ConnectionsPolicy
from mwaa_control_plane.errors import (
    AccessDeniedError,
    AirflowApiError,
    ConnectionSecretsWouldBeLostError,
    InvalidInputError,
    translate_client_error,
)
from mwaa_control_plane.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

MASK = "***"
"""How Airflow's secrets masker shows a value under a sensitive name (password, api_key, token, secret, ... and
MWAA's proxy, proxies: docs/mwaa-facts.md § Secrets backend), or a registered secret inside a string."""
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
SSM_DEFAULT_CONNECTIONS_PREFIX = "airflow/connections"
_SSM_BATCH = 10  # GetParameters takes at most 10 names
TIME_SCHEDULES = ("cron", "delta", "once")
TimetableKind = Literal["data-interval", "trigger"]


class AirflowStateClient(Protocol):
    """What capture and restore ask of Airflow; AirflowClient implements it."""

    @property
    def airflow_version(self) -> AirflowVersion: ...
    def list_variables(self) -> list[Variable]: ...
    def get_variable(self, key: str) -> Variable | None: ...
    def set_variable(self, key: str, value: str, description: str | None = None) -> None: ...
    def list_pools(self) -> list[Pool]: ...
    def create_pool(self, pool: Pool) -> None: ...
    def update_pool(self, pool: Pool) -> None: ...
    def list_connections(self) -> list[Connection]: ...
    def get_connection(self, connection_id: str) -> Connection | None: ...
    def create_connection(self, connection: Connection) -> None: ...
    def list_dags(self) -> list[Dag]: ...
    def get_dag_details(self, dag_id: str) -> DagDetails | None: ...
    def last_scheduled_run(self, dag_id: str) -> DagRun | None: ...
    def set_dag_paused(self, dag_id: str, paused: bool) -> None: ...


class SecretAtRisk(Strict):
    """A connection or variable whose secret the REST API cannot give back; reasons name keys, never values."""

    kind: Literal["connection", "variable"]
    key: str
    reasons: list[str]

    def describe(self) -> str:
        return f"{self.kind} '{self.key}': {'; '.join(self.reasons)}"


class SsmConnectionsBackend(Strict):
    """The SSM Parameter Store secrets backend's connection lookup, from the environment's configuration."""

    prefix: str
    lookup_pattern: str | None = None

    def parameter_name(self, connection_id: str) -> str | None:
        """The parameter Airflow reads for ``connection_id``, or None when the lookup pattern skips it."""
        if self.lookup_pattern and not re.match(self.lookup_pattern, connection_id, re.IGNORECASE):
            return None
        name = f"{self.prefix}/{connection_id}"
        return name if name.startswith("/") else f"/{name}"


class DagState(Strict):
    """One DAG as captured: pause state, what decides its runs, and its newest scheduled run."""

    dag_id: str
    is_paused: bool
    details: DagDetails | None = None
    last_scheduled_run: DagRun | None = None
    note: str | None = None
    """Why ``details`` or the last run could not be read."""


class AirflowState(Strict):
    """Everything :func:`restore` writes back, and what the catchup guard needs."""

    airflow_version: str
    captured_at: datetime
    variables: list[Variable] = []
    pools: list[Pool] = []
    connections: list[Connection] = []
    """Without passwords, masked extras removed: exactly what restore creates."""
    dags: list[DagState] = []
    secrets_at_risk: list[SecretAtRisk] = []
    connections_in_secrets_backend: list[str] = []
    """Connections with a secret that the SSM backend also holds (so nothing is lost)."""
    cron_timetable: TimetableKind = "data-interval"
    """How the scheduler reads a cron schedule: data intervals (Airflow 2), or trigger times (Airflow 3's default)."""
    delta_timetable: TimetableKind = "data-interval"
    catchup_by_default: bool = True


class RestoreReport(Strict):
    """What :func:`restore` did; ``pending_dags`` are DAGs Airflow has not parsed yet (run restore again)."""

    variables: int = 0
    pools: int = 0
    connections_created: list[str] = []
    connections_existing: list[str] = []
    """Already there (an earlier attempt or a person created them): left as they are."""
    paused: list[str] = []
    unpaused: list[str] = []
    unchanged: list[str] = []
    pending_dags: list[str] = []
    unreachable_dags: list[str] = []
    """DAG ids too long for InvokeRestApi's 64-character path: their pause state must be set by hand."""

    @property
    def complete(self) -> bool:
        return not self.pending_dags


# -- capture ---------------------------------------------------------------------------------------------------------


def capture(
    airflow: AirflowStateClient,
    *,
    configuration_options: Mapping[str, str],
    ssm: SSMClient | None,
    now: datetime,
) -> AirflowState:
    """Read variables, pools, connections and DAGs (pause state, schedule, last scheduled run) from Airflow.

    ``configuration_options`` are the environment's AirflowConfigurationOptions: they say whether
    connections live in the SSM backend (then ``ssm`` checks which) and how schedules are read.
    One REST call per DAG for details (plus one for the last run of a time-scheduled DAG), and on
    Airflow 2 one per variable and per connection: MWAA's ~10 calls/s make 200 DAGs about 40 s.
    """
    version = airflow.airflow_version
    variables, masked_variables = _variables(airflow)
    connections, at_risk = _connections(airflow)
    in_backend, at_risk = _in_secrets_backend(at_risk, ssm_connections_backend(configuration_options), ssm)
    cron_kind, delta_kind, catchup_default = _scheduler_reading(version, configuration_options)
    state = AirflowState(
        airflow_version=format_version(version),
        captured_at=now,
        variables=variables,
        pools=[_pool_definition(pool) for pool in airflow.list_pools()],
        connections=connections,
        dags=list(_dags(airflow)),
        secrets_at_risk=[*at_risk, *masked_variables],
        connections_in_secrets_backend=in_backend,
        cron_timetable=cron_kind,
        delta_timetable=delta_kind,
        catchup_by_default=catchup_default,
    )
    logger.info(
        "airflow state captured",
        extra={
            "variables": len(state.variables),
            "pools": len(state.pools),
            "connections": len(state.connections),
            "dags": len(state.dags),
            "secrets_at_risk": len(state.secrets_at_risk),
        },
    )
    return state


def check_secrets(state: AirflowState, policy: ConnectionsPolicy) -> list[str]:
    """The secrets a hibernate would lose, described; raises ConnectionSecretsWouldBeLostError under ``refuse``."""
    items = [secret.describe() for secret in state.secrets_at_risk]
    if items and policy == "refuse":
        raise ConnectionSecretsWouldBeLostError(
            f"hibernating would lose {len(items)} secret(s) the REST API cannot give back: {'; '.join(items)}."
            f" Keep them in the SSM secrets backend, or tag the environment {TAG_CONNECTIONS}=accept-loss",
            items,
        )
    return items


def ssm_connections_backend(configuration_options: Mapping[str, str]) -> SsmConnectionsBackend | None:
    """The SSM backend's connection lookup from ``secrets.backend`` and ``secrets.backend_kwargs``; None without one."""
    if configuration_options.get("secrets.backend", "").strip() != SSM_BACKEND:
        return None
    try:
        kwargs = json.loads(configuration_options.get("secrets.backend_kwargs") or "{}")
    except json.JSONDecodeError:
        return None  # Airflow cannot read it either: no connection is found there
    if not isinstance(kwargs, dict):
        return None
    prefix = kwargs.get("connections_prefix", SSM_DEFAULT_CONNECTIONS_PREFIX)
    if not isinstance(prefix, str) or not prefix.strip("/"):
        return None  # connections_prefix null: the backend looks up no connection
    pattern = kwargs.get("connections_lookup_pattern")
    return SsmConnectionsBackend(
        prefix=prefix.rstrip("/"), lookup_pattern=pattern if isinstance(pattern, str) and pattern else None
    )


def _variables(airflow: AirflowStateClient) -> tuple[list[Variable], list[SecretAtRisk]]:
    kept: list[Variable] = []
    masked: list[SecretAtRisk] = []
    for listed in airflow.list_variables():
        variable = listed if listed.value is not None else airflow.get_variable(listed.key)
        if variable is None or variable.value is None:
            continue  # deleted while we listed
        if MASK in variable.value:
            masked.append(SecretAtRisk(kind="variable", key=variable.key, reasons=["Airflow masks its value"]))
            continue
        kept.append(Variable(key=variable.key, value=variable.value, description=variable.description))
    return kept, masked


def _connections(airflow: AirflowStateClient) -> tuple[list[Connection], list[SecretAtRisk]]:
    kept: list[Connection] = []
    at_risk: list[SecretAtRisk] = []
    for listed in airflow.list_connections():
        connection = listed if listed.extra_known else airflow.get_connection(listed.connection_id)
        if connection is None:
            continue
        reasons = _secret_reasons(connection)
        if reasons:
            at_risk.append(SecretAtRisk(kind="connection", key=connection.connection_id, reasons=reasons))
        kept.append(_restorable(connection))
    return kept, at_risk


def _secret_reasons(connection: Connection) -> list[str]:
    reasons = []
    if connection.password_set:
        reasons.append("password")
    elif connection.password_set is None and connection.login:
        reasons.append("login set, and Airflow 2's REST API does not say whether a password goes with it")
    extra = _json_or_text(connection.extra)
    if isinstance(extra, dict):
        reasons += [f"extra key '{path}' (masked)" for path, value in _leaves(extra) if _is_masked(value)]
    elif connection.extra and MASK in connection.extra:
        reasons.append("extra (masked)")
    return reasons


def _restorable(connection: Connection) -> Connection:
    """The connection as restore creates it: masked extra values dropped (never write ``***`` back)."""
    extra = _json_or_text(connection.extra)
    cleaned = connection.extra
    if isinstance(extra, dict):
        cleaned = json.dumps(_without_masks(extra))
    elif cleaned is not None and MASK in cleaned:
        cleaned = None  # unstructured and masked: nothing of it can be written back
    return connection.model_copy(update={"extra": cleaned, "extra_known": True, "password_set": None})


def _in_secrets_backend(
    at_risk: list[SecretAtRisk], backend: SsmConnectionsBackend | None, ssm: SSMClient | None
) -> tuple[list[str], list[SecretAtRisk]]:
    if backend is None or ssm is None or not at_risk:
        return [], at_risk
    names = {secret.key: backend.parameter_name(secret.key) for secret in at_risk}
    wanted = sorted({name for name in names.values() if name})
    try:
        found = _existing_parameters(ssm, wanted)
    except AccessDeniedError:
        note = "could not check the SSM secrets backend: access denied"
        return [], [secret.model_copy(update={"reasons": [*secret.reasons, note]}) for secret in at_risk]
    in_backend = sorted(key for key, name in names.items() if name in found)
    return in_backend, [secret for secret in at_risk if secret.key not in in_backend]


def _existing_parameters(ssm: SSMClient, names: Sequence[str]) -> set[str]:
    """Which of ``names`` exist; values are not decrypted (only existence matters)."""
    found: set[str] = set()
    for start in range(0, len(names), _SSM_BATCH):
        try:
            answer = ssm.get_parameters(Names=list(names[start : start + _SSM_BATCH]), WithDecryption=False)
        except ClientError as exc:
            raise translate_client_error(exc, operation="SSM GetParameters") from exc
        found.update(parameter["Name"] for parameter in answer.get("Parameters", []) if "Name" in parameter)
    return found


def _pool_definition(pool: Pool) -> Pool:
    """What defines a pool (its occupancy is a moment's, not state)."""
    return Pool(name=pool.name, slots=pool.slots, description=pool.description, include_deferred=pool.include_deferred)


def _dags(airflow: AirflowStateClient) -> Iterator[DagState]:
    for dag in airflow.list_dags():
        if dag.is_active is False:
            continue  # its file is gone: it will not come back with the environment
        try:
            details = airflow.get_dag_details(dag.dag_id)
        except InvalidInputError as exc:  # a DAG id too long for InvokeRestApi's 64-character path
            yield DagState(dag_id=dag.dag_id, is_paused=bool(dag.is_paused), note=str(exc))
            continue
        if details is None:
            continue  # deleted while we listed
        last = None
        if details.schedule.kind in TIME_SCHEDULES:
            last = airflow.last_scheduled_run(dag.dag_id)
        paused = details.is_paused if details.is_paused is not None else dag.is_paused
        yield DagState(dag_id=dag.dag_id, is_paused=bool(paused), details=details, last_scheduled_run=last)


def _scheduler_reading(
    version: AirflowVersion, options: Mapping[str, str]
) -> tuple[TimetableKind, TimetableKind, bool]:
    """How this Airflow reads cron and delta schedules, and its catchup default (Airflow 3 changed all three)."""
    if version[0] < 3:
        return "data-interval", "data-interval", _flag(options.get("scheduler.catchup_by_default"), default=True)
    cron: TimetableKind = (
        "data-interval" if _flag(options.get("scheduler.create_cron_data_intervals"), default=False) else "trigger"
    )
    delta: TimetableKind = (
        "data-interval" if _flag(options.get("scheduler.create_delta_data_intervals"), default=True) else "trigger"
    )
    return cron, delta, _flag(options.get("scheduler.catchup_by_default"), default=False)


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("true", "1", "t", "yes", "y", "on")


def _json_or_text(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except (json.JSONDecodeError, ValueError):
        return value


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, path)
    elif path:
        yield path, value


def _is_masked(value: Any) -> bool:
    return isinstance(value, str) and MASK in value


def _without_masks(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_masks(item) for key, item in value.items() if not _is_masked(item)}
    if isinstance(value, list):
        return [_without_masks(item) for item in value if not _is_masked(item)]
    return value


# -- restore ---------------------------------------------------------------------------------------------------------


def restore(airflow: AirflowStateClient, state: AirflowState, *, unpause: Collection[str]) -> RestoreReport:
    """Write ``state`` into a recreated environment; idempotent. Only DAGs in ``unpause`` end unpaused.

    ``unpause`` comes from the catchup guard (``catchup.dags_to_unpause``): every other captured
    DAG is paused, whatever Airflow's ``dags_are_paused_at_creation``. Variables are overwritten
    with the captured values; pools created or set; connections created, and one that already
    exists is left as it is (it may hold a secret someone entered since). A DAG Airflow has not
    parsed yet is ``pending``: run restore again once it has.
    """
    for variable in state.variables:
        assert variable.value is not None  # capture keeps only variables with a value
        airflow.set_variable(variable.key, variable.value, variable.description)
    current_pools = {pool.name: pool for pool in airflow.list_pools()}
    for pool in state.pools:
        _restore_pool(airflow, pool, current_pools.get(pool.name))
    created: list[str] = []
    existing: list[str] = []
    for connection in state.connections:
        try:
            airflow.create_connection(connection)
        except AirflowApiError as exc:
            if not is_conflict(exc):
                raise
            existing.append(connection.connection_id)
        else:
            created.append(connection.connection_id)
    report = _restore_pause_states(airflow, state, unpause)
    report = report.model_copy(
        update={
            "variables": len(state.variables),
            "pools": len(state.pools),
            "connections_created": created,
            "connections_existing": existing,
        }
    )
    logger.info(
        "airflow state restored",
        extra={
            "variables": report.variables,
            "pools": report.pools,
            "connections_created": len(created),
            "paused": len(report.paused),
            "unpaused": len(report.unpaused),
            "pending_dags": len(report.pending_dags),
        },
    )
    return report


def _restore_pool(airflow: AirflowStateClient, pool: Pool, current: Pool | None) -> None:
    if current is None:
        try:
            airflow.create_pool(pool)
        except AirflowApiError as exc:
            if not is_conflict(exc):
                raise
            airflow.update_pool(pool)  # created since we listed
        return
    if pool.name == DEFAULT_POOL:
        # Every environment has it; Airflow lets only its slots and include_deferred change.
        if (pool.slots, pool.include_deferred) == (current.slots, current.include_deferred):
            return
        unchanged_deferred = pool.include_deferred == current.include_deferred
        airflow.update_pool(pool.model_copy(update={"include_deferred": None}) if unchanged_deferred else pool)
        return
    if _pool_definition(current) != pool:
        airflow.update_pool(pool)


def _restore_pause_states(airflow: AirflowStateClient, state: AirflowState, unpause: Collection[str]) -> RestoreReport:
    present = {dag.dag_id: dag for dag in airflow.list_dags()}
    paused: list[str] = []
    unpaused: list[str] = []
    unchanged: list[str] = []
    pending: list[str] = []
    unreachable: list[str] = []
    for captured in state.dags:
        target = captured.is_paused or captured.dag_id not in unpause
        dag = present.get(captured.dag_id)
        if dag is None:
            pending.append(captured.dag_id)
            continue
        if dag.is_paused is target:
            unchanged.append(captured.dag_id)
            continue
        try:
            airflow.set_dag_paused(captured.dag_id, target)
        except InvalidInputError:
            unreachable.append(captured.dag_id)
            continue
        except AirflowApiError as exc:
            if not is_not_found(exc):
                raise
            pending.append(captured.dag_id)
            continue
        (paused if target else unpaused).append(captured.dag_id)
    return RestoreReport(
        paused=paused, unpaused=unpaused, unchanged=unchanged, pending_dags=pending, unreachable_dags=unreachable
    )
