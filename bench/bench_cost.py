"""What off-hours saves on a mw1.small with the default window, from the cost model and the price data.

    python bench/bench_cost.py

The window is the issue's "weekday nights 20:00-07:00 and the weekend", written so Monday morning is off
too: ``Mon-Fri 20:00-07:00 / Sat-Sun / Mon 00:00-07:00`` (UTC). Its off hours and off periods (each a
hibernate/resume cycle) come from ``environments/offhours/monthly.py``, walked over February 2027: it starts
on a Monday and has exactly four weeks, so its figures are the weekly average (103 of 168 hours off, in 5
periods) scaled to the price list's 730-hour month. Prices come from
layers/common/mwaa_control_plane/environments/data/prices.json (source and date per figure).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "common"))

from mwaa_control_plane.environments.cost import EnvironmentCapacity, OffHoursSchedule, monthly_cost
from mwaa_control_plane.environments.offhours.monthly import MonthlyOffHours, monthly_off_hours
from mwaa_control_plane.environments.offhours.tags import config_from_tags

WINDOW = "Mon-Fri 20:00-07:00 / Sat-Sun / Mon 00:00-07:00"
# The issue's spelling: 'Mon-Fri 20:00-07:00' belongs to the evening it starts on, so Monday 00:00-07:00 is awake.
ISSUE_SPELLING = "Mon-Fri 20:00-07:00 / Sat-Sun"
REFERENCE_MONTH = date(2027, 2, 1)


def month_for(window: str) -> MonthlyOffHours:
    config = config_from_tags({"mwaa-cp:off-hours": "hibernate", "mwaa-cp:window": window})
    return monthly_off_hours(config, REFERENCE_MONTH)


def main() -> int:
    small = EnvironmentCapacity(environment_class="mw1.small", max_workers=10)
    month = month_for(WINDOW)
    off, cycles = month.off_hours_per_month, month.cycles_per_month
    rows = [
        ("scale-down", OffHoursSchedule(mode="scale-down", off_hours_per_month=off)),
        (
            "scale-down, night class mw1.micro",
            OffHoursSchedule(mode="scale-down", off_hours_per_month=off, night_class="mw1.micro"),
        ),
        (
            "hibernate (0.75 h recreate per cycle)",
            OffHoursSchedule(mode="hibernate", off_hours_per_month=off, cycles_per_month=cycles),
        ),
    ]
    print(f"Off-hours on a default mw1.small, window '{WINDOW}' (UTC), USD a month")
    print(
        f"{month.month}: {month.off_hours:.0f} of {month.hours_in_month:.0f} h off in {month.off_periods} periods;"
        f" a 730 h month: {off:.1f} h off, {cycles:.1f} cycles"
    )
    print(f"{'lever':<40}{'as configured':>14}{'with window':>13}{'saving':>9}{'%':>7}")
    for label, schedule in rows:
        cost = monthly_cost(small, schedule)
        configured = cost.as_configured.total
        scheduled = cost.with_schedule.total if cost.with_schedule else None
        print(f"{label:<40}{configured!s:>14}{scheduled!s:>13}{cost.saving!s:>9}{cost.saving_percent!s:>7}")
        for note in cost.notes:
            print(f"    {note}")
    issue = month_for(ISSUE_SPELLING)
    hibernate = monthly_cost(
        small,
        OffHoursSchedule(
            mode="hibernate", off_hours_per_month=issue.off_hours_per_month, cycles_per_month=issue.cycles_per_month
        ),
    )
    print(
        f"Written '{ISSUE_SPELLING}', Monday 00:00-07:00 stays awake: {issue.off_hours_per_month:.1f} h off a month,"
        f" hibernate saves {hibernate.saving} USD ({hibernate.saving_percent} %)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
