"""Injectable time, so tests and the local runtime can move it.

Domain code takes a :class:`Clock`; handlers get one from :func:`get_clock`. The local
runtime installs a compressed clock with :func:`set_clock` so that a flow that waits
twenty minutes for MWAA runs in a second.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to: ``sleep`` advances it instantly."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._now += timedelta(seconds=seconds)


_clock: Clock = SystemClock()


def get_clock() -> Clock:
    """The process-wide clock handlers pass into domain code."""
    return _clock


def set_clock(clock: Clock) -> None:
    """Replace the process-wide clock (local runtime and tests only)."""
    global _clock
    _clock = clock
