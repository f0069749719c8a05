"""Compressed time for the local runtime.

With ``scale=0.001`` one real millisecond is one virtual second: an MWAA update that takes
fifteen minutes is over in under a second, a state machine ``Wait`` of 60 s lasts 60 ms,
and retry backoffs (ASL ``Retry`` and botocore's own) shrink the same way. The emulated
MWAA reads the same clock, so waits and status transitions stay consistent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any


class CompressedClock:
    """Virtual time that runs ``1/scale`` times faster than the wall clock."""

    def __init__(self, scale: float) -> None:
        if not 0 < scale <= 1:
            raise ValueError("time scale must be in (0, 1]")
        self.scale = scale
        self._origin = datetime.now(UTC)
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self._origin + timedelta(seconds=(time.monotonic() - self._started) / self.scale)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds * self.scale)

    def real_seconds(self, virtual_seconds: float) -> float:
        return virtual_seconds * self.scale


def wait_interval(clock: CompressedClock) -> Callable[[Any, Any, int], None]:
    """moto's ``WaitFunction._wait_interval`` on ``clock``: still interrupted when the execution stops."""

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:  # noqa: ARG001
        if wait_seconds > 0:
            env.program_state_event.wait(clock.real_seconds(wait_seconds))

    return _wait_interval


def time_module(clock: CompressedClock) -> SimpleNamespace:
    """The ``time`` module with ``sleep`` on ``clock``, for modules that call ``time.sleep`` by attribute."""
    namespace = SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    namespace.sleep = clock.sleep
    return namespace
