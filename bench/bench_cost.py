"""What off-hours saves on a mw1.small with the default window, from the cost model and the price data.

    python bench/bench_cost.py

The default window is Mon-Fri 20:00-07:00 plus the weekend: 5 nights of 11 h and 48 h, 103 of
168 hours a week off, in 5 off periods (each a hibernate/resume cycle). Prices come from
layers/common/mwaa_control_plane/environments/data/prices.json (source and date per figure).
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "common"))

from mwaa_control_plane.environments.cost import EnvironmentCapacity, OffHoursSchedule, monthly_cost

WEEK, MONTH = Decimal(168), Decimal(730)
OFF_HOURS = Decimal(5 * 11 + 48) * MONTH / WEEK
CYCLES = Decimal(5) * MONTH / WEEK


def main() -> int:
    small = EnvironmentCapacity(environment_class="mw1.small", max_workers=10)
    rows = [
        ("scale-down", OffHoursSchedule(mode="scale-down", off_hours_per_month=OFF_HOURS)),
        (
            "scale-down, night class mw1.micro",
            OffHoursSchedule(mode="scale-down", off_hours_per_month=OFF_HOURS, night_class="mw1.micro"),
        ),
        (
            "hibernate (0.75 h recreate per cycle)",
            OffHoursSchedule(mode="hibernate", off_hours_per_month=OFF_HOURS, cycles_per_month=CYCLES),
        ),
    ]
    print(f"Off-hours on a default mw1.small, default window ({OFF_HOURS:.1f} h off a month), USD a month")
    print(f"{'lever':<40}{'as configured':>14}{'with window':>13}{'saving':>9}{'%':>7}")
    for label, schedule in rows:
        cost = monthly_cost(small, schedule)
        configured, scheduled = cost.as_configured.total, cost.with_schedule.total
        print(f"{label:<40}{configured!s:>14}{scheduled!s:>13}{cost.saving!s:>9}{cost.saving_percent!s:>7}")
        for note in cost.notes:
            print(f"    {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
