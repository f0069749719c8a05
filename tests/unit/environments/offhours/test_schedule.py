"""Desired state, next transition and resume time, in each environment's own zone, across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mwaa_control_plane.environments.offhours.schedule import (
    DEFAULT_LEAD_TIME,
    desired_state,
    lead_time,
    next_transition,
    resume_at,
)
from mwaa_control_plane.environments.offhours.tags import OffHoursConfig, StackDefaults, config_from_tags


def _config(window: str, timezone: str = "Europe/Berlin", mode: str = "hibernate", **tags: str) -> OffHoursConfig:
    extra = {f"mwaa-cp:{key.replace('_', '-')}": value for key, value in tags.items()}
    return config_from_tags(
        {"mwaa-cp:off-hours": mode, "mwaa-cp:window": window, "mwaa-cp:timezone": timezone, **extra}
    )


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def _local(timezone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(timezone), fold=fold).astimezone(UTC)  # type: ignore[misc]


def _off_periods(config: OffHoursConfig, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Every off period that begins in [start, end), walked with next_transition."""
    periods = []
    at = start
    if desired_state(config, at).state != "awake":
        at = next_transition(config, at) or end
    while at < end:
        begin = next_transition(config, at)
        if begin is None or begin >= end:
            break
        finish = next_transition(config, begin)
        assert finish is not None
        periods.append((begin, finish))
        at = finish
    return periods


# --- the window -----------------------------------------------------------------------------------------------------


def test_inside_a_rule_the_environment_is_hibernated_and_the_reason_names_the_rule() -> None:
    decision = desired_state(_config("Mon-Fri 20:00-07:00 / Sat-Sun"), _local("Europe/Berlin", 2026, 1, 14, 21, 0))

    assert decision.state == "hibernated"
    assert decision.reason == "window"
    assert decision.rule == "Mon-Fri 20:00-07:00"
    assert (
        decision.detail == "in the rule 'Mon-Fri 20:00-07:00' of the off-hours window 'Mon-Fri 20:00-07:00 / Sat-Sun'"
    )
    assert decision.local_time == "Wed 2026-01-14 21:00 CET (Europe/Berlin)"


def test_scale_down_environments_are_scaled_down_in_their_window() -> None:
    decision = desired_state(_config("Sat-Sun", mode="scale-down"), _local("Europe/Berlin", 2026, 1, 17, 12, 0))

    assert decision.state == "scaled-down"


def test_outside_the_window_the_environment_is_awake_and_says_so() -> None:
    decision = desired_state(_config("Mon-Fri 20:00-07:00 / Sat-Sun"), _local("Europe/Berlin", 2026, 1, 14, 12, 0))

    assert decision.state == "awake"
    assert decision.reason == "outside-window"
    assert decision.detail == "outside the off-hours window 'Mon-Fri 20:00-07:00 / Sat-Sun'"


def test_a_window_spanning_midnight_runs_from_the_evening_of_its_day_to_the_next_morning() -> None:
    config = _config("Fri 20:00-07:00")

    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 16, 19, 59)).state == "awake"
    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 16, 20, 0)).state == "hibernated"
    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 17, 6, 59)).state == "hibernated"
    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 17, 7, 0)).state == "awake"
    # Friday early morning belongs to Thursday's night, which this window does not have.
    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 16, 3, 0)).state == "awake"


def test_the_issue_example_leaves_monday_before_seven_awake_and_one_more_rule_covers_it() -> None:
    monday_3am = _local("Europe/Berlin", 2026, 1, 19, 3, 0)

    assert desired_state(_config("Mon-Fri 20:00-07:00 / Sat-Sun"), monday_3am).state == "awake"
    assert desired_state(_config("Mon-Fri 20:00-07:00 / Sat-Sun / Mon 00:00-07:00"), monday_3am).state == "hibernated"
    weekend = _off_periods(
        _config("Mon-Fri 20:00-07:00 / Sat-Sun / Mon 00:00-07:00"),
        _local("Europe/Berlin", 2026, 1, 16, 12, 0),
        _local("Europe/Berlin", 2026, 1, 19, 12, 0),
    )
    assert weekend == [(_local("Europe/Berlin", 2026, 1, 16, 20, 0), _local("Europe/Berlin", 2026, 1, 19, 7, 0))]


def test_a_day_range_that_wraps_the_week_covers_friday_to_monday() -> None:
    config = _config("Fri-Mon")

    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 15, 23, 59)).state == "awake"
    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 16, 0, 0)).state == "hibernated"
    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 19, 23, 59)).state == "hibernated"
    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 20, 0, 0)).state == "awake"
    assert next_transition(config, _local("Europe/Berlin", 2026, 1, 16, 12, 0)) == _local("Europe/Berlin", 2026, 1, 20)


def test_a_time_only_rule_applies_every_night() -> None:
    periods = _off_periods(_config("22:00-06:00"), _utc(2026, 1, 12), _utc(2026, 1, 19))

    assert len(periods) == 7
    assert all(end - start == timedelta(hours=8) for start, end in periods)


def test_whole_days_next_to_each_other_are_one_off_period() -> None:
    config = _config("Sat / Sun 00:00-24:00")

    assert _off_periods(config, _utc(2026, 1, 12), _utc(2026, 1, 19)) == [
        (_local("Europe/Berlin", 2026, 1, 17), _local("Europe/Berlin", 2026, 1, 19))
    ]


def test_a_window_covering_the_whole_week_never_changes() -> None:
    config = _config("Mon-Sun")

    assert desired_state(config, _utc(2026, 3, 29, 1, 0)).state == "hibernated"
    assert next_transition(config, _utc(2026, 3, 29, 1, 0)) is None
    assert resume_at(config, _utc(2026, 3, 29, 1, 0), DEFAULT_LEAD_TIME) is None


def test_the_instant_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        desired_state(_config("Sat-Sun"), datetime(2026, 1, 17, 12, 0))


# --- daylight saving time -------------------------------------------------------------------------------------------


def test_berlin_spring_forward_a_window_across_the_gap_is_one_hour_shorter() -> None:
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    config = _config("Sun 01:30-03:30")

    assert _off_periods(config, _utc(2026, 3, 28), _utc(2026, 3, 30)) == [
        (_utc(2026, 3, 29, 0, 30), _utc(2026, 3, 29, 1, 30))
    ]
    assert desired_state(config, _utc(2026, 3, 29, 1, 0)).local_time == "Sun 2026-03-29 03:00 CEST (Europe/Berlin)"


def test_berlin_spring_forward_a_window_starting_in_the_gap_starts_when_the_clocks_jump() -> None:
    config = _config("Sun 02:30-05:00")

    assert _off_periods(config, _utc(2026, 3, 28), _utc(2026, 3, 30)) == [
        (_utc(2026, 3, 29, 1, 0), _utc(2026, 3, 29, 3, 0))
    ]


def test_berlin_fall_back_a_window_across_the_repeated_hour_keeps_both_passes_off() -> None:
    # 2026-10-25: 03:00 CEST goes back to 02:00 CET at 01:00 UTC; 02:00-03:00 happens twice.
    config = _config("Sun 01:30-03:30")

    assert _off_periods(config, _utc(2026, 10, 24), _utc(2026, 10, 26)) == [
        (_utc(2026, 10, 24, 23, 30), _utc(2026, 10, 25, 2, 30))
    ]


def test_berlin_fall_back_a_window_ending_in_the_repeated_hour_ends_at_its_first_pass_and_stays_ended() -> None:
    config = _config("Sat 22:00-02:30")
    second_pass = _local("Europe/Berlin", 2026, 10, 25, 2, 15, fold=1)

    assert _off_periods(config, _utc(2026, 10, 24), _utc(2026, 10, 26)) == [
        (_utc(2026, 10, 24, 20, 0), _utc(2026, 10, 25, 0, 30))
    ]
    assert second_pass == _utc(2026, 10, 25, 1, 15)
    assert desired_state(config, second_pass).state == "awake"


def test_new_york_spring_forward_the_night_is_one_hour_shorter() -> None:
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
    config = _config("20:00-07:00", "America/New_York")

    periods = _off_periods(config, _utc(2026, 3, 7, 12), _utc(2026, 3, 9, 12))

    assert periods == [
        (_utc(2026, 3, 8, 1, 0), _utc(2026, 3, 8, 11, 0)),
        (_utc(2026, 3, 9, 0, 0), _utc(2026, 3, 9, 11, 0)),
    ]


def test_new_york_spring_forward_a_window_across_the_gap() -> None:
    assert _off_periods(_config("Sun 01:30-03:30", "America/New_York"), _utc(2026, 3, 7), _utc(2026, 3, 9)) == [
        (_utc(2026, 3, 8, 6, 30), _utc(2026, 3, 8, 7, 30))
    ]


def test_new_york_fall_back_a_window_ending_in_the_repeated_hour_does_not_come_back_on_the_second_pass() -> None:
    # 2026-11-01: 02:00 EDT goes back to 01:00 EST at 06:00 UTC; 01:00-02:00 happens twice.
    config = _config("Sun 00:30-01:30", "America/New_York")

    assert _off_periods(config, _utc(2026, 10, 31), _utc(2026, 11, 2)) == [
        (_utc(2026, 11, 1, 4, 30), _utc(2026, 11, 1, 5, 30))
    ]
    assert desired_state(config, _local("America/New_York", 2026, 11, 1, 1, 15, fold=1)).state == "awake"


def test_new_york_fall_back_the_night_is_one_hour_longer() -> None:
    periods = _off_periods(_config("Sat 20:00-07:00", "America/New_York"), _utc(2026, 10, 31), _utc(2026, 11, 2))

    assert periods == [(_utc(2026, 11, 1, 0, 0), _utc(2026, 11, 1, 12, 0))]


def test_kolkata_a_half_hour_offset_zone_without_dst() -> None:
    config = _config("Mon-Fri 19:00-07:30", "Asia/Kolkata")

    assert desired_state(config, _utc(2026, 1, 12, 13, 29)).state == "awake"
    assert desired_state(config, _utc(2026, 1, 12, 13, 30)).state == "hibernated"
    assert next_transition(config, _utc(2026, 1, 12, 13, 30)) == _utc(2026, 1, 13, 2, 0)
    assert desired_state(config, _utc(2026, 1, 12, 13, 30)).local_time == "Mon 2026-01-12 19:00 IST (Asia/Kolkata)"


def test_adelaide_a_half_hour_offset_zone_going_back_ends_a_night_at_the_first_pass() -> None:
    # 2026-04-05: 03:00 ACDT (+10:30) goes back to 02:00 ACST (+09:30) at 16:30 UTC the day before.
    config = _config("Sat 20:00-02:30", "Australia/Adelaide")

    assert _off_periods(config, _utc(2026, 4, 3), _utc(2026, 4, 6)) == [
        (_utc(2026, 4, 4, 9, 30), _utc(2026, 4, 4, 16, 0))
    ]
    assert desired_state(config, _local("Australia/Adelaide", 2026, 4, 5, 2, 15, fold=1)).state == "awake"


def test_adelaide_a_half_hour_offset_zone_going_forward_starts_a_window_in_the_gap_at_the_jump() -> None:
    # 2026-10-04: 02:00 ACST jumps to 03:00 ACDT at 16:30 UTC the day before.
    config = _config("Sun 02:00-06:00", "Australia/Adelaide")

    assert _off_periods(config, _utc(2026, 10, 2), _utc(2026, 10, 5)) == [
        (_utc(2026, 10, 3, 16, 30), _utc(2026, 10, 3, 19, 30))
    ]


def test_next_transition_across_berlin_spring_forward_is_on_the_new_offset() -> None:
    config = _config("20:00-07:00")

    start = next_transition(config, _utc(2026, 3, 28, 12, 0))
    end = next_transition(config, _utc(2026, 3, 28, 19, 0))

    assert start == _utc(2026, 3, 28, 19, 0)  # Saturday 20:00 CET
    assert end == _utc(2026, 3, 29, 5, 0)  # Sunday 07:00 CEST
    assert next_transition(config, end) == _utc(2026, 3, 29, 18, 0)  # Sunday 20:00 CEST


def test_next_transition_across_new_york_fall_back_is_on_the_new_offset() -> None:
    config = _config("Mon-Fri 20:00-07:00 / Sat-Sun", "America/New_York")

    assert next_transition(config, _utc(2026, 10, 30, 12, 0)) == _utc(2026, 10, 31, 0, 0)  # Fri 20:00 EDT
    assert next_transition(config, _utc(2026, 10, 31, 0, 0)) == _utc(2026, 11, 2, 5, 0)  # Mon 00:00 EST


# --- holidays, keep-awake, protected, not managed -----------------------------------------------------------------


def test_a_holiday_keeps_the_environment_off_all_day_in_its_own_zone() -> None:
    config = _config("Sat-Sun", "America/New_York", holidays="2026-07-03")

    decision = desired_state(config, _local("America/New_York", 2026, 7, 3, 12, 0))

    assert decision.state == "hibernated"
    assert decision.reason == "holiday"
    assert decision.holiday == date(2026, 7, 3)
    assert decision.detail == "2026-07-03 is a holiday in the environment's mwaa-cp:holidays tag: off all day"
    # Friday holiday then the weekend: one off period from Friday 00:00 to Monday 00:00 EDT.
    assert next_transition(config, _utc(2026, 7, 2, 12)) == _local("America/New_York", 2026, 7, 3)
    assert next_transition(config, _local("America/New_York", 2026, 7, 3)) == _local("America/New_York", 2026, 7, 6)


def test_a_stack_holiday_is_reported_as_the_stacks() -> None:
    config = config_from_tags(
        {"mwaa-cp:off-hours": "scale-down", "mwaa-cp:window": "Sat-Sun"}, StackDefaults(holidays=("2026-12-24",))
    )

    decision = desired_state(config, _utc(2026, 12, 24, 12))

    assert decision.state == "scaled-down"
    assert decision.detail == "2026-12-24 is a holiday in the stack's holiday list: off all day"


def test_a_holiday_is_the_reason_given_over_a_window_rule() -> None:
    config = _config("Thu 20:00-07:00", holidays="2026-12-24")

    assert desired_state(config, _local("Europe/Berlin", 2026, 12, 24, 21, 0)).reason == "holiday"
    # The rule starting on the holiday still runs into the next morning.
    assert desired_state(config, _local("Europe/Berlin", 2026, 12, 25, 6, 0)).reason == "window"


def test_keep_awake_wins_over_holiday_and_window_until_it_ends() -> None:
    config = _config("Mon-Fri 20:00-07:00", holidays="2026-01-15", keep_awake_until="2026-01-15T22:00:00+01:00")

    decision = desired_state(config, _local("Europe/Berlin", 2026, 1, 15, 12, 0))

    assert decision.state == "awake"
    assert decision.reason == "keep-awake"
    assert decision.detail == "kept awake until 2026-01-15 22:00 CET by mwaa-cp:keep-awake-until"
    assert next_transition(config, _local("Europe/Berlin", 2026, 1, 14, 21, 0)) == _utc(2026, 1, 15, 21, 0)
    assert desired_state(config, _utc(2026, 1, 15, 21, 0)).reason == "holiday"


def test_a_keep_awake_date_lasts_until_the_end_of_that_day_then_the_window_applies() -> None:
    config = _config("Sat-Sun", keep_awake_until="2026-01-17")

    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 17, 23, 59)).reason == "keep-awake"
    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 18, 0, 0)).reason == "window"
    assert next_transition(config, _utc(2026, 1, 16, 12, 0)) == _local("Europe/Berlin", 2026, 1, 18)


def test_a_keep_awake_in_the_past_changes_nothing() -> None:
    config = _config("Sat-Sun", keep_awake_until="2025-12-31")

    assert desired_state(config, _local("Europe/Berlin", 2026, 1, 17, 12, 0)).reason == "window"


def test_a_protected_environment_is_never_paused_and_the_decision_says_why() -> None:
    config = _config("Mon-Sun", protected="true", holidays="2026-01-17")

    decision = desired_state(config, _local("Europe/Berlin", 2026, 1, 17, 12, 0))

    assert decision.state == "awake"
    assert decision.reason == "protected"
    assert decision.detail == "protected by the tag mwaa-cp:protected=true: never paused"
    assert next_transition(config, _utc(2026, 1, 17)) is None
    assert resume_at(config, _utc(2026, 1, 17), DEFAULT_LEAD_TIME) is None


def test_every_environment_of_a_prod_stack_is_protected() -> None:
    config = config_from_tags(
        {"mwaa-cp:off-hours": "hibernate", "mwaa-cp:window": "Mon-Sun"}, StackDefaults(production=True)
    )

    decision = desired_state(config, _utc(2026, 1, 17, 12))

    assert decision.state == "awake"
    assert decision.detail == "protected: the control plane's stage is prod, so no environment is ever paused"


def test_an_unmanaged_environment_stays_awake_and_never_changes() -> None:
    config = config_from_tags({"team": "data"})

    decision = desired_state(config, _utc(2026, 1, 17, 12))

    assert decision.state == "awake"
    assert decision.reason == "not-managed"
    assert decision.detail == "not managed: no mwaa-cp:off-hours tag"
    assert next_transition(config, _utc(2026, 1, 17, 12)) is None


def test_a_long_run_of_holidays_is_seen_through_to_its_end() -> None:
    days = " ".join(str(date(2026, 8, 1) + timedelta(days=n)) for n in range(21))
    config = _config("20:00-07:00", "UTC", holidays=days)

    assert next_transition(config, _utc(2026, 8, 1, 12)) == _utc(2026, 8, 22, 7, 0)


# --- resume time and lead time --------------------------------------------------------------------------------------


def test_resume_starts_the_learned_lead_time_before_the_window_ends() -> None:
    config = _config("Mon-Fri 20:00-07:00")
    learned = lead_time([timedelta(minutes=m) for m in (30, 32, 28, 35, 33, 31)])

    assert learned == timedelta(minutes=45)  # 90th percentile (35) + 10 minutes
    assert resume_at(config, _local("Europe/Berlin", 2026, 1, 12, 21, 0), learned) == _local(
        "Europe/Berlin", 2026, 1, 13, 6, 15
    )


def test_resume_of_an_awake_environment_is_for_its_next_off_period() -> None:
    config = _config("Mon-Fri 20:00-07:00")

    assert resume_at(config, _local("Europe/Berlin", 2026, 1, 12, 12, 0), timedelta(minutes=40)) == _local(
        "Europe/Berlin", 2026, 1, 13, 6, 20
    )


def test_resume_after_spring_forward_is_counted_back_in_real_time() -> None:
    # The window ends Sunday 07:00 CEST (05:00 UTC); 40 minutes earlier is 04:20 UTC, 06:20 CEST.
    config = _config("Sat 20:00-07:00")

    assert resume_at(config, _utc(2026, 3, 28, 21), timedelta(minutes=40)) == _utc(2026, 3, 29, 4, 20)


def test_resume_of_a_window_shorter_than_the_lead_time_is_before_the_window_starts() -> None:
    config = _config("Mon 12:00-12:30", "UTC")

    assert resume_at(config, _utc(2026, 1, 12, 9), timedelta(minutes=40)) == _utc(2026, 1, 12, 11, 50)


def test_without_recorded_creates_the_lead_time_is_the_default() -> None:
    assert lead_time([]) == timedelta(minutes=40)
    assert lead_time([], default=timedelta(minutes=55)) == timedelta(minutes=55)


def test_a_few_fast_creates_do_not_lower_the_lead_time_below_the_default() -> None:
    assert lead_time([timedelta(minutes=20), timedelta(minutes=22)]) == timedelta(minutes=40)


def test_a_few_slow_creates_raise_the_lead_time_to_the_slowest_plus_the_margin() -> None:
    assert lead_time([timedelta(minutes=20), timedelta(minutes=48)]) == timedelta(minutes=58)


def test_with_enough_creates_the_lead_time_is_their_90th_percentile_plus_ten_minutes() -> None:
    durations = [timedelta(minutes=m) for m in (20, 21, 22, 23, 24, 25, 26, 27, 28, 60)]

    assert lead_time(durations) == timedelta(minutes=38)  # 9th of 10 (28) + 10: one outlier does not decide


def test_only_the_last_twenty_creates_count() -> None:
    old = [timedelta(minutes=90)] * 30
    recent = [timedelta(minutes=25)] * 20

    assert lead_time(old + recent) == timedelta(minutes=35)


def test_the_lead_time_is_bounded_and_ignores_non_durations() -> None:
    assert lead_time([timedelta(hours=5)] * 10) == timedelta(hours=2)
    assert lead_time([timedelta(minutes=5)] * 10) == timedelta(minutes=20)
    assert lead_time([timedelta(0), timedelta(minutes=-3)]) == timedelta(minutes=40)


def test_a_whole_day_in_a_zone_whose_clocks_jump_at_midnight_starts_at_the_first_instant_of_that_day() -> None:
    # Havana 2026-03-08: 00:00 CST jumps to 01:00 CDT at 05:00 UTC, so Sunday begins at 01:00.
    config = _config("Sun", "America/Havana")

    assert _off_periods(config, _utc(2026, 3, 7), _utc(2026, 3, 10)) == [
        (_utc(2026, 3, 8, 5, 0), _utc(2026, 3, 9, 4, 0))
    ]
