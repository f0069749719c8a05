"""Off hours and off periods of a month, in the environment's zone: what the cost model is given."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from mwaa_control_plane.environments.offhours.monthly import month_of, monthly_off_hours
from mwaa_control_plane.environments.offhours.tags import OffHoursConfig, StackDefaults, config_from_tags

D = Decimal
# The issue's intent, "off weekday nights from 20:00 to 07:00 and the weekend", Monday morning included.
WEEKNIGHTS_AND_WEEKEND = "Mon-Fri 20:00-07:00 / Sat-Sun / Mon 00:00-07:00"
# February 2027 starts on a Monday and has 28 days: exactly four weeks.
FOUR_WEEKS = date(2027, 2, 1)


def _config(window: str, timezone: str = "UTC", **tags: str) -> OffHoursConfig:
    extra = {f"mwaa-cp:{key.replace('_', '-')}": value for key, value in tags.items()}
    return config_from_tags(
        {"mwaa-cp:off-hours": "hibernate", "mwaa-cp:window": window, "mwaa-cp:timezone": timezone, **extra}
    )


def test_four_whole_weeks_give_the_weekly_figures_scaled_to_the_price_month() -> None:
    month = monthly_off_hours(_config(WEEKNIGHTS_AND_WEEKEND), FOUR_WEEKS)

    # Each week: four nights of 11 h and Friday 20:00 to Monday 07:00 (59 h) = 103 h, in 5 off periods.
    assert month.month == "2027-02"
    assert month.hours_in_month == D(672)
    assert month.off_hours == D(4 * 103)
    assert month.off_periods == 4 * 5
    assert month.off_hours_per_month == D(103) * D(730) / D(168)
    assert month.cycles_per_month == D(5) * D(730) / D(168)


def test_the_issues_spelling_leaves_monday_before_seven_awake() -> None:
    # 'Mon-Fri 20:00-07:00' belongs to the evening it starts on: the weekend ends Sunday 24:00.
    month = monthly_off_hours(_config("Mon-Fri 20:00-07:00 / Sat-Sun"), FOUR_WEEKS)

    assert month.off_hours == D(4 * 96)
    assert month.off_periods == 20


def test_a_holiday_joins_the_nights_around_it_into_one_off_period() -> None:
    # Wednesday 2027-02-10: Tuesday 20:00 to Thursday 07:00 is one period, 13 more hours off.
    config = _config(WEEKNIGHTS_AND_WEEKEND, holidays="2027-02-10")

    month = monthly_off_hours(config, FOUR_WEEKS)

    assert month.off_hours == D(4 * 103 + 13)
    assert month.off_periods == 19


def test_the_stacks_holidays_count_too() -> None:
    config = config_from_tags(
        {"mwaa-cp:off-hours": "scale-down"},
        StackDefaults(window=WEEKNIGHTS_AND_WEEKEND, holidays=("2027-02-10",)),
    )

    assert monthly_off_hours(config, FOUR_WEEKS).off_hours == D(4 * 103 + 13)


def test_the_night_the_clocks_go_forward_is_an_hour_shorter_and_the_month_too() -> None:
    # Berlin, March 2026: clocks go forward on Sunday the 29th at 02:00.
    month = monthly_off_hours(_config("20:00-07:00", "Europe/Berlin"), date(2026, 3, 1))

    assert month.hours_in_month == D(743)
    # March 1st 00:00-07:00 ends February's last night; 29 nights of 11 h, the short one of 10 h, and
    # March 31st 20:00-24:00, where April's first night begins.
    assert month.off_hours == D(7 + 29 * 11 + 10 + 4)
    # The night under way at midnight on March 1st started in February: it is February's cycle.
    assert month.off_periods == 31
    assert month.off_hours_per_month == month.off_hours * D(730) / D(743)


def test_the_night_the_clocks_go_back_is_an_hour_longer() -> None:
    # New York, November 2026: clocks go back on Sunday the 1st at 02:00.
    month = monthly_off_hours(_config("Sat-Sun", "America/New_York"), date(2026, 11, 1))

    assert month.hours_in_month == D(721)
    # Sunday 1st (25 h) is the tail of October's weekend; then four whole weekends, the 7th-8th to the 28th-29th.
    assert month.off_hours == D(25 + 4 * 48)
    assert month.off_periods == 4


def test_a_keep_awake_is_an_exception_not_the_configuration() -> None:
    plain = monthly_off_hours(_config(WEEKNIGHTS_AND_WEEKEND), FOUR_WEEKS)
    kept = monthly_off_hours(_config(WEEKNIGHTS_AND_WEEKEND, keep_awake_until="2027-02-20"), FOUR_WEEKS)

    assert kept == plain


def test_protected_and_unmanaged_environments_are_never_off() -> None:
    protected = _config(WEEKNIGHTS_AND_WEEKEND, protected="true")
    unmanaged = config_from_tags({"stage": "dev"})

    for config in (protected, unmanaged):
        month = monthly_off_hours(config, FOUR_WEEKS)
        assert (month.off_hours, month.off_periods, month.cycles_per_month) == (0, 0, 0)


def test_a_window_that_covers_the_whole_week_is_off_all_month_in_no_new_period() -> None:
    month = monthly_off_hours(_config("Mon-Sun"), FOUR_WEEKS)

    assert month.off_hours == D(672)
    assert month.off_periods == 0


def test_the_month_is_taken_in_the_environments_zone() -> None:
    # 2027-02-28 23:30 UTC is already March 1st in Kolkata (UTC+05:30).
    config = _config("Sat-Sun", "Asia/Kolkata")

    assert month_of(config, datetime(2027, 2, 28, 23, 30, tzinfo=UTC)) == date(2027, 3, 1)
    assert monthly_off_hours(config, date(2027, 3, 17)).month == "2027-03"
