"""`mwaa-cp cost`: each environment's month as configured, scaled down, hibernated, and on MWAA Serverless."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from mwaa_control_plane.clock import get_clock
from mwaa_control_plane.environments.offhours.capacity import Capacity
from mwaa_control_plane.environments.offhours.records import OffHoursRecord
from mwaa_control_plane.errors import NotFoundError
from mwaa_control_plane.state import StateRepository
from mwaa_cp_cli.cost import EnvironmentCost, cost_report
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment
from mwaa_cp_local.server import LocalServer
from tests.conftest import REPO

pytestmark = pytest.mark.flow
D = Decimal
# Weekday nights and the weekend, Monday morning included: 103 of 168 h a week off, in 5 periods.
WINDOW = "Mon-Fri 20:00-07:00 / Sat-Sun / Mon 00:00-07:00"
# February 2027 is four whole weeks from a Monday: the figures of tests/unit/environments/test_cost.py.
FOUR_WEEKS = date(2027, 2, 1)
NOW = datetime(2027, 2, 15, 12, tzinfo=UTC)


def _mwaa_cp(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if k != "COLUMNS"},
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("cli", "layers/common", "local")),
    }
    return subprocess.run(
        [sys.executable, "-m", "mwaa_cp_cli.main", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def _hibernated_nightly(aws: LocalAws, name: str = "dev-analytics", **tags: str) -> None:
    create_environment(
        aws, name, tags={"mwaa-cp:off-hours": "hibernate", "mwaa-cp:window": WINDOW, **tags}, MinWorkers=1
    )


def _running_tasks(aws: LocalAws, name: str, hours: int, tasks: float, now: datetime) -> None:
    """RunningTasks as MWAA publishes it: ``tasks`` running through each of the last ``hours`` hours."""
    data = [
        {
            "MetricName": "RunningTasks",
            "Dimensions": [{"Name": "Environment", "Value": name}],
            "Timestamp": now - timedelta(hours=hour, minutes=30),
            "Value": tasks,
        }
        for hour in range(hours)
    ]
    for start in range(0, len(data), 500):
        aws.client("cloudwatch").put_metric_data(Namespace="AWS/MWAA", MetricData=data[start : start + 500])


def _report_line(aws: LocalAws, name: str, **kwargs: Any) -> EnvironmentCost:
    report = cost_report(aws.client("mwaa"), aws.client("cloudwatch"), names=[name], **kwargs)
    [line] = report.environments
    return line


@pytest.fixture
def served(aws: LocalAws) -> Iterator[str]:
    server = LocalServer(port=0).start()
    try:
        yield server.endpoint_url
    finally:
        server.stop()


def test_the_table_shows_both_levers_and_the_saving_of_the_chosen_one(aws: LocalAws, served: str) -> None:
    _hibernated_nightly(aws)
    create_environment(aws, "shared-prod")

    result = _mwaa_cp("cost", "--endpoint-url", served, "--month", "2027-02")

    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if "dev-analytics" in line and "mw1.small" in line]
    # Off 447.6 h a month in 21.7 periods: scale-down keeps the whole base fee, hibernate bills 298.7 h.
    for figure in ("hibernate", "447.6 h, 21.7 cycles", "357.70", "146.38", "211.32 (59.1 %)"):
        assert figure in row, row
    assert "Scale-down saves nothing here" in result.stdout
    [other] = [line for line in result.stdout.splitlines() if "shared-prod" in line]
    assert "not managed" in other
    assert "Hibernated environments are deleted, so MWAA does not list them" in result.stdout


def test_json_output_carries_the_breakdowns(aws: LocalAws, served: str) -> None:
    _hibernated_nightly(aws)

    result = _mwaa_cp("cost", "dev-analytics", "--endpoint-url", served, "--month", "2027-02", "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    [line] = report["environments"]
    assert line["mode"] == "hibernate"
    assert line["month"]["off_hours"] == "412"
    assert line["month"]["off_periods"] == 20
    assert line["hibernate"]["with_schedule"]["total"] == "146.38"
    assert line["scale_down"]["saving"] == "0.00"
    assert line["saving"] == "211.32"


def test_an_environment_mwaa_does_not_know_is_one_clear_line(aws: LocalAws, served: str) -> None:
    result = _mwaa_cp("cost", "dev-gone", "--endpoint-url", served)

    assert result.returncode == 2
    assert "no MWAA environment 'dev-gone'" in result.stderr
    assert "hibernated" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_tags_are_a_line_saying_why_not_a_crash(aws: LocalAws) -> None:
    create_environment(aws, "dev-typo", tags={"mwaa-cp:off-hours": "hibernated", "mwaa-cp:timezone": "europe/berlin"})

    line = _report_line(aws, "dev-typo", now=NOW)

    assert line.tags_readable is False
    assert line.mode is None
    assert line.as_configured is not None and line.as_configured.total == D("357.70")
    assert any("mwaa-cp:off-hours = 'hibernated'" in problem for problem in line.problems)
    assert line.hibernate is None and line.saving is None


def test_a_protected_environment_is_priced_as_configured_and_says_why(aws: LocalAws) -> None:
    _hibernated_nightly(aws, **{"mwaa-cp:protected": "true"})

    line = _report_line(aws, "dev-analytics", now=NOW)

    assert line.protected is not None and "never paused" in line.protected
    assert line.hibernate is None and line.saving is None


def test_the_window_is_walked_over_the_current_month_of_the_environments_zone(aws: LocalAws) -> None:
    _hibernated_nightly(aws)

    line = _report_line(aws, "dev-analytics", now=NOW)

    assert line.month is not None and line.month.month == "2027-02"
    assert line.month.off_hours == D(412)


def test_a_night_class_tag_prices_the_cheaper_class_for_the_night(aws: LocalAws) -> None:
    create_environment(
        aws,
        "dev-analytics",
        tags={"mwaa-cp:off-hours": "scale-down", "mwaa-cp:window": WINDOW, "mwaa-cp:off-hours-class": "mw1.micro"},
    )

    line = _report_line(aws, "dev-analytics", month=FOUR_WEEKS, now=NOW)

    assert line.scale_down is not None and line.scale_down.night_class == "mw1.micro"
    assert line.saving == D("89.51")  # (0.49 - 0.29) x 447.56 h, as in the cost model's tests


def test_a_night_class_that_is_not_smaller_is_not_used_as_the_flow_does(aws: LocalAws) -> None:
    create_environment(
        aws,
        "dev-analytics",
        tags={"mwaa-cp:off-hours": "scale-down", "mwaa-cp:window": WINDOW, "mwaa-cp:off-hours-class": "mw1.large"},
    )

    line = _report_line(aws, "dev-analytics", month=FOUR_WEEKS, now=NOW)

    assert line.scale_down is not None and line.scale_down.night_class is None
    assert line.problems == []
    assert line.saving == D("0.00")


def test_observed_task_hours_are_priced_on_serverless_as_an_estimate(aws: LocalAws) -> None:
    _hibernated_nightly(aws)
    now = datetime.now(UTC)
    _running_tasks(aws, "dev-analytics", hours=240, tasks=1.5, now=now)

    line = _report_line(aws, "dev-analytics", now=now)

    # 240 hours of 1.5 tasks = 360 task-hours in 30 days; 365 in a 730-hour month.
    assert line.observed_task_hours == D(360)
    assert line.serverless is not None
    assert line.serverless.label == "estimate"
    assert line.serverless.task_hours_per_month == D("365.0")
    assert line.serverless.monthly == D("32.12")  # 365 x 0.088


def test_an_environment_without_running_tasks_data_has_no_serverless_estimate(aws: LocalAws) -> None:
    _hibernated_nightly(aws)

    line = _report_line(aws, "dev-analytics", now=NOW)

    assert line.observed_task_hours is None
    assert line.serverless is None


def test_a_named_environment_mwaa_does_not_list_raises_not_found(aws: LocalAws) -> None:
    with pytest.raises(NotFoundError, match=r"dev-gone.* --state-table to include hibernated"):
        cost_report(aws.client("mwaa"), aws.client("cloudwatch"), names=["dev-gone"])


def _hibernated_record(aws: LocalAws, name: str = "dev-asleep") -> None:
    """What the off-hours flow records when it hibernates an environment (tags, the capacity it comes back with)."""
    repository = StateRepository(aws.client("dynamodb"), aws.stack.ref("StateTable"), get_clock())
    capacity = Capacity(
        environment_class="mw1.small", min_workers=1, max_workers=10, schedulers=2, min_webservers=2, max_webservers=2
    )
    repository.put_off_hours_record(
        OffHoursRecord(
            environment_name=name,
            state="hibernated",
            since=NOW - timedelta(hours=2),
            tags={"mwaa-cp:off-hours": "hibernate", "mwaa-cp:window": WINDOW},
            hibernated_capacity=capacity,
        )
    )


def test_a_hibernated_environment_is_priced_from_its_off_hours_record(aws: LocalAws) -> None:
    _hibernated_record(aws)
    repository = StateRepository(aws.client("dynamodb"), aws.stack.ref("StateTable"), get_clock())

    report = cost_report(
        aws.client("mwaa"),
        aws.client("cloudwatch"),
        now=NOW,
        month=FOUR_WEEKS,
        hibernated=repository.off_hours_records(),
    )

    [line] = report.environments
    assert (line.name, line.status, line.mode) == ("dev-asleep", "HIBERNATED", "hibernate")
    assert line.saving == D("211.32")


def test_the_cli_finds_hibernated_environments_in_the_state_table(aws: LocalAws, served: str) -> None:
    _hibernated_record(aws)

    result = _mwaa_cp(
        "cost", "--endpoint-url", served, "--state-table", aws.stack.ref("StateTable"), "--month", "2027-02", "--json"
    )

    assert result.returncode == 0, result.stderr
    [line] = json.loads(result.stdout)["environments"]
    assert (line["name"], line["status"]) == ("dev-asleep", "HIBERNATED")
