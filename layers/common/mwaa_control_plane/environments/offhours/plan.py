"""The reconciler's brain: for each environment, what it is, what it should be, and the one action between.

Pure: the caller observes (ListEnvironments, GetEnvironment, the off-hours records) and passes
:class:`ObservedEnvironment` values in; :func:`plan` answers one :class:`PlannedAction` per
environment. Rules, in order:

- tags that cannot be read: nothing is done, the problems are reported;
- an environment is changed only from AVAILABLE (any other status: ``wait``);
- a protected environment is never paused (``desired_state`` keeps it awake), but one that is
  scaled down or hibernated is brought back;
- a hibernated environment resumes when it should be awake ``lead_time`` from now (learned from
  its creates, 40 minutes by default), unless a failed resume's backoff is not over (``wait``);
- an environment is paused only when the off period lasts longer than coming back takes;
- the record and the environment disagree after an interrupted flow: the plan says what is
  true (``correct_record``) and heals on the next tick;
- an environment whose lock another flow holds waits (the flows record ``hibernating`` and
  ``resuming`` under the lock, so a record in those states without a holder is an interrupted flow).

:func:`plan_console_action` answers an explicit console action on one environment: idempotent
(resuming an awake environment is a no-op that says so), and a protected one is refused with why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from mwaa_control_plane.environments.change_request import EnvironmentClass, Strict
from mwaa_control_plane.environments.offhours.capacity import Capacity, scale_down_target
from mwaa_control_plane.environments.offhours.records import OffHoursRecord, OffHoursState
from mwaa_control_plane.environments.offhours.schedule import Decision, State, desired_state, lead_time, resume_at
from mwaa_control_plane.environments.offhours.tags import OffHoursConfig, StackDefaults, config_from_tags
from mwaa_control_plane.errors import OffHoursTagError
from mwaa_control_plane.payloads import EnvironmentName

Action = Literal["none", "scale-down", "scale-up", "hibernate", "resume", "wait", "refuse"]
ConsoleAction = Literal["scale-down", "scale-up", "hibernate", "resume"]
ActualState = Literal["awake", "scaled-down", "hibernating", "hibernated", "resuming", "absent"]

AVAILABLE = "AVAILABLE"
SCALE_LEAD_TIME = timedelta(minutes=30)
"""How early a scale-up starts before the off period ends: an UpdateEnvironment takes 10-30 minutes."""


class ObservedEnvironment(Strict):
    """One environment as the caller observed it: ``status`` None when ListEnvironments does not show it."""

    name: EnvironmentName
    status: str | None = None
    tags: dict[str, str] = {}
    """GetEnvironment's tags; for an environment that does not exist, the record's are used."""
    capacity: Capacity | None = None
    record: OffHoursRecord | None = None
    lock_holder: str | None = None
    """Who holds the environment's lock (``LockHolder.describe()``), or None: a locked environment waits."""


class PlannedAction(Strict):
    """What to do with one environment, and why; everything the flow's branch needs to do it."""

    environment_name: EnvironmentName
    action: Action
    reason: str
    actual: ActualState
    desired: State | None = None
    status: str | None = None
    decision: Decision | None = None
    config: OffHoursConfig | None = None
    tag_problems: list[str] = []
    protected: bool = False
    console: bool = False
    lead_time_seconds: float | None = None
    resume_at: datetime | None = None
    """When a resume (or, for scale-down, a scale-up) must start for the current or next off period."""
    night_class: EnvironmentClass | None = None
    record_capacity: bool = False
    """scale-down: record the current capacity first (False when the record already holds the pre-scale-down one)."""
    restore_capacity: Capacity | None = None
    """scale-up, and hibernate of a scaled-down environment: the capacity to come back with."""
    delete_failed_environment_first: bool = False
    """resume: a CREATE_FAILED environment of that name must be deleted before CreateEnvironment."""
    correct_record: OffHoursState | None = None
    """The record disagrees with the environment (an interrupted flow): write this state."""


def plan(observed: Sequence[ObservedEnvironment], stack: StackDefaults, now: datetime) -> list[PlannedAction]:
    """The action for every observed environment, by name."""
    return [plan_environment(environment, stack, now) for environment in sorted(observed, key=lambda e: e.name)]


def plan_environment(environment: ObservedEnvironment, stack: StackDefaults, now: datetime) -> PlannedAction:
    """The reconciler's decision for one environment at ``now``."""
    planner = _Planner(environment, stack, now)
    return planner.unless_locked(planner.reconcile())


def plan_console_action(
    action: ConsoleAction, environment: ObservedEnvironment, stack: StackDefaults, now: datetime
) -> PlannedAction:
    """An explicit action from the console on one environment, whatever its window says.

    The next reconcile follows the window again: to keep an environment awake, tag it
    ``mwaa-cp:keep-awake-until``.
    """
    planner = _Planner(environment, stack, now)
    return planner.unless_locked(planner.console(action)).model_copy(update={"console": True})


class _Planner:
    def __init__(self, environment: ObservedEnvironment, stack: StackDefaults, now: datetime) -> None:
        self.env = environment
        self.now = now
        self.record = environment.record
        self.recorded: OffHoursState = self.record.state if self.record else "awake"
        self.present = environment.status not in (None, "DELETED")
        tags = environment.tags if self.present else (self.record.tags if self.record else {})
        self.config: OffHoursConfig | None = None
        self.problems: list[str] = []
        try:
            self.config = config_from_tags(tags, stack)
        except OffHoursTagError as exc:
            self.problems = [str(problem) for problem in exc.problems]
        durations = self.record.create_durations if self.record else []
        self.lead = lead_time(durations)

    # -- building answers -------------------------------------------------------------------

    def unless_locked(self, planned: PlannedAction) -> PlannedAction:
        """Another flow holds the environment's lock: an action that changes it waits for the release."""
        holder = self.env.lock_holder
        if holder is None or planned.action in ("none", "wait", "refuse"):
            return planned
        reason = f"{planned.action} waits: the environment is locked by {holder} ({planned.reason})"
        return planned.model_copy(update={"action": "wait", "reason": reason})

    def _answer(self, action: Action, reason: str, actual: ActualState, **fields: object) -> PlannedAction:
        config = self.config
        decision = desired_state(config, self.now) if config is not None else None
        values: dict[str, object] = {
            "environment_name": self.env.name,
            "action": action,
            "reason": reason,
            "actual": actual,
            "status": self.env.status,
            "config": config,
            "decision": decision,
            "desired": decision.state if decision else None,
            "tag_problems": self.problems,
            "protected": config is not None and config.protection is not None,
            "lead_time_seconds": self.lead.total_seconds(),
            "night_class": config.night_class if config else None,
        }
        if config is not None and config.managed:
            lead = SCALE_LEAD_TIME if config.mode == "scale-down" else self.lead
            values["resume_at"] = resume_at(config, self.now, lead)
        values.update(fields)
        return PlannedAction.model_validate(values)

    def _unavailable(self, intended: str, actual: ActualState, **fields: object) -> PlannedAction | None:
        """``wait`` when the environment is not AVAILABLE; None when it is."""
        if self.env.status == AVAILABLE:
            return None
        reason = f"status {self.env.status}: {intended} waits, off-hours acts only from AVAILABLE"
        return self._answer("wait", reason, actual, **fields)

    def _awake_at(self, moment: datetime) -> bool:
        assert self.config is not None
        return desired_state(self.config, moment).state == "awake"

    def _resume_blocked(self, actual: ActualState, **fields: object) -> PlannedAction | None:
        record = self.record
        if record is None or record.resume_due(self.now):
            return None
        assert record.next_resume_attempt_at is not None
        reason = (
            f"resume failed {record.resume_failures} time(s) (last: {record.last_error or 'unknown'});"
            f" next attempt at {record.next_resume_attempt_at.isoformat()}"
        )
        return self._answer("wait", reason, actual, **fields)

    # -- the reconciler ---------------------------------------------------------------------

    def reconcile(self) -> PlannedAction:
        if not self.present:
            return self._reconcile_absent()
        if self.recorded in ("hibernated", "resuming"):
            return self._reconcile_recreated()
        correct: OffHoursState | None = None
        note = ""
        if self.recorded == "hibernating":
            if self.env.status == "DELETING":
                return self._answer("wait", "hibernating: the environment is being deleted", "hibernating")
            correct, note = "awake", "an earlier hibernate stopped before the delete; "
        if self.config is None:
            return self._answer("none", self._unreadable(), self._present_state(), correct_record=correct)
        if self.recorded == "scaled-down":
            return self._reconcile_scaled_down()
        return self._reconcile_awake(note, correct)

    def _unreadable(self) -> str:
        return "the off-hours tags cannot be read, so nothing is done: " + "; ".join(self.problems)

    def _present_state(self) -> ActualState:
        return "scaled-down" if self.recorded == "scaled-down" else "awake"

    def _reconcile_absent(self) -> PlannedAction:
        if self.record is None or self.recorded in ("awake", "scaled-down"):
            what = "was never acted on" if self.record is None else "was not hibernated by the control plane"
            return self._answer("none", f"the environment does not exist and {what}", "absent")
        if self.config is None:
            return self._answer("none", self._unreadable(), "hibernated")
        if not (self._awake_at(self.now) or self._awake_at(self.now + self.lead)):
            until = resume_at(self.config, self.now, self.lead)
            when = f"; the resume starts at {until.isoformat()}" if until else ""
            return self._answer("none", f"hibernated, as it should be{when}", "hibernated")
        blocked = self._resume_blocked("hibernated")
        if blocked is not None:
            return blocked
        return self._answer("resume", self._wake_reason("resume"), "hibernated")

    def _wake_reason(self, verb: str) -> str:
        assert self.config is not None
        decision = desired_state(self.config, self.now)
        if decision.state == "awake":
            return f"{verb}: it should be awake ({decision.detail})"
        return f"{verb}: the off period ends within the lead time ({int(self.lead.total_seconds() // 60)} min)"

    def _reconcile_recreated(self) -> PlannedAction:
        """Recorded hibernated or resuming, and an environment of that name exists."""
        status = self.env.status
        if status == "CREATE_FAILED":
            blocked = self._resume_blocked("hibernated", delete_failed_environment_first=True)
            if blocked is not None:
                return blocked
            if self.config is not None and not (self._awake_at(self.now) or self._awake_at(self.now + self.lead)):
                return self._answer(
                    "none",
                    "the last resume failed (CREATE_FAILED); hibernated until the window says otherwise",
                    "hibernated",
                )
            return self._answer(
                "resume",
                f"the last resume failed (CREATE_FAILED: {self._last_error()}): delete it and create again",
                "hibernated",
                delete_failed_environment_first=True,
            )
        if status != AVAILABLE:
            return self._answer("wait", f"resuming: the environment is {status}", "resuming")
        if self.recorded == "resuming":
            return self._answer(
                "resume", "an earlier resume stopped after the create: finish it (restore Airflow state)", "resuming"
            )
        return self._answer(
            "refuse",
            "recorded as hibernated, but an environment of this name exists (created outside the control plane?):"
            " nothing is done; delete one of them, or the off-hours record",
            "hibernated",
        )

    def _last_error(self) -> str:
        return (self.record.last_error if self.record else None) or "see LastUpdate.Error"

    def _reconcile_awake(self, note: str, correct: OffHoursState | None) -> PlannedAction:
        assert self.config is not None
        desired = desired_state(self.config, self.now)
        fields: dict[str, object] = {"correct_record": correct}
        if desired.state == "awake":
            return self._answer("none", f"{note}awake, as it should be ({desired.detail})", "awake", **fields)
        if desired.state == "scaled-down":
            return self._scale_down("awake", note, record_capacity=True, **fields)
        # hibernated
        if self._awake_at(self.now + self.lead):
            return self._answer(
                "none",
                f"{note}the off period ends within the lead time ({int(self.lead.total_seconds() // 60)} min):"
                " not worth hibernating",
                "awake",
                **fields,
            )
        waiting = self._unavailable("hibernate", "awake", **fields)
        if waiting is not None:
            return waiting
        return self._answer("hibernate", f"{note}hibernate: {desired.detail}", "awake", **fields)

    def _scale_down(self, actual: ActualState, note: str, *, record_capacity: bool, **fields: object) -> PlannedAction:
        assert self.config is not None
        if self._awake_at(self.now + SCALE_LEAD_TIME):
            return self._answer(
                "none", f"{note}the off period ends within {SCALE_LEAD_TIME}: not worth scaling down", actual, **fields
            )
        current = self.env.capacity
        baseline = (self.record.capacity if self.record and not record_capacity else None) or current
        if current is not None and baseline is not None:
            target = scale_down_target(baseline, self.config.night_class)
            if current == target:
                reason = f"{note}already at the minimum of {target.environment_class}"
                return self._answer("none", reason, actual, **fields)
        waiting = self._unavailable("scale-down", actual, **fields)
        if waiting is not None:
            return waiting
        detail = desired_state(self.config, self.now).detail
        return self._answer(
            "scale-down", f"{note}scale down: {detail}", actual, record_capacity=record_capacity, **fields
        )

    def _reconcile_scaled_down(self) -> PlannedAction:
        assert self.config is not None
        recorded = self.record.capacity if self.record else None
        desired = desired_state(self.config, self.now)
        wake = desired.state == "awake" or self._awake_at(self.now + SCALE_LEAD_TIME)
        if wake:
            return self._scale_up("scaled-down", f"scale up: it should be awake ({desired.detail})")
        if desired.state == "hibernated":
            waiting = self._unavailable("hibernate", "scaled-down", restore_capacity=recorded)
            if waiting is not None:
                return waiting
            return self._answer(
                "hibernate",
                f"hibernate (scaled down until now; it comes back with the recorded capacity): {desired.detail}",
                "scaled-down",
                restore_capacity=recorded,
            )
        current = self.env.capacity
        if (
            current is not None
            and recorded is not None
            and current != scale_down_target(recorded, self.config.night_class)
        ):
            return self._scale_down("scaled-down", "the capacity changed while scaled down; ", record_capacity=False)
        return self._answer("none", f"scaled down, as it should be ({desired.detail})", "scaled-down")

    def _scale_up(self, actual: ActualState, reason: str) -> PlannedAction:
        recorded = self.record.capacity if self.record else None
        if recorded is None:
            return self._answer(
                "none",
                "no capacity was recorded before the scale-down: nothing to restore",
                actual,
                correct_record="awake",
            )
        if self.env.capacity == recorded:
            return self._answer(
                "none", f"already at the recorded capacity ({recorded.describe()})", actual, correct_record="awake"
            )
        waiting = self._unavailable("scale-up", actual, restore_capacity=recorded)
        if waiting is not None:
            return waiting
        return self._answer("scale-up", reason, actual, restore_capacity=recorded)

    # -- the console ------------------------------------------------------------------------

    def console(self, action: ConsoleAction) -> PlannedAction:
        if action in ("scale-down", "hibernate"):
            refused = self._refuse_pause(action)
            if refused is not None:
                return refused
        return {
            "scale-down": self._console_scale_down,
            "scale-up": self._console_scale_up,
            "hibernate": self._console_hibernate,
            "resume": self._console_resume,
        }[action]()

    def _actual(self) -> ActualState:
        if not self.present:
            return "hibernated" if self.recorded in ("hibernated", "hibernating", "resuming") else "absent"
        if self.recorded in ("hibernated", "resuming"):
            return "resuming"
        return self._present_state()

    def _refuse_pause(self, action: ConsoleAction) -> PlannedAction | None:
        actual = self._actual()
        if self.config is None:
            return self._answer("refuse", f"{action} refused: {self._unreadable()}", actual)
        if self.config.protection is not None:
            return self._answer("refuse", f"{action} refused: {self.config.protection.reason}", actual)
        return None

    def _console_scale_down(self) -> PlannedAction:
        actual = self._actual()
        if actual in ("hibernated", "absent", "resuming"):
            return self._answer("none", f"nothing to scale down: the environment is {actual}", actual)
        assert self.config is not None
        current = self.env.capacity
        baseline = (self.record.capacity if self.record and actual == "scaled-down" else None) or current
        if current is not None and baseline is not None:
            target = scale_down_target(baseline, self.config.night_class)
            if current == target:
                return self._answer("none", f"already at the minimum of {target.environment_class}", actual)
        waiting = self._unavailable("scale-down", actual)
        if waiting is not None:
            return waiting
        return self._answer("scale-down", "scale down (console)", actual, record_capacity=actual != "scaled-down")

    def _console_scale_up(self) -> PlannedAction:
        actual = self._actual()
        if actual in ("hibernated", "resuming"):
            return self._answer("none", f"the environment is {actual}: resume it instead of scaling up", actual)
        if actual == "absent":
            return self._answer("none", "the environment does not exist", actual)
        return self._scale_up(actual, "scale up to the recorded capacity (console)")

    def _console_hibernate(self) -> PlannedAction:
        actual = self._actual()
        if actual == "hibernated":
            return self._answer("none", "already hibernated", actual)
        if actual == "absent":
            return self._answer("refuse", "the environment does not exist: nothing to hibernate", actual)
        if actual == "resuming":
            return self._answer("wait", "a resume is under way: hibernate after it", actual)
        recorded = self.record.capacity if self.record and actual == "scaled-down" else None
        waiting = self._unavailable("hibernate", actual, restore_capacity=recorded)
        if waiting is not None:
            return waiting
        return self._answer("hibernate", "hibernate (console)", actual, restore_capacity=recorded)

    def _console_resume(self) -> PlannedAction:
        actual = self._actual()
        if actual == "absent":
            return self._answer("refuse", "the environment does not exist and no snapshot is recorded", actual)
        if self.recorded == "hibernating" and self.present:
            return self._answer("wait", "a hibernate is under way: resume it once the hibernate has ended", actual)
        if actual in ("awake", "scaled-down"):
            return self._answer("none", "already awake: nothing to resume", actual)
        if self.present:  # recorded hibernated or resuming, and the environment exists
            return self._reconcile_recreated()
        backoff = ""
        if self.record is not None and not self.record.resume_due(self.now):
            backoff = f" (the backoff after {self.record.resume_failures} failed resume(s) is skipped)"
        return self._answer("resume", f"resume (console){backoff}", actual)
