"""Fixtures for the MWAA emulator's tests: a manual clock, moto with the emulator, a versioned source bucket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mwaa_control_plane.clock import Clock, ManualClock, get_clock, set_clock
from mwaa_cp_local import mwaa
from mwaa_cp_local.patches import Patches, install_mwaa

REGION = "us-east-1"
BUCKET = "analytics-mwaa-source"


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """The emulator's time, moved only by the test; emulator settings reset around it."""
    previous: Clock = get_clock()
    manual = ManualClock()
    set_clock(manual)
    mwaa.reset()
    yield manual
    set_clock(previous)
    mwaa.reset()


@pytest.fixture
def aws(clock: ManualClock) -> Iterator[None]:
    with Patches() as patches:
        install_mwaa(patches)
        with mock_aws():
            yield


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client
