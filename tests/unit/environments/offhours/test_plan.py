"""The reconciler's plan: the one action per environment, from its tags, status, capacity and off-hours record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mwaa_control_plane.environments.offhours.capacity import Capacity, minimum_capacity
from mwaa_control_plane.environments.offhours.plan import (
    ObservedEnvironment,
    PlannedAction,
    plan,
    plan_console_action,
    plan_environment,
)
from mwaa_control_plane.environments.offhours.records import OffHoursRecord
from mwaa_control_plane.environments.offhours.tags import StackDefaults

STACK = StackDefaults()
WINDOW = "Mon-Fri 20:00-07:00 / Sat-Sun"
HIBERNATE = {"mwaa-cp:off-hours": "hibernate", "mwaa-cp:window": WINDOW}
SCALE_DOWN = {"mwaa-cp:off-hours": "scale-down", "mwaa-cp:window": WINDOW}
NOON = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # a Wednesday: awake
NIGHT = datetime(2026, 1, 14, 22, 0, tzinfo=UTC)  # off until Thursday 07:00
EARLY = datetime(2026, 1, 15, 6, 30, tzinfo=UTC)  # off, but 30 minutes before the end
SMALL = Capacity(
    environment_class="mw1.small", min_workers=2, max_workers=10, schedulers=3, min_webservers=2, max_webservers=4
)


def _record(state: str, **fields: Any) -> OffHoursRecord:
    return OffHoursRecord.model_validate(
        {"environment_name": "dev", "state": state, "since": NOON - timedelta(days=1), **fields}
    )


def _env(
    status: str | None = "AVAILABLE",
    tags: dict[str, str] | None = None,
    capacity: Capacity | None = SMALL,
    record: OffHoursRecord | None = None,
    **fields: Any,
) -> ObservedEnvironment:
    return ObservedEnvironment(
        name="dev",
        status=status,
        tags=HIBERNATE if tags is None else tags,
        capacity=capacity,
        record=record,
        **fields,
    )


def _hibernated(**fields: Any) -> ObservedEnvironment:
    return _env(status=None, tags={}, capacity=None, record=_record("hibernated", tags=HIBERNATE, **fields))


# -- hibernate -------------------------------------------------------------------------------------------------------


def test_an_awake_environment_in_its_window_is_hibernated() -> None:
    planned = plan_environment(_env(), STACK, NIGHT)

    assert (planned.action, planned.actual, planned.desired) == ("hibernate", "awake", "hibernated")
    assert planned.reason == f"hibernate: in the rule 'Mon-Fri 20:00-07:00' of the off-hours window '{WINDOW}'"
    assert planned.config is not None
    assert planned.config.drain.text == "wait-30m"


def test_an_awake_environment_outside_its_window_is_left_alone() -> None:
    planned = plan_environment(_env(), STACK, NOON)

    assert planned.action == "none"
    assert planned.reason.startswith("awake, as it should be (outside the off-hours window")


@pytest.mark.parametrize("status", ["UPDATING", "CREATING_SNAPSHOT", "MAINTENANCE", "UPDATE_FAILED", "PENDING"])
def test_an_environment_that_is_not_available_waits(status: str) -> None:
    planned = plan_environment(_env(status=status), STACK, NIGHT)

    assert planned.action == "wait"
    assert planned.reason == f"status {status}: hibernate waits, off-hours acts only from AVAILABLE"


def test_an_off_period_shorter_than_the_lead_time_is_not_worth_hibernating() -> None:
    planned = plan_environment(_env(), STACK, EARLY)

    assert planned.action == "none"
    assert "ends within the lead time (40 min): not worth hibernating" in planned.reason


def test_an_environment_locked_by_another_flow_waits() -> None:
    holder = "environment-change (execution x) since 2026-01-14T21:59:00+00:00 for 'apply', lease until ..."

    planned = plan_environment(_env(lock_holder=holder), STACK, NIGHT)

    assert planned.action == "wait"
    assert planned.reason.startswith(f"hibernate waits: the environment is locked by {holder}")


# -- resume ----------------------------------------------------------------------------------------------------------


def test_a_hibernated_environment_stays_hibernated_in_its_window_and_says_when_it_resumes() -> None:
    planned = plan_environment(_hibernated(), STACK, NIGHT)

    assert (planned.action, planned.actual) == ("none", "hibernated")
    assert planned.resume_at == datetime(2026, 1, 15, 6, 20, tzinfo=UTC)
    assert planned.reason == "hibernated, as it should be; the resume starts at 2026-01-15T06:20:00+00:00"


def test_a_hibernated_environment_resumes_a_lead_time_before_its_window_ends() -> None:
    planned = plan_environment(_hibernated(), STACK, EARLY)

    assert planned.action == "resume"
    assert planned.reason == "resume: the off period ends within the lead time (40 min)"


def test_a_hibernated_environment_outside_its_window_resumes() -> None:
    assert plan_environment(_hibernated(), STACK, NOON).action == "resume"


def test_the_lead_time_is_learned_from_the_recorded_creates() -> None:
    hour = [3600.0] * 6  # p90 60 min + 10 min margin
    at = datetime(2026, 1, 15, 5, 55, tzinfo=UTC)  # 65 minutes before 07:00

    planned = plan_environment(_hibernated(create_durations_seconds=hour), STACK, at)

    assert planned.action == "resume"
    assert planned.lead_time_seconds == 70 * 60


def test_a_failed_resume_waits_for_its_backoff_with_the_error() -> None:
    env = _hibernated(
        resume_failures=2,
        next_resume_attempt_at=NOON + timedelta(minutes=10),
        last_error="INCORRECT_CONFIGURATION: subnet gone",
    )

    planned = plan_environment(env, STACK, NOON)

    assert planned.action == "wait"
    assert planned.reason == (
        "resume failed 2 time(s) (last: INCORRECT_CONFIGURATION: subnet gone);"
        " next attempt at 2026-01-14T12:10:00+00:00"
    )


def test_a_create_failed_environment_is_deleted_and_created_again_once_the_backoff_is_over() -> None:
    record = _record("hibernated", tags=HIBERNATE, resume_failures=1, next_resume_attempt_at=NOON, last_error="boom")

    planned = plan_environment(_env(status="CREATE_FAILED", record=record), STACK, NOON)

    assert planned.action == "resume"
    assert planned.delete_failed_environment_first
    assert "CREATE_FAILED: boom" in planned.reason


def test_a_resume_in_progress_waits() -> None:
    planned = plan_environment(_env(status="CREATING", record=_record("resuming")), STACK, NOON)

    assert (planned.action, planned.actual) == ("wait", "resuming")


def test_a_resume_interrupted_after_the_create_is_finished() -> None:
    planned = plan_environment(_env(record=_record("resuming")), STACK, NOON)

    assert planned.action == "resume"
    assert "restore Airflow state" in planned.reason


def test_an_environment_recreated_outside_the_control_plane_is_refused() -> None:
    planned = plan_environment(_env(record=_record("hibernated")), STACK, NOON)

    assert planned.action == "refuse"
    assert "created outside the control plane" in planned.reason


def test_a_hibernate_in_progress_waits_while_the_environment_is_deleted() -> None:
    planned = plan_environment(_env(status="DELETING", record=_record("hibernating")), STACK, NIGHT)

    assert (planned.action, planned.actual) == ("wait", "hibernating")


def test_a_hibernate_interrupted_before_the_delete_starts_again_and_corrects_the_record() -> None:
    planned = plan_environment(_env(record=_record("hibernating")), STACK, NIGHT)

    assert planned.action == "hibernate"
    assert planned.correct_record == "awake"
    assert planned.reason.startswith("an earlier hibernate stopped before the delete; hibernate")


# -- protection and unreadable tags ----------------------------------------------------------------------------------


def test_a_protected_environment_is_never_paused_and_the_plan_says_why() -> None:
    planned = plan_environment(_env(tags={**HIBERNATE, "mwaa-cp:protected": "true"}), STACK, NIGHT)

    assert planned.action == "none"
    assert planned.protected
    assert "protected by the tag mwaa-cp:protected=true: never paused" in planned.reason


def test_the_prod_stage_protects_every_environment() -> None:
    planned = plan_environment(_env(), StackDefaults(production=True), NIGHT)

    assert planned.action == "none"
    assert "the control plane's stage is prod" in planned.reason


def test_a_hibernated_environment_that_became_protected_is_brought_back() -> None:
    planned = plan_environment(_hibernated(), StackDefaults(production=True), NIGHT)

    assert planned.action == "resume"


def test_unreadable_tags_leave_the_environment_as_it_is_and_name_every_problem() -> None:
    tags = {"mwaa-cp:off-hours": "hibernated", "mwaa-cp:window": "Mon-Fri 20:00-07:00, Sat-Sun"}

    planned = plan_environment(_env(tags=tags), STACK, NIGHT)

    assert planned.action == "none"
    assert [p.split(" = ")[0] for p in planned.tag_problems] == ["mwaa-cp:off-hours"]
    assert planned.reason.startswith("the off-hours tags cannot be read, so nothing is done: mwaa-cp:off-hours")


def test_the_tags_of_a_hibernated_environment_come_from_its_record() -> None:
    env = _env(status=None, tags={}, capacity=None, record=_record("hibernated", tags={"mwaa-cp:off-hours": "x"}))

    planned = plan_environment(env, STACK, NOON)

    assert (planned.action, planned.actual) == ("none", "hibernated")
    assert planned.tag_problems


def test_an_unmanaged_environment_is_left_alone() -> None:
    planned = plan_environment(_env(tags={"team": "data"}), STACK, NIGHT)

    assert (planned.action, planned.reason) == (
        "none",
        "awake, as it should be (not managed: no mwaa-cp:off-hours tag)",
    )


def test_an_environment_that_does_not_exist_and_was_never_acted_on_is_left_alone() -> None:
    planned = plan_environment(_env(status=None, record=None), STACK, NIGHT)

    assert (planned.action, planned.actual) == ("none", "absent")


# -- scale-down ------------------------------------------------------------------------------------------------------


def test_a_scale_down_environment_in_its_window_is_scaled_down_and_its_capacity_recorded() -> None:
    planned = plan_environment(_env(tags=SCALE_DOWN), STACK, NIGHT)

    assert planned.action == "scale-down"
    assert planned.record_capacity


def test_an_environment_already_at_its_minimum_is_not_scaled_down() -> None:
    planned = plan_environment(_env(tags=SCALE_DOWN, capacity=minimum_capacity("mw1.small")), STACK, NIGHT)

    assert (planned.action, planned.reason) == ("none", "already at the minimum of mw1.small")


def test_the_night_class_is_part_of_the_plan() -> None:
    tags = {**SCALE_DOWN, "mwaa-cp:off-hours-class": "mw1.micro"}

    planned = plan_environment(_env(tags=tags, capacity=minimum_capacity("mw1.small")), STACK, NIGHT)

    assert planned.action == "scale-down"
    assert planned.night_class == "mw1.micro"


def test_a_scaled_down_environment_is_scaled_up_to_its_recorded_capacity_when_the_window_ends() -> None:
    record = _record("scaled-down", capacity=SMALL)
    at = datetime(2026, 1, 15, 6, 40, tzinfo=UTC)  # 20 minutes before 07:00: within the update lead time

    planned = plan_environment(_env(tags=SCALE_DOWN, capacity=minimum_capacity("mw1.small"), record=record), STACK, at)

    assert planned.action == "scale-up"
    assert planned.restore_capacity == SMALL


def test_a_scaled_down_environment_already_at_its_recorded_capacity_only_corrects_the_record() -> None:
    record = _record("scaled-down", capacity=SMALL)

    planned = plan_environment(_env(tags=SCALE_DOWN, capacity=SMALL, record=record), STACK, NOON)

    assert (planned.action, planned.correct_record) == ("none", "awake")


def test_a_scaled_down_environment_without_a_recorded_capacity_has_nothing_to_restore() -> None:
    planned = plan_environment(_env(tags=SCALE_DOWN, record=_record("scaled-down")), STACK, NOON)

    assert planned.action == "none"
    assert "nothing to restore" in planned.reason


def test_a_hand_change_while_scaled_down_is_scaled_down_again_keeping_the_recorded_capacity() -> None:
    record = _record("scaled-down", capacity=SMALL)
    raised = minimum_capacity("mw1.small").model_copy(update={"max_workers": 5})

    planned = plan_environment(_env(tags=SCALE_DOWN, capacity=raised, record=record), STACK, NIGHT)

    assert planned.action == "scale-down"
    assert not planned.record_capacity
    assert planned.reason.startswith("the capacity changed while scaled down; ")


def test_a_scaled_down_environment_in_its_window_stays_so() -> None:
    record = _record("scaled-down", capacity=SMALL)

    planned = plan_environment(
        _env(tags=SCALE_DOWN, capacity=minimum_capacity("mw1.small"), record=record), STACK, NIGHT
    )

    assert planned.action == "none"
    assert planned.reason.startswith("scaled down, as it should be")


def test_a_scaled_down_environment_whose_tag_changed_to_hibernate_is_hibernated_with_its_recorded_capacity() -> None:
    record = _record("scaled-down", capacity=SMALL)

    planned = plan_environment(_env(capacity=minimum_capacity("mw1.small"), record=record), STACK, NIGHT)

    assert planned.action == "hibernate"
    assert planned.restore_capacity == SMALL


def test_an_environment_no_longer_managed_is_scaled_up_to_what_was_recorded() -> None:
    record = _record("scaled-down", capacity=SMALL)

    planned = plan_environment(_env(tags={}, capacity=minimum_capacity("mw1.small"), record=record), STACK, NIGHT)

    assert planned.action == "scale-up"


# -- all environments ------------------------------------------------------------------------------------------------


def test_every_environment_gets_one_action_in_name_order() -> None:
    environments = [
        _env().model_copy(update={"name": "b-dev"}),
        _env(tags={"team": "x"}).model_copy(update={"name": "a-prod"}),
    ]

    planned = plan(environments, STACK, NIGHT)

    assert [(p.environment_name, p.action) for p in planned] == [("a-prod", "none"), ("b-dev", "hibernate")]


def test_a_planned_action_crosses_step_functions_as_json() -> None:
    planned = plan_environment(_env(tags=SCALE_DOWN), STACK, NIGHT)

    assert PlannedAction.model_validate_json(planned.model_dump_json()) == planned


# -- the console -----------------------------------------------------------------------------------------------------


def test_resuming_an_awake_environment_is_a_no_op_that_says_so() -> None:
    planned = plan_console_action("resume", _env(), STACK, NOON)

    assert (planned.action, planned.reason, planned.console) == ("none", "already awake: nothing to resume", True)


def test_hibernating_a_protected_environment_from_the_console_is_refused_with_why() -> None:
    planned = plan_console_action("hibernate", _env(tags={**HIBERNATE, "mwaa-cp:protected": "TRUE"}), STACK, NOON)

    assert planned.action == "refuse"
    assert planned.reason == "hibernate refused: protected by the tag mwaa-cp:protected=true: never paused"


def test_a_console_hibernate_ignores_the_window() -> None:
    assert plan_console_action("hibernate", _env(), STACK, NOON).action == "hibernate"


def test_hibernating_a_hibernated_environment_is_a_no_op() -> None:
    assert plan_console_action("hibernate", _hibernated(), STACK, NOON).reason == "already hibernated"


def test_a_console_resume_skips_the_backoff_and_says_so() -> None:
    env = _hibernated(resume_failures=3, next_resume_attempt_at=NOON + timedelta(hours=1))

    planned = plan_console_action("resume", env, STACK, NOON)

    assert planned.action == "resume"
    assert "backoff after 3 failed resume(s) is skipped" in planned.reason


def test_a_console_resume_of_an_unknown_environment_is_refused() -> None:
    planned = plan_console_action("resume", _env(status=None), STACK, NOON)

    assert planned.action == "refuse"


def test_a_console_scale_down_records_the_capacity_first() -> None:
    planned = plan_console_action("scale-down", _env(tags={}), STACK, NOON)

    assert (planned.action, planned.record_capacity) == ("scale-down", True)


def test_a_console_scale_down_of_an_environment_at_its_minimum_is_a_no_op() -> None:
    planned = plan_console_action("scale-down", _env(capacity=minimum_capacity("mw1.small")), STACK, NOON)

    assert planned.action == "none"


def test_a_console_scale_up_without_a_recorded_capacity_has_nothing_to_restore() -> None:
    assert plan_console_action("scale-up", _env(), STACK, NOON).action == "none"


def test_pausing_from_the_console_with_unreadable_tags_is_refused_but_bringing_back_is_not() -> None:
    record = _record("scaled-down", capacity=SMALL)
    env = _env(tags={"mwaa-cp:protected": "maybe"}, capacity=minimum_capacity("mw1.small"), record=record)

    assert plan_console_action("scale-down", env, STACK, NOON).action == "refuse"
    assert plan_console_action("scale-up", env, STACK, NOON).action == "scale-up"


def test_a_console_action_on_a_locked_environment_waits() -> None:
    planned = plan_console_action("hibernate", _env(lock_holder="off-hours (execution y)"), STACK, NOON)

    assert planned.action == "wait"
