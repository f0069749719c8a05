"""A token bucket that keeps calls to one MWAA web server under its ~10 requests/s.

Time comes from the injected clock, so tests check the pacing without sleeping and the
local runtime's compressed clock paces calls in its own time. Share one limiter between
several clients that talk to the same environment to pace them together.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from mwaa_control_plane.clock import Clock

# Below MWAA's reported 10 requests/s with room for other callers (console, CI).
DEFAULT_RATE_PER_SECOND = 8.0
# A burst of b on top of rate r allows at most b + r calls in any one-second window: 1 + 8 < 10.
DEFAULT_BURST = 1

_EPSILON = 1e-9


class RateLimiter:
    """Token bucket: ``burst`` calls may go at once, then one every ``1 / rate_per_second`` seconds."""

    def __init__(
        self, clock: Clock, *, rate_per_second: float = DEFAULT_RATE_PER_SECOND, burst: int = DEFAULT_BURST
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._clock = clock
        self._rate = rate_per_second
        self._burst = float(burst)
        self._tokens = float(burst)
        self._updated: datetime | None = None
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block (on the clock) until a call may go; return the seconds waited."""
        waited = 0.0
        with self._lock:
            while True:
                self._refill()
                if self._tokens >= 1.0 - _EPSILON:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return waited
                # Whole microseconds, rounded up: datetime cannot move by less, and a wait that rounds
                # to zero would spin forever on a manual clock.
                delay = math.ceil((1.0 - self._tokens) / self._rate * 1_000_000) / 1_000_000
                self._clock.sleep(delay)
                waited += delay

    def _refill(self) -> None:
        now = self._clock.now()
        if self._updated is not None:
            elapsed = max(0.0, (now - self._updated).total_seconds())
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        self._updated = now
