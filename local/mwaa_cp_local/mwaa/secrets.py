"""The emulated Airflow's secrets backend: variables and connections read from SSM Parameter Store.

Airflow looks a variable or connection up in its configured secrets backend first, then in
environment variables (``AIRFLOW_VAR_*`` / ``AIRFLOW_CONN_*``: the emulator has none), then in
the metadata database. This module is the first step for the one backend MWAA users configure::

    secrets.backend = airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend
    secrets.backend_kwargs = {"variables_prefix": "/airflow/variables", "connections_prefix": "/airflow/connections"}

How the emulator reads the configuration (``AirflowInstance.configuration``, the environment's
AirflowConfigurationOptions as ``section.option`` keys):

* ``variables_prefix`` / ``connections_prefix`` default to ``airflow/variables`` and
  ``airflow/connections``; a trailing "/" is dropped, a leading "/" added, and the parameter read
  is ``/<prefix>/<key>``. A prefix set to ``null`` turns that lookup off.
* ``variables_lookup_pattern`` / ``connections_lookup_pattern``: ``re.match``, case-insensitive,
  against the key; a key that does not match is not looked up at all.
* Without ``secrets.backend_kwargs`` the MWAA image's own kwargs apply:
  ``{"connections_lookup_pattern": "^(?!aws_default$).*"}`` (:data:`MWAA_IMAGE_KWARGS`), so
  ``aws_default`` is never read from SSM. Setting ``secrets.backend_kwargs`` replaces them.
* Airflow 3: a task on a worker uses ``workers.secrets_backend`` (else ``secrets.backend``) with
  ``workers.secrets_backend_kwargs`` (else the image's kwargs, never ``secrets.backend_kwargs``);
  the CLI, scheduler and DAG processor use the ``secrets.*`` options. Airflow 2 workers use
  ``secrets.*`` too. ``on="worker"`` selects the worker's view.
* Values are read with decryption (a SecureString comes back as plain text) straight from moto's
  SSM backend of the environment's account and region (no HTTP round trip, so no fault
  injection or usage metering applies, and it works from any thread). A missing parameter, an
  invalid name, or a connection value that cannot be parsed falls through to the metadata
  database, as Airflow does (it logs and tries the next backend). Every parameter name read is
  appended to ``AirflowInstance.secrets_lookups``, so tests can assert what was looked up.
* Invalid JSON in the kwargs option raises :class:`SecretsBackendConfigError` (Airflow refuses to
  start such a backend; the CLI reports it on stderr).

Connection values are Airflow's URI form (``postgresql://user:pass@host:5432/db?sslmode=require``,
percent-encoded parts, ``__extra__=<json>`` for a whole extra, ``-`` in the scheme read as ``_``,
``postgresql`` read as ``postgres``) or, as Airflow 2.3+ accepts, a JSON object with
``conn_type``, ``description``, ``host``, ``login``, ``password``, ``schema``, ``port`` and
``extra`` (an object or a JSON string).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

if TYPE_CHECKING:
    from mwaa_cp_local.mwaa.airflow import AirflowInstance, Connection

SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
MWAA_IMAGE_KWARGS: Mapping[str, Any] = {"connections_lookup_pattern": "^(?!aws_default$).*"}
DEFAULT_VARIABLES_PREFIX = "airflow/variables"
DEFAULT_CONNECTIONS_PREFIX = "airflow/connections"

Side = Literal["scheduler", "worker"]
Kind = Literal["variables", "connections"]
# Reads one parameter with decryption: its value, or None when it does not exist.
ParameterReader = Callable[[str], "str | None"]


class SecretsBackendConfigError(Exception):
    """The backend's kwargs option is not a JSON object: Airflow cannot build the backend."""


class InvalidConnectionError(ValueError):
    """A connection value in SSM that is neither Airflow's URI form nor its JSON form."""


@dataclass(frozen=True)
class ParameterStoreBackend:
    """The SSM backend one Airflow process uses: where it looks for variables and connections."""

    variables_prefix: str | None = DEFAULT_VARIABLES_PREFIX
    connections_prefix: str | None = DEFAULT_CONNECTIONS_PREFIX
    variables_lookup_pattern: str | None = None
    connections_lookup_pattern: str | None = None

    def parameter_name(self, kind: Kind, key: str) -> str | None:
        """The parameter read for ``key``, or None when this backend does not look ``key`` up."""
        prefix = self.variables_prefix if kind == "variables" else self.connections_prefix
        pattern = self.variables_lookup_pattern if kind == "variables" else self.connections_lookup_pattern
        if prefix is None:
            return None
        if pattern is not None and re.match(pattern, key, re.IGNORECASE) is None:
            return None
        name = f"{prefix.rstrip('/')}/{key}"
        return name if name.startswith("/") else f"/{name}"


def configured_backend(
    configuration: Mapping[str, str], *, major: int, on: Side = "scheduler"
) -> ParameterStoreBackend | None:
    """The SSM backend the configuration gives a process ``on`` the scheduler or a worker; None without one."""
    if major >= 3 and on == "worker":
        backend_class = configuration.get("workers.secrets_backend") or configuration.get("secrets.backend")
        kwargs_option = "workers.secrets_backend_kwargs"
    else:
        backend_class = configuration.get("secrets.backend")
        kwargs_option = "secrets.backend_kwargs"
    if (backend_class or "").strip() != SSM_BACKEND:
        return None
    text = configuration.get(kwargs_option)
    if text is None or not text.strip():
        kwargs: Mapping[str, Any] = MWAA_IMAGE_KWARGS
    else:
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SecretsBackendConfigError(f"{kwargs_option} is not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise SecretsBackendConfigError(f"{kwargs_option} must be a JSON object")
        kwargs = parsed

    def text_or_none(name: str, default: str | None) -> str | None:
        value = kwargs.get(name, default)
        return None if value is None else str(value)

    return ParameterStoreBackend(
        variables_prefix=text_or_none("variables_prefix", DEFAULT_VARIABLES_PREFIX),
        connections_prefix=text_or_none("connections_prefix", DEFAULT_CONNECTIONS_PREFIX),
        variables_lookup_pattern=text_or_none("variables_lookup_pattern", None),
        connections_lookup_pattern=text_or_none("connections_lookup_pattern", None),
    )


# ---------------------------------------------------------------------------------------------- reading SSM
def moto_reader(account_id: str, region: str) -> ParameterReader:
    """Read parameters, decrypted, from moto's SSM backend of ``account_id`` / ``region``."""

    def read(name: str) -> str | None:
        from moto.ssm.models import ssm_backends

        backend = ssm_backends[account_id][region]
        try:
            parameter = backend.get_parameter(name)
        except Exception:  # an invalid name or version selector: Airflow logs it and tries the next backend
            return None
        if parameter is None:
            return None
        value = parameter.decrypt(parameter.value)
        return None if value is None else str(value)

    return read


def instance_location(instance: AirflowInstance) -> tuple[str, str] | None:
    """(account, region) of the environment running ``instance``; None when no environment holds it."""
    from mwaa_cp_local.mwaa.models import all_backends

    for backend in all_backends():
        for environment in list(backend.environments.values()):
            if environment.airflow is instance:
                return str(environment.account_id), str(environment.region)
    return None


def _reader_for(instance: AirflowInstance, reader: ParameterReader | None) -> ParameterReader | None:
    if reader is not None:
        return reader
    location = instance_location(instance)
    return moto_reader(*location) if location is not None else None


# ---------------------------------------------------------------------------------------------- lookups
@dataclass(frozen=True)
class Lookup:
    """Where a value was found: ``source`` is "secrets_backend", "metastore" or None (nowhere)."""

    source: str | None
    value: Any = None
    parameter: str | None = None  # the SSM parameter looked up, if one was
    errors: tuple[str, ...] = field(default_factory=tuple)


def _from_backend(
    instance: AirflowInstance, kind: Kind, key: str, on: Side, reader: ParameterReader | None
) -> tuple[str | None, str | None]:
    backend = configured_backend(instance.configuration, major=instance.major, on=on)
    name = backend.parameter_name(kind, key) if backend is not None else None
    if name is None:
        return None, None
    instance.secrets_lookups.append(name)
    read = _reader_for(instance, reader)
    return name, (read(name) if read is not None else None)


def lookup_variable(
    instance: AirflowInstance, key: str, *, on: Side = "scheduler", reader: ParameterReader | None = None
) -> Lookup:
    """Look ``key`` up as ``Variable.get`` does: the SSM backend, then the metadata database."""
    name, value = _from_backend(instance, "variables", key, on, reader)
    if value is not None:
        return Lookup("secrets_backend", value, name)
    variable = instance.variables.get(key)
    if variable is not None:
        return Lookup("metastore", variable.value, name)
    return Lookup(None, None, name)


def lookup_connection(
    instance: AirflowInstance, conn_id: str, *, on: Side = "scheduler", reader: ParameterReader | None = None
) -> Lookup:
    """Look ``conn_id`` up as ``BaseHook.get_connection`` does: the SSM backend, then the metadata database."""
    name, value = _from_backend(instance, "connections", conn_id, on, reader)
    errors: tuple[str, ...] = ()
    if value is not None:
        try:
            return Lookup("secrets_backend", parse_connection(value), name)
        except InvalidConnectionError as exc:
            errors = (
                f"Unable to retrieve connection from secrets backend (SystemsManagerParameterStoreBackend): {exc}. "
                "Checking subsequent secrets backend.",
            )
    connection = instance.connections.get(conn_id)
    if connection is not None:
        return Lookup("metastore", connection, name, errors)
    return Lookup(None, None, name, errors)


def read_variable(
    instance: AirflowInstance, key: str, *, on: Side = "scheduler", reader: ParameterReader | None = None
) -> str | None:
    """The value a task (``on="worker"``) or the scheduler/CLI sees for variable ``key``; None if none."""
    value = lookup_variable(instance, key, on=on, reader=reader).value
    return None if value is None else str(value)


def read_connection(
    instance: AirflowInstance, conn_id: str, *, on: Side = "scheduler", reader: ParameterReader | None = None
) -> Connection | None:
    """The connection a task (``on="worker"``) or the scheduler/CLI gets for ``conn_id``; None if none."""
    found: Connection | None = lookup_connection(instance, conn_id, on=on, reader=reader).value
    return found


# ---------------------------------------------------------------------------------------------- connection values
_CONNECTION_FIELDS = frozenset({"conn_type", "description", "host", "login", "password", "schema", "port", "extra"})


def _conn_type(scheme: str) -> str:
    conn_type = scheme.replace("-", "_")
    return "postgres" if conn_type == "postgresql" else conn_type


def parse_connection(value: str) -> Connection:
    """A connection from its SSM value: Airflow's JSON form when it starts with "{", else its URI form."""
    return _from_json(value) if value.lstrip().startswith("{") else _from_uri(value.strip())


def _from_json(value: str) -> Connection:
    from mwaa_cp_local.mwaa.airflow import Connection

    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InvalidConnectionError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidConnectionError("a JSON connection must be an object")
    unknown = sorted(set(data) - _CONNECTION_FIELDS)
    if unknown:
        raise InvalidConnectionError(f"unexpected keys {unknown}")
    port = data.get("port")
    if port is not None and port != "":
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise InvalidConnectionError(f"Expected integer value for `port`, but got {port!r} instead.") from None
    else:
        port = None
    extra = data.get("extra")
    if extra is not None and not isinstance(extra, str):
        extra = json.dumps(extra)

    def text(name: str) -> str | None:
        item = data.get(name)
        return None if item is None else str(item)

    return Connection(
        conn_type=_conn_type(str(data.get("conn_type") or "")),
        description=text("description"),
        host=text("host"),
        login=text("login"),
        password=text("password"),
        schema=text("schema"),
        port=port,
        extra=extra or None,
    )


def _from_uri(value: str) -> Connection:
    from mwaa_cp_local.mwaa.airflow import Connection

    parts = urlsplit(value)
    if not parts.scheme or "://" not in value:
        raise InvalidConnectionError("not a connection URI (expected <conn_type>://...)")
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidConnectionError(f"invalid port: {exc}") from None
    query = parse_qs(parts.query, keep_blank_values=True)
    extra: str | None = None
    if "__extra__" in query:
        extra = query["__extra__"][-1]
        try:
            json.loads(extra)
        except json.JSONDecodeError as exc:
            raise InvalidConnectionError(f"__extra__ is not JSON: {exc}") from None
    elif query:
        extra = json.dumps({key: values[0] if len(values) == 1 else values for key, values in query.items()})
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    return Connection(
        conn_type=_conn_type(parts.scheme),
        host=unquote(parts.hostname) if parts.hostname else None,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        schema=unquote(path) if path else None,
        port=port,
        extra=extra,
    )


def extra_dejson(connection: Connection) -> dict[str, Any]:
    """The extra as a dict ({} when there is none or it is not a JSON object), as ``Connection.extra_dejson``."""
    if not connection.extra:
        return {}
    try:
        value = json.loads(connection.extra)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def connection_uri(connection: Connection) -> str:
    """The connection in Airflow's URI form (what ``Connection.get_uri`` prints)."""
    uri = f"{connection.conn_type.replace('_', '-')}://"
    authority = ""
    if connection.login or connection.password:
        authority = quote(connection.login or "", safe="")
        if connection.password:
            authority += ":" + quote(connection.password, safe="")
        authority += "@"
    if connection.host:
        authority += quote(connection.host, safe="")
    if connection.port is not None:
        authority += f":{connection.port}"
    uri += authority
    if connection.schema:
        uri += "/" + quote(connection.schema, safe="")
    extra = extra_dejson(connection)
    if connection.extra and (not extra or not all(isinstance(v, str) for v in extra.values())):
        uri += "?" + urlencode({"__extra__": connection.extra})
    elif extra:
        uri += "?" + urlencode(extra)
    return uri


__all__ = [
    "MWAA_IMAGE_KWARGS",
    "SSM_BACKEND",
    "InvalidConnectionError",
    "Lookup",
    "ParameterReader",
    "ParameterStoreBackend",
    "SecretsBackendConfigError",
    "configured_backend",
    "connection_uri",
    "extra_dejson",
    "instance_location",
    "lookup_connection",
    "lookup_variable",
    "moto_reader",
    "parse_connection",
    "read_connection",
    "read_variable",
]
