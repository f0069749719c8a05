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
# The fields of a five-field expression and the values croniter takes in each, bounds included.
_FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _plain_number(text: str, low: int, high: int) -> bool:
    return text.isascii() and text.isdigit() and low <= int(text) <= high


def _plain_item(item: str, low: int, high: int) -> bool:
    """``*``, ``N``, ``A-B`` (A <= B), each optionally ``/S``: values croniter takes without question."""
    base, slash, step = item.partition("/")
    if slash and not _plain_number(step, 1, high):
        return False
    if base == "*":
        return True
    first, dash, last = base.partition("-")
    if not dash:
        return _plain_number(base, low, high)
    return _plain_number(first, low, high) and _plain_number(last, low, high) and int(first) <= int(last)


def plainly_valid(expression: str) -> bool:
    """True for a five-field cron expression croniter certainly accepts: numbers in range, ``*``, ranges,
    steps and lists of them (what nearly every DAG uses); False means "ask croniter", not "invalid".

    Importing croniter costs ``mwaa-cp validate`` more than checking a file does (it starts a ``file``
    process to tell whether Python is 32-bit), so the common case is decided without it. Names (JAN,
    MON), ``L``, ``#``, ``?``, ``H``, seconds and years still go to croniter. A unit test checks against
    croniter that every expression this accepts croniter accepts.
    """
    fields = expression.split()  # as croniter splits it
    if len(fields) != len(_FIELD_RANGES):
        return False
    return all(
        _plain_item(item, low, high)
        for field, (low, high) in zip(fields, _FIELD_RANGES, strict=True)
        for item in field.split(",")
    )


@cache
def schedule_problem(expression: str) -> str | None:
    """Why Airflow would refuse ``expression`` as a schedule, or None when it accepts it."""
    if expression in NON_CRON_PRESETS:
        return None
    cron = CRON_PRESETS.get(expression, expression)
    if plainly_valid(cron):
        return None
    # Imported here: only DAGs with an unusual cron schedule need croniter (see plainly_valid).
    from croniter import croniter  # type: ignore[import-untyped]  # croniter ships no type information

    try:
        croniter(cron)
    except Exception as exc:  # whatever croniter raises here fails the DAG's import
        if expression.strip().startswith("@"):
            return f"unknown preset (Airflow knows {', '.join(_KNOWN)})"
        return f"croniter rejects it: {exc}"
    return None
