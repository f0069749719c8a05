"""What MWAA would refuse, checked before UpdateEnvironment is called; and which values look masked."""

from __future__ import annotations

from typing import Any

import pytest

from mwaa_control_plane.environments.limits import DEFAULT_MAX_WORKERS_QUOTA, capacity_of, looks_redacted, refusals
from tests.unit.aws import environment

SMALL = capacity_of(environment())
MICRO = capacity_of(
    environment(
        EnvironmentClass="mw1.micro", MinWorkers=1, MaxWorkers=1, Schedulers=1, MinWebservers=1, MaxWebservers=1
    )
)


def _refusals(requested: dict[str, Any], current: dict[str, Any] = SMALL) -> list[str]:
    return refusals(requested, current, max_workers_quota=DEFAULT_MAX_WORKERS_QUOTA)


def test_capacity_of_reads_the_get_environment_fields_under_the_request_names() -> None:
    assert SMALL == {
        "environment_class": "mw1.small",
        "min_workers": 1,
        "max_workers": 10,
        "schedulers": 2,
        "min_webservers": 2,
        "max_webservers": 2,
    }


def test_a_change_within_the_class_limits_is_not_refused() -> None:
    assert _refusals({"max_workers": 20, "schedulers": 3}) == []


def test_two_schedulers_on_mw1_micro_are_refused() -> None:
    assert _refusals({"schedulers": 2}, MICRO) == [
        "mw1.micro allows exactly 1 schedulers, not 2; request schedulers accordingly"
    ]


def test_a_class_change_to_mw1_micro_with_the_current_counts_is_refused() -> None:
    problems = _refusals({"environment_class": "mw1.micro"})

    assert any("mw1.micro allows exactly 1 schedulers, not 2" in p for p in problems)
    assert any("mw1.micro allows exactly 1 webservers, not 2" in p for p in problems)


def test_a_class_change_to_mw1_micro_with_its_fixed_counts_is_not_refused() -> None:
    requested = {
        "environment_class": "mw1.micro",
        "schedulers": 1,
        "min_workers": 1,
        "max_workers": 1,
        "min_webservers": 1,
        "max_webservers": 1,
    }

    assert _refusals(requested) == []


def test_a_class_change_from_mw1_micro_takes_the_limits_of_the_new_class() -> None:
    assert (
        _refusals({"environment_class": "mw1.small", "schedulers": 2, "min_webservers": 2, "max_webservers": 2}, MICRO)
        == []
    )


def test_a_standard_class_runs_at_least_two_web_servers() -> None:
    assert any("webservers" in p for p in _refusals({"min_webservers": 1, "max_webservers": 1}))


def test_max_workers_above_the_quota_is_refused() -> None:
    assert _refusals({"max_workers": DEFAULT_MAX_WORKERS_QUOTA + 1}) == [
        f"mw1.small allows 1 to {DEFAULT_MAX_WORKERS_QUOTA} workers, not {DEFAULT_MAX_WORKERS_QUOTA + 1}; "
        "request min_workers and max_workers accordingly"
    ]


def test_max_workers_within_a_raised_quota_is_not_refused() -> None:
    assert refusals({"max_workers": 40}, SMALL, max_workers_quota=50) == []


def test_min_workers_above_max_workers_is_refused() -> None:
    assert _refusals({"min_workers": 12}) == ["min_workers (12) is greater than max_workers (10)"]


def test_min_webservers_above_max_webservers_is_refused() -> None:
    assert _refusals({"min_webservers": 3}) == ["min_webservers (3) is greater than max_webservers (2)"]


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [("subnet_ids", ["subnet-1", "subnet-2"], "subnets"), ("kms_key", "alias/mwaa", "the KMS key")],
)
def test_a_field_fixed_at_creation_is_refused_with_the_reason(field: str, value: Any, label: str) -> None:
    assert _refusals({field: value}) == [
        f"{label} cannot be changed after the environment was created (MWAA fixes it at creation)"
    ]


def test_endpoint_management_is_refused_even_for_an_environment_of_unknown_class() -> None:
    problems = refusals({"endpoint_management": "CUSTOMER"}, {}, max_workers_quota=25)

    assert problems == [
        "endpoint management cannot be changed after the environment was created (MWAA fixes it at creation)"
    ]


def test_an_unknown_environment_class_is_refused() -> None:
    assert _refusals({}, {**SMALL, "environment_class": "mw2.huge"}) == ["unknown environment class mw2.huge"]


@pytest.mark.parametrize("value", ["***", " **** ", "REDACTED", "<redacted>", "sensitive"])
def test_a_masked_looking_value_is_redacted(value: str) -> None:
    assert looks_redacted(value)


@pytest.mark.parametrize("value", ["", "   ", "utc", "a***b", "16", "redacted-bucket"])
def test_a_real_looking_value_is_not_redacted(value: str) -> None:
    assert not looks_redacted(value)


def test_a_limit_the_environment_already_breaks_is_not_held_against_an_unrelated_request() -> None:
    above_quota = {**SMALL, "max_workers": DEFAULT_MAX_WORKERS_QUOTA + 5}
    assert _refusals({"schedulers": 3}, above_quota) == []


def test_a_class_change_is_judged_with_every_count_it_would_leave() -> None:
    assert _refusals({"environment_class": "mw1.micro"}, SMALL) != []
