"""What the execution role must be allowed to do, row by row (docs/doctor.md carries the grants and why)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mwaa_control_plane.environments.doctor.models import Check, failed, passed
from mwaa_control_plane.environments.doctor.policy import METHOD_TEXT, Request, RolePermissions, role_permissions
from mwaa_control_plane.errors import NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

    from mwaa_control_plane.environments.doctor.facts import EnvironmentFacts
    from mwaa_control_plane.variables.backend import SecretsBackend

# What MWAA's workers and schedulers do with the Celery queue (MWAA's execution-role policy grants these).
SQS_ACTIONS = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
)
KMS_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Encrypt")
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


@dataclass(frozen=True)
class Need:
    """One row's requests, and the grant that fixes it."""

    check_id: str
    title: str
    requests: list[Request]
    fix: str
    nothing_to_check: str = ""
    """Why there is nothing to ask (the row passes with this text)."""


def _bucket_need(facts: EnvironmentFacts) -> Need:
    bucket = f"arn:{facts.partition}:s3:::{facts.bucket}"
    requests = [Request("s3:ListBucket", bucket), Request("s3:GetObject", f"{bucket}/{facts.dag_s3_path}/*")]
    for artifact in facts.artifacts:
        requests.append(Request("s3:GetObject", f"{bucket}/{artifact.path}"))
        if artifact.version:
            requests.append(Request("s3:GetObjectVersion", f"{bucket}/{artifact.path}"))
    return Need(
        "role-reads-source-bucket",
        "Execution role reads the source bucket",
        requests,
        f"grant the execution role s3:GetObject*, s3:GetBucket* and s3:List* on {bucket} and {bucket}/*",
    )


def _logs_need(facts: EnvironmentFacts) -> Need:
    enabled = [t for t, on in facts.logging.items() if on]
    groups = f"arn:{facts.partition}:logs:{facts.region}:{facts.account}:log-group:airflow-{facts.name}-*"
    requests = [
        Request(action, facts.arn("logs", f"log-group:{facts.log_group(t)}:log-stream:*"))
        for t in enabled
        for action in LOG_ACTIONS
    ]
    return Need(
        "role-writes-logs",
        "Execution role writes the environment's log groups",
        requests,
        "grant the execution role logs:CreateLogStream, logs:CreateLogGroup, logs:PutLogEvents, logs:GetLogEvents, "
        f"logs:GetLogRecord, logs:GetLogGroupFields and logs:GetQueryResults on {groups}, "
        "and logs:DescribeLogGroups on *",
        nothing_to_check="no log type is enabled: nothing is written",
    )


def _queue_need(facts: EnvironmentFacts) -> Need:
    pattern = f"arn:{facts.partition}:sqs:{facts.region}:*:airflow-celery-*"
    requests = [Request(action, facts.celery_queue) for action in SQS_ACTIONS] if facts.celery_queue else []
    return Need(
        "role-uses-celery-queue",
        "Execution role uses the Celery queue",
        requests,
        f"grant the execution role {', '.join(SQS_ACTIONS)} on {pattern}",
        nothing_to_check="GetEnvironment names no CeleryExecutorQueue yet (the environment is being created)",
    )


def _kms_need(facts: EnvironmentFacts) -> Need:
    via = {"kms:ViaService": f"sqs.{facts.region}.amazonaws.com"}
    grant = "kms:Decrypt, kms:DescribeKey, kms:GenerateDataKey* and kms:Encrypt"
    if facts.kms_key:
        key = facts.kms_key if facts.kms_key.startswith("arn:") else facts.arn("kms", f"key/{facts.kms_key}")
        return Need(
            "role-uses-kms-key",
            "Execution role uses the environment's KMS key",
            [Request(action, key, via) for action in KMS_ACTIONS],
            f"grant the execution role {grant} on {key} (condition kms:ViaService sqs.{facts.region}.amazonaws.com "
            f"and s3.{facts.region}.amazonaws.com), and allow the role in the key policy",
        )
    # No KmsKey: the queue is encrypted with an AWS owned key of MWAA's account (the queue's account).
    queue_account = facts.celery_queue.split(":")[4] if facts.celery_queue else None
    requests = (
        [Request(action, facts.arn("kms", "key/*", account=queue_account), via) for action in KMS_ACTIONS]
        if queue_account
        else []
    )
    return Need(
        "role-uses-kms-key",
        "Execution role uses the AWS owned key of the Celery queue",
        requests,
        f"grant the execution role {grant} with NotResource arn:{facts.partition}:kms:*:{facts.account}:key/* "
        f"and condition StringLike kms:ViaService sqs.{facts.region}.amazonaws.com",
        nothing_to_check="GetEnvironment names no CeleryExecutorQueue yet, so the key's account is not known",
    )


def _ssm_need(facts: EnvironmentFacts, backend: SecretsBackend) -> Need:
    prefixes = [p for p in (backend.variables_prefix, backend.connections_prefix) if p] if backend.configured else []
    resources = [facts.arn("ssm", f"parameter{prefix}/*") for prefix in prefixes]
    return Need(
        "role-reads-ssm-prefixes",
        "Execution role reads the SSM prefixes of its secrets backend",
        [Request("ssm:GetParameter", resource) for resource in resources],
        "grant the execution role ssm:GetParameter and ssm:GetParameters on "
        + (", ".join(resources) or "the backend's prefixes")
        + " (and kms:Decrypt on the key of SecureString parameters when it is a customer managed key)",
        nothing_to_check="no SSM secrets backend is configured, or its lookups are off: nothing is read from SSM",
    )


def role_needs(facts: EnvironmentFacts, backend: SecretsBackend) -> list[Need]:
    return [_bucket_need(facts), _logs_need(facts), _queue_need(facts), _kms_need(facts), _ssm_need(facts, backend)]


def _row(need: Need, permissions: RolePermissions, evaluated: list[Request]) -> Check:
    how = METHOD_TEXT[permissions.method]
    mine = [e for e in permissions.evaluations if e.request in evaluated]
    denied = [e for e in mine if not e.allowed]
    notes = sorted({note for e in mine for note in e.notes})
    noted = f"; notes: {'; '.join(notes)}" if notes else ""
    if denied:
        missing = ", ".join(f"{e.request.action} on {e.request.resource} ({e.decision})" for e in denied)
        return failed(need.check_id, need.title, f"denied by {how}: {missing}{noted}", need.fix)
    allowed = ", ".join(sorted({e.request.action for e in mine}))
    return passed(need.check_id, need.title, f"allowed by {how}: {allowed}{noted}")


def role_checks(iam: IAMClient, facts: EnvironmentFacts, backend: SecretsBackend) -> list[Check]:
    """One row per need; one simulation (or one read of the role's policies) for all of them."""
    needs = role_needs(facts, backend)
    requests = [r for need in needs for r in need.requests]
    try:
        permissions = role_permissions(iam, facts.role_arn, requests) if requests else None
    except NotFoundError:
        return [
            failed(
                need.check_id,
                need.title,
                f"the execution role {facts.role_arn} does not exist",
                "create the role (trusted by airflow.amazonaws.com and airflow-env.amazonaws.com) or update the "
                "environment's ExecutionRoleArn",
            )
            for need in needs
        ]
    rows: list[Check] = []
    for need in needs:
        if not need.requests:
            rows.append(passed(need.check_id, need.title, need.nothing_to_check))
        else:
            assert permissions is not None  # some need has requests
            rows.append(_row(need, permissions, need.requests))
    return rows
