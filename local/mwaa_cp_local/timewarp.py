"""Virtual time for the local runtime: waits are compressed, computing is free.

Flows are bounded in time (a verification deadline, the 60 s quiet period of an update burst,
poll counts), so the local runtime must not let the speed of the machine decide them. Virtual
time therefore moves in two ways only:

* Between Lambda invocations it runs ``1/scale`` times faster than the wall clock (with
  ``scale=0.001`` a real millisecond is a virtual second), so an MWAA update of fifteen minutes
  is over in under a second of waiting.
* While any Lambda invocation is in progress it stands still (:meth:`VirtualClock.paused`), so
  the seconds a handler spends computing, or waiting its turn behind another invocation, cost no
  virtual time, however slow or loaded the machine is. A ``sleep`` inside a handler moves it
  forward by exactly the time slept, at once.

Every wait waits for the virtual clock to reach its target, not for a real duration: ASL ``Wait``
states and ``Retry`` intervals, botocore's retry backoff and ``clock.sleep`` outside a handler
(:mod:`mwaa_cp_local.patches` points moto and botocore at :func:`wait_interval` and
:func:`time_module`). So a ``Wait`` of 60 s followed by a Lambda that reads ``clock.now()`` sees at
least 60 s pass, and the emulated MWAA, which reads the same clock, agrees with both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

# How often a wait that can be interrupted (an ASL Wait of an execution being stopped) looks again, in real seconds.
_INTERRUPT_POLL = 0.05


class VirtualClock:
    """Virtual time that runs ``1/scale`` times faster than the wall clock, and stops while Lambdas run."""

    def __init__(self, scale: float, start: datetime | None = None) -> None:
        if not 0 < scale <= 1:
            raise ValueError("time scale must be in (0, 1]")
        self.scale = scale
        self._origin = start or datetime.now(UTC)
        self._changed = threading.Condition()
        # Virtual time gone by until the real moment _since (guarded by _changed).
        self._elapsed = timedelta()
        self._since = time.monotonic()
        self._pauses = 0
        self._inside = threading.local()

    # -- reading ----------------------------------------------------------------------------
    def now(self) -> datetime:
        with self._changed:
            return self._origin + self._elapsed_now()

    def _elapsed_now(self) -> timedelta:
        if self._pauses:
            return self._elapsed
        return self._elapsed + timedelta(seconds=(time.monotonic() - self._since) / self.scale)

    def _bank(self) -> None:
        """Fold the running time into ``_elapsed`` (before pausing or jumping)."""
        self._elapsed = self._elapsed_now()
        self._since = time.monotonic()

    def real_seconds(self, virtual_seconds: float) -> float:
        """How long ``virtual_seconds`` last in real time while the clock runs."""
        return virtual_seconds * self.scale

    # -- standing still ---------------------------------------------------------------------
    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop virtual time for the block (a Lambda invocation); nested and concurrent blocks count."""
        with self._changed:
            self._bank()
            self._pauses += 1
        self._inside.depth = getattr(self._inside, "depth", 0) + 1
        try:
            yield
        finally:
            self._inside.depth -= 1
            with self._changed:
                self._pauses -= 1
                if not self._pauses:
                    self._since = time.monotonic()
                self._changed.notify_all()

    @property
    def is_paused(self) -> bool:
        with self._changed:
            return self._pauses > 0

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by ``seconds`` at once."""
        with self._changed:
            self._bank()
            self._elapsed += timedelta(seconds=seconds)
            self._changed.notify_all()

    # -- waiting ----------------------------------------------------------------------------
    def sleep(self, seconds: float) -> None:
        """Inside a Lambda invocation, jump ``seconds`` ahead; anywhere else, wait until they have passed."""
        if seconds <= 0:
            return
        if getattr(self._inside, "depth", 0):
            self.advance(seconds)
        else:
            self.wait_until(self.now() + timedelta(seconds=seconds))

    def wait_until(self, target: datetime, interrupted: Callable[[], bool] | None = None) -> bool:
        """Block until the virtual clock reaches ``target`` (True) or ``interrupted()`` holds (False)."""
        while True:
            with self._changed:
                remaining = (target - self._origin - self._elapsed_now()).total_seconds()
                if remaining <= 0:
                    return True
                # Paused: only the end of the pause or a jump can bring the target closer.
                timeout = None if self._pauses else remaining * self.scale
                if interrupted is not None:
                    timeout = _INTERRUPT_POLL if timeout is None else min(timeout, _INTERRUPT_POLL)
                self._changed.wait(timeout)
            if interrupted is not None and interrupted():
                return False


def wait_interval(clock: VirtualClock) -> Callable[[Any, Any, int], None]:
    """moto's ``WaitFunction._wait_interval`` on ``clock``: ends when the virtual clock reaches the end of the
    Wait, or when the execution stops running."""

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:  # noqa: ARG001
        if wait_seconds > 0:
            clock.wait_until(clock.now() + timedelta(seconds=wait_seconds), lambda: not env.is_running())

    return _wait_interval


def timestamp_wait_seconds(clock: VirtualClock) -> Callable[[Any, Any], int]:
    """moto's ``Timestamp._get_wait_seconds`` counting from the virtual now (moto counts from the wall clock)."""

    def _get_wait_seconds(self: Any, env: Any) -> int:
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException

        self.string.eval(env=env)
        text: str = env.stack.pop()
        target = self._from_timestamp_string(timestamp=text)
        if target is None:
            raise FailureEventException(self._create_failure_event(env, text))
        return int((target.replace(tzinfo=UTC) - clock.now()).total_seconds())

    return _get_wait_seconds


def time_module(clock: VirtualClock) -> SimpleNamespace:
    """The ``time`` module with ``sleep`` on ``clock``, for modules that call ``time.sleep`` by attribute."""
    namespace = SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    namespace.sleep = clock.sleep
    return namespace
