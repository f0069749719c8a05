"""Static check of a DAG's ``schedule`` string, read the way Airflow reads it.

Airflow (``create_timetable``, Airflow 2 and 3) turns the two strings ``@once`` and ``@continuous``
into timetables of their own; any other string goes through its ``cron_presets`` to croniter,
and the DAG fails to import when croniter rejects it (``CronMixin.validate``).
"""

from __future__ import annotations

from functools import cache

# Matched exactly, as Airflow compares them (no case folding, no stripping).
NON_CRON_PRESETS = frozenset({"@once", "@continuous"})
# airflow.utils.dates.cron_presets, translated before croniter sees the expression; croniter itself
# knows @hourly, @daily, @weekly, @monthly, @yearly, @annually and @midnight (in any case), not @quarterly.
CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}
_KNOWN = ("@once", "@continuous", *CRON_PRESETS, "@annually", "@midnight")


@cache
def schedule_problem(expression: str) -> str | None:
    """Why Airflow would refuse ``expression`` as a schedule, or None when it accepts it."""
    if expression in NON_CRON_PRESETS:
        return None
    # Imported here: only DAGs with a cron schedule need croniter (a cold-start cost otherwise).
    from croniter import croniter  # type: ignore[import-untyped]  # croniter ships no type information

    try:
        croniter(CRON_PRESETS.get(expression, expression))
    except Exception as exc:  # whatever croniter raises here fails the DAG's import
        if expression.strip().startswith("@"):
            return f"unknown preset (Airflow knows {', '.join(_KNOWN)})"
        return f"croniter rejects it: {exc}"
    return None
