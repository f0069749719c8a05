"""Cached boto3 client factories.

Clients are built on first use, never at import time, so that moto (tests, local runtime)
is active before any client exists. One client per service and region per process, as
Lambda reuses the process between invocations.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_stepfunctions import SFNClient

_CONFIG = Config(
    connect_timeout=5,
    read_timeout=20,
    user_agent_extra="mwaa-control-plane",
)


@cache
def _client(service: str, region: str | None, endpoint_url: str | None, max_attempts: int = 4) -> Any:
    # total_max_attempts counts the first call too (botocore's max_attempts would count retries only).
    config = _CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": max_attempts}))
    if endpoint_url:
        # MWAA prefixes hosts with "api." / "env."; a custom endpoint (the local runtime) has no such hosts.
        config = config.merge(Config(inject_host_prefix=False))
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        region_name=region,
        endpoint_url=endpoint_url,
        config=config,
    )


def mwaa(region: str | None = None, endpoint_url: str | None = None, *, max_attempts: int = 4) -> MWAAClient:
    """``max_attempts=1`` for the client an AirflowClient wraps: it retries (and paces) itself."""
    return _client("mwaa", region, endpoint_url, max_attempts)  # type: ignore[no-any-return]


def s3(region: str | None = None, endpoint_url: str | None = None) -> S3Client:
    return _client("s3", region, endpoint_url)  # type: ignore[no-any-return]


def sfn(region: str | None = None, endpoint_url: str | None = None) -> SFNClient:
    return _client("stepfunctions", region, endpoint_url)  # type: ignore[no-any-return]


def ssm(region: str | None = None, endpoint_url: str | None = None, *, max_attempts: int = 4) -> SSMClient:
    """``max_attempts=1`` for variable propagation: it paces its writes and backs off from throttling itself."""
    return _client("ssm", region, endpoint_url, max_attempts)  # type: ignore[no-any-return]


def dynamodb(region: str | None = None, endpoint_url: str | None = None) -> DynamoDBClient:
    return _client("dynamodb", region, endpoint_url)  # type: ignore[no-any-return]


def cloudwatch(region: str | None = None, endpoint_url: str | None = None) -> CloudWatchClient:
    return _client("cloudwatch", region, endpoint_url)  # type: ignore[no-any-return]


def sns(region: str | None = None, endpoint_url: str | None = None) -> SNSClient:
    return _client("sns", region, endpoint_url)  # type: ignore[no-any-return]


def clear_client_cache() -> None:
    """Drop every cached client (the local runtime and tests switch accounts or endpoints)."""
    _client.cache_clear()


def iam(region: str | None = None, endpoint_url: str | None = None) -> IAMClient:
    return _client("iam", region, endpoint_url)  # type: ignore[no-any-return]


def ec2(region: str | None = None, endpoint_url: str | None = None) -> EC2Client:
    return _client("ec2", region, endpoint_url)  # type: ignore[no-any-return]


def logs(region: str | None = None, endpoint_url: str | None = None) -> CloudWatchLogsClient:
    return _client("logs", region, endpoint_url)  # type: ignore[no-any-return]


def kms(region: str | None = None, endpoint_url: str | None = None) -> KMSClient:
    return _client("kms", region, endpoint_url)  # type: ignore[no-any-return]
