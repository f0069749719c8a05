"""Properties of the off-hours core over generated windows, zones, holidays and instants."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mwaa_control_plane.environments.offhours.schedule import desired_state, next_transition
from mwaa_control_plane.environments.offhours.tags import (
    TAG_HOLIDAYS,
    TAG_KEEP_AWAKE_UNTIL,
    TAG_OFF_HOURS,
    TAG_PROTECTED,
    TAG_TIMEZONE,
    TAG_WINDOW,
    OffHoursConfig,
    OffHoursTagError,
    config_from_tags,
)
from mwaa_control_plane.environments.offhours.window import DAY_NAMES, WindowSyntaxError, parse_window

# DST at 02:00/03:00, half-hour and 45-minute offsets, a zone whose DST moves by 30 minutes, and
# zones whose clocks jump at midnight (so a whole-day rule or a holiday starts at 01:00 that day).
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Havana",
    "America/Santiago",
    "UTC",
]
AWS_TAG_VALUE = re.compile(r"^[A-Za-z0-9 _.:/=+\-@]*$")


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def dayspecs(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from(DAY_NAMES))
    last = draw(st.one_of(st.none(), st.sampled_from([day for day in DAY_NAMES if day != first])))
    return first if last is None else f"{first}-{last}"


@st.composite
def timeranges(draw: st.DrawFn) -> str:
    # Quarter hours keep boundaries on the DST transitions (all on the hour or half hour) often.
    start = draw(st.integers(0, 95)) * 15
    end = draw(st.integers(0, 96).map(lambda q: q * 15).filter(lambda m: m != start))
    return f"{_hhmm(start)}-{_hhmm(end)}"


@st.composite
def rules(draw: st.DrawFn) -> str:
    days = draw(st.lists(dayspecs(), max_size=2))
    times = draw(st.lists(timeranges(), min_size=0 if days else 1, max_size=2))
    return " ".join(days + times)


windows = st.lists(rules(), min_size=1, max_size=4).map(" / ".join)
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))


@st.composite
def configs(draw: st.DrawFn) -> OffHoursConfig:
    tags = {
        TAG_OFF_HOURS: draw(st.sampled_from(["scale-down", "hibernate"])),
        TAG_WINDOW: draw(windows),
        TAG_TIMEZONE: draw(st.sampled_from(ZONES)),
    }
    holidays = draw(st.lists(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)), max_size=3))
    if holidays:
        tags[TAG_HOLIDAYS] = " ".join(str(day) for day in holidays)
    keep_awake = draw(st.one_of(st.none(), instants))
    if keep_awake is not None:
        tags[TAG_KEEP_AWAKE_UNTIL] = keep_awake.isoformat()
    return config_from_tags(tags)


@settings(max_examples=300, deadline=None)
@given(config=configs(), now=instants, fraction=st.floats(0, 1))
def test_the_desired_state_is_constant_until_the_next_transition_and_changes_there(
    config: OffHoursConfig, now: datetime, fraction: float
) -> None:
    state = desired_state(config, now).state
    transition = next_transition(config, now)
    end = transition if transition is not None else now + timedelta(days=21)

    assert end > now
    for instant in (now + (end - now) * fraction, end - timedelta(microseconds=1)):
        if now <= instant < end:
            assert desired_state(config, instant).state == state
    if transition is not None:
        assert desired_state(config, transition).state != state


@given(window=windows)
def test_a_written_window_parses_to_a_canonical_tag_value_that_parses_back_the_same(window: str) -> None:
    parsed = parse_window(window)

    assert AWS_TAG_VALUE.match(parsed.text)
    assert parse_window(parsed.text) == parsed


def _window_refusal(text: str) -> str | None:
    """None when the text parses; the message when it is refused (any other exception fails the test)."""
    try:
        parse_window(text)
    except WindowSyntaxError as refused:
        return str(refused)
    return None


@given(text=st.text(max_size=300))
def test_any_text_is_a_window_or_refused_with_a_message(text: str) -> None:
    assert _window_refusal(text) != ""


@given(text=st.text(alphabet="MonTueWdFriSat0123456789:-/ ,", max_size=60))
def test_near_miss_windows_are_parsed_or_refused_with_a_message(text: str) -> None:
    assert _window_refusal(text) != ""


@settings(max_examples=200, deadline=None)
@given(
    tag=st.sampled_from([TAG_WINDOW, TAG_TIMEZONE, TAG_HOLIDAYS, TAG_KEEP_AWAKE_UNTIL, TAG_PROTECTED, TAG_OFF_HOURS]),
    value=st.one_of(st.text(max_size=40), st.text(alphabet="0123456789-:TZ+ /", max_size=30)),
)
def test_any_tag_value_is_read_or_refused_naming_that_tag(tag: str, value: str) -> None:
    tags = {TAG_OFF_HOURS: "hibernate", TAG_WINDOW: "Sat-Sun", TAG_TIMEZONE: "Europe/Berlin", tag: value}
    named: list[str] = [tag]
    try:
        config_from_tags(tags)
    except OffHoursTagError as refused:
        named = [problem.tag for problem in refused.problems]

    assert named == [tag]
