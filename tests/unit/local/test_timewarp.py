"""Compressed time: virtual seconds that pass 1/scale times faster than real ones."""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import botocore.endpoint
import pytest

from mwaa_cp_local.patches import Patches, install_time
from mwaa_cp_local.timewarp import CompressedClock


@pytest.mark.parametrize("scale", [0, -0.5, 1.5, math.inf, math.nan])
def test_a_scale_outside_zero_to_one_is_refused(scale: float) -> None:
    with pytest.raises(ValueError, match="time scale"):
        CompressedClock(scale)


def test_a_scale_of_one_is_real_time() -> None:
    assert CompressedClock(1).real_seconds(60) == 60


def test_virtual_seconds_convert_to_real_ones_by_the_scale() -> None:
    assert CompressedClock(0.001).real_seconds(900) == pytest.approx(0.9)


def test_the_clock_starts_at_the_current_utc_time() -> None:
    before = datetime.now(UTC)

    now = CompressedClock(0.001).now()

    assert now.tzinfo is not None
    assert now >= before
    assert now - before < timedelta(minutes=5)


def test_virtual_time_runs_a_thousand_times_faster_at_scale_0_001() -> None:
    clock = CompressedClock(0.001)
    start = clock.now()

    time.sleep(0.02)  # at least 20 real milliseconds: at least 20 virtual seconds

    assert clock.now() - start >= timedelta(seconds=20)


def test_sleeping_ten_virtual_seconds_takes_a_fraction_of_a_real_second() -> None:
    clock = CompressedClock(0.001)
    started = time.monotonic()
    virtual_start = clock.now()

    clock.sleep(10)

    assert time.monotonic() - started < 1.0
    assert clock.now() - virtual_start >= timedelta(seconds=10)


def test_sleeping_a_negative_time_returns_at_once() -> None:
    # time.sleep would raise on a negative value; a retry computing a deadline in the past must not.
    started = time.monotonic()

    CompressedClock(1).sleep(-5)

    assert time.monotonic() - started < 0.5


def test_install_time_scales_botocores_retry_sleep_and_undo_restores_it() -> None:
    original = botocore.endpoint.time
    compressed = CompressedClock(0.001)

    with Patches() as patches:
        install_time(patches, compressed)
        patched_sleep = botocore.endpoint.time.sleep
        patched_monotonic = botocore.endpoint.time.monotonic

    assert patched_sleep == compressed.sleep
    assert patched_monotonic is time.monotonic
    assert botocore.endpoint.time is original


def test_a_state_machine_wait_of_a_minute_lasts_a_fraction_of_a_second() -> None:
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    environment = SimpleNamespace(program_state_event=threading.Event())
    with Patches() as patches:
        install_time(patches, CompressedClock(0.001))
        started = time.monotonic()
        WaitFunction._wait_interval(None, environment, 60)
        elapsed = time.monotonic() - started

    assert elapsed < 1.0


def test_undo_restores_moto_s_wait_state_timing() -> None:
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    original = WaitFunction._wait_interval

    with Patches() as patches:
        install_time(patches, CompressedClock(0.001))

    assert WaitFunction._wait_interval is original
