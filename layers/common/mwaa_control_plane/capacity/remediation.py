"""What the worker-analysis flow does with a recommendation: nothing, ask a person, or apply it within guardrails.

The tag ``mwaa-cp:remediation`` decides (``off``, ``recommend`` by default, ``auto``). ``auto`` applies only capacity
changes (MinWorkers / MaxWorkers) that the analysis marked auto-applicable, at most the stack's MaxWorkers ceiling,
and not within the cooldown after the last change it applied; anything else a person approves with the Step
Functions task token (``mwaa-cp approve TOKEN`` / ``mwaa-cp reject TOKEN``). Every change goes through the
environment-change flow, which holds the environment lock, waits for AVAILABLE and records before and after.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from mwaa_control_plane.capacity.flow import CAPACITY_FIELDS, RemediationMode
from mwaa_control_plane.environments.change_request import ChangeRequest, RequestedBy
from mwaa_control_plane.payloads import Payload
from mwaa_control_plane.state import PendingApproval, RemediationRecord

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

    from mwaa_control_plane.config import WorkerAnalysisSettings
    from mwaa_control_plane.environments.change_records import ChangeRecord
    from mwaa_control_plane.state import StateRepository

FLOW = "worker-analysis"
Decision = Literal["off", "none", "apply", "approve", "cooldown", "refused"]


class RemediationPlan(Payload):
    decision: Decision
    message: str
    mode: RemediationMode
    change_request: dict[str, Any] | None = None
    approval_timeout_seconds: int


def plan_remediation(
    environment: str,
    mode: RemediationMode,
    *,
    cause: str,
    change: dict[str, Any] | None,
    auto_applicable: bool,
    execution: str,
    repository: StateRepository,
    settings: WorkerAnalysisSettings,
    now: datetime,
) -> RemediationPlan:
    """The remediation for one diagnosis (see the module docstring for the rules)."""
    timeout = settings.approval_timeout_seconds

    def plan(decision: Decision, message: str, request: ChangeRequest | None = None) -> RemediationPlan:
        body = request.model_dump(mode="json", exclude_none=True) if request else None
        return RemediationPlan(
            decision=decision, message=message, mode=mode, change_request=body, approval_timeout_seconds=timeout
        )

    if mode == "off":
        return plan("off", f"Remediation is off for {environment} (tag mwaa-cp:remediation=off): nothing changes.")
    if change is None:
        return plan("none", f"The diagnosis of {environment} ({cause}) proposes no environment change.")
    request = ChangeRequest.model_validate(
        {**change, "requested_by": RequestedBy(flow=FLOW, execution=execution).model_dump()}
    )
    fields = {name for name, value in change.items() if value is not None} - {
        "environment_name",
        "reason",
        "requested_by",
        "restore_on_failure",
        "settle_seconds",
        "worker_replacement_strategy",
    }
    if request.max_workers is not None and request.max_workers > settings.max_workers_ceiling:
        return plan(
            "refused",
            f"The proposal for {environment} asks MaxWorkers {request.max_workers}, above the stack's ceiling "
            f"{settings.max_workers_ceiling} (RemediationMaxWorkersCeiling): nothing changes.",
        )
    if mode == "auto" and auto_applicable and fields <= CAPACITY_FIELDS:
        last = repository.last_remediation(environment)
        cooldown = timedelta(minutes=settings.cooldown_minutes)
        if last is not None and now < last.applied_at + cooldown:
            return plan(
                "cooldown",
                f"The proposal for {environment} is not applied: the last automatic change ({last.change_id}) was "
                f"at {last.applied_at.isoformat()}, inside the {settings.cooldown_minutes}-minute cooldown "
                f"(RemediationCooldownMinutes). Until {(last.applied_at + cooldown).isoformat()} only the report is "
                "sent.",
            )
        return plan("apply", f"Applying the proposal for {environment} automatically ({_describe(change)}).", request)
    why = "" if mode == "recommend" else " (auto applies only MinWorkers and MaxWorkers changes marked auto-applicable)"
    return plan("approve", f"The proposal for {environment} waits for a person's approval{why}.", request)


def _describe(change: dict[str, Any]) -> str:
    shown = {k: v for k, v in change.items() if k not in ("environment_name", "reason", "requested_by") and v}
    return ", ".join(f"{name} -> {value}" for name, value in sorted(shown.items()))


def request_approval(
    environment: str,
    *,
    task_token: str,
    execution: str,
    change: dict[str, Any],
    summary: str,
    report_uri: str,
    repository: StateRepository,
    sns: SNSClient,
    topic_arn: str,
    timeout_seconds: int,
    now: datetime,
) -> PendingApproval:
    """Store the task token with what it would change, and ask the operators (the token is in the message)."""
    expires = now + timedelta(seconds=timeout_seconds)
    approval = PendingApproval(
        environment_name=environment,
        execution=execution,
        task_token=task_token,
        requested_at=now,
        expires_at=expires,
        summary=summary,
    )
    repository.put_pending_approval(approval)
    message = "\n".join(
        [
            f"The worker analysis of {environment} proposes: {_describe(change)}.",
            summary,
            f"Report: {report_uri}",
            "",
            "Approve (the environment-change flow applies it under the environment lock):",
            f"  mwaa-cp approve {task_token}",
            "Reject (nothing changes):",
            f"  mwaa-cp reject {task_token}",
            "",
            f"Without an answer by {expires.isoformat()} nothing changes.",
        ]
    )
    sns.publish(
        TopicArn=topic_arn, Subject=f"MWAA worker analysis: approve a change to {environment}?"[:100], Message=message
    )
    return approval


class RemediationOutcome(Payload):
    message: str
    change_id: str
    revert: str


def record_remediation(
    environment: str,
    *,
    change_execution: str,
    result: str,
    mode: str,
    cause: str,
    repository: StateRepository,
    now: datetime,
) -> RemediationOutcome:
    """Start the cooldown and word what changed, with the before/after the environment-change flow recorded."""
    change_id = change_execution.rsplit(":", 1)[-1]
    mode = {"apply": "auto", "approve": "approved"}.get(mode, mode)
    repository.record_remediation(
        RemediationRecord(
            environment_name=environment, applied_at=now, change_id=change_id, mode=mode, cause=cause, result=result
        )
    )
    record = find_change(repository, environment, change_id)
    changes = ", ".join(f"{c.field}: {c.before} -> {c.after}" for c in record.changes) if record else ""
    revert = f"mwaa-cp revert {change_id} --environment {environment}"
    return RemediationOutcome(
        message=f"Worker analysis ({mode}) changed {environment}: {changes or result} (change {change_id}). "
        f"Revert with: {revert}",
        change_id=change_id,
        revert=revert,
    )


def find_change(repository: StateRepository, environment: str, change_id: str) -> ChangeRecord | None:
    """The environment-change flow's record of ``change_id`` (its execution name), or None."""
    return next((r for r in repository.change_history(environment) if r.change_id == change_id), None)


REVERTABLE = ("environment_class", "min_workers", "max_workers", "schedulers", "min_webservers", "max_webservers")


def revert_request(record: ChangeRecord, *, requested_by: str = "console") -> ChangeRequest:
    """A change request that puts back the recorded ``before`` values of a capacity change.

    Artifacts and configuration options are recorded as fingerprints, not values, so only capacity reverts.
    """
    from mwaa_control_plane.errors import InvalidInputError

    if record.status != "succeeded":
        raise InvalidInputError(f"change {record.change_id} ended {record.status}: the environment did not take it")
    before = {c.field: c.before for c in record.changes if c.field in REVERTABLE and c.before is not None}
    others = sorted(c.field for c in record.changes if c.field not in REVERTABLE)
    if others:
        raise InvalidInputError(
            f"change {record.change_id} also changed {', '.join(others)}, which are recorded as fingerprints only: "
            "revert those through a change request with the values you want"
        )
    if not before:
        raise InvalidInputError(f"change {record.change_id} recorded no capacity change to revert")
    return ChangeRequest.model_validate(
        {
            "environment_name": record.environment_name,
            **before,
            "reason": f"revert of change {record.change_id}",
            "requested_by": {"flow": requested_by},
        }
    )
