"""Step "Validate exactly that object version" of dag-delivery: the report, the verdict, the notice.

Kept apart from the other delivery steps so that only this step's Lambda loads the validator.
The environment's validator configuration is ``<environment>/.mwaa-cp.toml`` in the staging
bucket, read at every validation (its latest version): a missing file means the defaults, a
broken one fails the upload with a ``config-invalid`` finding.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from mwaa_control_plane.dags.delivery import withdraw_announcement
from mwaa_control_plane.dags.events import REPORTS_PREFIX, Action, ArtifactKind, DeliveryRequest
from mwaa_control_plane.dags.payloads import ValidationOutcome
from mwaa_control_plane.dags.validation import Report, validate_files
from mwaa_control_plane.dags.validation.import_graph import imported_names, module_name, parsed_by_airflow
from mwaa_control_plane.dags.validation.models import (
    SETTINGS_FILE_NAME,
    FileKind,
    SettingsFile,
    SourceFile,
    ValidationContext,
)
from mwaa_control_plane.dags.validation.target import make_target
from mwaa_control_plane.environments.description import EnvironmentTarget, describe_environment
from mwaa_control_plane.errors import NOT_FOUND_CODES, InvalidInputError, translate_client_error
from mwaa_control_plane.state import StateRepository

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client


#: Beyond this many other Python files in the DAG folders, a file safe mode skips is taken as imported
#: rather than read every one of them at each upload: the full checks, never fewer.
MAX_IMPORTERS_READ = 200


def _read_object(s3: S3Client, bucket: str, key: str, version: str | None = None) -> tuple[bytes, str | None] | None:
    """The object's bytes and version id, or None when it does not exist."""
    args: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version:
        args["VersionId"] = version
    try:
        answer = s3.get_object(**args)
        body: bytes = answer["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
            return None
        raise translate_client_error(exc) from exc
    return body, answer.get("VersionId")


def _read_text(s3: S3Client, bucket: str, key: str | None, version: str | None = None) -> str | None:
    found = _read_object(s3, bucket, key, version) if key else None
    return found[0].decode("utf-8", errors="replace") if found is not None else None


def _module_names(keys: list[str], root: str) -> frozenset[str]:
    """Top-level importable names of the .py files and packages below ``root``."""
    names: set[str] = set()
    for key in keys:
        relative = key.removeprefix(root).lstrip("/")
        if not relative:
            continue
        head = relative.split("/", 1)[0]
        if "/" in relative:
            names.add(head)
        elif head.endswith(".py"):
            names.add(head.removesuffix(".py"))
    return frozenset(names)


def _list_keys(s3: S3Client, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
    except ClientError as exc:
        raise translate_client_error(exc) from exc
    return keys


def settings_key(environment_name: str) -> str:
    """Where an environment's validator configuration lives in the staging bucket."""
    return f"{environment_name}/{SETTINGS_FILE_NAME}"


def _settings_file(s3: S3Client, request: DeliveryRequest) -> tuple[SettingsFile, str | None] | None:
    key = settings_key(request.environment_name)
    found = _read_object(s3, request.staging_bucket, key)
    return (SettingsFile(path=key, content=found[0]), found[1]) if found is not None else None


def _importers(s3: S3Client, request: DeliveryRequest, folders: list[tuple[str, str, list[str]]]) -> frozenset[str]:
    """What the other Python files of both DAG folders import, to judge an upload safe mode skips.

    ``folders`` are (bucket, DAG folder prefix ending in '/', keys). Every other ``.py`` file
    counts as an importer, not only the files Airflow parses: telling them apart would mean
    following imports through files not in this upload, and counting them all only errs toward
    the full checks. Past MAX_IMPORTERS_READ files the upload is taken as imported instead.
    """
    others = [
        (bucket, key, key.removeprefix(root))
        for bucket, root, keys in folders
        for key in keys
        if key.endswith(".py") and key.removeprefix(root) != request.relative_path
    ]
    if len(others) > MAX_IMPORTERS_READ:
        own = module_name(request.relative_path)
        return frozenset({own} if own else ())
    imported: set[str] = set()
    for bucket, key, relative in others:
        found = _read_object(s3, bucket, key)
        if found is not None:
            imported |= imported_names(relative, found[0])
    return frozenset(imported)


def validation_context(
    s3: S3Client,
    repository: StateRepository,
    target: EnvironmentTarget,
    request: DeliveryRequest,
    content: bytes | None = None,
    settings_file: SettingsFile | None = None,
) -> ValidationContext:
    """What the validator must know about the environment the file goes to.

    With ``content`` (the uploaded bytes), a Python file that Airflow's safe mode would skip is
    judged with what the other files of the DAG folders import (see :func:`_importers`).
    """
    mwaa_dags = _list_keys(s3, target.source_bucket, f"{target.dag_s3_path}/")
    staged_root = f"{request.environment_name}/dags"
    staged = _list_keys(s3, request.staging_bucket, f"{staged_root}/")
    siblings = _module_names(mwaa_dags, target.dag_s3_path) | _module_names(staged, staged_root)
    index = repository.dag_index(request.environment_name)
    owners = {dag_id: entry.path for dag_id, entry in index.items() if entry.path != request.relative_path}
    imported: frozenset[str] | None = None
    if (
        content is not None
        and request.kind is ArtifactKind.DAG
        and request.relative_path.endswith(".py")
        and not parsed_by_airflow(content, make_target(target.airflow_version, None).major)
    ):
        folders = [
            (target.source_bucket, f"{target.dag_s3_path}/", mwaa_dags),
            (request.staging_bucket, f"{staged_root}/", staged),
        ]
        imported = _importers(s3, request, folders)
    return ValidationContext(
        airflow_version=target.airflow_version,
        requirements=_read_text(s3, target.source_bucket, target.requirements_s3_path, target.requirements_version),
        sibling_modules=siblings,
        plugin_modules=frozenset(repository.plugin_modules(request.environment_name)),
        airflowignore=_read_text(s3, target.source_bucket, f"{target.dag_s3_path}/.airflowignore"),
        dag_id_owners=owners,
        imported_modules=imported,
        settings_file=settings_file,
    )


def _notification_for(request: DeliveryRequest, report: Report, report_key: str, bucket: str) -> str:
    lines = [
        f"{request.key} (version {request.version_id}) was REJECTED and not delivered to {request.environment_name}."
    ]
    for file_report in report.files:
        # The uploaded file first; another file (the environment's .mwaa-cp.toml) is named.
        named = "" if file_report is report.files[0] else f"{file_report.path} "
        for finding in file_report.findings:
            if finding.severity == "error" and not finding.suppressed:
                where = f"line {finding.line}" if finding.line else "whole file"
                lines.append(f"- [{finding.rule}] {named}{where}: {finding.message}")
    lines.append(f"Full report: s3://{bucket}/{report_key}")
    lines.append("Fix the file and upload it again; `mwaa-cp validate <file>` shows the same findings locally.")
    return "\n".join(lines)


def validate_object(
    s3: S3Client, mwaa: MWAAClient, repository: StateRepository, request: DeliveryRequest
) -> ValidationOutcome:
    """Validate exactly ``request.version_id`` and write the JSON report next to it in the staging bucket."""
    if request.action is not Action.CREATED or not request.version_id:
        raise InvalidInputError("only created object versions are validated")
    target = describe_environment(mwaa, request.environment_name, repository=repository)
    try:
        obj = s3.get_object(
            Bucket=request.staging_bucket,
            Key=request.key,
            VersionId=request.version_id,
        )
        content: bytes = obj["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
            withdraw_announcement(repository, request)
            return ValidationOutcome(
                request=request,
                verdict="gone",
                notification=f"{request.key} version {request.version_id} no longer exists",
            )
        raise translate_client_error(exc) from exc
    settings = _settings_file(s3, request)
    context = validation_context(s3, repository, target, request, content, settings[0] if settings else None)
    kind: FileKind = "dags" if request.kind is ArtifactKind.DAG else request.kind.value  # type: ignore[assignment]
    report = validate_files([SourceFile(path=request.relative_path, content=content, kind=kind)], context)
    file_report = report.files[0]
    report_key = f"{REPORTS_PREFIX}{request.environment_name}/{request.relative_path}/{request.version_id}.json"
    document = {
        "object": {
            "bucket": request.staging_bucket,
            "key": request.key,
            "version_id": request.version_id,
            "sequencer": request.sequencer,
        },
        "environment": {"name": target.name, "airflow_version": target.airflow_version},
        # The configuration the verdict was reached with; null: none, every rule at its default.
        "settings_file": (
            {"bucket": request.staging_bucket, "key": settings[0].path, "version_id": settings[1]} if settings else None
        ),
        "dag_ids": file_report.dag_ids,
        **report.to_dict(),
    }
    try:
        s3.put_object(
            Bucket=request.staging_bucket,
            Key=report_key,
            Body=json.dumps(document, indent=2).encode(),
            ContentType="application/json",
        )
    except ClientError as exc:
        raise translate_client_error(exc) from exc
    # Not only the file's verdict: a broken .mwaa-cp.toml fails the run in a report of its own.
    failed = not report.ok
    if failed and request.kind is not ArtifactKind.DAG:
        withdraw_announcement(repository, request)
    return ValidationOutcome(
        request=request,
        verdict="fail" if failed else "pass",
        report_key=report_key,
        dag_ids=file_report.dag_ids,
        modules=file_report.modules,
        errors=report.summary.errors,
        warnings=report.summary.warnings,
        notification=_notification_for(request, report, report_key, request.staging_bucket) if failed else "",
    )
