"""What the dag-delivery step tests share: moto's S3 and DynamoDB, the state repository, a fake MWAA."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.state import StateRepository
from tests.unit.aws import (
    REGION,
    SOURCE_BUCKET,
    STAGING_BUCKET,
    FakeMwaa,
    create_versioned_bucket,
    environment,
    state_repository,
)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def s3(aws: None) -> Any:
    """The staging bucket and the environment's source bucket, both versioned."""
    client = boto3.client("s3", region_name=REGION)
    create_versioned_bucket(client, STAGING_BUCKET)
    create_versioned_bucket(client, SOURCE_BUCKET)
    return client


@pytest.fixture
def repository(aws: None, clock: ManualClock) -> StateRepository:
    return state_repository(boto3.client("dynamodb", region_name=REGION), clock)


@pytest.fixture
def mwaa() -> FakeMwaa:
    return FakeMwaa(environment())
