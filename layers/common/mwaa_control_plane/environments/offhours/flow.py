"""The off-hours flow's steps: what each Lambda of ``statemachines/off_hours.asl.json`` does, over the domain.

The domain decides (``plan``, ``capacity``, ``drain``, ``snapshot``, ``airflow_state``,
``catchup``, ``records``); this module observes MWAA and the state table, hands the domain what
it needs, acts, and shapes each step's answer for the state machine. One function per step,
taking its collaborators as arguments (:class:`Steps`), so a handler is parse, wire, call.

Every step's answer is a pydantic model: never a snapshot, a variable value or a configuration
option, only references and counts (Step Functions keeps payloads in its execution history).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import ConfigDict, Field, computed_field, model_validator

from mwaa_control_plane import clients
from mwaa_control_plane.airflow import AirflowClient
from mwaa_control_plane.environments.change_request import ChangeRequest
from mwaa_control_plane.environments.description import describe_environment, get_environment
from mwaa_control_plane.environments.inventory import listed_names
from mwaa_control_plane.environments.offhours.airflow_state import (
    AirflowStateClient,
    capture,
    check_secrets,
    restore,
    ssm_connections_backend,
)
from mwaa_control_plane.environments.offhours.capacity import Capacity, scale_down_request, scale_up_request
from mwaa_control_plane.environments.offhours.catchup import dags_to_unpause, guard
from mwaa_control_plane.environments.offhours.drain import DrainReader, decide, drain_status
from mwaa_control_plane.environments.offhours.plan import (
    ConsoleAction,
    ObservedEnvironment,
    PlannedAction,
    plan,
    plan_console_action,
)
from mwaa_control_plane.environments.offhours.records import OffHoursRecord
from mwaa_control_plane.environments.offhours.snapshot import (
    EnvironmentSnapshot,
    SnapshotRef,
    SnapshotStore,
    create_arguments_for_resume,
    create_arguments_from,
)
from mwaa_control_plane.environments.offhours.tags import OffHoursConfig, StackDefaults, config_from_tags
from mwaa_control_plane.errors import (
    EnvironmentBusyError,
    EnvironmentStateError,
    InvalidInputError,
    NotFoundError,
    OffHoursRecordConflictError,
    translate_client_error,
)
from mwaa_control_plane.observability import logger
from mwaa_control_plane.payloads import EnvironmentName, Payload

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_ssm import SSMClient

    from mwaa_control_plane.clock import Clock
    from mwaa_control_plane.config import OffHoursSettings
    from mwaa_control_plane.state import StateRepository
    from mwaa_control_plane.wiring import Dependencies

RequestAction = Literal["scale-down", "scale-up", "hibernate", "resume", "reconcile"]
# An environment that turns busy during the drain check is waited for this long, looked at this often.
BUSY_WAIT = timedelta(hours=1)
BUSY_POLL_SECONDS = 120
ItemAction = Literal["scale-down", "scale-up", "hibernate", "resume"]
Outcome = Literal["done", "failed", "skipped", "noop"]
EXECUTED: tuple[ItemAction, ...] = ("scale-down", "scale-up", "hibernate", "resume")
AVAILABLE = "AVAILABLE"
# Statuses an environment passes through on its own: a step waits for them to end (EnvironmentBusyError, retried).
TRANSIENT_STATUSES = frozenset(
    {"CREATING", "UPDATING", "DELETING", "ROLLING_BACK", "CREATING_SNAPSHOT", "PENDING", "MAINTENANCE"}
)
RECORD_ATTEMPTS = 3
_MAX_MESSAGE = 4000
_MAX_ERROR = 1000


# -- the console input and the plan ------------------------------------------------------------------------------------


class OffHoursRequest(Payload):
    """The console input (``events/off-hours/*.json``) and the schedule's: unknown keys are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: RequestAction
    environment: EnvironmentName | None = None
    dry_run: bool = False

    @model_validator(mode="after")
    def _named(self) -> OffHoursRequest:
        if self.action != "reconcile" and self.environment is None:
            raise ValueError(f"action {self.action} needs an environment (only reconcile runs on every environment)")
        return self


class EnvironmentReport(Payload):
    """One line of the plan's report: what the environment is, should be, and what is done about it."""

    environment: str
    status: str | None
    actual: str
    desired: str | None
    action: str
    reason: str
    protected: bool = False
    tag_problems: list[str] = []
    resume_at: datetime | None = None


class ActionItem(Payload):
    """One item of the state machine's Map: the planned action, with everything its branch needs."""

    environment: str
    action: ItemAction
    reason: str
    planned: PlannedAction


class Notice(Payload):
    subject: str
    message: str


class PlanResult(Payload):
    dry_run: bool
    request: OffHoursRequest
    planned_at: datetime
    report: list[EnvironmentReport]
    actions: list[ActionItem]
    corrected: list[str] = []
    """Records the plan corrected (an interrupted flow's), as ``environment: old -> new``."""
    notify: bool = False
    notice: Notice | None = None
    """A console action that was refused or has to wait: the person who asked is told why."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def work(self) -> list[dict[str, Any]]:
        """The state machine's Map items: the actions (none in a dry run) and the console notice.

        One list, so that a tick with nothing to do costs the plan and an empty Map: two state transitions.
        """
        items: list[dict[str, Any]] = []
        if not self.dry_run:
            items.extend({**action.model_dump(mode="json"), "notice": None} for action in self.actions)
        if self.notice is not None:
            environment = self.request.environment or "all"
            items.append(
                {
                    "environment": environment,
                    "action": "notify",
                    "reason": self.notice.subject,
                    "planned": None,
                    "notice": self.notice.model_dump(mode="json"),
                }
            )
        return items


def observe(mwaa: MWAAClient, repository: StateRepository, name: str | None) -> list[ObservedEnvironment]:
    """What the plan needs about ``name`` (or every environment, hibernated ones from their records)."""
    records = {record.environment_name: record for record in repository.off_hours_records()}
    names = [name] if name is not None else sorted(set(listed_names(mwaa)) | set(records))
    observed = []
    for environment_name in names:
        try:
            environment: dict[str, Any] | None = get_environment(mwaa, environment_name)
        except NotFoundError:
            environment = None
        holder = repository.environment_lock_holder(environment_name)
        observed.append(
            ObservedEnvironment(
                name=environment_name,
                status=environment.get("Status") if environment else None,
                tags=dict(environment.get("Tags") or {}) if environment else {},
                capacity=_capacity(environment),
                record=records.get(environment_name) if name is None else repository.off_hours_record(name),
                lock_holder=holder.describe() if holder else None,
            )
        )
    return observed


def _capacity(environment: Mapping[str, Any] | None) -> Capacity | None:
    if environment is None or environment.get("Status") in (None, "CREATE_FAILED", "DELETED"):
        return None
    try:
        return Capacity.from_environment(environment)
    except (InvalidInputError, ValueError):
        return None


def plan_actions(
    request: OffHoursRequest,
    observed: list[ObservedEnvironment],
    stack: StackDefaults,
    repository: StateRepository,
    now: datetime,
) -> PlanResult:
    """The plan for ``request``; outside a dry run, records an interrupted flow left wrong are corrected."""
    if request.action == "reconcile":
        planned = plan(observed, stack, now)
    else:
        console: ConsoleAction = request.action
        planned = [plan_console_action(console, observed[0], stack, now)]
    corrected = [] if request.dry_run else list(_correct_records(planned, repository, now))
    notice = _console_notice(request, planned)
    return PlanResult(
        dry_run=request.dry_run,
        request=request,
        planned_at=now,
        report=[_report_line(action) for action in planned],
        actions=[
            ActionItem(environment=p.environment_name, action=p.action, reason=p.reason, planned=p)
            for p in planned
            if p.action in EXECUTED
        ],
        corrected=corrected,
        notify=notice is not None,
        notice=notice,
    )


def _report_line(planned: PlannedAction) -> EnvironmentReport:
    return EnvironmentReport(
        environment=planned.environment_name,
        status=planned.status,
        actual=planned.actual,
        desired=planned.desired,
        action=planned.action,
        reason=planned.reason,
        protected=planned.protected,
        tag_problems=planned.tag_problems,
        resume_at=planned.resume_at,
    )


def _correct_records(planned: list[PlannedAction], repository: StateRepository, now: datetime) -> Iterator[str]:
    for action in planned:
        if action.correct_record is None:
            continue
        record = repository.off_hours_record(action.environment_name)
        if record is None or record.state == action.correct_record:
            continue
        try:
            repository.put_off_hours_record(record.moved_to(action.correct_record, now))
        except OffHoursRecordConflictError:
            continue  # another execution is writing it: the next tick looks again
        yield f"{action.environment_name}: {record.state} -> {action.correct_record}"


def _console_notice(request: OffHoursRequest, planned: list[PlannedAction]) -> Notice | None:
    if request.action == "reconcile" or request.dry_run:
        return None
    [action] = planned
    if action.action not in ("refuse", "wait"):
        return None
    verb = "refused" if action.action == "refuse" else "not started"
    return Notice(
        subject=f"MWAA off-hours: {request.action} of {action.environment_name} {verb}",
        message=f"The {request.action} of {action.environment_name} was {verb}: {action.reason}",
    )


# -- the steps ---------------------------------------------------------------------------------------------------------


class CapacityChange(Payload):
    status: Literal["change", "noop"]
    detail: str
    change_request: ChangeRequest | None = None


class DrainCheck(Payload):
    decision: Literal["proceed", "wait", "skip"]
    since: datetime
    wait_seconds: Annotated[int, Field(ge=0)] = 0
    detail: str


class SnapshotTaken(Payload):
    snapshot: SnapshotRef
    detail: str
    secrets_lost: list[str] = []
    """Accepted by ``mwaa-cp:connections=accept-loss``: what the resumed environment will miss (names only)."""


class DeletionStarted(Payload):
    status: Literal["deleting"] = "deleting"
    detail: str


class CreateStarted(Payload):
    status: Literal["creating", "available", "noop", "postponed"]
    detail: str
    started_at: datetime | None = None
    snapshot: SnapshotRef | None = None


class AirflowRestored(Payload):
    detail: str
    variables: int
    pools: int
    connections_created: list[str]
    paused: list[str]
    unpaused: list[str]
    kept_paused: list[str]
    """catchup=True DAGs the guard kept paused, each with the runs unpausing would create."""


@dataclass(frozen=True)
class Steps:
    """The collaborators every step needs; the handler builds it from its dependencies."""

    mwaa: MWAAClient
    repository: StateRepository
    clock: Clock
    stack: StackDefaults
    store: SnapshotStore | None = None
    airflow: Callable[[str], Any] | None = None
    """Environment name -> an AirflowClient for it (built only by the steps that talk to Airflow)."""
    ssm: SSMClient | None = None

    # -- shared ------------------------------------------------------------------------------

    def _environment(self, name: str) -> dict[str, Any]:
        return get_environment(self.mwaa, name)

    def _available(self, name: str, doing: str) -> dict[str, Any]:
        """GetEnvironment, insisting on AVAILABLE: busy statuses are waited for, any other is refused."""
        environment = self._environment(name)
        status = environment.get("Status")
        if status == AVAILABLE:
            return environment
        if status in TRANSIENT_STATUSES:
            raise EnvironmentBusyError(f"environment {name} is {status}: {doing} waits for AVAILABLE")
        raise EnvironmentStateError(f"environment {name} is {status}: {doing} acts only from AVAILABLE")

    def _config(self, tags: Mapping[str, str]) -> OffHoursConfig:
        return config_from_tags(tags, self.stack)

    def _store(self) -> SnapshotStore:
        if self.store is None:
            raise InvalidInputError("this step has no snapshot store")
        return self.store

    def _airflow(self, name: str) -> Any:
        if self.airflow is None:
            raise InvalidInputError("this step has no Airflow client")
        return self.airflow(name)

    def _holds_lock(self, name: str, owner: str, doing: str) -> None:
        holder = self.repository.environment_lock_holder(name)
        if holder is None or holder.owner != owner:
            held = holder.describe() if holder else "nobody (its lease ran out)"
            raise EnvironmentStateError(f"{doing} of {name} stopped: the environment lock is held by {held}")

    def _update_record(
        self, name: str, change: Callable[[OffHoursRecord], OffHoursRecord | None], now: datetime
    ) -> OffHoursRecord | None:
        """Read, change and write the environment's record, reading again when another execution wrote first."""
        for attempt in range(RECORD_ATTEMPTS):
            record = self.repository.off_hours_record(name) or OffHoursRecord(
                environment_name=name, state="awake", since=now
            )
            changed = change(record)
            if changed is None:
                return record
            try:
                return self.repository.put_off_hours_record(changed)
            except OffHoursRecordConflictError:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
        return None

    # -- scale-down / scale-up ----------------------------------------------------------------

    def prepare_capacity_change(self, item: ActionItem, execution: str) -> CapacityChange:
        """Scale-down records the capacity first (versioned) and asks for the minimum; scale-up for the recorded."""
        name, planned = item.environment, item.planned
        current = Capacity.from_environment(self._available(name, item.action))
        now = self.clock.now()
        detail = planned.decision.detail if planned.decision else planned.reason
        request: ChangeRequest | None
        if item.action == "scale-down":
            if planned.record_capacity:
                self.repository.record_capacity(name, current)
                self._update_record(name, lambda r: r.model_copy(update={"capacity": current}), now)
            request = scale_down_request(
                name, current, night_class=planned.night_class, detail=detail, execution=execution
            )
            done = f"{name} is already at the minimum of its class ({current.describe()})"
        else:
            recorded = planned.restore_capacity or self._recorded_capacity(name)
            if recorded is None:
                return CapacityChange(status="noop", detail=f"no capacity was recorded for {name}: nothing to restore")
            request = scale_up_request(name, current, recorded, detail=detail, execution=execution)
            done = f"{name} already runs the recorded capacity ({recorded.describe()})"
        if request is None:
            return CapacityChange(status="noop", detail=done)
        return CapacityChange(status="change", detail=request.reason, change_request=request)

    def _recorded_capacity(self, name: str) -> Capacity | None:
        record = self.repository.off_hours_record(name)
        return (record.capacity if record else None) or self.repository.latest_capacity(name)

    # -- hibernate -----------------------------------------------------------------------------

    def check_drain(self, name: str, since: datetime | None) -> DrainCheck:
        """Running or queued work under the ``mwaa-cp:drain`` policy: proceed, wait (and how long), or skip.

        An environment that became busy (an update started meanwhile) is waited for in the same loop, checked
        every 2 minutes for at most an hour (an update takes 10-30 minutes): a deterministic wait, where Retry's
        full jitter could spend its attempts before the update ends.
        """
        now = self.clock.now()
        waiting_since = since or now
        try:
            environment = self._available(name, "hibernate")
        except EnvironmentBusyError as busy:
            if now - waiting_since >= BUSY_WAIT:
                raise
            return DrainCheck(decision="wait", since=waiting_since, wait_seconds=BUSY_POLL_SECONDS, detail=str(busy))
        config = self._config(environment.get("Tags") or {})
        airflow: DrainReader = self._airflow(name)
        status = drain_status(airflow, now)
        decision = decide(status, config.drain, waiting_since=waiting_since, now=now)
        wait = 0
        if decision.check_again_at is not None:
            wait = max(1, int((decision.check_again_at - now).total_seconds()))
        logger.info("drain checked", extra={"environment": name, "decision": decision.decision, "idle": status.idle})
        return DrainCheck(decision=decision.decision, since=waiting_since, wait_seconds=wait, detail=decision.reason)

    def take_snapshot(self, name: str) -> SnapshotTaken:
        """Capture the create-able configuration and the Airflow state, store it encrypted, read it back, verify."""
        environment = self._available(name, "hibernate")
        config = self._config(environment.get("Tags") or {})
        record = self.repository.off_hours_record(name)
        # A scaled-down environment comes back with the capacity recorded before its scale-down.
        capacity = record.capacity if record is not None and record.state == "scaled-down" else None
        arguments = create_arguments_from(environment, capacity=capacity)
        options = dict(environment.get("AirflowConfigurationOptions") or {})
        now = self.clock.now()
        airflow: AirflowStateClient = self._airflow(name)
        ssm = self.ssm if ssm_connections_backend(options) is not None else None
        state = capture(airflow, configuration_options=options, ssm=ssm, now=now)
        lost = check_secrets(state, config.connections)
        store = self._store()
        ref = store.save(
            EnvironmentSnapshot(environment_name=name, taken_at=now, create_arguments=arguments, airflow_state=state)
        )
        store.verify(ref)
        detail = (
            f"snapshot {ref.key} (version {ref.version_id}) verified: {len(state.variables)} variables,"
            f" {len(state.pools)} pools, {len(state.connections)} connections, {len(state.dags)} DAGs"
        )
        if lost:
            detail += f"; accepted to lose ({len(lost)}): {'; '.join(lost)}"
        return SnapshotTaken(snapshot=ref, detail=detail, secrets_lost=lost)

    def delete_environment(self, name: str, ref: SnapshotRef, owner: str) -> DeletionStarted:
        """DeleteEnvironment, only with the verified snapshot recorded and the lock held by ``owner``."""
        self._holds_lock(name, owner, "hibernate")
        self._store().verify(ref)
        environment = self._available(name, "hibernate")
        now = self.clock.now()
        tags = dict(environment.get("Tags") or {})
        # Where it reads its files: delivery and the one door keep serving it while it does not exist.
        target = describe_environment(self.mwaa, name)

        def hibernating(record: OffHoursRecord) -> OffHoursRecord:
            # The capacity it comes back with (a scaled-down one: the capacity recorded before its scale-down).
            kept = record.capacity if record.state == "scaled-down" and record.capacity else _capacity(environment)
            return record.moved_to("hibernating", now, snapshot=ref, tags=tags, target=target, hibernated_capacity=kept)

        self._update_record(name, hibernating, now)
        try:
            self.mwaa.delete_environment(Name=name)
        except ClientError as exc:
            error = translate_client_error(exc, operation="DeleteEnvironment")
            if getattr(error, "code", "") == "ValidationException":
                raise EnvironmentBusyError(f"MWAA refused to delete {name} now: {error}") from exc
            raise error from exc
        logger.info("environment deleted for hibernate", extra={"environment": name, "snapshot": ref.key})
        return DeletionStarted(detail=f"deleting {name}; snapshot {ref.key} version {ref.version_id} kept")

    # -- resume --------------------------------------------------------------------------------

    def create_environment(self, name: str, owner: str) -> CreateStarted:
        """CreateEnvironment from the verified snapshot, with the tags as they are now; idempotent."""
        self._holds_lock(name, owner, "resume")
        record = self.repository.off_hours_record(name)
        if record is None or record.snapshot is None:
            raise EnvironmentStateError(f"{name} has no recorded snapshot: there is nothing to resume from")
        try:
            environment: dict[str, Any] | None = self._environment(name)
        except NotFoundError:
            environment = None
        if environment is not None:
            return self._existing(name, environment, record)
        snapshot = self._store().verify(record.snapshot)
        arguments = create_arguments_for_resume(snapshot, record.tags or None)
        now = self.clock.now()
        self._update_record(name, lambda r: r.moved_to("resuming", now), now)
        try:
            self.mwaa.create_environment(**arguments)
        except ClientError as exc:
            raise translate_client_error(exc, operation="CreateEnvironment") from exc
        logger.info("environment created for resume", extra={"environment": name, "snapshot": record.snapshot.key})
        return CreateStarted(
            status="creating",
            detail=f"creating {name} from snapshot {record.snapshot.key} version {record.snapshot.version_id}",
            started_at=now,
            snapshot=record.snapshot,
        )

    def _existing(self, name: str, environment: Mapping[str, Any], record: OffHoursRecord) -> CreateStarted:
        status = environment.get("Status")
        if status == AVAILABLE and record.state == "resuming":
            return CreateStarted(
                status="available",
                detail=f"{name} was created by an earlier resume: its Airflow state is restored now",
                started_at=record.since,
                snapshot=record.snapshot,
            )
        if status == AVAILABLE:
            return CreateStarted(status="noop", detail=f"{name} already exists and is AVAILABLE: nothing to resume")
        if status == "CREATE_FAILED":
            try:
                self.mwaa.delete_environment(Name=name)
            except ClientError as exc:
                raise translate_client_error(exc, operation="DeleteEnvironment") from exc
            return CreateStarted(
                status="postponed",
                detail=(
                    f"{name} is left CREATE_FAILED by an earlier resume: it is being deleted, and the resume is"
                    " retried on a later run"
                ),
            )
        if status in TRANSIENT_STATUSES:
            raise EnvironmentBusyError(f"environment {name} is {status}: resume waits")
        raise EnvironmentStateError(f"environment {name} is {status}: resume cannot create it")

    def restore_airflow_state(self, name: str, ref: SnapshotRef) -> AirflowRestored:
        """Variables, pools, connections and pause states back; catchup DAGs kept paused per ``mwaa-cp:catchup``."""
        environment = self._available(name, "restore")
        config = self._config(environment.get("Tags") or {})
        snapshot = self._store().load(ref)
        state = snapshot.airflow_state
        if state is None:
            return AirflowRestored(
                detail="the snapshot holds no Airflow state",
                variables=0,
                pools=0,
                connections_created=[],
                paused=[],
                unpaused=[],
                kept_paused=[],
            )
        decisions = guard(state, config.catchup, self.clock.now())
        report = restore(self._airflow(name), state, unpause=dags_to_unpause(decisions))
        if not report.complete:
            pending = ", ".join(report.pending_dags[:10])
            raise EnvironmentBusyError(f"Airflow of {name} has not parsed every DAG yet ({pending}): restore again")
        kept = [f"{d.dag_id}: {d.reason}" for d in decisions if d.action == "keep-paused" and d.runs]
        detail = (
            f"restored {report.variables} variables, {report.pools} pools,"
            f" {len(report.connections_created)} connections, pause states of {len(state.dags)} DAGs"
        )
        if kept:
            detail += f"; kept paused by the catchup guard: {'; '.join(kept)}"
        return AirflowRestored(
            detail=detail,
            variables=report.variables,
            pools=report.pools,
            connections_created=report.connections_created,
            paused=report.paused,
            unpaused=report.unpaused,
            kept_paused=kept,
        )

    # -- every outcome --------------------------------------------------------------------------

    def record_outcome(self, item: ItemState) -> RecordedOutcome:
        """Write the outcome into the environment's record and word the notification."""
        name, action = item.environment, item.action
        status = item.ending.status
        now = self.clock.now()
        error = self._error_text(item)
        details = [d for d in item.details() if d]
        problem = (error or "; ".join(details) or status)[:_MAX_ERROR]
        previous = self.repository.off_hours_record(name)
        # The same skip on every tick (work that never drains, a secret that would be lost) is told once.
        repeated = (
            status == "skipped"
            and not item.console
            and previous is not None
            and previous.last_error == f"{action} skipped: {problem}"[:_MAX_ERROR]
        )
        if status == "done":
            self._update_record(name, lambda r: _after_success(r, item, now), now)
        elif status == "failed" and action == "resume":
            # Back to hibernated (its snapshot kept): delivery and health keep treating it as hibernated, and the
            # plan retries after the backoff (deleting a CREATE_FAILED leftover first).
            self._update_record(
                name,
                lambda r: r.with_resume_failure(error or "resume failed", now).model_copy(
                    update={"state": "hibernated"}
                ),
                now,
            )
        elif status in ("failed", "skipped"):
            last = f"{action} {status}: {problem}"[:_MAX_ERROR]
            self._update_record(name, lambda r: r.model_copy(update={"last_error": last}), now)
        subject, verb = _subject(name, action, status)
        lines = [f"The off-hours {action} of {name} {verb}.", f"Why it ran: {item.reason}"]
        lines += details
        if error:
            lines.append(f"Error: {error}")
        if status == "failed" and action == "resume":
            record = self.repository.off_hours_record(name)
            if record is not None and record.next_resume_attempt_at is not None:
                lines.append(
                    f"The snapshot is kept; the next resume is not tried before"
                    f" {record.next_resume_attempt_at.isoformat()} (failure {record.resume_failures})."
                )
        message = "\n".join(lines)[:_MAX_MESSAGE]
        return RecordedOutcome(
            environment=name,
            action=action,
            status=status,
            subject=subject,
            message=message,
            notify=status != "noop" and not repeated,
        )

    def _error_text(self, item: ItemState) -> str | None:
        if item.ending.step == "create-failed":
            return self._create_failure(item.environment)
        if item.ending.step == "create-timeout":
            return "the environment was still CREATING after 90 minutes"
        if item.ending.step == "delete-timeout":
            return "the environment was still being deleted after 120 minutes"
        if item.ending.step == "environment-change" and item.ending.status == "failed":
            return "the environment-change flow did not apply the capacity (its own notification says why)"
        if item.error is not None:
            return f"{item.error.Error}: {item.error.message}".strip(": ")
        return None

    def _create_failure(self, name: str) -> str:
        try:
            environment = self._environment(name)
        except NotFoundError:
            return "CREATE_FAILED (the environment is gone)"
        status = environment.get("Status")
        error = (environment.get("LastUpdate") or {}).get("Error") or {}
        code, message = error.get("ErrorCode"), error.get("ErrorMessage")
        what = f"{code}: {message}" if code or message else "MWAA gave no LastUpdate.Error"
        return f"{status}: {what}"


# -- the outcome step's input and output -------------------------------------------------------------------------------


class Ending(Payload):
    status: Outcome
    step: str


class StepError(Payload):
    Error: str = ""
    Cause: str = ""

    @property
    def message(self) -> str:
        """The Cause without its envelope: a Lambda's is JSON with the message, a request id and a stack trace."""
        try:
            cause = json.loads(self.Cause)
        except ValueError:
            return self.Cause
        message = cause.get("errorMessage") if isinstance(cause, dict) else None
        return message if isinstance(message, str) else self.Cause


class StepResult(Payload):
    value: dict[str, Any] = {}


class ItemState(Payload):
    """A Map item's state as the record step receives it (the whole of ``$``): what the branch did."""

    environment: EnvironmentName
    action: ItemAction
    reason: str = ""
    planned: dict[str, Any] = {}
    ending: Ending
    error: StepError | None = None
    prepared: StepResult | None = None
    drain: StepResult | None = None
    snapshot: StepResult | None = None
    deletion: StepResult | None = None
    creation: StepResult | None = None
    restored: StepResult | None = None

    def details(self) -> Iterator[str]:
        for step in (self.prepared, self.drain, self.snapshot, self.deletion, self.creation, self.restored):
            if step is not None and isinstance(step.value.get("detail"), str):
                yield step.value["detail"]

    @property
    def console(self) -> bool:
        """Asked for from the console (always told), rather than planned by the schedule's reconcile."""
        return bool(self.planned.get("console"))

    @property
    def started_at(self) -> datetime | None:
        started = self.creation.value.get("started_at") if self.creation else None
        return datetime.fromisoformat(started) if isinstance(started, str) else None


class RecordedOutcome(Payload):
    environment: str
    action: str
    status: Outcome
    subject: str
    message: str
    notify: bool


def _after_success(record: OffHoursRecord, item: ItemState, now: datetime) -> OffHoursRecord:
    if item.action == "scale-down":
        return record.moved_to("scaled-down", now, last_error=None)
    if item.action == "scale-up":
        return record.moved_to("awake", now, last_error=None)
    if item.action == "hibernate":
        return record.moved_to("hibernated", now, last_error=None)
    started = item.started_at or record.since
    return record.with_create_duration(max(now - started, timedelta(0))).moved_to("awake", now)


_VERBS: dict[tuple[str, Outcome], str] = {
    ("scale-down", "done"): "scaled down",
    ("scale-up", "done"): "scaled up",
    ("hibernate", "done"): "hibernated",
    ("resume", "done"): "resumed",
}


def _subject(name: str, action: str, status: Outcome) -> tuple[str, str]:
    verb = (
        _VERBS.get((action, status))
        or {
            "failed": f"{action} failed",
            "skipped": f"{action} skipped",
            "noop": "nothing to do",
            "done": f"{action} done",
        }[status]
    )
    sentence = {"failed": "failed", "skipped": "was skipped", "noop": "had nothing to do"}.get(status, "is done")
    return f"MWAA off-hours: {name} {verb}"[:100], sentence


def build_steps(
    deps: Dependencies[OffHoursSettings], *, snapshots: bool = False, airflow: bool = False, ssm: bool = False
) -> Steps:
    """The steps over a handler's dependencies; only what the step uses is built (clients are lazy anyway)."""
    settings = deps.settings
    region, clock = settings.region, deps.clock
    return Steps(
        mwaa=deps.mwaa,
        repository=deps.repository,
        clock=clock,
        stack=settings.stack_defaults(),
        store=SnapshotStore(deps.s3, settings.snapshot_bucket, settings.snapshot_kms_key_id) if snapshots else None,
        airflow=(lambda name: AirflowClient.for_environment(name, region=region, clock=clock)) if airflow else None,
        ssm=clients.ssm(region) if ssm else None,
    )
