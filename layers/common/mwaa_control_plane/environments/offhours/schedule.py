"""What an environment should be now, when that changes next, and when a resume must start.

Pure functions of an :class:`~.tags.OffHoursConfig` and an instant; everything is computed in
the environment's own time zone. Precedence, first match wins: protected > not managed >
keep-awake > holiday > window rule > outside the window (awake).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from mwaa_control_plane.environments.offhours.tags import TAG_KEEP_AWAKE_UNTIL, TAG_OFF_HOURS, Mode, OffHoursConfig
from mwaa_control_plane.environments.offhours.window import Rule, wall_to_utc

State = Literal["awake", "scaled-down", "hibernated"]
Reason = Literal["protected", "not-managed", "keep-awake", "holiday", "window", "outside-window"]
OFF_STATE: dict[Mode, State] = {"scale-down": "scaled-down", "hibernate": "hibernated"}

DEFAULT_LEAD_TIME = timedelta(minutes=40)
LEAD_TIME_SAMPLES = 20
"""Only the most recent creates count: MWAA's create time drifts with versions and regions."""
LEAD_TIME_MIN_SAMPLES = 5
LEAD_TIME_PERCENTILE = 90
LEAD_TIME_MARGIN = timedelta(minutes=10)
LEAD_TIME_BOUNDS = (timedelta(minutes=20), timedelta(hours=2))

# After the last keep-awake and holiday, the window repeats weekly: two weeks always see a change.
_HORIZON = timedelta(days=15)
_CHUNK = timedelta(days=7)
# An off period starting on a local day ends at most two local midnights later.
_LOOKBACK = timedelta(days=2)


class Decision(BaseModel):
    """The desired state of one environment at one instant, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: State
    reason: Reason
    detail: str
    local_time: str | None = None
    rule: str | None = None
    holiday: date | None = None


def desired_state(config: OffHoursConfig, now_utc: datetime) -> Decision:
    """The state the environment should be in at ``now_utc`` (an aware instant), with the reason."""
    now = _aware(now_utc)
    if config.protection is not None:
        return Decision(state="awake", reason="protected", detail=config.protection.reason)
    if config.mode is None or config.window is None:
        return Decision(state="awake", reason="not-managed", detail=f"not managed: no {TAG_OFF_HOURS} tag")
    zone = config.zone
    local = now.astimezone(zone)
    local_time = f"{local:%a %Y-%m-%d %H:%M %Z} ({config.timezone})"
    off = OFF_STATE[config.mode]
    if config.keep_awake_until is not None and now < config.keep_awake_until:
        until = config.keep_awake_until.astimezone(zone)
        return Decision(
            state="awake",
            reason="keep-awake",
            detail=f"kept awake until {until:%Y-%m-%d %H:%M %Z} by {TAG_KEEP_AWAKE_UNTIL}",
            local_time=local_time,
        )
    for holiday in config.holidays:
        start, end = _day_bounds(holiday.day, config)
        if start <= now < end:
            where = "the environment's mwaa-cp:holidays tag" if holiday.source == "tag" else "the stack's holiday list"
            return Decision(
                state=off,
                reason="holiday",
                detail=f"{holiday.day} is a holiday in {where}: off all day",
                local_time=local_time,
                holiday=holiday.day,
            )
    rule = _matching_rule(config, now)
    window = config.window.text
    if rule is not None:
        return Decision(
            state=off,
            reason="window",
            detail=f"in the rule '{rule.text}' of the off-hours window '{window}'",
            local_time=local_time,
            rule=rule.text,
        )
    return Decision(
        state="awake", reason="outside-window", detail=f"outside the off-hours window '{window}'", local_time=local_time
    )


def next_transition(config: OffHoursConfig, now_utc: datetime) -> datetime | None:
    """The first instant after ``now_utc`` at which the desired state differs from now's; None if it never does.

    The state is constant on ``[now_utc, next_transition)``. Protected and unmanaged
    environments never change; neither does a window that covers the whole week.
    """
    now = _aware(now_utc)
    if config.protection is not None or config.mode is None:
        return None
    current = desired_state(config, now).state
    after = now
    if config.keep_awake_until is not None and now < config.keep_awake_until:
        # Awake throughout the keep-awake: its end is the first instant that may differ.
        after = config.keep_awake_until
        if desired_state(config, after).state != current:
            return after
    zone = config.zone
    last_day = max([after.astimezone(zone).date()] + [holiday.day for holiday in config.holidays])
    day = after.astimezone(zone).date()
    while day <= last_day + _HORIZON:
        chunk_end = day + _CHUNK
        # Off periods starting on chunk_end or later begin at or after this instant: leave them to the next chunk.
        limit = wall_to_utc(datetime.combine(chunk_end, time()), zone)
        for candidate in sorted(set(_boundaries(config, day - _LOOKBACK, chunk_end))):
            if after < candidate < limit and desired_state(config, candidate).state != current:
                return candidate
        day = chunk_end
    return None


def resume_at(config: OffHoursConfig, now_utc: datetime, lead_time: timedelta) -> datetime | None:
    """When a resume must start so the environment is available as the off period ends (its end minus ``lead_time``).

    The off period is the one under way at ``now_utc``, or else the next one; None when there is
    none or it never ends. A result at or before the period's start means the period is too
    short to be worth pausing for.
    """
    now = _aware(now_utc)
    if desired_state(config, now).state == "awake":
        start = next_transition(config, now)
        if start is None:
            return None
        end = next_transition(config, start)
    else:
        end = next_transition(config, now)
    return None if end is None else end - lead_time


def lead_time(create_durations: Sequence[timedelta], default: timedelta = DEFAULT_LEAD_TIME) -> timedelta:
    """How long before a window ends a resume starts, learned from this environment's creates (oldest first).

    The 90th percentile (nearest rank) of the last 20 recorded create durations, plus a
    10-minute margin, bounded to 20 minutes .. 2 hours. With fewer than 5 records the learned
    value never goes below ``default`` (a few fast creates prove little); with none it is ``default``.
    Zero or negative durations are not durations and are ignored.
    """
    samples = sorted(d for d in list(create_durations)[-LEAD_TIME_SAMPLES:] if d > timedelta(0))
    if not samples:
        return default
    rank = math.ceil(LEAD_TIME_PERCENTILE / 100 * len(samples))
    learned = samples[rank - 1] + LEAD_TIME_MARGIN
    if len(samples) < LEAD_TIME_MIN_SAMPLES:
        learned = max(learned, default)
    low, high = LEAD_TIME_BOUNDS
    return min(max(learned, low), high)


def _boundaries(config: OffHoursConfig, first_day: date, end_day: date) -> Iterator[datetime]:
    """Every instant at which the desired state may change, for off periods starting in ``[first_day, end_day)``."""
    assert config.window is not None
    zone = config.zone
    day = first_day
    while day < end_day:
        for start, end, _rule in config.window.off_intervals(day, zone):
            yield start
            yield end
        day += timedelta(days=1)
    for holiday in config.holidays:
        if first_day <= holiday.day < end_day:
            yield from _day_bounds(holiday.day, config)
    if config.keep_awake_until is not None:
        yield config.keep_awake_until


def _matching_rule(config: OffHoursConfig, now: datetime) -> Rule | None:
    """The first rule, in the order written, whose off period contains ``now``."""
    assert config.window is not None
    zone = config.zone
    today = now.astimezone(zone).date()
    matching = {
        rule
        for offset in range(-2, 1)
        for start, end, rule in config.window.off_intervals(today + timedelta(days=offset), zone)
        if start <= now < end
    }
    return next((rule for rule in config.window.rules if rule in matching), None)


def _day_bounds(day: date, config: OffHoursConfig) -> tuple[datetime, datetime]:
    zone = config.zone
    return (
        wall_to_utc(datetime.combine(day, time()), zone),
        wall_to_utc(datetime.combine(day + timedelta(days=1), time()), zone),
    )


def _aware(instant: datetime) -> datetime:
    if instant.utcoffset() is None:
        raise ValueError("the instant must be timezone-aware (UTC)")
    return instant
