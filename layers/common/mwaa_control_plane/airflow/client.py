"""One client for the Airflow inside an MWAA environment, whatever its version.

:class:`AirflowClient` asks ``GetEnvironment`` once for the Airflow version and then talks
through ``InvokeRestApi`` (API v1 on Airflow 2.4.3+, v2 on Airflow 3) or, before 2.4.3,
through the CLI endpoint. Every call is paced under MWAA's ~10 requests/s and retried on
throttling and transient failures; callers get the normalised models of
:mod:`mwaa_control_plane.airflow.models` and the errors of :mod:`mwaa_control_plane.errors`.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from mwaa_control_plane import clients
from mwaa_control_plane.airflow.cli import DEFAULT_TOKEN_TTL_SECONDS, CliBackend
from mwaa_control_plane.airflow.models import (
    REST_API_MIN_VERSION,
    AirflowVersion,
    Connection,
    Dag,
    DagDetails,
    DagImportError,
    DagRun,
    Pool,
    TaskInstance,
    Variable,
    format_version,
    parse_airflow_version,
)
from mwaa_control_plane.airflow.ratelimit import RateLimiter
from mwaa_control_plane.airflow.resilience import RetryPolicy
from mwaa_control_plane.airflow.rest import RestBackend
from mwaa_control_plane.airflow.transport import CliTransport, get_default_transport
from mwaa_control_plane.errors import InvalidInputError, UnsupportedAirflowVersionError
from mwaa_control_plane.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient

    from mwaa_control_plane.clock import Clock

Interface = Literal["rest-v1", "rest-v2", "cli"]

_CLI_MIN_VERSION: AirflowVersion = (2, 0, 0)  # Airflow 1.10's CLI has other command names


class AirflowBackend(Protocol):
    """What both interfaces (REST and CLI) implement; the client picks one per environment."""

    def list_dags(self) -> list[Dag]: ...
    def get_dag(self, dag_id: str) -> Dag | None: ...
    def set_dag_paused(self, dag_id: str, paused: bool) -> None: ...
    def trigger_dag_run(self, dag_id: str, conf: dict[str, Any] | None, run_id: str | None) -> DagRun: ...
    def list_import_errors(self) -> list[DagImportError]: ...
    def get_variable(self, key: str) -> Variable | None: ...
    def set_variable(self, key: str, value: str, description: str | None) -> None: ...
    def delete_variable(self, key: str) -> None: ...
    def list_variables(self) -> list[Variable]: ...
    def list_pools(self) -> list[Pool]: ...


@dataclass(frozen=True)
class EnvironmentInfo:
    airflow_version: AirflowVersion
    webserver_hostname: str | None


def interface_for(version: AirflowVersion) -> Interface:
    """Which interface serves an Airflow version; UnsupportedAirflowVersionError before 2.0."""
    if version < _CLI_MIN_VERSION:
        raise UnsupportedAirflowVersionError(f"Airflow {format_version(version)} is not supported (2.0 or later)")
    if version < REST_API_MIN_VERSION:
        return "cli"
    return "rest-v1" if version[0] == 2 else "rest-v2"


class AirflowClient:
    """Airflow operations on one MWAA environment; the version decides REST v1, REST v2 or the CLI."""

    def __init__(
        self,
        mwaa: MWAAClient,
        environment: str,
        *,
        clock: Clock,
        transport: CliTransport | None = None,
        rate_limiter: RateLimiter | None = None,
        max_attempts: int = 5,
        random: Callable[[], float] = _random.random,
        cli_token_ttl_seconds: float = DEFAULT_TOKEN_TTL_SECONDS,
    ) -> None:
        if not environment:
            raise InvalidInputError("environment name must not be empty")
        self._mwaa = mwaa
        self._environment = environment
        self._clock = clock
        self._transport = transport
        self._cli_token_ttl = cli_token_ttl_seconds
        self._policy = RetryPolicy(
            clock=clock, rate_limiter=rate_limiter or RateLimiter(clock), max_attempts=max_attempts, random=random
        )
        self._info: EnvironmentInfo | None = None
        self._backend: AirflowBackend | None = None

    @classmethod
    def for_environment(cls, environment: str, *, region: str | None, clock: Clock) -> AirflowClient:
        """The client a Lambda uses: botocore does not retry, so RetryPolicy alone paces and retries."""
        return cls(clients.mwaa(region, max_attempts=1), environment, clock=clock)

    # -- what the environment runs ----------------------------------------------------------

    @property
    def airflow_version(self) -> AirflowVersion:
        return self._describe().airflow_version

    @property
    def webserver_hostname(self) -> str | None:
        return self._describe().webserver_hostname

    @property
    def interface(self) -> Interface:
        return interface_for(self.airflow_version)

    # -- DAGs -------------------------------------------------------------------------------

    def list_dags(self) -> list[Dag]:
        """Every DAG Airflow knows (all pages)."""
        return self._use().list_dags()

    def get_dag(self, dag_id: str) -> Dag | None:
        """The DAG, or None when Airflow does not know it."""
        return self._use().get_dag(dag_id)

    def set_dag_paused(self, dag_id: str, paused: bool) -> None:
        """Pause or unpause a DAG; AirflowApiError(status=404) when it does not exist."""
        self._use().set_dag_paused(dag_id, paused)
        logger.info("dag pause state set", extra={"environment": self._environment, "dag_id": dag_id, "paused": paused})

    def trigger_dag_run(self, dag_id: str, conf: dict[str, Any] | None = None, *, run_id: str | None = None) -> DagRun:
        """Start a DAG run now. Without ``run_id`` one is generated, so a retried call cannot start two runs."""
        run = self._use().trigger_dag_run(dag_id, conf, run_id)
        logger.info(
            "dag run triggered", extra={"environment": self._environment, "dag_id": dag_id, "run_id": run.run_id}
        )
        return run

    def list_import_errors(self) -> list[DagImportError]:
        """Files Airflow failed to import, with their stack traces."""
        return self._use().list_import_errors()

    # -- variables --------------------------------------------------------------------------

    def get_variable(self, key: str) -> Variable | None:
        """The variable with its value, or None when it does not exist."""
        return self._use().get_variable(key)

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        """Create or overwrite a variable. ``description=None`` leaves an existing description where the API allows."""
        self._use().set_variable(key, value, description)
        logger.info("variable set", extra={"environment": self._environment, "key": key})

    def delete_variable(self, key: str) -> None:
        """Delete a variable; deleting a missing one is not an error."""
        self._use().delete_variable(key)
        logger.info("variable deleted", extra={"environment": self._environment, "key": key})

    def list_variables(self) -> list[Variable]:
        """Every variable; ``value`` is None where the interface lists keys only (REST v1, CLI)."""
        return self._use().list_variables()

    # -- pools ------------------------------------------------------------------------------

    def list_pools(self) -> list[Pool]:
        return self._use().list_pools()

    def create_pool(self, pool: Pool) -> None:
        """Create a pool; AirflowApiError(status=409) when it exists. REST only."""
        self._rest("create pools").create_pool(pool)
        logger.info("pool created", extra={"environment": self._environment, "pool": pool.name})

    def update_pool(self, pool: Pool) -> None:
        """Set an existing pool's slots, description and include_deferred (``default_pool``: slots and
        include_deferred only, as Airflow allows); AirflowApiError(status=404) when it does not exist. REST only."""
        self._rest("update pools").update_pool(pool)
        logger.info("pool updated", extra={"environment": self._environment, "pool": pool.name})

    def delete_pool(self, name: str) -> None:
        """Delete a pool; a missing one is not an error, ``default_pool`` is refused. REST only."""
        self._rest("delete pools").delete_pool(name)
        logger.info("pool deleted", extra={"environment": self._environment, "pool": name})

    # -- connections ------------------------------------------------------------------------

    def list_connections(self) -> list[Connection]:
        """Every connection of the metadata database (all pages). Never a password; on REST v1 without
        ``extra`` (``extra_known`` is False: ask :meth:`get_connection`). REST only."""
        return self._rest("list connections").list_connections()

    def get_connection(self, connection_id: str) -> Connection | None:
        """One connection with its (masked) extra, or None when it does not exist. REST only."""
        return self._rest("read connections").get_connection(connection_id)

    def create_connection(self, connection: Connection) -> None:
        """Create a connection without a password; AirflowApiError(status=409) when it exists. REST only."""
        self._rest("create connections").create_connection(connection)
        logger.info(
            "connection created", extra={"environment": self._environment, "connection_id": connection.connection_id}
        )

    def patch_connection(self, connection: Connection, update_mask: Sequence[str] | None = None) -> None:
        """Overwrite a connection's fields (only ``update_mask`` when given; a password is never sent). REST only."""
        self._rest("update connections").patch_connection(connection, update_mask)
        logger.info(
            "connection updated", extra={"environment": self._environment, "connection_id": connection.connection_id}
        )

    def delete_connection(self, connection_id: str) -> None:
        """Delete a connection; a missing one is not an error. REST only."""
        self._rest("delete connections").delete_connection(connection_id)
        logger.info("connection deleted", extra={"environment": self._environment, "connection_id": connection_id})

    # -- schedules and runs -----------------------------------------------------------------

    def get_dag_details(self, dag_id: str) -> DagDetails | None:
        """Schedule, catchup, start/end date, zone and pause state of a DAG; None when Airflow does not know it."""
        return self._rest("read DAG details").get_dag_details(dag_id)

    def list_dag_runs(self, states: Sequence[str]) -> list[DagRun]:
        """The DAG runs of every DAG in any of ``states`` (e.g. ``("running", "queued")``). REST only."""
        return self._rest("list DAG runs").list_dag_runs(states)

    def list_task_instances(self, states: Sequence[str]) -> list[TaskInstance]:
        """The task instances of every DAG run in any of ``states`` (e.g. ``("running", "queued")``). REST only."""
        return self._rest("list task instances").list_task_instances(states)

    def last_scheduled_run(self, dag_id: str) -> DagRun | None:
        """The DAG's newest run of type ``scheduled`` (manual and backfill runs do not count), or None. REST only."""
        return self._rest("read DAG runs").last_scheduled_run(dag_id)

    # -- plumbing ---------------------------------------------------------------------------

    def _describe(self) -> EnvironmentInfo:
        if self._info is None:
            response = self._policy.call("GetEnvironment", lambda: self._mwaa.get_environment(Name=self._environment))
            environment = response.get("Environment", {})
            version_text = environment.get("AirflowVersion")
            if not version_text:
                raise UnsupportedAirflowVersionError(f"environment {self._environment} reports no Airflow version")
            self._info = EnvironmentInfo(
                airflow_version=parse_airflow_version(version_text),
                webserver_hostname=environment.get("WebserverUrl") or None,
            )
        return self._info

    def _current_status(self) -> str | None:
        """A fresh status, asked only to tell "environment busy" from bad input; one call, no retries."""
        return self._mwaa.get_environment(Name=self._environment).get("Environment", {}).get("Status")

    def _rest(self, what: str) -> RestBackend:
        """The REST backend; the CLI endpoint (Airflow < 2.4.3, no longer offered by MWAA) cannot do ``what``."""
        backend = self._use()
        if not isinstance(backend, RestBackend):
            raise UnsupportedAirflowVersionError(
                f"environment {self._environment} runs Airflow {format_version(self.airflow_version)}: "
                f"only the REST API (Airflow {format_version(REST_API_MIN_VERSION)} or later) can {what}"
            )
        return backend

    def _use(self) -> AirflowBackend:
        if self._backend is None:
            info = self._describe()
            interface = interface_for(info.airflow_version)
            if interface == "cli":
                self._backend = CliBackend(
                    self._mwaa,
                    self._environment,
                    transport=self._transport or get_default_transport(),
                    policy=self._policy,
                    clock=self._clock,
                    token_ttl_seconds=self._cli_token_ttl,
                )
            else:
                self._backend = RestBackend(
                    self._mwaa,
                    self._environment,
                    api_version="v1" if interface == "rest-v1" else "v2",
                    policy=self._policy,
                    clock=self._clock,
                    environment_status=self._current_status,
                )
            logger.info(
                "airflow interface selected",
                extra={
                    "environment": self._environment,
                    "airflow_version": format_version(info.airflow_version),
                    "interface": interface,
                },
            )
        return self._backend
