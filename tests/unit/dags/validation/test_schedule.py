"""Cron schedules decided without croniter agree with croniter."""

from __future__ import annotations

import subprocess
import sys

import pytest
from croniter import croniter  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from mwaa_control_plane.dags.validation.schedule import CRON_PRESETS, plainly_valid, schedule_problem
from tests.conftest import REPO


def _croniter_accepts(expression: str) -> bool:
    try:
        croniter(expression)
    except Exception:
        return False
    return True


_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6), (0, 59), (1970, 2099))
_ODD = ["00", "07", "-1", "+1", "\u0663", "1.5", "", "x", "?", "L", "l", "JAN", "mon", "1#2", "H", "5L", "*/", "/5"]


def _field(low: int, high: int, *, odd: bool) -> st.SearchStrategy[str]:
    """A cron field in [low, high]: plain items, with values just out of range and (``odd``) other tokens."""
    in_range = st.integers(low, high) | st.sampled_from([low, high])
    numbers = st.one_of(in_range.map(str), in_range.map(str), st.sampled_from([str(low - 1), str(high + 1), "07"]))
    ranges = st.tuples(in_range, in_range).map(lambda t: f"{min(t)}-{max(t)}")
    bases = [st.just("*"), numbers, ranges, st.tuples(numbers, numbers).map("-".join)]
    steps = [st.none(), st.none(), st.integers(0, high + 1).map(str)]
    if odd:
        bases.append(st.sampled_from(_ODD))
        steps.append(st.sampled_from(_ODD))
    item = st.tuples(st.one_of(bases), st.one_of(steps)).map(lambda t: t[0] if t[1] is None else f"{t[0]}/{t[1]}")
    return st.lists(item, min_size=1, max_size=3).map(",".join)


def _expression(count: int, *, odd: bool) -> st.SearchStrategy[str]:
    fields = st.tuples(*(_field(*_RANGES[i], odd=odd) for i in range(count)))
    separators = st.sampled_from([" ", "  ", "\t", " \u3000 "])
    return st.tuples(fields, separators).map(lambda t: t[1].join(t[0]))


# Half near what plainly_valid accepts (where a wrong bound would show), half anything cron-like.
_expressions = st.one_of(
    _expression(5, odd=False), st.sampled_from([4, 5, 6, 7]).flatmap(lambda n: _expression(n, odd=True))
)


@settings(max_examples=500, deadline=None)
@given(_expressions)
def test_what_is_plainly_valid_croniter_accepts(expression: str) -> None:
    if plainly_valid(expression):
        assert _croniter_accepts(expression), expression


@pytest.mark.parametrize(
    "expression",
    [
        *CRON_PRESETS.values(),
        "5 4 * * *",
        "*/15 * * * *",
        "0 9-17 * * 1-5",
        "0 0,12 1,15 * *",
        "30 2 * 1-12/3 0",
        "0 0 31 2 *",  # never fires, but croniter (and Airflow) accept it
        " 0  0 * * * ",
    ],
)
def test_the_usual_schedules_are_decided_without_croniter(expression: str) -> None:
    assert plainly_valid(expression)
    assert _croniter_accepts(expression)


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ("0 25 * * *", "out of range"),
        ("0 0 * * 1#6", "Invalid day_of_week"),
        ("0 0 * *", "Exactly 5, 6 or 7 columns"),
        ("@quarterly", None),
        ("0 0 * JAN MON", None),
        ("@every_day", "unknown preset"),
    ],
)
def test_other_schedules_still_get_croniter_s_verdict(expression: str, said: str | None) -> None:
    problem = schedule_problem(expression)

    assert (problem is None) == (said is None)
    assert said is None or (problem is not None and said in problem)


def test_a_plain_schedule_does_not_import_croniter() -> None:
    # croniter's import starts a `file` process (platform.architecture): more than checking a DAG costs.
    code = (
        "import sys\n"
        "from mwaa_control_plane.dags.validation.schedule import schedule_problem\n"
        "assert schedule_problem('@daily') is None and schedule_problem('5 4 * * 1-5') is None\n"
        "print('croniter' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO / "layers" / "common")},
    )
    assert result.stdout.strip() == "False"
