"""parse_input: the one place a malformed step input fails, with the field named."""

from __future__ import annotations

import pytest

from mwaa_control_plane.errors import InvalidInputError
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from tests.conftest import load_event


class HealthRequest(Payload):
    environment_name: EnvironmentName
    verbose: bool = False


def test_a_good_input_is_parsed_into_the_model() -> None:
    request = parse_input(HealthRequest, load_event("environment-health/one-environment.json"))

    assert request == HealthRequest(environment_name="dev-analytics")


def test_unknown_keys_are_ignored_so_step_functions_may_pass_context_along() -> None:
    request = parse_input(HealthRequest, {"environment_name": "dev-analytics", "Execution": {"Id": "x"}})

    assert request.environment_name == "dev-analytics"


@pytest.mark.parametrize("name", ["a", "dev-analytics_2", "A" * 80])
def test_a_valid_environment_name_is_accepted(name: str) -> None:
    assert parse_input(HealthRequest, {"environment_name": name}).environment_name == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        pytest.param("not a valid name!", "should match pattern", id="spaces"),
        pytest.param("dev analytics", "should match pattern", id="a space"),
        pytest.param("1dev", "should match pattern", id="starts with a digit"),
        pytest.param("-dev", "should match pattern", id="starts with a dash"),
        pytest.param("dev.analytics", "should match pattern", id="a dot"),
        pytest.param("dev-analytics\n", "should match pattern", id="trailing newline"),
        pytest.param("développement", "should match pattern", id="non-ASCII letter"),
        pytest.param("a" * 81, "at most 80 characters", id="81 characters"),
        pytest.param("", "at least 1 character", id="empty"),
        pytest.param(42, "valid string", id="not a string"),
    ],
)
def test_a_bad_environment_name_is_refused_naming_the_field(name: object, problem: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_input(HealthRequest, {"environment_name": name})

    message = str(raised.value)
    assert message.startswith("invalid HealthRequest: environment_name: ")
    assert problem in message


def test_the_sample_malformed_name_event_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="environment_name"):
        parse_input(HealthRequest, load_event("environment-health/malformed-name.json"))


def test_a_missing_field_is_named() -> None:
    with pytest.raises(InvalidInputError, match="environment_name: Field required"):
        parse_input(HealthRequest, load_event("environment-health/all-environments.json"))


@pytest.mark.parametrize("event", [None, [], "dev-analytics", 3])
def test_an_input_that_is_not_an_object_is_reported_as_the_input(event: object) -> None:
    with pytest.raises(InvalidInputError, match=r"invalid HealthRequest: \(input\): "):
        parse_input(HealthRequest, event)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_input(HealthRequest, {"environment_name": "1dev", "verbose": "perhaps"})

    assert "environment_name: " in str(raised.value)
    assert "verbose: " in str(raised.value)


def test_the_error_does_not_chain_the_pydantic_exception() -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_input(HealthRequest, {})

    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__ is True
