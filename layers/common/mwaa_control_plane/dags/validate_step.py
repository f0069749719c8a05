"""Step "Validate exactly that object version" of dag-delivery: the report, the verdict, the notice.

Kept apart from the other delivery steps so that only this step's Lambda loads the validator.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from mwaa_control_plane.dags.delivery import withdraw_announcement
from mwaa_control_plane.dags.events import REPORTS_PREFIX, Action, ArtifactKind, DeliveryRequest
from mwaa_control_plane.dags.payloads import ValidationOutcome
from mwaa_control_plane.dags.validation import validate_files
from mwaa_control_plane.dags.validation.models import FileKind, FileReport, SourceFile, ValidationContext
from mwaa_control_plane.environments.description import EnvironmentTarget, describe_environment
from mwaa_control_plane.errors import NOT_FOUND_CODES, InvalidInputError, translate_client_error
from mwaa_control_plane.state import StateRepository

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client


def _read_text(s3: S3Client, bucket: str, key: str | None, version: str | None = None) -> str | None:
    if not key:
        return None
    args: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version:
        args["VersionId"] = version
    try:
        body: bytes = s3.get_object(**args)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
            return None
        raise translate_client_error(exc) from exc
    return body.decode("utf-8", errors="replace")


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


def validation_context(
    s3: S3Client, repository: StateRepository, target: EnvironmentTarget, request: DeliveryRequest
) -> ValidationContext:
    """What the validator must know about the environment the file goes to."""
    mwaa_dags = _list_keys(s3, target.source_bucket, f"{target.dag_s3_path}/")
    staged = _list_keys(s3, request.staging_bucket, f"{request.environment_name}/dags/")
    siblings = _module_names(mwaa_dags, target.dag_s3_path) | _module_names(staged, f"{request.environment_name}/dags")
    index = repository.dag_index(request.environment_name)
    owners = {dag_id: entry.path for dag_id, entry in index.items() if entry.path != request.relative_path}
    return ValidationContext(
        airflow_version=target.airflow_version,
        requirements=_read_text(s3, target.source_bucket, target.requirements_s3_path, target.requirements_version),
        sibling_modules=siblings,
        plugin_modules=frozenset(repository.plugin_modules(request.environment_name)),
        airflowignore=_read_text(s3, target.source_bucket, f"{target.dag_s3_path}/.airflowignore"),
        dag_id_owners=owners,
    )


def _notification_for(request: DeliveryRequest, report: FileReport, report_key: str, bucket: str) -> str:
    lines = [
        f"{request.key} (version {request.version_id}) was REJECTED and not delivered to {request.environment_name}."
    ]
    for finding in report.findings:
        if finding.severity == "error":
            where = f"line {finding.line}" if finding.line else "whole file"
            lines.append(f"- [{finding.rule}] {where}: {finding.message}")
    lines.append(f"Full report: s3://{bucket}/{report_key}")
    lines.append("Fix the file and upload it again; `mwaa-cp validate <file>` shows the same findings locally.")
    return "\n".join(lines)


def validate_object(
    s3: S3Client, mwaa: MWAAClient, repository: StateRepository, request: DeliveryRequest
) -> ValidationOutcome:
    """Validate exactly ``request.version_id`` and write the JSON report next to it in the staging bucket."""
    if request.action is not Action.CREATED or not request.version_id:
        raise InvalidInputError("only created object versions are validated")
    target = describe_environment(mwaa, request.environment_name)
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
    context = validation_context(s3, repository, target, request)
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
        "dag_ids": file_report.dag_ids,
        **report.model_dump(mode="json"),
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
    failed = file_report.verdict == "fail"
    if failed and request.kind is not ArtifactKind.DAG:
        withdraw_announcement(repository, request)
    return ValidationOutcome(
        request=request,
        verdict="fail" if failed else "pass",
        report_key=report_key,
        dag_ids=file_report.dag_ids,
        modules=file_report.modules,
        errors=sum(1 for f in file_report.findings if f.severity == "error"),
        warnings=sum(1 for f in file_report.findings if f.severity == "warning"),
        notification=_notification_for(request, file_report, report_key, request.staging_bucket) if failed else "",
    )
