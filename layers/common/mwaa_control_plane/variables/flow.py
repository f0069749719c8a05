"""The variable-propagation state machine's steps, as the handlers call them.

The plan (masked) is stored under the reports prefix of the staging bucket, so the state
machine carries only counts; the apply step recomputes its environment's diff, so no value
ever travels through Step Functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from mwaa_control_plane.environments.change_request import ChangeRequest, ConfigurationChange, RequestedBy
from mwaa_control_plane.errors import InvalidInputError, translate_client_error
from mwaa_control_plane.variables.files import (
    ImportResult,
    import_entries,
    is_variables_file,
    parse_variables_file,
    read_variables_file,
)
from mwaa_control_plane.variables.propagation import (
    ApplyResult,
    Connections,
    EnvironmentSummary,
    PropagationPlan,
    PropagationRequest,
    apply_environment,
    plan_propagation,
)
from mwaa_control_plane.variables.report import PropagationReport, summarize
from mwaa_control_plane.variables.targets import Pacer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# SNS takes 256 KB; the stored report has everything.
MAX_MESSAGE_CHARS = 200_000


class ApplyItem(BaseModel):
    """One environment the Map writes to, with the backend repair to ask environment-change for first."""

    environment: str
    fix_backend: bool = False
    change_request: dict[str, Any] | None = None


class PlanOutcome(BaseModel):
    """What the state machine carries after planning: per-environment counts and where the plan is."""

    plan_key: str
    environments: list[EnvironmentSummary]
    to_apply: list[ApplyItem]
    changes: int
    problems: int


class ReportOutcome(BaseModel):
    report_key: str
    notify: bool
    subject: str
    message: str


def _store(s3: S3Client, bucket: str, key: str, body: str, content_type: str) -> None:
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType=content_type)
    except ClientError as exc:
        raise translate_client_error(exc, operation="PutObject") from exc


def import_step(
    connections: Connections, s3: S3Client, request: PropagationRequest, *, staging_bucket: str
) -> ImportResult:
    """Validate the pushed variables file as a whole, then write what differs into the source tree."""
    file = request.file
    if file is None:
        raise InvalidInputError("no variables file in the request")
    if file.bucket != staging_bucket or not is_variables_file(file.key):
        raise InvalidInputError(f"s3://{file.bucket}/{file.key} is not a variables file of the staging bucket")
    body = read_variables_file(s3, file.bucket, file.key, file.version_id)
    entries, problems = parse_variables_file(file.key, body)
    pacer = Pacer(connections.clock, rate_per_second=connections.write_rate)
    result = import_entries(connections.ssm, pacer, entries, kms_key_id=connections.kms_key_id, file=file.key)
    return result.model_copy(update={"problems": [*problems, *result.problems]})


def plan_step(
    connections: Connections,
    s3: S3Client,
    request: PropagationRequest,
    *,
    bucket: str,
    prefix: str,
    execution: str,
) -> PlanOutcome:
    plan = plan_propagation(connections, request)
    key = f"{prefix}{execution}/plan.json"
    _store(s3, bucket, key, plan.model_dump_json(indent=2), "application/json")
    summaries = plan.summaries()
    return PlanOutcome(
        plan_key=key,
        environments=summaries,
        to_apply=[_apply_item(s, execution) for s in summaries if s.needs_apply],
        changes=sum(s.creates + s.updates + s.deletes for s in summaries),
        problems=sum(s.problems for s in summaries) + len(plan.source_problems),
    )


def backend_change_request(environment: str, options: dict[str, str], requested_by: RequestedBy) -> ChangeRequest:
    """What environment-change is asked for to repair a backend (the flow and ``mwaa-cp vars`` ask alike)."""
    return ChangeRequest(
        environment_name=environment,
        airflow_configuration_options=ConfigurationChange(set=options),
        reason=f"{requested_by.flow}: give the environment a consistent SSM secrets backend",
        requested_by=requested_by,
    )


def _apply_item(summary: EnvironmentSummary, execution: str) -> ApplyItem:
    if not summary.backend_fix:
        return ApplyItem(environment=summary.environment)
    requester = RequestedBy(flow="variable-propagation", execution=execution)
    request = backend_change_request(summary.environment, summary.backend_fix, requester)
    return ApplyItem(
        environment=summary.environment,
        fix_backend=True,
        change_request=request.model_dump(mode="json", exclude_none=True),
    )


def apply_step(
    connections: Connections,
    request: PropagationRequest,
    environment: str,
    *,
    budget_seconds: float,
    previous: ApplyResult | None = None,
) -> ApplyResult:
    """One budgeted apply of ``environment``; with ``previous`` (the loop's last result) the totals so far."""
    if not request.writes:
        raise InvalidInputError(f"a {request.mode} run does not write")
    result = apply_environment(connections, request, environment, budget_seconds=budget_seconds)
    if previous is None:
        return result
    calls = dict(previous.calls)
    for operation, count in result.calls.items():
        calls[operation] = calls.get(operation, 0) + count
    return result.model_copy(
        update={
            "created": previous.created + result.created,
            "updated": previous.updated + result.updated,
            "deleted": previous.deleted + result.deleted,
            "calls": calls,
            "paced_seconds": round(previous.paced_seconds + result.paced_seconds, 3),
            "throttled_seconds": round(previous.throttled_seconds + result.throttled_seconds, 3),
            "throttles": previous.throttles + result.throttles,
        }
    )


def report_step(
    s3: S3Client,
    *,
    bucket: str,
    plan_key: str,
    applied: list[ApplyResult],
    execution: str,
    imported: ImportResult | None = None,
) -> ReportOutcome:
    try:
        stored = s3.get_object(Bucket=bucket, Key=plan_key)["Body"].read()
    except ClientError as exc:
        raise translate_client_error(exc, operation="GetObject") from exc
    plan = PropagationPlan.model_validate_json(stored)
    problems = len(imported.problems) if imported is not None else 0
    report: PropagationReport = summarize(plan, applied, execution=execution, import_problems=problems)
    text = report.text
    if imported is not None:
        head = f"Variables file {imported.file}: {imported.entries} entries, {imported.written} written to the source"
        head += f" tree, {imported.unchanged} unchanged"
        lines = [head, *(f"  ! {p}" for p in imported.problems)]
        text = "\n".join(lines) + "\n\n" + text
        report = report.model_copy(update={"text": text, "notify": True})
    key = plan_key.rsplit("/", 1)[0] + "/report.json"
    _store(s3, bucket, key, report.model_dump_json(indent=2), "application/json")
    message = text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "\n(truncated: see the report)\n"
    message += f"\nReport: s3://{bucket}/{key}\n"
    return ReportOutcome(report_key=key, notify=report.notify, subject=report.subject, message=message)
