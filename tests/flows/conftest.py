"""Flow tests: the real template.yaml and ASL, executed in the local runtime."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mwaa_cp_local.runtime import LocalAws
from tests.flows.helpers import Notifications, far_from_midnight
from tests.flows.iam import IamRecorder


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    """A fresh local runtime whose seeded environments are created in 60 virtual seconds, not MWAA's 25 minutes.

    Flows under test still see every status MWAA goes through; only the seed's wait is short. A test about
    creation itself (off-hours resume, the emulator's own timings) sets ``mwaa.configure(create_seconds=...)``.
    The virtual day starts at 01:00 UTC, so "today" does not turn over while a test runs.
    """
    from mwaa_cp_local import mwaa

    with LocalAws(clock_start=far_from_midnight()) as runtime:
        mwaa.configure(create_seconds=60)
        yield runtime


@pytest.fixture(autouse=True)
def iam_policies_allow_every_call() -> Iterator[IamRecorder]:
    """Every AWS call a handler makes in a flow test is allowed by its role (moto does not enforce IAM)."""
    recorder = IamRecorder()
    with recorder.installed():
        yield recorder
    assert not recorder.denied, "calls the function roles do not allow:\n" + "\n".join(sorted(set(recorder.denied)))


@pytest.fixture
def inbox(aws: LocalAws) -> Notifications:
    """The stack's notification topic as an operator's inbox (of the test module's own ``aws``, if it has one)."""
    return Notifications(aws)
