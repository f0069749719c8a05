"""Reading an environment's mwaa-cp:* tags and the stack's defaults into an OffHoursConfig."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from mwaa_control_plane.environments.offhours.tags import (
    Holiday,
    OffHoursConfig,
    OffHoursTagError,
    Protection,
    StackDefaults,
    TagProblem,
    config_from_tags,
)
from mwaa_control_plane.errors import InvalidInputError

MANAGED = {"mwaa-cp:off-hours": "hibernate", "mwaa-cp:window": "Mon-Fri 20:00-07:00 / Sat-Sun"}


def _problems(tags: dict[str, str], stack: StackDefaults | None = None) -> list[str]:
    with pytest.raises(OffHoursTagError) as refused:
        config_from_tags(tags, stack)
    return [str(problem) for problem in refused.value.problems]


def test_an_environment_without_the_off_hours_tag_is_not_managed_and_its_other_tags_are_not_read() -> None:
    config = config_from_tags({"mwaa-cp:window": "Caturday", "mwaa-cp:timezone": "Nowhere", "team": "data"})

    assert config.mode is None
    assert not config.managed
    assert config.window is None
    assert config.protection is None


def test_all_off_hours_tags_are_read_into_one_config() -> None:
    config = config_from_tags(
        {
            "mwaa-cp:off-hours": "Hibernate",
            "mwaa-cp:window": "mon-fri 20:00-07:00/sat-sun",
            "mwaa-cp:timezone": "Europe/Berlin",
            "mwaa-cp:holidays": "2026-12-25  2026-12-24",
            "mwaa-cp:keep-awake-until": "2026-03-01T18:00:00+01:00",
            "mwaa-cp:protected": "false",
        }
    )

    assert config.mode == "hibernate"
    assert config.window is not None
    assert config.window.text == "Mon-Fri 20:00-07:00 / Sat-Sun"
    assert config.window_source == "tag"
    assert config.timezone == "Europe/Berlin"
    assert config.holidays == (
        Holiday(day=date(2026, 12, 24), source="tag"),
        Holiday(day=date(2026, 12, 25), source="tag"),
    )
    assert config.keep_awake_until == datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
    assert config.protection is None


def test_the_stack_default_window_and_time_zone_apply_when_the_tags_are_absent() -> None:
    config = config_from_tags(
        {"mwaa-cp:off-hours": "scale-down"}, StackDefaults(window="Sat-Sun", timezone="America/New_York")
    )

    assert config.mode == "scale-down"
    assert config.window is not None
    assert config.window.text == "Sat-Sun"
    assert config.window_source == "stack"
    assert config.timezone == "America/New_York"


def test_the_time_zone_is_utc_when_neither_the_tag_nor_the_stack_sets_one() -> None:
    assert config_from_tags(MANAGED).timezone == "UTC"


def test_a_managed_environment_without_any_window_is_refused() -> None:
    assert _problems({"mwaa-cp:off-hours": "hibernate"}) == [
        "mwaa-cp:window = '': is missing and the stack sets no default window"
    ]


def test_a_bad_stack_default_names_the_stack_parameter() -> None:
    stack = StackDefaults(window="Mon-Fri 20:00-07:00, Sat-Sun", timezone="Europe/Berln", holidays=("24.12.2026",))

    assert _problems({"mwaa-cp:off-hours": "hibernate"}, stack) == [
        "stack parameter OffHoursDefaultWindow = 'Mon-Fri 20:00-07:00, Sat-Sun': contains ',', which an AWS tag value"
        " cannot hold: separate rules with ' / ', e.g. 'Mon-Fri 20:00-07:00 / Sat-Sun'",
        "stack parameter OffHoursDefaultTimezone = 'Europe/Berln': is not an IANA time zone: did you mean"
        " 'Europe/Berlin'?",
        "stack parameter OffHoursHolidays = '24.12.2026': '24.12.2026' is not an ISO date such as 2026-12-24",
    ]


def test_every_problem_is_reported_at_once_each_naming_its_tag() -> None:
    problems = _problems(
        {
            "mwaa-cp:off-hours": "hibernate",
            "mwaa-cp:window": "Mon-Fri 20:00",
            "mwaa-cp:timezone": "europe/berlin",
            "mwaa-cp:holidays": "2026-12-24,2026-12-25",
            "mwaa-cp:protected": "yes",
        }
    )

    assert problems == [
        "mwaa-cp:protected = 'yes': must be 'true' or 'false'",
        "mwaa-cp:window = 'Mon-Fri 20:00': has the time '20:00' without an end: write a range such as 20:00-07:00",
        "mwaa-cp:timezone = 'europe/berlin': is not an IANA time zone: did you mean 'Europe/Berlin'?",
        "mwaa-cp:holidays = '2026-12-24,2026-12-25': an AWS tag value cannot hold ',' or ';': separate dates with"
        " spaces, e.g. '2026-12-24 2026-12-25'",
    ]


@pytest.mark.parametrize(
    ("tag", "value", "message"),
    [
        (
            "mwaa-cp:off-hours",
            "hibernated",
            "must be one of: scale-down, hibernate (remove the tag to leave the environment unmanaged)",
        ),
        (
            "mwaa-cp:off-hours",
            "",
            "must be one of: scale-down, hibernate (remove the tag to leave the environment unmanaged)",
        ),
        ("mwaa-cp:protected", "1", "must be 'true' or 'false'"),
        (
            "mwaa-cp:timezone",
            "Mars/Olympus_Mons",
            "is not an IANA time zone, such as Europe/Berlin, America/New_York or UTC",
        ),
        ("mwaa-cp:timezone", "../../etc/passwd", "is not an IANA time zone"),
        ("mwaa-cp:timezone", "", "is not an IANA time zone"),
        ("mwaa-cp:holidays", "2026-12-24 Christmas", "'Christmas' is not an ISO date such as 2026-12-24"),
        ("mwaa-cp:holidays", "20261224", "'20261224' is not an ISO date such as 2026-12-24"),
        ("mwaa-cp:holidays", "2026-02-30", "'2026-02-30' is not a date of the calendar"),
        (
            "mwaa-cp:keep-awake-until",
            "2026-03-01T18:00",
            "has no UTC offset: add one, e.g. '2026-03-01T18:00+01:00' or '2026-03-01T18:00Z'",
        ),
        (
            "mwaa-cp:keep-awake-until",
            "tomorrow",
            "must be an ISO date (2026-03-01) or date-time with offset (2026-03-01T18:00+01:00)",
        ),
        ("mwaa-cp:keep-awake-until", "2026-13-01", "'2026-13-01' is not a date of the calendar"),
        ("mwaa-cp:keep-awake-until", "2026-03-01T25:00Z", "'2026-03-01T25:00Z' is not a time of the calendar"),
    ],
)
def test_each_invalid_tag_value_is_refused_naming_the_tag_and_what_is_wrong(tag: str, value: str, message: str) -> None:
    problems = _problems({**MANAGED, tag: value})

    assert len(problems) == 1
    assert problems[0].startswith(f"{tag} = '{value}': ")
    assert message in problems[0]


def test_the_error_is_an_invalid_input_that_carries_each_problem() -> None:
    with pytest.raises(InvalidInputError) as refused:
        config_from_tags({**MANAGED, "mwaa-cp:protected": "maybe"})

    assert isinstance(refused.value, OffHoursTagError)
    assert refused.value.problems == [
        TagProblem(tag="mwaa-cp:protected", value="maybe", message="must be 'true' or 'false'")
    ]


def test_a_keep_awake_date_means_the_end_of_that_day_in_the_environments_zone() -> None:
    config = config_from_tags({**MANAGED, "mwaa-cp:timezone": "Asia/Kolkata", "mwaa-cp:keep-awake-until": "2026-03-01"})

    assert config.keep_awake_until == datetime(2026, 3, 1, 18, 30, tzinfo=UTC)


def test_a_keep_awake_time_in_utc_is_read_with_its_z() -> None:
    config = config_from_tags({**MANAGED, "mwaa-cp:keep-awake-until": "2026-03-01t18:00z"})

    assert config.keep_awake_until == datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


def test_the_protected_tag_protects_a_managed_environment() -> None:
    assert config_from_tags({**MANAGED, "mwaa-cp:protected": "TRUE"}).protection == Protection(source="tag")


def test_the_prod_stage_protects_every_environment_whatever_its_tags_say() -> None:
    prod = StackDefaults(production=True)

    assert config_from_tags(MANAGED, prod).protection == Protection(source="stage")
    assert config_from_tags({**MANAGED, "mwaa-cp:protected": "false"}, prod).protection == Protection(source="stage")
    assert config_from_tags({}, prod).protection == Protection(source="stage")


def test_the_protected_tag_is_read_even_on_an_unmanaged_environment() -> None:
    assert config_from_tags({"mwaa-cp:protected": "true"}).protection == Protection(source="tag")
    assert _problems({"mwaa-cp:protected": "ja"}) == ["mwaa-cp:protected = 'ja': must be 'true' or 'false'"]


def test_stack_holidays_and_tag_holidays_combine_and_a_date_in_both_counts_as_the_tags() -> None:
    config = config_from_tags(
        {**MANAGED, "mwaa-cp:holidays": "2026-12-24"}, StackDefaults(holidays=("2026-12-24", "2026-12-31"))
    )

    assert config.holidays == (
        Holiday(day=date(2026, 12, 24), source="tag"),
        Holiday(day=date(2026, 12, 31), source="stack"),
    )


def test_the_config_round_trips_through_json_with_the_window_as_its_text() -> None:
    config = config_from_tags({**MANAGED, "mwaa-cp:timezone": "Europe/Berlin", "mwaa-cp:holidays": "2026-12-24"})

    dumped = config.model_dump(mode="json")

    assert dumped["window"] == "Mon-Fri 20:00-07:00 / Sat-Sun"
    assert OffHoursConfig.model_validate(dumped) == config


def test_the_model_refuses_an_unknown_zone_a_naive_keep_awake_and_a_managed_environment_without_window() -> None:
    with pytest.raises(ValidationError, match="is not an IANA time zone"):
        OffHoursConfig(mode=None, timezone="Nowhere")
    with pytest.raises(ValidationError, match="keep_awake_until must carry a UTC offset"):
        OffHoursConfig(mode=None, keep_awake_until=datetime(2026, 3, 1, 18, 0))
    with pytest.raises(ValidationError, match="a managed environment needs a window"):
        OffHoursConfig(mode="hibernate")


# --- the tags of the hibernate and scale-down steps -------------------------------------------------------------------


def test_the_policies_default_to_the_safe_choice() -> None:
    config = config_from_tags(MANAGED)

    assert config.night_class is None
    assert config.drain.text == "wait-30m"
    assert config.connections == "refuse"
    assert config.catchup == "keep-paused"


def test_the_policy_tags_are_read_in_any_case() -> None:
    config = config_from_tags(
        {
            **MANAGED,
            "mwaa-cp:drain": "Force",
            "mwaa-cp:connections": "ACCEPT-LOSS",
            "mwaa-cp:catchup": "unpause",
        }
    )

    assert (config.drain.mode, config.connections, config.catchup) == ("force", "accept-loss", "unpause")


def test_a_night_class_is_read_for_a_scale_down_environment() -> None:
    config = config_from_tags({**MANAGED, "mwaa-cp:off-hours": "scale-down", "mwaa-cp:off-hours-class": "MW1.Micro"})

    assert config.night_class == "mw1.micro"


def test_a_night_class_on_a_hibernated_environment_is_a_problem() -> None:
    assert _problems({**MANAGED, "mwaa-cp:off-hours-class": "mw1.micro"}) == [
        "mwaa-cp:off-hours-class = 'mw1.micro': applies to scale-down only, and mwaa-cp:off-hours=hibernate: remove it"
    ]


def test_every_policy_problem_is_reported_with_the_others() -> None:
    problems = _problems(
        {
            **MANAGED,
            "mwaa-cp:timezone": "Mars/Olympus",
            "mwaa-cp:drain": "wait-1h",
            "mwaa-cp:connections": "ignore",
            "mwaa-cp:catchup": "backfill",
            "mwaa-cp:off-hours-class": "mw2.small",
        }
    )

    assert [p.split(" = ")[0] for p in problems] == [
        "mwaa-cp:timezone",
        "mwaa-cp:off-hours-class",
        "mwaa-cp:drain",
        "mwaa-cp:connections",
        "mwaa-cp:catchup",
    ]
    assert "must be one of: refuse, accept-loss" in problems[3]
    assert "must be one of: keep-paused, unpause" in problems[4]


def test_the_policy_tags_of_an_unmanaged_environment_are_not_read() -> None:
    assert config_from_tags({"mwaa-cp:drain": "whenever"}).drain.text == "wait-30m"
