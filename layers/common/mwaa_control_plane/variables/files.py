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
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from mwaa_control_plane.errors import InvalidInputError, translate_client_error
from mwaa_control_plane.payloads import ENVIRONMENT_NAME
from mwaa_control_plane.variables.names import is_sensitive, key_problem, tier_for
from mwaa_control_plane.variables.source import KINDS, Kind, source_name, value_problem

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from mwaa_control_plane.variables.targets import Pacer

VARIABLES_FILE_PREFIX = "variables/"
FILE_SUFFIXES = (".json", ".yaml", ".yml")
MAX_FILE_BYTES = 5 * 1024 * 1024
_ENTRY_FIELDS = frozenset({"value", "secret", "description"})


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
        document = json.loads(text) if key.lower().endswith(".json") else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{key}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None)
        raise InvalidInputError(f"{key}: not valid YAML{at}{f': {problem}' if problem else ''}") from None
    if not isinstance(document, dict):
        raise InvalidInputError(f"{key}: the file must be a mapping with 'variables' and/or 'connections'")
    unknown = sorted(set(document) - set(KINDS))
    if unknown:
        raise InvalidInputError(
            f"{key}: unknown top-level keys {', '.join(map(str, unknown))} (use variables, connections)"
        )
    entries: list[tuple[FileEntry, str]] = []
    problems: list[str] = []
    for kind in KINDS:
        section = document.get(kind)
        if section is None:
            continue
        if not isinstance(section, dict) or set(section) - {"global", "env"}:
            raise InvalidInputError(f"{key}: {kind} must be a mapping with 'global' and/or 'env'")
        scopes: list[tuple[str | None, Any]] = [(None, section.get("global") or {})]
        by_environment = section.get("env") or {}
        if not isinstance(by_environment, dict):
            raise InvalidInputError(f"{key}: {kind}.env must map environment names to their values")
        for environment, values in by_environment.items():
            if not isinstance(environment, str) or not ENVIRONMENT_NAME.match(environment):
                raise InvalidInputError(f"{key}: {kind}.env.{environment} is not a valid MWAA environment name")
            scopes.append((environment, values or {}))
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
        secret = bool(raw.get("secret", False))
        raw = raw["value"]
    if raw is None:
        return None, f"{where}.{key}: no value"
    if kind == "connections" and isinstance(raw, dict):
        value = json.dumps(raw, separators=(",", ":"), sort_keys=True)
    elif isinstance(raw, str):
        value = raw
    else:
        value = json.dumps(raw, separators=(",", ":"))
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
    """Write the entries into the source tree where they differ; per-key errors leave the rest going."""
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
        wanted_type = "SecureString" if entry.secret else "String"
        have = current.get(entry.name)
        if have is not None and have.get("Value") == value and have.get("Type") == wanted_type:
            unchanged += 1
            continue
        args: dict[str, Any] = {"Name": entry.name, "Value": value, "Type": wanted_type, "Overwrite": True}
        args["Tier"] = tier_for(value)  # values over 8 KB were refused when the file was read
        if entry.secret:
            args["KeyId"] = kms_key_id
        try:
            pacer.call("PutParameter", functools.partial(ssm.put_parameter, **args))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            problems.append(f"{entry.name}: {error.get('Code', 'error')}: {error.get('Message', '')}")
            continue
        written += 1
    return result.model_copy(
        update={"written": written, "unchanged": unchanged, "problems": problems, "calls": dict(pacer.calls)}
    )
