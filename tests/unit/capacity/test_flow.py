"""The worker-analysis flow's decisions without the state machine: requests, remediation, alarm definitions."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mwaa_control_plane.capacity.alarms import alarm_metric_count, desired_alarms
from mwaa_control_plane.capacity.flow import environment_of_alarm, read_request
from mwaa_control_plane.capacity.remediation import plan_remediation, revert_request
from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.config import WorkerAnalysisSettings
from mwaa_control_plane.environments.change_records import ChangeRecord, FieldChange
from mwaa_control_plane.errors import InvalidInputError
from mwaa_control_plane.state import RemediationRecord, StateRepository
from tests.conftest import REPO, load_event
from tests.unit.aws import ENVIRONMENT, REGION, FakeMwaa, environment, state_repository

PREFIX = "mwaa-control-plane/worker-analysis/"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SETTINGS = WorkerAnalysisSettings.model_validate(
    {
        "STATE_TABLE_NAME": "mwaa-cp-state",
        "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:topic",
        "REPORTS_BUCKET_NAME": "staging",
        "ALARM_NAME_PREFIX": PREFIX,
    }
)
CHANGE = {"environment_name": ENVIRONMENT, "max_workers": 8, "reason": "capacity_bound: queue at MaxWorkers"}


@pytest.fixture
def repository(clock: ManualClock) -> Iterator[StateRepository]:
    with mock_aws():
        yield state_repository(boto3.client("dynamodb", region_name=REGION), clock)


def _alarm(**state: Any) -> dict[str, Any]:
    event: dict[str, Any] = load_event("worker-analysis/alarm-queue-backlog.json")
    event["detail"]["state"].update(state)
    return event


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (f"{PREFIX}dev-analytics/queue-backlog", "dev-analytics"),
        (f"{PREFIX}dev_2/stranded", "dev_2"),
        (f"{PREFIX}dev-analytics", None),
        (f"{PREFIX}/queue-backlog", None),
        ("other/dev-analytics/queue-backlog", None),
    ],
)
def test_the_environment_is_read_from_the_alarm_name(name: str, expected: str | None) -> None:
    assert environment_of_alarm(PREFIX, name) == expected


def test_an_alarm_event_gives_the_window_before_its_time_and_the_tagged_mode() -> None:
    mwaa = FakeMwaa(environment(Tags={"mwaa-cp:remediation": "auto"}))

    request = read_request(_alarm(), mwaa=mwaa, settings=SETTINGS, now=NOW + timedelta(hours=3))  # type: ignore[arg-type]

    assert request.status == "analyse" and request.environment == ENVIRONMENT
    assert request.end == NOW and request.start == NOW - timedelta(minutes=120)
    assert request.remediation == "auto"


def test_an_environment_without_the_tag_is_recommended() -> None:
    request = read_request(_alarm(), mwaa=FakeMwaa(), settings=SETTINGS, now=NOW)  # type: ignore[arg-type]

    assert request.remediation == "recommend"


@pytest.mark.parametrize(
    ("event", "status"),
    [
        ({"environment": "dev-analytics", "since_minutes": 10}, "refused"),
        ({"environment": "dev-analytics", "extra": 1}, "refused"),
        ("not json object", "refused"),
        ({"detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch"}, "refused"),
    ],
)
def test_malformed_inputs_are_refused_never_raised(event: Any, status: str) -> None:
    request = read_request(event, mwaa=FakeMwaa(), settings=SETTINGS, now=NOW)  # type: ignore[arg-type]

    assert request.status == status and request.message


def test_a_deleting_environment_is_unknown() -> None:
    mwaa = FakeMwaa(environment(Status="DELETING"))

    request = read_request(_alarm(), mwaa=mwaa, settings=SETTINGS, now=NOW)  # type: ignore[arg-type]

    assert request.status == "unknown_environment" and "is DELETING" in request.message


def _plan(repository: StateRepository, mode: str, change: dict[str, Any] | None = CHANGE, **kwargs: Any) -> Any:
    arguments: dict[str, Any] = {
        "cause": "capacity_bound",
        "change": change,
        "auto_applicable": True,
        "execution": "arn:aws:states:us-east-1:123456789012:execution:wa:run-1",
        "repository": repository,
        "settings": SETTINGS,
        "now": NOW,
        **kwargs,
    }
    return plan_remediation(ENVIRONMENT, mode, **arguments)  # type: ignore[arg-type]


def test_auto_applies_a_capacity_change_as_the_flows_own_request(repository: StateRepository) -> None:
    plan = _plan(repository, "auto")

    assert plan.decision == "apply"
    assert plan.change_request["requested_by"] == {
        "flow": "worker-analysis",
        "execution": "arn:aws:states:us-east-1:123456789012:execution:wa:run-1",
    }


def test_auto_asks_a_person_for_a_change_it_may_not_make(repository: StateRepository) -> None:
    assert _plan(repository, "auto", auto_applicable=False).decision == "approve"
    with_class = {**CHANGE, "environment_class": "mw1.medium"}
    assert _plan(repository, "auto", change=with_class).decision == "approve"


def test_auto_inside_the_cooldown_applies_nothing(repository: StateRepository) -> None:
    repository.record_remediation(
        RemediationRecord(
            environment_name=ENVIRONMENT,
            applied_at=NOW - timedelta(minutes=SETTINGS.cooldown_minutes - 1),
            change_id="c1",
            mode="auto",
            cause="capacity_bound",
            result="applied",
        )
    )

    assert _plan(repository, "auto").decision == "cooldown"
    assert _plan(repository, "auto", now=NOW + timedelta(minutes=2)).decision == "apply"


def test_a_proposal_above_the_ceiling_is_refused(repository: StateRepository) -> None:
    plan = _plan(repository, "auto", change={**CHANGE, "max_workers": SETTINGS.max_workers_ceiling + 1})

    assert plan.decision == "refused" and "RemediationMaxWorkersCeiling" in plan.message


def test_off_and_nothing_to_change_apply_nothing(repository: StateRepository) -> None:
    assert _plan(repository, "off").decision == "off"
    assert _plan(repository, "auto", change=None).decision == "none"
    assert _plan(repository, "recommend").decision == "approve"


def _record(*changes: FieldChange, status: str = "succeeded") -> ChangeRecord:
    return ChangeRecord(
        change_id="change-1", environment_name=ENVIRONMENT, status=status, started_at=NOW, changes=list(changes)
    )


def test_revert_asks_for_the_before_values() -> None:
    request = revert_request(_record(FieldChange(field="max_workers", before=5, after=8)))

    assert (request.environment_name, request.max_workers) == (ENVIRONMENT, 5)
    assert request.reason == "revert of change change-1"


def test_a_change_that_failed_is_not_reverted() -> None:
    with pytest.raises(InvalidInputError, match="ended failed"):
        revert_request(_record(FieldChange(field="max_workers", before=5, after=8), status="failed"))


def test_a_change_of_fingerprinted_fields_is_not_reverted() -> None:
    with pytest.raises(InvalidInputError, match="fingerprints"):
        revert_request(_record(FieldChange(field="requirements", before="a", after="b")))


def test_four_alarms_read_nine_metrics_and_carry_the_prefix() -> None:
    alarms = desired_alarms(ENVIRONMENT, SETTINGS)

    assert [a["AlarmName"] for a in alarms] == [
        f"{PREFIX}{ENVIRONMENT}/{kind}"
        for kind in ("queue-backlog", "worker-resources", "scheduler-heartbeat", "stranded")
    ]
    assert sum(alarm_metric_count(a) for a in alarms) == 9
    assert all(a["ActionsEnabled"] is False for a in alarms)


def test_a_threshold_change_changes_the_definition_fingerprint() -> None:
    before = desired_alarms(ENVIRONMENT, SETTINGS)[0]["AlarmDescription"]
    lower = SETTINGS.model_copy(update={"queue_age_threshold_seconds": 900})

    after = desired_alarms(ENVIRONMENT, lower)[0]

    assert after["AlarmDescription"] != before
    assert json.dumps(after["Metrics"]).count("age > 900") == 1


def test_the_offline_chart_is_a_png_of_the_window() -> None:
    from mwaa_control_plane.capacity import analyze, load_scenario
    from mwaa_control_plane.capacity.chart import HEIGHT, WAITING, WIDTH, render_chart_png

    scenario = load_scenario(REPO / "tests" / "scenarios" / "worker-analysis" / "capacity-bound.json")

    image = render_chart_png(scenario, analyze(scenario).capacity)

    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", image[16:24]) == (WIDTH, HEIGHT)
    pixels = zlib.decompress(image[image.index(b"IDAT") + 4 : image.index(b"IEND") - 8])
    assert bytes(WAITING) in pixels, "the queue is drawn"
