"""Variables files: bulk changes pushed to the staging bucket under ``variables/`` (JSON or YAML).

::

    variables:
      global:
        data_bucket: analytics-data
        partner_api_token: {value: "...", secret: true}
        retry_policy: {value: {"max": 3}}          # any JSON value is stored as its JSON text
      env:
        dev-analytics:
          data_bucket: analytics-data-dev
    connections:
      global:
        warehouse: postgresql://etl:...@warehouse.internal:5432/analytics
      env:
        dev-analytics:
          warehouse: {conn_type: postgres, host: dev-warehouse.internal, login: etl, password: "...", port: 5432}

A file is checked as a whole before anything is written: one that does not parse, or whose
shape is wrong, is refused with the reason. Keys and values SSM or Airflow would refuse are
reported one by one and the rest is imported. Importing writes the source tree (only what
differs); the tree stays the one source of truth and the file is a way to edit it in bulk.

Airflow variables are text, so a value is the text the file wrote: YAML's implicit types
(``yes``, ``1.10``, ``01234``, ``2024-01-01``) and JSON numbers keep their text. Inside an object or
a list value they keep the type YAML or JSON gives them (dates stay text). An existing ``SecureString``
stays one even where the file does not mark the value secret.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from mwaa_control_plane.errors import InvalidInputError, ThrottledError, translate_client_error
from mwaa_control_plane.payloads import ENVIRONMENT_NAME
from mwaa_control_plane.variables.names import ADVANCED_MAX_BYTES, is_sensitive, key_problem, tier_for
from mwaa_control_plane.variables.source import KINDS, Kind, source_name, value_problem

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from yaml import Node, SafeLoader

    from mwaa_control_plane.variables.targets import Pacer

VARIABLES_FILE_PREFIX = "variables/"
FILE_SUFFIXES = (".json", ".yaml", ".yml")
MAX_FILE_BYTES = 5 * 1024 * 1024
_ENTRY_FIELDS = frozenset({"value", "secret", "description"})
# Each element of a JSON text takes at least one character: a value with more cannot fit a parameter.
_MAX_VALUE_ELEMENTS = ADVANCED_MAX_BYTES
_MAX_VALUE_DEPTH = 64
_AT_MOST = f"SSM parameters hold at most {ADVANCED_MAX_BYTES} (Advanced tier)"
# The implicit YAML types whose text a value keeps (a timestamp is kept as a plain string everywhere).
_TYPED_YAML_TAGS = ("bool", "int", "float", "null")


class FileEntry(BaseModel):
    """One value the file sets (the value stays out of repr and dumps)."""

    kind: Kind
    environment: str | None
    key: str
    secret: bool
    name: str

    model_config = {"frozen": True}


class ImportResult(BaseModel):
    file: str
    entries: int = 0
    written: int = 0
    unchanged: int = 0
    problems: list[str] = []
    calls: dict[str, int] = {}


@dataclass(frozen=True)
class _Scalar:
    """An unquoted YAML scalar YAML gave a type (or a JSON number): that typed value and the text the file wrote."""

    resolved: Any
    text: str

    def __str__(self) -> str:
        return self.text


class _NoTextError(ValueError):
    """A value that cannot be stored as a parameter's text (the message never shows the value)."""


def is_variables_file(key: str) -> bool:
    return key.startswith(VARIABLES_FILE_PREFIX) and key.lower().endswith(FILE_SUFFIXES)


def parse_variables_file(key: str, body: bytes) -> tuple[list[tuple[FileEntry, str]], list[str]]:
    """The file's entries with their values, and per-key problems; InvalidInputError when the file itself is wrong."""
    if len(body) > MAX_FILE_BYTES:
        raise InvalidInputError(f"{key}: {len(body)} bytes; a variables file holds at most {MAX_FILE_BYTES}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{key}: not UTF-8 text") from None
    # Only the file import step parses YAML: the other steps of the flow never pay for importing it.
    import yaml

    try:
        if key.lower().endswith(".json"):
            document = json.loads(text, parse_float=_json_number)
        else:
            loader = _yaml_loader()(text)
            try:
                document = loader.get_single_data()
            finally:
                loader.dispose()
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{key}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None)
        raise InvalidInputError(f"{key}: not valid YAML{at}{f': {problem}' if problem else ''}") from None
    except RecursionError:
        raise InvalidInputError(f"{key}: nested too deeply") from None
    document = _plain(document)
    if not isinstance(document, dict):
        raise InvalidInputError(f"{key}: the file must be a mapping with 'variables' and/or 'connections'")
    unknown = sorted(str(name) for name in set(document) - set(KINDS))
    if unknown:
        raise InvalidInputError(f"{key}: unknown top-level keys {', '.join(unknown)} (use variables, connections)")
    entries: list[tuple[FileEntry, str]] = []
    problems: list[str] = []
    for kind in KINDS:
        section = _plain(document.get(kind))
        if section is None:
            continue
        if not isinstance(section, dict) or set(section) - {"global", "env"}:
            raise InvalidInputError(f"{key}: {kind} must be a mapping with 'global' and/or 'env'")
        scopes: list[tuple[str | None, Any]] = [(None, _mapping(section.get("global")))]
        by_environment = _mapping(section.get("env"))
        if not isinstance(by_environment, dict):
            raise InvalidInputError(f"{key}: {kind}.env must map environment names to their values")
        for environment, values in by_environment.items():
            if not isinstance(environment, str) or not ENVIRONMENT_NAME.match(environment):
                raise InvalidInputError(f"{key}: {kind}.env.{environment} is not a valid MWAA environment name")
            scopes.append((environment, _mapping(values)))
        for environment, values in scopes:
            where = f"{kind}.{'global' if environment is None else f'env.{environment}'}"
            if not isinstance(values, dict):
                raise InvalidInputError(f"{key}: {where} must map keys to values")
            for item_key, raw in values.items():
                entry, problem = _entry(kind, environment, str(item_key), raw, where)
                if problem is not None:
                    problems.append(problem)
                elif entry is not None:
                    entries.append(entry)
    return entries, problems


@functools.cache
def _yaml_loader() -> type[SafeLoader]:
    """A SafeLoader whose implicitly typed scalars keep the text written: Airflow variables are text."""
    import yaml

    class TextKeepingLoader(yaml.SafeLoader):
        pass

    for tag in _TYPED_YAML_TAGS:
        construct = yaml.SafeLoader.yaml_constructors[f"tag:yaml.org,2002:{tag}"]
        TextKeepingLoader.add_constructor(f"tag:yaml.org,2002:{tag}", _keeping_text(construct))
    # A date has no JSON form: it stays the text written, in an object value too.
    TextKeepingLoader.add_constructor("tag:yaml.org,2002:timestamp", _as_text)
    return TextKeepingLoader


def _as_text(_loader: SafeLoader, node: Node) -> str:
    return str(node.value)


def _keeping_text(construct: Callable[[SafeLoader, Node], Any]) -> Callable[[SafeLoader, Node], _Scalar]:
    def constructor(loader: SafeLoader, node: Node) -> _Scalar:
        text = str(node.value)
        try:
            resolved = construct(loader, node)
        except (ValueError, OverflowError):  # a scalar YAML's patterns match but Python cannot build: its text
            resolved = text
        return _Scalar(resolved, text)

    return constructor


def _json_number(text: str) -> _Scalar:
    return _Scalar(float(text), text)


def _plain(raw: Any) -> Any:
    """What a scalar means where the file's structure is read (an empty ``variables:`` is no section)."""
    return raw.resolved if isinstance(raw, _Scalar) else raw


def _mapping(raw: Any) -> Any:
    """A scope's mapping, empty when the file leaves it empty."""
    plain = _plain(raw)
    return {} if plain is None else plain


def _entry(
    kind: Kind, environment: str | None, key: str, raw: Any, where: str
) -> tuple[tuple[FileEntry, str] | None, str | None]:
    problem = key_problem(key, kind=kind)
    if problem is not None:
        return None, f"{where}.{key}: {problem}"
    secret = kind == "connections"
    if isinstance(raw, dict) and kind == "variables":
        extra = set(raw) - _ENTRY_FIELDS
        if "value" not in raw or extra:
            return None, f"{where}.{key}: an object entry is {{value: ..., secret: true|false}}"
        marked = _plain(raw.get("secret"))
        if marked is not None and not isinstance(marked, bool):
            return None, f"{where}.{key}: secret is true or false"
        secret = bool(marked)
        raw = raw["value"]
    try:
        value = _text(kind, raw)
    except _NoTextError as exc:
        return None, f"{where}.{key}: {exc}"
    except (TypeError, ValueError):
        return None, f"{where}.{key}: the value has no text or JSON form (quote it to store it as text)"
    if value is None:
        return None, f"{where}.{key}: no value"
    problem = value_problem(kind, value)
    if problem is not None:
        return None, f"{where}.{key}: {problem}"
    entry = FileEntry(
        kind=kind,
        environment=environment,
        key=key,
        secret=secret or is_sensitive(key),
        name=source_name(kind, key, environment),
    )
    return (entry, value), None


def _text(kind: Kind, raw: Any) -> str | None:
    """The value as its parameter holds it: the text written for a scalar, JSON for an object or a list."""
    if isinstance(raw, _Scalar):
        return None if raw.resolved is None else raw.text
    if raw is None or isinstance(raw, str):
        return raw
    sort_keys = kind == "connections" and isinstance(raw, dict)
    return json.dumps(_json_ready(raw), separators=(",", ":"), sort_keys=sort_keys, allow_nan=False)


def _json_ready(raw: Any) -> Any:
    """``raw`` with JSON's types: typed scalars, keys as written; bounded, since YAML aliases can nest and repeat."""
    elements = 0

    def convert(item: Any, depth: int) -> Any:
        nonlocal elements
        elements += 1
        if elements > _MAX_VALUE_ELEMENTS:
            raise _NoTextError(f"value is over {ADVANCED_MAX_BYTES} bytes as JSON; {_AT_MOST}")
        if depth > _MAX_VALUE_DEPTH:
            raise _NoTextError(f"value is nested more than {_MAX_VALUE_DEPTH} levels deep")
        if isinstance(item, _Scalar):
            return item.resolved
        if isinstance(item, dict):
            return {str(k): convert(v, depth + 1) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [convert(v, depth + 1) for v in item]
        return item

    return convert(raw, 0)


def read_variables_file(s3: S3Client, bucket: str, key: str, version_id: str | None) -> bytes:
    args: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        args["VersionId"] = version_id
    try:
        return s3.get_object(**args)["Body"].read()
    except ClientError as exc:
        raise translate_client_error(exc, operation="GetObject") from exc


def import_entries(
    ssm: Any, pacer: Pacer, entries: list[tuple[FileEntry, str]], *, kms_key_id: str, file: str
) -> ImportResult:
    """Write the entries into the source tree where they differ; per-key errors leave the rest going.

    A file never downgrades a secret: a parameter that is a SecureString stays one (what the
    GetParameters reads already say, so no extra call), even where the file does not mark it secret.
    """
    result = ImportResult(file=file, entries=len(entries))
    current: dict[str, Mapping[str, Any]] = {}
    names = [entry.name for entry, _ in entries]
    for start in range(0, len(names), 10):
        chunk = names[start : start + 10]
        answer = pacer.call("GetParameters", functools.partial(ssm.get_parameters, Names=chunk, WithDecryption=True))
        for item in answer.get("Parameters", []):
            current[item["Name"]] = item
    written = unchanged = 0
    problems: list[str] = []
    for entry, value in entries:
        have = current.get(entry.name)
        secure = entry.secret or (have is not None and have.get("Type") == "SecureString")
        wanted_type = "SecureString" if secure else "String"
        if have is not None and have.get("Value") == value and have.get("Type") == wanted_type:
            unchanged += 1
            continue
        args: dict[str, Any] = {"Name": entry.name, "Value": value, "Type": wanted_type, "Overwrite": True}
        args["Tier"] = tier_for(value)  # values over 8 KB were refused when the file was read
        if secure:
            args["KeyId"] = kms_key_id
        try:
            pacer.call("PutParameter", functools.partial(ssm.put_parameter, **args))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            problems.append(f"{entry.name}: {error.get('Code', 'error')}: {error.get('Message', '')}")
            continue
        except ThrottledError as exc:
            problems.append(f"{entry.name}: throttled, not written this run ({exc})")
            continue
        written += 1
    return result.model_copy(
        update={"written": written, "unchanged": unchanged, "problems": problems, "calls": dict(pacer.calls)}
    )
