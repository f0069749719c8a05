"""The off-hours functions' settings, and the stack defaults every environment's tags are read against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mwaa_control_plane.config import OffHoursSettings, clear_settings_cache, load_settings
from mwaa_control_plane.environments.offhours.tags import StackDefaults, config_from_tags
from mwaa_control_plane.errors import ConfigurationError, OffHoursTagError

TOPIC = "arn:aws:sns:us-east-1:123456789012:mwaa-cp-notifications"
STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:environment-change"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_settings_cache()
    yield
    clear_settings_cache()


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("STATE_TABLE_NAME", "mwaa-cp-state")
    monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", TOPIC)
    monkeypatch.setenv("SNAPSHOT_BUCKET_NAME", "mwaa-cp-snapshots")
    monkeypatch.setenv("SNAPSHOT_KMS_KEY_ID", "alias/mwaa-cp-snapshots")
    return monkeypatch


def test_the_off_hours_settings_are_read_with_their_defaults(stack: pytest.MonkeyPatch) -> None:
    settings = load_settings(OffHoursSettings)

    assert (settings.snapshot_bucket, settings.snapshot_kms_key_id) == ("mwaa-cp-snapshots", "alias/mwaa-cp-snapshots")
    assert settings.stack_defaults() == StackDefaults(window=None, timezone="UTC", holidays=(), production=False)
    assert settings.environment_change_state_machine_arn is None


def test_the_stack_parameters_become_the_stack_defaults(stack: pytest.MonkeyPatch) -> None:
    stack.setenv("OFF_HOURS_DEFAULT_WINDOW", "Mon-Fri 20:00-07:00 / Sat-Sun")
    stack.setenv("OFF_HOURS_DEFAULT_TIMEZONE", "Europe/Berlin")
    stack.setenv("OFF_HOURS_HOLIDAYS", "2026-12-24,2026-12-25 2026-12-31")
    stack.setenv("ENVIRONMENT_CHANGE_STATE_MACHINE_ARN", STATE_MACHINE)

    settings = load_settings(OffHoursSettings)

    assert settings.stack_defaults() == StackDefaults(
        window="Mon-Fri 20:00-07:00 / Sat-Sun",
        timezone="Europe/Berlin",
        holidays=("2026-12-24", "2026-12-25", "2026-12-31"),
    )
    assert settings.environment_change_state_machine_arn == STATE_MACHINE


def test_the_defaults_apply_to_an_environment_that_only_says_it_is_managed(stack: pytest.MonkeyPatch) -> None:
    stack.setenv("OFF_HOURS_DEFAULT_WINDOW", "Sat-Sun")
    stack.setenv("OFF_HOURS_HOLIDAYS", "2026-12-24")

    config = config_from_tags({"mwaa-cp:off-hours": "hibernate"}, load_settings(OffHoursSettings).stack_defaults())

    assert config.window is not None
    assert config.window.text == "Sat-Sun"
    assert [h.day.isoformat() for h in config.holidays] == ["2026-12-24"]


def test_a_bad_holiday_is_reported_against_the_stack_parameter(stack: pytest.MonkeyPatch) -> None:
    stack.setenv("OFF_HOURS_DEFAULT_WINDOW", "Sat-Sun")
    stack.setenv("OFF_HOURS_HOLIDAYS", "2026-02-30")

    with pytest.raises(OffHoursTagError, match="stack parameter OffHoursHolidays = '2026-02-30'"):
        config_from_tags({"mwaa-cp:off-hours": "hibernate"}, load_settings(OffHoursSettings).stack_defaults())


def test_the_prod_stage_protects_every_environment(stack: pytest.MonkeyPatch) -> None:
    stack.setenv("STAGE", "prod")

    assert load_settings(OffHoursSettings).stack_defaults().production is True


def test_an_empty_state_machine_parameter_means_none(stack: pytest.MonkeyPatch) -> None:
    stack.setenv("ENVIRONMENT_CHANGE_STATE_MACHINE_ARN", "")

    assert load_settings(OffHoursSettings).environment_change_state_machine_arn is None


@pytest.mark.parametrize("variable", ["SNAPSHOT_BUCKET_NAME", "SNAPSHOT_KMS_KEY_ID"])
def test_a_missing_snapshot_setting_is_named(stack: pytest.MonkeyPatch, variable: str) -> None:
    stack.delenv(variable)

    with pytest.raises(ConfigurationError, match=rf"OffHoursSettings: .*{variable}: Field required"):
        load_settings(OffHoursSettings)
