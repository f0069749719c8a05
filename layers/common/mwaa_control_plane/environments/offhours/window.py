"""The off-hours window: when an environment should be off, written as an AWS tag value.

Grammar (case-insensitive day names; full reference with examples in ``docs/off-hours.md``)::

    window     = rule *( "/" rule )                 ; spaces around "/" are optional
    rule       = days [ times ] | times             ; times alone: every day
    days       = dayspec *( " " dayspec )           ; "Mon Wed Fri", "Mon-Fri Sun"
    dayspec    = day [ "-" day ]                    ; a range may wrap the week: "Fri-Mon"
    day        = "Mon" | "Tue" | "Wed" | "Thu" | "Fri" | "Sat" | "Sun"
    times      = timerange *( " " timerange )
    timerange  = hh ":" mm "-" hh ":" mm            ; "00:00-24:00"; end <= start spans midnight

AWS tag values allow only letters, digits, spaces and ``_ . : / = + - @``, so rules are
separated by ``/``: a comma or semicolon is refused with the allowed spelling in the message,
wherever the window comes from, so that a window copied between a tag and the stack
parameter always means the same thing.

A rule belongs to the day it starts on: ``Fri 20:00-07:00`` is Friday 20:00 to Saturday 07:00.
Times are wall-clock times in the environment's zone, turned into instants by
:func:`wall_to_utc` (a boundary is the first instant the local clock shows that time or later).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_INDEX = {name.lower(): index for index, name in enumerate(DAY_NAMES)}
MINUTES_PER_DAY = 24 * 60
# The character set of an AWS tag value (MWAA's TagValue pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*).
TAG_VALUE_PUNCTUATION = frozenset("_.:/=+-@")
TAG_VALUE_MAX_LENGTH = 256
EXAMPLE = "Mon-Fri 20:00-07:00 / Sat-Sun"

_DAYSPEC = re.compile(r"^([a-z]+)(?:-([a-z]+))?$", re.IGNORECASE | re.ASCII)
_TIMERANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$", re.ASCII)
_TIME = re.compile(r"^\d{1,2}:\d{2}$", re.ASCII)


class WindowSyntaxError(ValueError):
    """A window that does not follow the grammar; the message says what is wrong and how to write it."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeRange(_Frozen):
    """Minutes after local midnight; an end at or before the start is on the next day."""

    start: Annotated[int, Field(ge=0, lt=MINUTES_PER_DAY)]
    end: Annotated[int, Field(ge=0, le=MINUTES_PER_DAY)]

    @model_validator(mode="after")
    def _not_empty(self) -> TimeRange:
        if self.start == self.end:
            raise ValueError("a time range must not start and end at the same time")
        return self

    @property
    def spans_midnight(self) -> bool:
        return self.end < self.start

    @property
    def text(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


class DaySpan(_Frozen):
    """One day (``first == last``) or a range of days, Monday = 0; ``Fri-Mon`` wraps the week."""

    first: Annotated[int, Field(ge=0, le=6)]
    last: Annotated[int, Field(ge=0, le=6)]

    @property
    def weekdays(self) -> frozenset[int]:
        length = (self.last - self.first) % 7 + 1
        return frozenset((self.first + offset) % 7 for offset in range(length))

    @property
    def text(self) -> str:
        if self.first == self.last:
            return DAY_NAMES[self.first]
        return f"{DAY_NAMES[self.first]}-{DAY_NAMES[self.last]}"


class Rule(_Frozen):
    """Days (none: every day) and time ranges (none: the whole day)."""

    days: tuple[DaySpan, ...] = ()
    times: tuple[TimeRange, ...] = ()

    @model_validator(mode="after")
    def _something(self) -> Rule:
        if not self.days and not self.times:
            raise ValueError("a rule needs days, times or both")
        return self

    @property
    def weekdays(self) -> frozenset[int]:
        if not self.days:
            return frozenset(range(7))
        return frozenset().union(*(span.weekdays for span in self.days))

    @property
    def text(self) -> str:
        return " ".join([span.text for span in self.days] + [tr.text for tr in self.times])

    def wall_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The rule's off periods that start on local ``day``, as naive wall-clock datetimes."""
        if day.weekday() not in self.weekdays:
            return []
        midnight = datetime.combine(day, time())
        if not self.times:
            return [(midnight, midnight + timedelta(days=1))]
        intervals = []
        for tr in self.times:
            end_day = midnight + timedelta(days=1) if tr.spans_midnight else midnight
            intervals.append((midnight + timedelta(minutes=tr.start), end_day + timedelta(minutes=tr.end)))
        return intervals


class Window(_Frozen):
    """The rules of an off-hours window; validates from its text (``Window.model_validate("Sat-Sun")``)."""

    rules: Annotated[tuple[Rule, ...], Field(min_length=1)]

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: object) -> object:
        if isinstance(data, str):
            return {"rules": parse_window(data).rules}
        return data

    @property
    def text(self) -> str:
        """The canonical spelling, a valid tag value: ``Mon-Fri 20:00-07:00 / Sat-Sun``."""
        return " / ".join(rule.text for rule in self.rules)

    def off_intervals(self, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime, Rule]]:
        """Off periods starting on local ``day``, as UTC instants ``[start, end)``, with their rule.

        A period that lies wholly in a daylight-saving gap is empty that day and left out.
        """
        intervals = []
        for rule in self.rules:
            for wall_start, wall_end in rule.wall_intervals(day):
                start, end = wall_to_utc(wall_start, zone), wall_to_utc(wall_end, zone)
                if start < end:
                    intervals.append((start, end, rule))
        return intervals


def wall_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The first instant at which a clock in ``zone`` shows the naive wall-clock time ``local`` or later.

    A time that exists once is exact; an ambiguous time (the repeated hour when clocks go back)
    is its first occurrence; a time that does not exist (skipped when clocks go forward) is the
    instant the clocks jump, the first one that shows a later time.
    """
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first
    # In a gap fold=0 applies the offset before the jump (an instant after it), fold=1 the offset after
    # the jump (an instant before it): search the whole seconds between them for the jump.
    after = int(first.timestamp())
    before = int(local.replace(tzinfo=zone, fold=1).timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= local:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


def parse_window(text: str) -> Window:
    """Parse a window written in the grammar above; :class:`WindowSyntaxError` says what is wrong."""
    _check_characters(text)
    normalized = re.sub(r"\s*-\s*", "-", text.strip())
    if not normalized:
        raise WindowSyntaxError(f"is empty: write at least one rule, e.g. '{EXAMPLE}'")
    rules = []
    for part in normalized.split("/"):
        rule_text = " ".join(part.split())
        if not rule_text:
            raise WindowSyntaxError(f"has an empty rule: write one rule between each '/', e.g. '{EXAMPLE}'")
        rules.append(_parse_rule(rule_text))
    return Window(rules=tuple(rules))


def _check_characters(text: str) -> None:
    if len(text) > TAG_VALUE_MAX_LENGTH:
        raise WindowSyntaxError(f"is {len(text)} characters long: an AWS tag value holds at most 256")
    for char in dict.fromkeys(text):
        if char in TAG_VALUE_PUNCTUATION or unicodedata.category(char)[0] in "LNZ":
            continue
        if char in ",;":
            hint = re.sub(r"\s*[,;]\s*", " / ", text.strip()).strip(" /")
            raise WindowSyntaxError(
                f"contains {char!r}, which an AWS tag value cannot hold: separate rules with ' / ', e.g. '{hint}'"
            )
        raise WindowSyntaxError(
            f"contains {char!r}: an AWS tag value holds only letters, digits, spaces and _ . : / = + - @"
        )


def _parse_rule(rule_text: str) -> Rule:
    days: list[DaySpan] = []
    times: list[TimeRange] = []
    tokens = rule_text.split(" ")
    for index, token in enumerate(tokens):
        if token[0].isalpha():
            if times:
                hint = f"{' '.join(tokens[:index])} / {' '.join(tokens[index:])}"
                raise WindowSyntaxError(
                    f"has the day '{token}' after a time range in '{rule_text}': start a new rule with '/',"
                    f" e.g. '{hint}'"
                )
            days.append(_parse_dayspec(token))
        elif token[0].isdigit():
            times.append(_parse_timerange(token))
        else:
            raise WindowSyntaxError(f"has '{token}' in '{rule_text}': expected a day (Mon), days (Mon-Fri) or times")
    return Rule(days=tuple(days), times=tuple(times))


def _parse_dayspec(token: str) -> DaySpan:
    match = _DAYSPEC.match(token)
    if match is None:
        raise WindowSyntaxError(f"has '{token}': a day is Mon..Sun and a range is two days joined by '-', e.g. Mon-Fri")
    first, last = (_day(name) for name in (match[1], match[2] or match[1]))
    if match[2] is not None and first == last:
        raise WindowSyntaxError(
            f"has '{token}', a range from a day to itself: write '{DAY_NAMES[first]}' alone"
            f" or '{DAY_NAMES[first]}-{DAY_NAMES[(first + 6) % 7]}' for the whole week"
        )
    return DaySpan(first=first, last=last)


def _day(name: str) -> int:
    try:
        return _DAY_INDEX[name.lower()]
    except KeyError:
        raise WindowSyntaxError(f"has the unknown day '{name}': days are {' '.join(DAY_NAMES)}") from None


def _parse_timerange(token: str) -> TimeRange:
    match = _TIMERANGE.match(token)
    if match is None:
        if _TIME.match(token):
            raise WindowSyntaxError(f"has the time '{token}' without an end: write a range such as {token}-07:00")
        raise WindowSyntaxError(f"has '{token}': a time range is HH:MM-HH:MM, e.g. 20:00-07:00 or 00:00-24:00")
    start = _minutes(match[1], match[2], token)
    end = _minutes(match[3], match[4], token)
    if start == MINUTES_PER_DAY:
        raise WindowSyntaxError(f"has '{token}', which starts at 24:00: start at 00:00 of the next day instead")
    if start == end:
        raise WindowSyntaxError(
            f"has '{token}', which starts and ends at the same time: write the day alone for the whole day"
        )
    return TimeRange(start=start, end=end)


def _minutes(hours: str, minutes: str, token: str) -> int:
    hour, minute = int(hours), int(minutes)
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise WindowSyntaxError(f"has '{token}': times run from 00:00 to 24:00 (minutes 00-59)")
    return hour * 60 + minute


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
