"""Create MWAA environments in the local runtime the way a platform team would in AWS.

The demo, ``mwaa-cp local up`` and the flow tests use the same seed: a versioned,
public-access-blocked source bucket, an execution role, two subnets, one security group,
and ``CreateEnvironment`` through boto3, then polling ``GetEnvironment`` to AVAILABLE.
"""

from __future__ import annotations

import json
import time
from typing import Any

from mwaa_control_plane.errors import EnvironmentStateError
from mwaa_cp_local.runtime import LocalAws

_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}


def source_bucket_name(environment: str) -> str:
    """MWAA requires source bucket names to start with ``airflow-``; the stack's IAM scopes on that."""
    return f"airflow-{environment.lower().replace('_', '-')}"


def create_environment(
    aws: LocalAws,
    name: str = "dev-analytics",
    *,
    airflow_version: str = "2.10.3",
    environment_class: str = "mw1.small",
    tags: dict[str, str] | None = None,
    wait: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """Create environment ``name`` with its own source bucket; wait for AVAILABLE unless told not to."""
    s3 = aws.client("s3")
    bucket = source_bucket_name(name)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_object(Bucket=bucket, Key="dags/.airflowignore", Body=b"")
    role = aws.client("iam").create_role(
        RoleName=f"{name}-execution-role", AssumeRolePolicyDocument=json.dumps(_TRUST)
    )["Role"]["Arn"]
    mwaa = aws.client("mwaa")
    arguments: dict[str, Any] = {
        "Name": name,
        "ExecutionRoleArn": role,
        "SourceBucketArn": f"arn:aws:s3:::{bucket}",
        "DagS3Path": "dags",
        "NetworkConfiguration": {
            "SubnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
            "SecurityGroupIds": ["sg-0a1b2c3d4e5f60001"],
        },
        "AirflowVersion": airflow_version,
        "EnvironmentClass": environment_class,
        "MinWorkers": 1,
        "MaxWorkers": 5,
        "Tags": {"stage": "dev", **(tags or {})},
    }
    mwaa.create_environment(**{**arguments, **extra})
    if wait:
        return wait_for_status(aws, name, {"AVAILABLE"})
    return dict(mwaa.get_environment(Name=name)["Environment"])


def wait_for_status(aws: LocalAws, name: str, wanted: set[str], timeout: float = 60.0) -> dict[str, Any]:
    """Poll GetEnvironment (real seconds) until the status is one of ``wanted``; fail on a terminal failure."""
    mwaa = aws.client("mwaa")
    deadline = time.monotonic() + timeout
    while True:
        environment: dict[str, Any] = mwaa.get_environment(Name=name)["Environment"]
        status = environment["Status"]
        if status in wanted:
            return environment
        if status in {"CREATE_FAILED", "DELETED"} - wanted:
            raise EnvironmentStateError(f"environment {name} ended {status}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"environment {name} still {status} after {timeout} s")
        time.sleep(0.02)


def wait_for_deletion(aws: LocalAws, name: str, timeout: float = 60.0) -> None:
    """Poll GetEnvironment (real seconds) until MWAA no longer knows ``name`` (ResourceNotFoundException)."""
    mwaa = aws.client("mwaa")
    deadline = time.monotonic() + timeout
    while True:
        try:
            status = mwaa.get_environment(Name=name)["Environment"]["Status"]
        except mwaa.exceptions.ResourceNotFoundException:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"environment {name} still {status} after {timeout} s")
        time.sleep(0.02)
