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
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

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


# Finds the (account, region) of the environment running an Airflow instance; registered by the package
# (mwaa_cp_local.mwaa), which knows the backends, so that this module and the Airflow model import neither.
_locator: Callable[[object], tuple[str, str] | None] | None = None


def locate_with(locator: Callable[[object], tuple[str, str] | None] | None) -> None:
    """Register how an Airflow instance's account and region are found (None: SSM is never read)."""
    global _locator
    _locator = locator


def reader_for(instance: object) -> ParameterReader | None:
    """Read the SSM of the account and region of the environment running ``instance`` (None: none runs it)."""
    location = _locator(instance) if _locator is not None else None
    return moto_reader(*location) if location is not None else None


# ---------------------------------------------------------------------------------------------- connection values
_CONNECTION_FIELDS = frozenset({"conn_type", "description", "host", "login", "password", "schema", "port", "extra"})


def _conn_type(scheme: str) -> str:
    conn_type = scheme.replace("-", "_")
    return "postgres" if conn_type == "postgresql" else conn_type


def parse_connection(value: str) -> dict[str, Any]:
    """The fields of a connection (``conn_type``, ``host``, ...) from its SSM value: Airflow's JSON form when it
    starts with "{", else its URI form."""
    return _from_json(value) if value.lstrip().startswith("{") else _from_uri(value.strip())


def _from_json(value: str) -> dict[str, Any]:
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

    return {
        "conn_type": _conn_type(str(data.get("conn_type") or "")),
        "description": text("description"),
        "host": text("host"),
        "login": text("login"),
        "password": text("password"),
        "schema": text("schema"),
        "port": port,
        "extra": extra or None,
    }


def _from_uri(value: str) -> dict[str, Any]:
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
    return {
        "conn_type": _conn_type(parts.scheme),
        "host": unquote(parts.hostname) if parts.hostname else None,
        "login": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "schema": unquote(path) if path else None,
        "port": port,
        "extra": extra,
    }


class ConnectionLike(Protocol):
    conn_type: str
    host: str | None
    login: str | None
    password: str | None
    schema: str | None
    port: int | None
    extra: str | None


def extra_dejson(connection: ConnectionLike) -> dict[str, Any]:
    """The extra as a dict ({} when there is none or it is not a JSON object), as ``Connection.extra_dejson``."""
    if not connection.extra:
        return {}
    try:
        value = json.loads(connection.extra)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def connection_uri(connection: ConnectionLike) -> str:
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
    "ConnectionLike",
    "InvalidConnectionError",
    "ParameterReader",
    "ParameterStoreBackend",
    "SecretsBackendConfigError",
    "Side",
    "configured_backend",
    "connection_uri",
    "extra_dejson",
    "locate_with",
    "moto_reader",
    "parse_connection",
    "reader_for",
]
