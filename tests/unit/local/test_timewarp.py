"""Virtual time: waits compressed by the scale, still while a Lambda runs, ends reached by the virtual clock."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import botocore.endpoint
import pytest

from mwaa_cp_local.patches import Patches, install_time
from mwaa_cp_local.timewarp import VirtualClock

START = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("scale", [0, -0.5, 1.5, math.inf, math.nan])
def test_a_scale_outside_zero_to_one_is_refused(scale: float) -> None:
    with pytest.raises(ValueError, match="time scale"):
        VirtualClock(scale)


def test_virtual_seconds_convert_to_real_ones_by_the_scale() -> None:
    assert VirtualClock(0.001).real_seconds(900) == pytest.approx(0.9)
    assert VirtualClock(1).real_seconds(60) == 60


def test_the_clock_starts_at_the_current_utc_time() -> None:
    before = datetime.now(UTC)

    now = VirtualClock(0.001).now()

    assert now.tzinfo is not None
    assert now >= before
    assert now - before < timedelta(minutes=5)


def test_virtual_time_runs_a_thousand_times_faster_at_scale_0_001() -> None:
    clock = VirtualClock(0.001, START)

    time.sleep(0.02)  # at least 20 real milliseconds: at least 20 virtual seconds

    assert clock.now() - START >= timedelta(seconds=20)


# ------------------------------------------------------------------------------- standing still


def test_virtual_time_stands_still_while_paused() -> None:
    clock = VirtualClock(0.001, START)

    with clock.paused():
        before = clock.now()
        time.sleep(0.05)  # 50 virtual seconds if the clock ran
        after = clock.now()

    assert after == before


def test_the_clock_runs_again_once_the_last_of_nested_pauses_ends() -> None:
    clock = VirtualClock(0.001, START)

    with clock.paused():
        with clock.paused():
            pass
        assert clock.is_paused
        frozen = clock.now()
        time.sleep(0.02)
        assert clock.now() == frozen
    time.sleep(0.02)

    assert not clock.is_paused
    assert clock.now() - frozen >= timedelta(seconds=20)


def test_a_sleep_while_paused_jumps_exactly_that_far_at_once() -> None:
    clock = VirtualClock(0.001, START)

    with clock.paused():
        before = clock.now()
        started = time.monotonic()
        clock.sleep(600)
        elapsed = time.monotonic() - started
        after = clock.now()

    assert after - before == timedelta(seconds=600)
    assert elapsed < 0.1


def test_a_sleep_outside_a_pause_lasts_its_virtual_time_compressed() -> None:
    clock = VirtualClock(0.001, START)
    started = time.monotonic()
    virtual_start = clock.now()

    clock.sleep(50)

    assert time.monotonic() - started >= 0.05
    assert time.monotonic() - started < 1.0
    assert clock.now() - virtual_start >= timedelta(seconds=50)


def test_sleeping_a_negative_time_returns_at_once() -> None:
    # time.sleep would raise on a negative value; a retry computing a deadline in the past must not.
    started = time.monotonic()

    VirtualClock(1).sleep(-5)

    assert time.monotonic() - started < 0.5


@pytest.fixture
def lambda_running() -> Iterator[Callable[[VirtualClock, float], threading.Thread]]:
    """Start a stand-in for a Lambda invocation that holds the clock paused for some real seconds."""
    threads: list[threading.Thread] = []

    def start(clock: VirtualClock, real_seconds: float) -> threading.Thread:
        entered = threading.Event()

        def invocation() -> None:
            with clock.paused():
                entered.set()
                time.sleep(real_seconds)

        thread = threading.Thread(target=invocation)
        thread.start()
        entered.wait()
        threads.append(thread)
        return thread

    yield start
    for thread in threads:
        thread.join()


def test_a_sleep_outside_the_running_lambda_waits_until_that_lambda_ends(
    lambda_running: Callable[[VirtualClock, float], threading.Thread],
) -> None:
    clock = VirtualClock(0.001, START)
    invocation = lambda_running(clock, 0.3)

    clock.sleep(10)  # 10 ms of real time if the clock ran

    assert not invocation.is_alive()


def test_a_wait_is_interrupted_when_asked() -> None:
    clock = VirtualClock(1, START)
    started = time.monotonic()

    reached = clock.wait_until(clock.now() + timedelta(hours=1), interrupted=lambda: True)

    assert reached is False
    assert time.monotonic() - started < 1.0


# ------------------------------------------------------------------------------- moto's and botocore's waits


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    virtual = VirtualClock(0.001, START)
    with Patches() as patches:
        install_time(patches, virtual)
        yield virtual


def _wait_state(seconds: int, running: Callable[[], bool] = lambda: True) -> None:
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    environment = SimpleNamespace(program_state_event=threading.Event(), is_running=running)
    WaitFunction._wait_interval(None, environment, seconds)


def test_a_state_machine_wait_of_a_minute_lasts_a_fraction_of_a_second(clock: VirtualClock) -> None:
    started = time.monotonic()
    virtual_start = clock.now()

    _wait_state(60)

    assert time.monotonic() - started < 1.0
    assert clock.now() - virtual_start >= timedelta(seconds=60)


def test_a_wait_state_ends_only_when_the_virtual_clock_reaches_its_end(
    clock: VirtualClock, lambda_running: Callable[[VirtualClock, float], threading.Thread]
) -> None:
    # Given a Lambda that keeps the clock standing for 0.3 real seconds (300 virtual ones if it ran)
    virtual_start = clock.now()
    invocation = lambda_running(clock, 0.3)

    # When an execution waits 60 s meanwhile
    _wait_state(60)

    # Then the wait outlasted the invocation, and a Lambda reading the clock now sees the minute gone by
    assert not invocation.is_alive()
    assert clock.now() - virtual_start >= timedelta(seconds=60)


def test_a_wait_state_ends_early_when_the_execution_stops(clock: VirtualClock) -> None:
    started = time.monotonic()

    _wait_state(86_400, running=lambda: False)

    assert time.monotonic() - started < 1.0


def test_a_wait_until_a_timestamp_counts_from_the_virtual_now(clock: VirtualClock) -> None:
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringLiteral
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp

    environment = SimpleNamespace(stack=[], is_running=lambda: True, next_field_name=None)

    with clock.paused():
        seconds = Timestamp(StringLiteral("2030-01-01T00:10:00Z"))._get_wait_seconds(environment)
        expected = (START + timedelta(minutes=10) - clock.now()).total_seconds()

    # The clock started at midnight 2030 (virtual), not at today's wall time.
    assert seconds == int(expected)


def test_asl_retry_intervals_and_botocore_backoff_sleep_on_the_virtual_clock(clock: VirtualClock) -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    assert retrier_decl.time.sleep == clock.sleep
    assert botocore.endpoint.time.sleep == clock.sleep
    assert botocore.endpoint.time.monotonic is time.monotonic


def test_undo_restores_moto_s_and_botocore_s_timing() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    originals = (WaitFunction._wait_interval, retrier_decl.time, botocore.endpoint.time)

    with Patches() as patches:
        install_time(patches, VirtualClock(0.001))

    assert (WaitFunction._wait_interval, retrier_decl.time, botocore.endpoint.time) == originals
