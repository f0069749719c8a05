"""The off-hours window grammar: what is accepted, its canonical spelling, and each refusal's message."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ValidationError

from mwaa_control_plane.environments.offhours.window import (
    DaySpan,
    Window,
    WindowSyntaxError,
    parse_window,
    wall_to_utc,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ADELAIDE = ZoneInfo("Australia/Adelaide")
# MWAA's TagValue pattern, [\p{L}\p{Z}\p{N}_.:/=+\-@]*, for the ASCII a window is written in.
AWS_TAG_VALUE = re.compile(r"^[A-Za-z0-9 _.:/=+\-@]*$")
# "20:00-07:00" in Arabic-Indic digits: digits to Python, but not the ASCII the grammar is written in.
ARABIC_INDIC_TIMES = "\u0662\u0660:\u0660\u0660-\u0660\u0667:\u0660\u0660"
REFUSED_COMMA = "which an AWS tag value cannot hold: separate rules with ' / ', e.g. 'Mon-Fri 20:00-07:00 / Sat-Sun'"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Mon-Fri 20:00-07:00 / Sat-Sun", "Mon-Fri 20:00-07:00 / Sat-Sun"),
        ("mon-fri 20:00-07:00/SAT-sun", "Mon-Fri 20:00-07:00 / Sat-Sun"),
        ("  Mon  -  Fri   7:00 - 9:30 ", "Mon-Fri 07:00-09:30"),
        ("Fri-Mon", "Fri-Mon"),
        ("Sat", "Sat"),
        ("20:00-07:00", "20:00-07:00"),
        ("Mon Wed Fri 18:00-24:00", "Mon Wed Fri 18:00-24:00"),
        ("Mon-Fri 00:00-07:00 19:00-24:00", "Mon-Fri 00:00-07:00 19:00-24:00"),
        ("Sun 00:00-24:00", "Sun 00:00-24:00"),
        ("Thu 22:00-00:00", "Thu 22:00-00:00"),
    ],
)
def test_valid_windows_parse_to_their_canonical_spelling(written: str, canonical: str) -> None:
    window = parse_window(written)

    assert window.text == canonical
    assert parse_window(window.text) == window
    assert AWS_TAG_VALUE.match(window.text)


def test_the_issue_example_with_a_comma_is_refused_with_the_spelling_a_tag_can_hold() -> None:
    with pytest.raises(WindowSyntaxError) as refused:
        parse_window("Mon-Fri 20:00-07:00, Sat-Sun")

    assert str(refused.value) == f"contains ',', {REFUSED_COMMA}"
    assert parse_window("Mon-Fri 20:00-07:00 / Sat-Sun").text == "Mon-Fri 20:00-07:00 / Sat-Sun"


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            "Mon-Fri 20:00-07:00; Sat-Sun",
            f"contains ';', {REFUSED_COMMA}",
        ),
        ("", "is empty: write at least one rule, e.g. 'Mon-Fri 20:00-07:00 / Sat-Sun'"),
        ("   ", "is empty: write at least one rule, e.g. 'Mon-Fri 20:00-07:00 / Sat-Sun'"),
        ("Sat-Sun /", "has an empty rule: write one rule between each '/', e.g. 'Mon-Fri 20:00-07:00 / Sat-Sun'"),
        ("Mon (night)", "contains '(': an AWS tag value holds only letters, digits, spaces and _ . : / = + - @"),
        ("Monday", "has the unknown day 'Monday': days are Mon Tue Wed Thu Fri Sat Sun"),
        ("Mo-Fr", "has the unknown day 'Mo': days are Mon Tue Wed Thu Fri Sat Sun"),
        ("Mon-Mon", "has 'Mon-Mon', a range from a day to itself: write 'Mon' alone or 'Mon-Sun' for the whole week"),
        ("Mon-Tue-Wed", "has 'Mon-Tue-Wed': a day is Mon..Sun and a range is two days joined by '-', e.g. Mon-Fri"),
        (
            "Mon-Fri 20:00-07:00 Sat-Sun",
            "has the day 'Sat-Sun' after a time range in 'Mon-Fri 20:00-07:00 Sat-Sun': start a new rule with '/',"
            " e.g. 'Mon-Fri 20:00-07:00 / Sat-Sun'",
        ),
        ("Mon 20:00", "has the time '20:00' without an end: write a range such as 20:00-07:00"),
        ("Mon 20-07", "has '20-07': a time range is HH:MM-HH:MM, e.g. 20:00-07:00 or 00:00-24:00"),
        ("Mon 25:00-07:00", "has '25:00-07:00': times run from 00:00 to 24:00 (minutes 00-59)"),
        ("Mon 20:60-07:00", "has '20:60-07:00': times run from 00:00 to 24:00 (minutes 00-59)"),
        ("Mon 20:00-24:30", "has '20:00-24:30': times run from 00:00 to 24:00 (minutes 00-59)"),
        ("Mon 24:00-07:00", "has '24:00-07:00', which starts at 24:00: start at 00:00 of the next day instead"),
        (
            "Mon 08:00-08:00",
            "has '08:00-08:00', which starts and ends at the same time: write the day alone for the whole day",
        ),
        ("Mon @8", "has '@8' in 'Mon @8': expected a day (Mon), days (Mon-Fri) or times"),
        (
            f"Mon {ARABIC_INDIC_TIMES}",
            f"has '{ARABIC_INDIC_TIMES}': a time range is HH:MM-HH:MM, e.g. 20:00-07:00 or 00:00-24:00",
        ),
    ],
)
def test_each_invalid_window_is_refused_saying_what_is_wrong(written: str, message: str) -> None:
    with pytest.raises(WindowSyntaxError) as refused:
        parse_window(written)

    assert str(refused.value) == message


def test_a_window_longer_than_a_tag_value_is_refused() -> None:
    with pytest.raises(WindowSyntaxError, match="is 303 characters long: an AWS tag value holds at most 256"):
        parse_window(" / ".join(["Mon 01:00-02:00"] * 17))


def test_a_day_range_may_wrap_the_week() -> None:
    assert DaySpan(first=4, last=0).weekdays == {4, 5, 6, 0}
    assert parse_window("Fri-Mon").rules[0].weekdays == {4, 5, 6, 0}
    assert parse_window("Sun-Sat").rules[0].weekdays == set(range(7))


def test_a_rule_without_days_applies_every_day() -> None:
    assert parse_window("20:00-07:00").rules[0].weekdays == set(range(7))


def test_a_window_validates_from_its_text_inside_a_model_and_names_the_problem() -> None:
    class Holder(BaseModel):
        window: Window

    assert Holder.model_validate({"window": "Sat-Sun"}).window == parse_window("Sat-Sun")
    with pytest.raises(ValidationError, match="has the unknown day 'Caturday'"):
        Holder.model_validate({"window": "Caturday"})


def test_a_wall_clock_time_that_exists_once_is_that_instant() -> None:
    assert wall_to_utc(datetime(2026, 1, 15, 20, 0), BERLIN) == datetime(2026, 1, 15, 19, 0, tzinfo=UTC)


def test_a_time_skipped_when_clocks_go_forward_is_the_instant_they_jump_in_berlin() -> None:
    # 2026-03-29 in Berlin: 02:00 CET jumps to 03:00 CEST at 01:00 UTC; 02:30 never shows.
    assert wall_to_utc(datetime(2026, 3, 29, 2, 30), BERLIN) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert wall_to_utc(datetime(2026, 3, 29, 2, 0), BERLIN) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert wall_to_utc(datetime(2026, 3, 29, 3, 0), BERLIN) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_a_time_skipped_when_clocks_go_forward_is_the_instant_they_jump_in_new_york_and_adelaide() -> None:
    assert wall_to_utc(datetime(2026, 3, 8, 2, 30), NEW_YORK) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    # Adelaide (+09:30 -> +10:30) on 2026-10-04: 02:00 ACST jumps to 03:00 ACDT at 16:30 UTC the day before.
    assert wall_to_utc(datetime(2026, 10, 4, 2, 15), ADELAIDE) == datetime(2026, 10, 3, 16, 30, tzinfo=UTC)


def test_a_time_repeated_when_clocks_go_back_is_its_first_occurrence() -> None:
    # Berlin 2026-10-25: 02:00-03:00 happens in CEST, then again in CET.
    assert wall_to_utc(datetime(2026, 10, 25, 2, 30), BERLIN) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # New York 2026-11-01: 01:00-02:00 happens in EDT, then again in EST.
    assert wall_to_utc(datetime(2026, 11, 1, 1, 30), NEW_YORK) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    # Adelaide 2026-04-05: 02:00-03:00 happens in ACDT, then again in ACST.
    assert wall_to_utc(datetime(2026, 4, 5, 2, 30), ADELAIDE) == datetime(2026, 4, 4, 16, 0, tzinfo=UTC)
