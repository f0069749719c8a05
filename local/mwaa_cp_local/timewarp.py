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

from mwaa_control_plane import clock as clock_module


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


def install(clock: CompressedClock) -> Callable[[], None]:
    """Compress ASL Wait states, ASL retry intervals and botocore retry sleeps; return the undo."""
    import botocore.endpoint
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    previous_clock = clock_module.get_clock()
    original_wait = wait_function.WaitFunction._wait_interval
    original_retry_time = retrier_decl.time
    endpoint: Any = botocore.endpoint  # botocore's stubs do not declare the module's own `time` import
    original_endpoint_time = endpoint.time

    def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:  # noqa: ARG001
        if wait_seconds > 0:
            env.program_state_event.wait(clock.real_seconds(wait_seconds))

    scaled_time = SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    scaled_time.sleep = clock.sleep

    wait_function.WaitFunction._wait_interval = wait_interval
    retrier_decl.time = scaled_time
    endpoint.time = scaled_time
    clock_module.set_clock(clock)

    def undo() -> None:
        wait_function.WaitFunction._wait_interval = original_wait
        retrier_decl.time = original_retry_time
        endpoint.time = original_endpoint_time
        clock_module.set_clock(previous_clock)

    return undo
