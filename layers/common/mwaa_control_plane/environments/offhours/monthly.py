"""How many hours of a month an environment is off, and in how many off periods: the cost model's inputs.

:func:`monthly_off_hours` walks one calendar month in the environment's own zone with the same decisions the
reconciler takes (:func:`~.schedule.desired_state` and :func:`~.schedule.next_transition`), so holidays, windows
that span midnight and daylight-saving days count exactly as they will be applied. A keep-awake is a temporary
exception, not the configuration, and is left out; a protected or unmanaged environment is never off.

A calendar month has 672 to 745 real hours while the price list bills a 730-hour month, so the result also
carries both figures scaled to the price list's month: ``off_hours_per_month`` and ``cycles_per_month`` are what
:class:`~mwaa_control_plane.environments.cost.OffHoursSchedule` takes. An off period is counted in the month it
starts in (one hibernate and one resume each); one already under way when the month begins belongs to the month
before.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from mwaa_control_plane.environments.offhours.schedule import desired_state, next_transition
from mwaa_control_plane.environments.offhours.tags import OffHoursConfig
from mwaa_control_plane.environments.offhours.window import wall_to_utc

#: AWS's pricing convention (8,760 hours a year / 12): the month prices.json bills.
PRICE_MONTH_HOURS = Decimal(730)
_SECONDS_PER_HOUR = Decimal(3600)


class MonthlyOffHours(BaseModel):
    """The off hours and off periods of one calendar month, as they happen and scaled to the price list's month."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    month: str
    """``YYYY-MM``, in the environment's zone."""
    timezone: str
    hours_in_month: Decimal
    """Real hours between the local midnights that begin and end the month (one more or less with a DST change)."""
    off_hours: Decimal
    off_periods: int
    """Off periods that start in the month: each one is a hibernate and a resume (or a scale-down and a scale-up)."""
    hours_per_month: Decimal
    off_hours_per_month: Decimal
    """``off_hours`` scaled to ``hours_per_month``: what the cost model's ``OffHoursSchedule`` takes."""
    cycles_per_month: Decimal
    """``off_periods`` scaled to ``hours_per_month``."""


def month_of(config: OffHoursConfig, now_utc: datetime) -> date:
    """The first day of the month ``now_utc`` falls in, in the environment's zone."""
    local = now_utc.astimezone(config.zone)
    return date(local.year, local.month, 1)


def monthly_off_hours(
    config: OffHoursConfig, month: date, *, hours_per_month: Decimal = PRICE_MONTH_HOURS
) -> MonthlyOffHours:
    """Off hours and off periods of the calendar month containing ``month``, in the environment's zone."""
    first = date(month.year, month.month, 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    zone = config.zone
    start = wall_to_utc(datetime.combine(first, time()), zone)
    end = wall_to_utc(datetime.combine(following, time()), zone)
    as_configured = config.model_copy(update={"keep_awake_until": None})

    off_seconds = 0
    periods = 0
    instant = start
    off = desired_state(as_configured, instant).state != "awake"
    while instant < end:
        change = next_transition(as_configured, instant)
        until = end if change is None else min(change, end)
        if off:
            off_seconds += int((until - instant).total_seconds())
        instant = until
        if instant < end:
            # Only two states alternate (awake and the mode's off state): each transition flips it.
            off = not off
            if off:
                periods += 1

    hours_in_month = Decimal(int((end - start).total_seconds())) / _SECONDS_PER_HOUR
    off_hours = Decimal(off_seconds) / _SECONDS_PER_HOUR
    return MonthlyOffHours(
        month=f"{first:%Y-%m}",
        timezone=config.timezone,
        hours_in_month=hours_in_month,
        off_hours=off_hours,
        off_periods=periods,
        hours_per_month=hours_per_month,
        off_hours_per_month=off_hours * hours_per_month / hours_in_month,
        cycles_per_month=Decimal(periods) * hours_per_month / hours_in_month,
    )
