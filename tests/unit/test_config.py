"""Settings read once from the environment, with errors that name the variable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mwaa_control_plane.config import (
    CliSettings,
    CommonSettings,
    DagDeliverySettings,
    clear_settings_cache,
    load_settings,
)
from mwaa_control_plane.errors import ConfigurationError

TOPIC = "arn:aws:sns:us-east-1:123456789012:mwaa-cp-notifications"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_settings_cache()
    yield
    clear_settings_cache()


@pytest.fixture
def stack_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("STATE_TABLE_NAME", "mwaa-cp-state")
    monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", TOPIC)
    monkeypatch.setenv("STAGING_BUCKET_NAME", "mwaa-cp-staging")
    return monkeypatch


def test_a_valid_environment_becomes_the_settings_model(stack_environment) -> None:
    settings = load_settings(DagDeliverySettings)

    assert settings == DagDeliverySettings(
        stage="prod",
        region="us-east-1",
        state_table="mwaa-cp-state",
        notification_topic_arn=TOPIC,
        staging_bucket="mwaa-cp-staging",
    )


def test_optional_settings_take_their_defaults(stack_environment) -> None:
    stack_environment.delenv("STAGE")
    stack_environment.delenv("AWS_REGION")

    settings = load_settings(CommonSettings)

    assert (settings.stage, settings.region) == ("dev", "us-east-1")


def test_settings_are_read_once_and_cached(stack_environment) -> None:
    first = load_settings(CommonSettings)
    stack_environment.setenv("STATE_TABLE_NAME", "another-table")

    assert load_settings(CommonSettings) is first
    assert load_settings(CommonSettings).state_table == "mwaa-cp-state"


def test_clearing_the_cache_reads_the_environment_again(stack_environment) -> None:
    load_settings(CommonSettings)
    stack_environment.setenv("STATE_TABLE_NAME", "another-table")

    clear_settings_cache()

    assert load_settings(CommonSettings).state_table == "another-table"


def test_each_settings_model_is_cached_separately(stack_environment) -> None:
    common = load_settings(CommonSettings)
    delivery = load_settings(DagDeliverySettings)

    assert type(common) is CommonSettings
    assert type(delivery) is DagDeliverySettings


@pytest.mark.parametrize("variable", ["STATE_TABLE_NAME", "NOTIFICATION_TOPIC_ARN", "STAGING_BUCKET_NAME"])
def test_a_missing_variable_is_named_in_the_error(stack_environment, variable: str) -> None:
    stack_environment.delenv(variable)

    with pytest.raises(ConfigurationError, match=rf"DagDeliverySettings: .*{variable}: Field required"):
        load_settings(DagDeliverySettings)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STAGE", "production"),
        ("NOTIFICATION_TOPIC_ARN", "mwaa-cp-notifications"),
        ("NOTIFICATION_TOPIC_ARN", "arn:aws:sqs:us-east-1:123456789012:queue"),
        ("STATE_TABLE_NAME", ""),
        ("STAGING_BUCKET_NAME", "ab"),
    ],
)
def test_an_invalid_variable_is_named_in_the_error(stack_environment, variable: str, value: str) -> None:
    stack_environment.setenv(variable, value)

    with pytest.raises(ConfigurationError, match=rf"{variable}: "):
        load_settings(DagDeliverySettings)


def test_every_problem_is_reported_at_once(stack_environment) -> None:
    stack_environment.delenv("STATE_TABLE_NAME")
    stack_environment.setenv("STAGE", "production")

    with pytest.raises(ConfigurationError) as raised:
        load_settings(CommonSettings)

    assert "STATE_TABLE_NAME" in str(raised.value)
    assert "STAGE" in str(raised.value)


def test_a_failed_load_is_not_cached(stack_environment) -> None:
    stack_environment.delenv("STATE_TABLE_NAME")
    with pytest.raises(ConfigurationError):
        load_settings(CommonSettings)

    stack_environment.setenv("STATE_TABLE_NAME", "mwaa-cp-state")

    assert load_settings(CommonSettings).state_table == "mwaa-cp-state"


def test_the_error_does_not_carry_the_pydantic_exception(stack_environment) -> None:
    # `from None`: a Lambda error shows one clear message, not a pydantic traceback with the input values.
    stack_environment.delenv("STATE_TABLE_NAME")

    with pytest.raises(ConfigurationError) as raised:
        load_settings(CommonSettings)

    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__ is True


def test_cli_settings_need_no_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MWAA_CP_STACK_NAME", raising=False)

    assert load_settings(CliSettings).stack_name == "mwaa-control-plane"
