"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from mwaa_control_plane.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    """Time that moves only when the test says so (tests/unit/local overrides it for the emulator)."""
    return ManualClock()
