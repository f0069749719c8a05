"""Scale-down to the least the class allows, scale-up to exactly what was recorded, and nothing when nothing changes."""

from __future__ import annotations

import pytest

from mwaa_control_plane.environments.offhours.capacity import (
    Capacity,
    minimum_capacity,
    scale_down_request,
    scale_up_request,
)
from mwaa_control_plane.errors import InvalidInputError
from tests.unit.aws import environment

SMALL = Capacity(
    environment_class="mw1.small", min_workers=2, max_workers=10, schedulers=3, min_webservers=2, max_webservers=4
)


def test_the_capacity_is_read_from_get_environment() -> None:
    capacity = Capacity.from_environment(environment(MinWorkers=2, MaxWebservers=3))

    assert capacity == Capacity(
        environment_class="mw1.small", min_workers=2, max_workers=10, schedulers=2, min_webservers=2, max_webservers=3
    )


def test_web_server_counts_missing_from_an_old_environment_are_the_two_it_runs() -> None:
    env = environment()
    del env["MinWebservers"], env["MaxWebservers"]

    capacity = Capacity.from_environment(env)

    assert (capacity.min_webservers, capacity.max_webservers) == (2, 2)


def test_an_environment_without_worker_counts_is_refused_by_name() -> None:
    env = environment()
    del env["MinWorkers"]

    with pytest.raises(InvalidInputError, match="did not report min_workers"):
        Capacity.from_environment(env)


@pytest.mark.parametrize("klass", ["mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge"])
def test_the_minimum_of_a_standard_class_is_one_worker_two_schedulers_two_web_servers(klass: str) -> None:
    minimum = minimum_capacity(klass)  # type: ignore[arg-type]

    assert (minimum.min_workers, minimum.max_workers, minimum.schedulers) == (1, 1, 2)
    assert (minimum.min_webservers, minimum.max_webservers) == (2, 2)


def test_mw1_micro_has_its_fixed_counts() -> None:
    assert minimum_capacity("mw1.micro").fields() == {
        "environment_class": "mw1.micro",
        "min_workers": 1,
        "max_workers": 1,
        "schedulers": 1,
        "min_webservers": 1,
        "max_webservers": 1,
    }


def test_scale_down_asks_for_the_minimum_gracefully_and_only_for_what_changes() -> None:
    request = scale_down_request("dev", SMALL, detail="in the rule 'Sat-Sun'", execution="arn:exec")

    assert request is not None
    assert request.requested_fields() == {
        "min_workers": 1,
        "max_workers": 1,
        "schedulers": 2,
        "max_webservers": 2,
    }
    assert request.worker_replacement_strategy == "GRACEFUL"
    assert request.requested_by.flow == "off-hours"
    assert request.requested_by.execution == "arn:exec"
    assert request.reason == "off-hours scale-down to the minimum of mw1.small: in the rule 'Sat-Sun'"


def test_scale_down_to_a_smaller_night_class_sends_the_class_with_every_count() -> None:
    request = scale_down_request("dev", SMALL, night_class="mw1.micro")

    assert request is not None
    assert request.environment_class == "mw1.micro"
    assert (request.min_workers, request.max_workers, request.schedulers) == (1, 1, 1)
    assert (request.min_webservers, request.max_webservers) == (1, 1)


def test_a_night_class_that_is_not_smaller_is_ignored_and_the_reason_says_so() -> None:
    request = scale_down_request("dev", SMALL, night_class="mw1.large")

    assert request is not None
    assert request.environment_class is None
    assert "night class mw1.large ignored: not smaller than mw1.small" in request.reason


def test_an_environment_already_at_its_minimum_needs_no_scale_down() -> None:
    assert scale_down_request("dev", minimum_capacity("mw1.small")) is None


def test_an_environment_already_at_the_night_class_minimum_needs_no_scale_down() -> None:
    assert scale_down_request("dev", minimum_capacity("mw1.micro"), night_class="mw1.micro") is None


def test_scale_up_restores_exactly_the_recorded_capacity() -> None:
    request = scale_up_request("dev", minimum_capacity("mw1.small"), SMALL)

    assert request is not None
    assert {**minimum_capacity("mw1.small").fields(), **request.requested_fields()} == SMALL.fields()
    assert request.worker_replacement_strategy == "GRACEFUL"
    assert request.reason.startswith("off-hours scale-up to the recorded mw1.small, workers 2-10")


def test_scale_up_from_a_night_class_restores_the_class_and_every_count() -> None:
    request = scale_up_request("dev", minimum_capacity("mw1.micro"), SMALL)

    assert request is not None
    assert request.requested_fields() == SMALL.fields()


def test_an_environment_at_its_recorded_capacity_needs_no_scale_up() -> None:
    assert scale_up_request("dev", SMALL, SMALL) is None


def test_a_capacity_with_more_minimum_than_maximum_workers_is_refused() -> None:
    with pytest.raises(ValueError, match="min_workers"):
        Capacity.model_validate({**SMALL.fields(), "min_workers": 3, "max_workers": 2})
