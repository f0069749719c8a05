from __future__ import annotations

from datetime import datetime

import pytest

from mwaa_control_plane.airflow import AirflowClient, RateLimiter
from mwaa_control_plane.clock import ManualClock

from .fakes import FakeMwaa, max_in_any_window


def acquire_times(limiter: RateLimiter, clock: ManualClock, calls: int) -> list[datetime]:
    times = []
    for _ in range(calls):
        limiter.acquire()
        times.append(clock.now())
    return times


def test_thirty_calls_never_exceed_ten_in_any_second(clock: ManualClock) -> None:
    limiter = RateLimiter(clock)

    times = acquire_times(limiter, clock, 30)

    assert max_in_any_window(times) < 10
    assert (times[-1] - times[0]).total_seconds() == pytest.approx(29 / 8)


def test_the_first_call_goes_without_waiting(clock: ManualClock) -> None:
    limiter = RateLimiter(clock)

    assert limiter.acquire() == 0.0
    assert clock.slept == []


def test_a_burst_allows_that_many_calls_at_once_then_paces(clock: ManualClock) -> None:
    limiter = RateLimiter(clock, rate_per_second=5, burst=3)

    times = acquire_times(limiter, clock, 5)

    assert times[0] == times[1] == times[2]
    assert clock.slept == pytest.approx([0.2, 0.2])


def test_idle_time_refills_the_bucket_only_up_to_the_burst(clock: ManualClock) -> None:
    limiter = RateLimiter(clock, rate_per_second=8, burst=2)
    acquire_times(limiter, clock, 2)
    clock.advance(60)

    times = acquire_times(limiter, clock, 12)

    assert max_in_any_window(times) <= 10
    assert times[0] == times[1] < times[2]


def test_one_limiter_shared_by_two_clients_paces_both_together(clock: ManualClock) -> None:
    first, second = FakeMwaa(clock), FakeMwaa(clock)
    for fake in (first, second):
        fake.always("GET", "/variables/k", {"key": "k", "value": "v"})
    shared = RateLimiter(clock)
    clients = [AirflowClient(fake, "dev-env", clock=clock, rate_limiter=shared) for fake in (first, second)]

    for _ in range(10):
        for client in clients:
            client.get_variable("k")

    times = [c.at for fake in (first, second) for c in fake.rest_calls()]
    assert len(times) == 20
    assert max_in_any_window(times) < 10


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (8, 0)])
def test_a_limiter_refuses_nonsense_settings(clock: ManualClock, rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must"):
        RateLimiter(clock, rate_per_second=rate, burst=burst)
