"""Flow tests: the real template.yaml and ASL, executed in the local runtime."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mwaa_control_plane.local.runtime import LocalAws


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    with LocalAws() as runtime:
        yield runtime
