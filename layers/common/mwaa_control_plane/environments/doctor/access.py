"""What the execution role must be allowed to do, row by row (docs/doctor.md carries the grants and why)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from mwaa_control_plane.environments.doctor.models import Check, failed, passed, warned
from mwaa_control_plane.environments.doctor.policy import (
    METHOD_TEXT,
    Evaluation,
    Request,
    RolePermissions,
    role_permissions,
)
from mwaa_control_plane.errors import (
    ACCESS_DENIED_CODES,
    THROTTLING_CODES,
    UNAVAILABLE_CODES,
    NotFoundError,
    translate_client_error,
)

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient

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
    evidence: str = ""
    """What was looked up to make the requests (e.g. the key an alias names), said first in the row."""
    cannot_check: tuple[str, str] | None = None
    """(detail, fix) when the requests cannot be made: the row warns with them."""


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


@dataclass(frozen=True)
class KeyResolution:
    """The environment's KmsKey as IAM sees it: the key ARN, or why it could not be found out."""

    arn: str | None
    evidence: str = ""
    problem: tuple[str, str] | None = None
    """(detail, fix) when ``arn`` is None."""


def resolve_key(facts: EnvironmentFacts, kms: KMSClient) -> KeyResolution:
    """The key ARN of the environment's KmsKey (a key id, key ARN, alias name or alias ARN).

    IAM evaluates the role's KMS calls against the key ARN, never the alias: a grant on the alias ARN does not
    count, and a ``NotResource key/*`` statement that excludes the account's keys does not exclude an alias ARN.
    An alias is resolved with kms:DescribeKey; refused or unknown, the row warns rather than guesses.
    """
    key = facts.kms_key or ""
    if "alias/" not in key:
        return KeyResolution(key if key.startswith("arn:") else facts.arn("kms", f"key/{key}"))
    fix = (
        f"let the doctor's caller call kms:DescribeKey on {key} (IAM evaluates the role's KMS calls against the "
        "key ARN the alias names, not the alias)"
    )
    try:
        arn = str(kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"])
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in THROTTLING_CODES or code in UNAVAILABLE_CODES:
            raise translate_client_error(exc, operation="DescribeKey") from exc
        if code in ACCESS_DENIED_CODES:
            detail = f"could not resolve the KmsKey alias {key} to its key: kms:DescribeKey was refused"
        elif code == "NotFoundException":
            detail = f"KMS does not know the KmsKey alias {key}: the key it named cannot be checked"
            fix = f"recreate the alias {key} for the environment's key (aws kms create-alias), or check its Region"
        else:
            detail = f"could not resolve the KmsKey alias {key} to its key: DescribeKey {code}"
        return KeyResolution(None, problem=(detail, fix))
    return KeyResolution(arn, evidence=f"KmsKey {key} is key {arn}")


def _kms_need(facts: EnvironmentFacts, key: KeyResolution | None) -> Need:
    via = {"kms:ViaService": f"sqs.{facts.region}.amazonaws.com"}
    grant = "kms:Decrypt, kms:DescribeKey, kms:GenerateDataKey* and kms:Encrypt"
    if facts.kms_key and key is not None:
        title = "Execution role uses the environment's KMS key"
        if key.arn is None:
            return Need("role-uses-kms-key", title, [], "", cannot_check=key.problem)
        return Need(
            "role-uses-kms-key",
            title,
            [Request(action, key.arn, via) for action in KMS_ACTIONS],
            f"grant the execution role {grant} on {key.arn} (condition kms:ViaService sqs.{facts.region}.amazonaws.com "
            f"and s3.{facts.region}.amazonaws.com), and allow the role in the key policy",
            evidence=key.evidence,
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


def role_needs(facts: EnvironmentFacts, backend: SecretsBackend, key: KeyResolution | None) -> list[Need]:
    """What the execution role must be allowed; ``key``: the environment's KmsKey resolved (None: it has none)."""
    return [
        _bucket_need(facts),
        _logs_need(facts),
        _queue_need(facts),
        _kms_need(facts, key),
        _ssm_need(facts, backend),
    ]


def _listed(evaluations: list[Evaluation]) -> str:
    return (
        ", ".join(sorted({e.request.action for e in evaluations}))
        + " on "
        + ", ".join(sorted({e.request.resource for e in evaluations}))
    )


def _why_denied(evaluation: Evaluation) -> str:
    if evaluation.decision == "explicitDeny" and evaluation.denied_by:
        return f"explicitDeny by {evaluation.denied_by}"
    if evaluation.in_boundary:
        return f"{evaluation.decision}: not allowed by {evaluation.denied_by or 'the permissions boundary'}"
    return evaluation.decision


def _denied_fix(need: Need, denied: list[Evaluation]) -> str:
    """The grant when nothing grants it; the Deny statement or the boundary to change when that is what denies."""
    parts: list[str] = []
    if any(e.decision == "implicitDeny" and not e.in_boundary for e in denied):
        parts.append(need.fix)
    by: dict[tuple[str, bool, str], list[Evaluation]] = {}
    for e in denied:
        if e.decision == "explicitDeny" or e.in_boundary:
            by.setdefault((e.decision, e.in_boundary, e.denied_by), []).append(e)
    for (decision, _, source), evaluations in by.items():
        if decision == "explicitDeny":
            parts.append(
                f"change {source or 'the Deny statement that matches'}: it denies {_listed(evaluations)} "
                "(an explicit Deny wins over any grant; narrow its Action, Resource or Condition, or remove it)"
            )
        else:
            boundary = source or "the role's permissions boundary"
            parts.append(f"allow {_listed(evaluations)} in {boundary} too (a boundary caps what the policies grant)")
    return "; ".join(parts)


def _row(need: Need, permissions: RolePermissions, evaluated: list[Request]) -> Check:
    how = METHOD_TEXT[permissions.method]
    mine = [e for e in permissions.evaluations if e.request in evaluated]
    denied = [e for e in mine if e.denied]
    undecided = [e for e in mine if e.decision == "undecided"]
    notes = sorted({note for e in mine for note in e.notes})
    noted = f"; notes: {'; '.join(notes)}" if notes else ""
    evidence = f"{need.evidence}; " if need.evidence else ""
    conditions = sorted({c for e in undecided for c in e.conditions})
    if denied:
        missing = ", ".join(f"{e.request.action} on {e.request.resource} ({_why_denied(e)})" for e in denied)
        depends = f"; also depends on a condition doctor cannot evaluate: {'; '.join(conditions)}" if conditions else ""
        return failed(
            need.check_id,
            need.title,
            f"{evidence}denied by {how}: {missing}{depends}{noted}",
            _denied_fix(need, denied),
        )
    if undecided:
        return warned(
            need.check_id,
            need.title,
            f"{evidence}depends on a condition doctor cannot evaluate: {'; '.join(conditions)}; for "
            f"{_listed(undecided)} ({how}){noted}",
            "make sure the condition holds for MWAA's requests as the execution role, or let the doctor's caller "
            "use iam:SimulatePrincipalPolicy (the simulation evaluates every condition key)",
        )
    allowed = ", ".join(sorted({e.request.action for e in mine}))
    return passed(need.check_id, need.title, f"{evidence}allowed by {how}: {allowed}{noted}")


def role_checks(iam: IAMClient, facts: EnvironmentFacts, backend: SecretsBackend, kms: KMSClient) -> list[Check]:
    """One row per need; one simulation (or one read of the role's policies) for all of them.

    ``kms`` resolves a KmsKey alias to its key.
    """
    key = resolve_key(facts, kms) if facts.kms_key else None
    needs = role_needs(facts, backend, key)
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
        if need.cannot_check is not None:
            rows.append(warned(need.check_id, need.title, *need.cannot_check))
        elif not need.requests:
            rows.append(passed(need.check_id, need.title, need.nothing_to_check))
        else:
            assert permissions is not None  # some need has requests
            rows.append(_row(need, permissions, need.requests))
    return rows
