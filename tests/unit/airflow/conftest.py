from __future__ import annotations

import pytest

from mwaa_control_plane.airflow import AirflowClient
from mwaa_control_plane.clock import ManualClock

from .fakes import FakeCliTransport, FakeMwaa


@pytest.fixture
def mwaa(clock: ManualClock) -> FakeMwaa:
    return FakeMwaa(clock)


@pytest.fixture
def transport(clock: ManualClock) -> FakeCliTransport:
    return FakeCliTransport(clock)


def no_jitter() -> float:
    """Full jitter at its ceiling, so backoff delays are exact in assertions."""
    return 1.0


@pytest.fixture
def make_client(mwaa: FakeMwaa, clock: ManualClock, transport: FakeCliTransport):
    def make(version: str | None = "2.8.1", **kwargs: object) -> AirflowClient:
        mwaa.airflow_version = version
        kwargs.setdefault("random", no_jitter)
        return AirflowClient(mwaa, "dev-env", clock=clock, transport=transport, **kwargs)  # type: ignore[arg-type]

    return make
