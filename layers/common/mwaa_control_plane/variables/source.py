"""The source of truth: the control plane's parameter tree in SSM Parameter Store.

::

    /mwaa-cp/variables/global/<key>                 every managed environment
    /mwaa-cp/variables/env/<environment>/<key>      that environment only; wins over global
    /mwaa-cp/connections/global/<conn_id>           the same for connections (URI or JSON form)
    /mwaa-cp/connections/env/<environment>/<conn_id>

A SecureString in the tree marks its value secret. Values live only inside the functions that
read them: :class:`SourceValue` never serializes its value.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from mwaa_control_plane.errors import translate_client_error
from mwaa_control_plane.payloads import ENVIRONMENT_NAME
from mwaa_control_plane.variables.names import key_problem, name_problem, tier_for, value_size

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

Kind = Literal["variables", "connections"]
KINDS: tuple[Kind, ...] = ("variables", "connections")
SOURCE_ROOT = "/mwaa-cp"
GLOBAL = "global"
ENVIRONMENT = "env"


def source_prefix(kind: Kind) -> str:
    return f"{SOURCE_ROOT}/{kind}"


def source_name(kind: Kind, key: str, environment: str | None = None) -> str:
    """The source parameter of ``key`` (global when ``environment`` is None)."""
    scope = GLOBAL if environment is None else f"{ENVIRONMENT}/{environment}"
    return f"{source_prefix(kind)}/{scope}/{key}"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a source parameter name points: kind, scope (None: global) and key."""

    kind: Kind
    environment: str | None
    key: str


class SourceNameError(ValueError):
    """A parameter under the source tree whose name does not fit the layout."""


def parse_source_name(name: str) -> SourceRef:
    """``/mwaa-cp/variables/env/dev/x`` -> SourceRef("variables", "dev", "x"); raises SourceNameError."""
    if not name.startswith(SOURCE_ROOT + "/"):
        raise SourceNameError(f"{name} is not under {SOURCE_ROOT}/")
    parts = name.removeprefix(SOURCE_ROOT + "/").split("/")
    kind = parts[0]
    if kind not in KINDS:
        raise SourceNameError(f"{name}: the second level must be variables or connections")
    if len(parts) >= 3 and parts[1] == GLOBAL:
        environment, key_parts = None, parts[2:]
    elif len(parts) >= 4 and parts[1] == ENVIRONMENT and parts[2]:
        environment, key_parts = parts[2], parts[3:]
    else:
        raise SourceNameError(f"{name}: expected {SOURCE_ROOT}/{kind}/global/<key> or .../env/<environment>/<key>")
    if environment is not None and not ENVIRONMENT_NAME.match(environment):
        raise SourceNameError(
            f"{name}: {environment!r} is not an MWAA environment name (a letter, then letters, digits, - or _; "
            "at most 80)"
        )
    key = "/".join(key_parts)
    problem = key_problem(key, kind=kind)
    if problem is not None:
        raise SourceNameError(f"{name}: {problem}")
    return SourceRef(kind, environment, key)


@dataclass(frozen=True, slots=True)
class SourceValue:
    """One source parameter. ``value`` is excluded from repr so it cannot reach a log line by accident."""

    ref: SourceRef
    name: str
    value: str = field(repr=False)
    secure: bool
    version: int = 0


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """A source parameter that cannot be propagated, and why (never its value)."""

    name: str
    problem: str
    kind: Kind | None = None
    key: str | None = None
    environment: str | None = None


@dataclass(slots=True)
class SourceTree:
    """What the source tree holds (all of it, or the keys asked for), with the parameters it cannot use."""

    values: list[SourceValue] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)

    def desired(self, kind: Kind, environment: str) -> dict[str, SourceValue]:
        """Key -> value for ``environment``: global values, overridden by the environment's own.

        A key :meth:`blocked` for the environment is left out: its target is left as it is.
        """
        result: dict[str, SourceValue] = {}
        for value in self.values:
            if value.ref.kind == kind and value.ref.environment is None:
                result[value.ref.key] = value
        for value in self.values:
            if value.ref.kind == kind and value.ref.environment == environment:
                result[value.ref.key] = value
        for key in self.blocked(kind, environment):
            result.pop(key, None)
        return result

    def blocked(self, kind: Kind, environment: str) -> set[str]:
        """Keys whose parameter for ``environment`` cannot be used: neither written, pruned nor replaced.

        A broken override must not fall back to the global value (the environment would silently get
        another one), and a broken value must not make the target look orphaned (prune would delete it).
        """
        own = {v.ref.key for v in self.values if v.ref.kind == kind and v.ref.environment == environment}
        return {
            p.key
            for p in self.problems
            if p.kind == kind
            and p.key is not None
            and (p.environment == environment or (p.environment is None and p.key not in own))
        }

    def problems_for(self, environment: str) -> list[SourceProblem]:
        """The problems of global parameters and of ``environment``'s own."""
        wanted = (f"/{GLOBAL}/", f"/{ENVIRONMENT}/{environment}/")
        return [p for p in self.problems if any(part in p.name for part in wanted)]


def connection_problem(value: str) -> str | None:
    """Why Airflow could not read ``value`` as a connection (URI or JSON form); None when it can."""
    text = value.strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            return f"connection JSON does not parse ({exc.msg} at character {exc.pos})"
        if not isinstance(document, dict):
            return "connection JSON must be an object"
        if not isinstance(document.get("conn_type"), str) or not document["conn_type"]:
            return 'connection JSON needs a "conn_type"'
        return None
    scheme, separator, _ = text.partition("://")
    if not separator or not scheme:
        return "a connection is a URI (<conn_type>://[login[:password]@]host[:port][/schema][?extra]) or a JSON object"
    # Airflow reads the URI with urllib's urlsplit: a "/", "#" or "?" left unencoded in the password ends the
    # host part early, and the port is then whatever follows the first ":".
    try:
        urlsplit(text).port  # noqa: B018 - raises ValueError for a port that is not a number in 0-65535
    except ValueError as exc:
        return (
            f"the connection URI does not parse as Airflow reads it ({exc}); percent-encode reserved characters "
            "in the login and password (/ as %2F, # as %23, ? as %3F, @ as %40, : as %3A)"
        )
    return None


def value_problem(kind: Kind, value: str) -> str | None:
    """Why ``value`` cannot be propagated (too large for SSM, or not a connection)."""
    if tier_for(value) is None:
        return f"value is {value_size(value)} bytes; SSM parameters hold at most 8192 (Advanced tier)"
    if kind == "connections":
        return connection_problem(value)
    return None


def _to_value(parameter: Mapping[str, object]) -> SourceValue | SourceProblem:
    name = str(parameter["Name"])
    try:
        ref = parse_source_name(name)
    except SourceNameError as exc:
        return SourceProblem(name=name, problem=str(exc))
    value = str(parameter.get("Value", ""))
    problem = value_problem(ref.kind, value)
    if problem is not None:
        return SourceProblem(name=name, problem=problem, kind=ref.kind, key=ref.key, environment=ref.environment)
    return SourceValue(
        ref=ref,
        name=name,
        value=value,
        secure=parameter.get("Type") == "SecureString",
        version=int(str(parameter.get("Version", 0))),
    )


def _collect(tree: SourceTree, parameters: Iterable[Mapping[str, object]]) -> None:
    for parameter in parameters:
        item = _to_value(parameter)
        if isinstance(item, SourceValue):
            tree.values.append(item)
        else:
            tree.problems.append(item)


def read_source(ssm: SSMClient, kinds: Iterable[Kind] = KINDS) -> SourceTree:
    """The whole source tree (GetParametersByPath, recursive, decrypted, 10 a page)."""
    tree = SourceTree()
    for kind in kinds:
        try:
            for page in ssm.get_paginator("get_parameters_by_path").paginate(
                Path=source_prefix(kind), Recursive=True, WithDecryption=True
            ):
                _collect(tree, page["Parameters"])
        except ClientError as exc:
            raise translate_client_error(exc, operation="GetParametersByPath") from exc
    return tree


def read_source_keys(ssm: SSMClient, kind: Kind, key: str, environments: Iterable[str]) -> SourceTree:
    """Only what decides ``key`` in these environments: its global parameter and their overrides."""
    names = [source_name(kind, key), *(source_name(kind, key, environment) for environment in environments)]
    tree = SourceTree()
    for chunk in itertools.batched([n for n in names if name_problem(n) is None], 10):
        try:
            answer = ssm.get_parameters(Names=list(chunk), WithDecryption=True)
        except ClientError as exc:
            raise translate_client_error(exc, operation="GetParameters") from exc
        _collect(tree, answer["Parameters"])
    return tree
