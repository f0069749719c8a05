"""Static check of a DAG's ``schedule`` string: an Airflow preset or a cron expression croniter accepts."""

from __future__ import annotations

import re
from functools import cache

# Airflow's cron_presets plus what croniter itself accepts for "@..." strings.
PRESETS = frozenset(
    {
        "@once",
        "@continuous",
        "@hourly",
        "@daily",
        "@weekly",
        "@monthly",
        "@quarterly",
        "@yearly",
        "@annually",
        "@midnight",
    }
)

_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}

# (name, low, high, names) for minute, hour, day of month, month, day of week, second.
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
    ("second", 0, 59, {}),
)
_ITEM = re.compile(r"^(?P<range>\*|\?|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>\d+))?$")


def _value(token: str, low: int, high: int, names: dict[str, int], what: str) -> str | None:
    if token.isdigit():
        number = int(token)
        if not low <= number <= high:
            return f"{what} value {number} is outside {low}-{high}"
        return None
    if token.lower() in names:
        return None
    return f"{what} value {token!r} is not a number{' or a name' if names else ''}"


def _check_item(item: str, index: int) -> str | None:
    what, low, high, names = _FIELDS[index]
    if index == 2 and (item in ("L", "LW") or re.fullmatch(r"\d{1,2}W", item)):
        return None
    if index == 4 and re.fullmatch(r"[0-7]#[1-5]|[0-7]?L|[A-Za-z]{3}#[1-5]|[A-Za-z]{3}L", item):
        return None
    match = _ITEM.match(item)
    if match is None:
        return f"{what} item {item!r} is not a value, range, list or step"
    step = match.group("step")
    if step is not None and int(step) == 0:
        return f"{what} step must be at least 1"
    part = match.group("range")
    if part in ("*", "?"):
        return None
    bounds = part.split("-")
    for token in bounds:
        problem = _value(token, low, high, names, what)
        if problem:
            return problem
    return None


@cache
def schedule_problem(expression: str) -> str | None:
    """Why ``expression`` is not a valid schedule string, or None when it is."""
    text = expression.strip()
    if not text:
        return "schedule is an empty string"
    if text.startswith("@"):
        return None if text.lower() in PRESETS else f"unknown preset {text!r}"
    fields = text.split()
    if len(fields) not in (5, 6):
        return f"cron expression has {len(fields)} fields, expected 5 (minute hour day month weekday)"
    for index, field in enumerate(fields):
        for item in field.split(","):
            problem = _check_item(item, index)
            if problem:
                return problem
    return None
