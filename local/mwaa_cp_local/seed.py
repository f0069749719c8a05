"""Create MWAA environments in the local runtime the way a platform team would in AWS.

The demo, ``mwaa-cp local up`` and the flow tests use the same seed: a versioned,
public-access-blocked source bucket, an execution role with MWAA's least-privilege policy, a
VPC with two private subnets in two Availability Zones routed to a NAT gateway and a security
group that references itself (shared by every environment of the account), the five log groups
with a retention, and ``CreateEnvironment`` through boto3 with every log type on, then polling
``GetEnvironment`` to AVAILABLE. Such an environment passes every check of ``mwaa-cp doctor``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from mwaa_control_plane.errors import EnvironmentStateError
from mwaa_cp_local.runtime import ACCOUNT_ID, LocalAws

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


# The tag that marks the seed's shared network, so that every environment of an account reuses it.
NETWORK_TAG = "mwaa-cp-local:network"
LOG_TYPES = {
    "DagProcessingLogs": "DAGProcessing",
    "SchedulerLogs": "Scheduler",
    "TaskLogs": "Task",
    "WebserverLogs": "WebServer",
    "WorkerLogs": "Worker",
}
LOG_RETENTION_DAYS = 30


@dataclass(frozen=True)
class Network:
    vpc_id: str
    subnet_ids: list[str]
    security_group_id: str


def network(aws: LocalAws) -> Network:
    """The account's MWAA network: created on first use, then found by its tag."""
    ec2 = aws.client("ec2")
    found = ec2.describe_vpcs(Filters=[{"Name": f"tag:{NETWORK_TAG}", "Values": ["true"]}])["Vpcs"]
    if found:
        vpc_id = found[0]["VpcId"]
        subnets = ec2.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "tag:tier", "Values": ["private"]}]
        )["Subnets"]
        [group] = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["mwaa"]}]
        )["SecurityGroups"]
        return Network(vpc_id, sorted(s["SubnetId"] for s in subnets), group["GroupId"])
    tags = [{"Key": NETWORK_TAG, "Value": "true"}]
    vpc_id = ec2.create_vpc(CidrBlock="10.192.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])[
        "Vpc"
    ]["VpcId"]
    zones = [f"{aws.region}a", f"{aws.region}b"]

    def subnet(cidr: str, zone: str, tier: str) -> str:
        return str(
            ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=cidr,
                AvailabilityZone=zone,
                TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "tier", "Value": tier}]}],
            )["Subnet"]["SubnetId"]
        )

    public = subnet("10.192.0.0/24", zones[0], "public")
    private = [subnet("10.192.10.0/24", zones[0], "private"), subnet("10.192.11.0/24", zones[1], "private")]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc_id)
    public_routes = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_routes, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    ec2.associate_route_table(RouteTableId=public_routes, SubnetId=public)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    private_routes = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=private_routes, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    for subnet_id in private:
        ec2.associate_route_table(RouteTableId=private_routes, SubnetId=subnet_id)
    group = ec2.create_security_group(GroupName="mwaa", Description="MWAA environments", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group}]}]
    )
    return Network(vpc_id, sorted(private), group)


def execution_role_policy(aws: LocalAws, name: str, bucket: str) -> dict[str, Any]:
    """MWAA's least-privilege execution-role policy for environment ``name`` (docs/doctor.md lists the grants)."""
    region, account = aws.region, ACCOUNT_ID
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "airflow:PublishMetrics",
                "Resource": f"arn:aws:airflow:{region}:{account}:environment/{name}",
            },
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            },
            {
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogStream",
                    "logs:CreateLogGroup",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:GetLogRecord",
                    "logs:GetLogGroupFields",
                    "logs:GetQueryResults",
                ],
                "Resource": f"arn:aws:logs:{region}:{account}:log-group:airflow-{name}-*",
            },
            {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
            {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                    "sqs:SendMessage",
                ],
                "Resource": f"arn:aws:sqs:{region}:*:airflow-celery-*",
            },
            {
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"],
                "NotResource": f"arn:aws:kms:*:{account}:key/*",
                "Condition": {"StringLike": {"kms:ViaService": [f"sqs.{region}.amazonaws.com"]}},
            },
            {
                "Sid": "SecretsBackend",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": f"arn:aws:ssm:{region}:{account}:parameter/airflow/*",
            },
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
    iam = aws.client("iam")
    role_name = f"{name}-execution-role"
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(_TRUST))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="mwaa-execution",
        PolicyDocument=json.dumps(execution_role_policy(aws, name, bucket)),
    )
    logs = aws.client("logs")
    for suffix in LOG_TYPES.values():
        group = f"airflow-{name}-{suffix}"
        if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
            logs.create_log_group(logGroupName=group)
        logs.put_retention_policy(logGroupName=group, retentionInDays=LOG_RETENTION_DAYS)
    shared = network(aws)
    mwaa = aws.client("mwaa")
    arguments: dict[str, Any] = {
        "Name": name,
        "ExecutionRoleArn": role,
        "SourceBucketArn": f"arn:aws:s3:::{bucket}",
        "DagS3Path": "dags",
        "NetworkConfiguration": {"SubnetIds": shared.subnet_ids, "SecurityGroupIds": [shared.security_group_id]},
        "LoggingConfiguration": {log_type: {"Enabled": True, "LogLevel": "INFO"} for log_type in LOG_TYPES},
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
