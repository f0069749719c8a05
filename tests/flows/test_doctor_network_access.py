"""`mwaa-cp doctor`'s network and execution-role rows against what is really there, in the local runtime.

The cases a first version passed by mistake: a gateway endpoint on a route table the subnets do not use, a
subnet that only maps public IPs, a self-reference that allows only ICMP, a security group that lets nothing out,
in another VPC or deleted, a KmsKey given as an alias, a Deny or a permissions boundary that the fix must name,
and conditions the doctor's own evaluator cannot decide. One runtime for the module, one environment per case.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mwaa_control_plane.airflow import AirflowClient
from mwaa_control_plane.clock import get_clock
from mwaa_control_plane.environments.doctor import ControlPlaneWiring, DoctorClients, DoctorReport, run_doctor
from mwaa_control_plane.environments.doctor.access import role_checks
from mwaa_control_plane.environments.doctor.facts import EnvironmentFacts
from mwaa_control_plane.environments.doctor.network import REQUIRED_ENDPOINT_SERVICES
from mwaa_control_plane.state import StateRepository
from mwaa_control_plane.variables.backend import inspect_backend
from mwaa_cp_local.mwaa import models as mwaa_models
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment, network, wait_for_status
from tests.flows.helpers import staging_bucket

pytestmark = pytest.mark.flow

PATTERN = "airflow-dev-*"
NOW = datetime(2026, 1, 15, tzinfo=UTC)
ACCOUNT = "123456789012"
# Every endpoint service the private-routing guide lists but S3, which comes as a gateway endpoint here.
INTERFACE_SERVICES = tuple(service for service in REQUIRED_ENDPOINT_SERVICES if service != "s3")


# --------------------------------------------------------------------------------------------- building


def _self_referencing_group(aws: LocalAws, vpc_id: str, name: str, *permissions: dict[str, Any]) -> str:
    """A group in ``vpc_id`` whose inbound rules from itself are ``permissions`` (default egress: all out)."""
    ec2 = aws.client("ec2")
    group = str(ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"])
    ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{**p, "UserIdGroupPairs": [{"GroupId": group}]} for p in permissions]
    )
    return group


def _subnets(aws: LocalAws, vpc_id: str, *cidrs: str, table: str | None = None, public_ips: bool = False) -> list[str]:
    """One subnet per cidr, in zones a and b, associated with ``table`` (else the VPC's main one, implicitly)."""
    ec2 = aws.client("ec2")
    ids = []
    for cidr, zone in zip(cidrs, ("a", "b"), strict=True):
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{aws.region}{zone}")["Subnet"]
        if table:
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnet["SubnetId"])
        if public_ips:
            ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
        ids.append(str(subnet["SubnetId"]))
    return ids


def _endpoint_vpc(aws: LocalAws) -> dict[str, Any]:
    """A VPC without NAT: interface endpoints for every service but S3, and an S3 gateway endpoint on its main route
    table only. Subnets on the main table reach everything; subnets on a table of their own miss S3."""
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    [main] = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"]
    own = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    on_main = _subnets(aws, vpc_id, "10.50.1.0/24", "10.50.2.0/24")
    on_own = _subnets(aws, vpc_id, "10.50.3.0/24", "10.50.4.0/24", table=own)
    for service in INTERFACE_SERVICES:
        ec2.create_vpc_endpoint(
            VpcId=vpc_id,
            ServiceName=f"com.amazonaws.{aws.region}.{service}",
            VpcEndpointType="Interface",
            SubnetIds=on_main,
        )
    gateway = ec2.create_vpc_endpoint(
        VpcId=vpc_id,
        ServiceName=f"com.amazonaws.{aws.region}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[main["RouteTableId"]],
    )["VpcEndpoint"]["VpcEndpointId"]
    group = _self_referencing_group(aws, vpc_id, "endpoints-mwaa", {"IpProtocol": "-1"})
    return {
        "vpc_id": vpc_id,
        "main": main["RouteTableId"],
        "own": own,
        "on_main": on_main,
        "on_own": on_own,
        "gateway": gateway,
        "group": group,
    }


def _add_statements(aws: LocalAws, name: str, policy: str, *statements: dict[str, Any]) -> None:
    aws.client("iam").put_role_policy(
        RoleName=f"{name}-execution-role",
        PolicyName=policy,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
    )


def _replace_statements(aws: LocalAws, name: str, prefix: str, **extra: Any) -> None:
    """Add ``extra`` (e.g. a Condition) to the seed's statements granting ``prefix`` actions."""
    iam = aws.client("iam")
    role = f"{name}-execution-role"
    document = iam.get_role_policy(RoleName=role, PolicyName="mwaa-execution")["PolicyDocument"]
    for statement in document["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        if any(a.startswith(prefix) for a in actions):
            statement.update(extra)
    iam.put_role_policy(RoleName=role, PolicyName="mwaa-execution", PolicyDocument=json.dumps(document))


def _build(aws: LocalAws) -> dict[str, Any]:
    ec2 = aws.client("ec2")
    kms = aws.client("kms")
    shared = network(aws)
    endpoints = _endpoint_vpc(aws)
    names: list[str] = []
    built: dict[str, Any] = {"endpoints": endpoints}

    def create(name: str, subnets: list[str] | None = None, group: str | None = None, **extra: Any) -> None:
        configuration = {
            "SubnetIds": subnets or shared.subnet_ids,
            "SecurityGroupIds": [group or shared.security_group_id],
        }
        create_environment(aws, name, wait=False, NetworkConfiguration=configuration, **extra)
        names.append(name)

    create("dev-endpoints-main", endpoints["on_main"], endpoints["group"])
    create("dev-gateway-elsewhere", endpoints["on_own"], endpoints["group"])
    public_ips = _subnets(aws, shared.vpc_id, "10.192.50.0/24", "10.192.51.0/24", public_ips=True)
    create("dev-public-ips", public_ips)

    def group(name: str, *permissions: dict[str, Any]) -> str:
        return _self_referencing_group(aws, shared.vpc_id, name, *permissions)

    create("dev-sg-icmp", group=group("icmp", {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1}))
    create("dev-sg-postgres", group=group("postgres", {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432}))
    create(
        "dev-sg-example-stack",
        group=group(
            "example",
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443},
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432},
        ),
    )
    closed = group("closed", {"IpProtocol": "-1"})
    [egress] = ec2.describe_security_groups(GroupIds=[closed])["SecurityGroups"]
    ec2.revoke_security_group_egress(GroupId=closed, IpPermissions=egress["IpPermissionsEgress"])
    create("dev-sg-no-egress", group=closed)
    create("dev-sg-other-vpc", group=endpoints["group"])
    deleted = group("deleted", {"IpProtocol": "-1"})
    built["deleted_group"] = deleted
    create("dev-sg-deleted", group=deleted)

    key = kms.create_key(Description="mwaa")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/mwaa-dev", TargetKeyId=key)
    alias = f"arn:aws:kms:{aws.region}:{ACCOUNT}:alias/mwaa-dev"
    built.update(key=key, alias=alias)
    create("dev-kms-alias", KmsKey=alias)
    create("dev-kms-alias-granted", KmsKey="alias/mwaa-dev")

    create("dev-deny-logs")
    create("dev-boundary")
    create("dev-conditional-allow")
    create("dev-conditional-deny")
    for name in names:
        wait_for_status(aws, name, {"AVAILABLE"})

    ec2.delete_security_group(GroupId=deleted)
    # What a policy that grants the key itself (not the alias) looks like.
    _add_statements(
        aws,
        "dev-kms-alias-granted",
        "key",
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"],
            "Resource": key,
        },
    )
    _add_statements(
        aws,
        "dev-deny-logs",
        "guard",
        {"Sid": "NoNewLogStreams", "Effect": "Deny", "Action": "logs:CreateLogStream", "Resource": "*"},
    )
    iam = aws.client("iam")
    boundary = iam.create_policy(
        PolicyName="mwaa-boundary",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["s3:*", "sqs:*", "kms:*", "ssm:*", "airflow:*"], "Resource": "*"}
                ],
            }
        ),
    )["Policy"]["Arn"]
    built["boundary"] = boundary
    iam.put_role_permissions_boundary(RoleName="dev-boundary-execution-role", PermissionsBoundary=boundary)
    _replace_statements(
        aws, "dev-conditional-allow", "s3:", Condition={"ForAnyValue:StringLike": {"aws:TagKeys": ["team*"]}}
    )
    _add_statements(
        aws,
        "dev-conditional-deny",
        "guard",
        {
            "Sid": "OwnAccountOnly",
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"aws:ResourceAccount": ACCOUNT}},
        },
    )
    return built


@pytest.fixture(scope="module")
def built() -> Iterator[tuple[LocalAws, dict[str, Any]]]:
    with LocalAws(parameters={"MwaaSourceBucketPattern": PATTERN, "ManagedExecutionRolePattern": "*"}) as aws:
        mwaa_models.configure(environment_quota=25)
        yield aws, _build(aws)


@pytest.fixture(scope="module")
def runtime(built: tuple[LocalAws, dict[str, Any]]) -> LocalAws:
    return built[0]


@pytest.fixture(scope="module")
def made(built: tuple[LocalAws, dict[str, Any]]) -> dict[str, Any]:
    return built[1]


def doctor(aws: LocalAws, name: str) -> DoctorReport:
    clients = DoctorClients(
        mwaa=aws.client("mwaa"),
        s3=aws.client("s3"),
        iam=aws.client("iam"),
        ec2=aws.client("ec2"),
        logs=aws.client("logs"),
        kms=aws.client("kms"),
    )
    return run_doctor(
        clients,
        name,
        now=NOW,
        wiring=ControlPlaneWiring(staging_bucket=staging_bucket(aws), source_bucket_pattern=PATTERN),
        airflow=AirflowClient(aws.client("mwaa"), name, clock=get_clock()),
        repository=StateRepository(aws.client("dynamodb"), aws.stack.ref("StateTable"), get_clock()),
    )


def not_passing(report: DoctorReport) -> list[tuple[str, str]]:
    return [(c.id, c.status) for c in report.checks if c.status != "pass"]


# --------------------------------------------------------------------------------------------- subnets-egress


def test_subnets_on_the_main_route_table_reach_s3_through_its_gateway_endpoint(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-endpoints-main")

    assert not_passing(report) == []
    row = report.check("subnets-egress")
    assert "every required VPC endpoint reachable" in row.detail
    assert "the VPC's main route table" in row.detail


def test_a_gateway_endpoint_on_another_route_table_does_not_count(runtime: LocalAws, made: dict[str, Any]) -> None:
    endpoints = made["endpoints"]

    report = doctor(runtime, "dev-gateway-elsewhere")

    assert not_passing(report) == [("subnets-egress", "fail")]
    row = report.check("subnets-egress")
    assert "no default route and VPC endpoints missing for s3 " in row.detail
    assert f"S3 gateway endpoint {endpoints['gateway']} is associated with {endpoints['main']} only" in row.detail
    assert row.fix == (
        "add a 0.0.0.0/0 route to a NAT gateway in each subnet's route table, or associate the S3 gateway endpoint "
        f"with the subnets' route table (aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoints['gateway']} "
        f"--add-route-table-ids {endpoints['own']})"
    )


def test_subnets_that_only_map_public_ips_have_no_way_out_and_say_what_is_there(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-public-ips")

    assert not_passing(report) == [("subnets-private", "fail"), ("subnets-egress", "fail")]
    private = report.check("subnets-private")
    assert "assigns a public IP to each new network interface (MapPublicIpOnLaunch)" in private.detail
    assert "has no route to an internet gateway" in private.detail
    assert "default route" not in private.detail
    assert "internet gateway instead" not in private.fix
    assert "--no-map-public-ip-on-launch" in private.fix
    egress = report.check("subnets-egress")
    assert "no default route and VPC endpoints missing for airflow.api" in egress.detail
    assert "internet gateway" not in egress.detail
    assert "com.amazonaws.us-east-1.airflow.api" in egress.fix and "<region>" not in egress.fix


# --------------------------------------------------------------------------------------------- security group


def test_a_self_reference_that_allows_only_icmp_fails_with_the_missing_ports(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-sg-icmp")

    assert not_passing(report) == [("security-group-self-reference", "fail")]
    row = report.check("security-group-self-reference")
    assert "from itself allow only icmp: TCP 443 and 5432 missing" in row.detail
    assert row.fix.startswith("aws ec2 authorize-security-group-ingress --group-id sg-")


def test_a_self_reference_on_postgres_only_misses_https(runtime: LocalAws) -> None:
    row = doctor(runtime, "dev-sg-postgres").check("security-group-self-reference")

    assert row.status == "fail"
    assert "allow only tcp 5432: TCP 443 missing" in row.detail


def test_https_and_postgres_from_itself_as_the_example_stack_creates_pass(runtime: LocalAws) -> None:
    row = doctor(runtime, "dev-sg-example-stack").check("security-group-self-reference")

    assert row.status == "pass"
    assert "tcp 443, tcp 5432 from themselves and all traffic out" in row.detail


def test_a_group_that_lets_nothing_out_fails(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-sg-no-egress")

    assert not_passing(report) == [("security-group-self-reference", "fail")]
    row = report.check("security-group-self-reference")
    assert row.detail.startswith("no outbound rule in sg-")
    assert row.fix.startswith("aws ec2 authorize-security-group-egress --group-id sg-")
    assert row.fix.endswith("--ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]'")


def test_a_group_of_another_vpc_fails(runtime: LocalAws, made: dict[str, Any]) -> None:
    report = doctor(runtime, "dev-sg-other-vpc")

    assert not_passing(report) == [("security-group-self-reference", "fail")]
    row = report.check("security-group-self-reference")
    endpoints = made["endpoints"]
    assert f"{endpoints['group']} is in {endpoints['vpc_id']}, the subnets in {network(runtime).vpc_id}" in row.detail
    assert "aws mwaa update-environment --name dev-sg-other-vpc --network-configuration" in row.fix


def test_a_deleted_group_fails_rather_than_warns(runtime: LocalAws, made: dict[str, Any]) -> None:
    report = doctor(runtime, "dev-sg-deleted")

    assert not_passing(report) == [("security-group-self-reference", "fail")]
    row = report.check("security-group-self-reference")
    assert row.detail.startswith(f"EC2 does not know security group(s) {made['deleted_group']}")


# --------------------------------------------------------------------------------------------- the KMS key


def test_a_kms_alias_is_evaluated_as_its_key(runtime: LocalAws, made: dict[str, Any]) -> None:
    # The seed's role may use keys of other accounts only (NotResource key/* of its own): an alias ARN is not
    # a key/* ARN, so evaluating the alias itself passed.
    report = doctor(runtime, "dev-kms-alias")

    assert not_passing(report) == [("role-uses-kms-key", "fail")]
    row = report.check("role-uses-kms-key")
    assert row.detail.startswith(f"KmsKey {made['alias']} is key {made['key']}; denied by ")
    assert f"kms:Decrypt on {made['key']} (implicitDeny)" in row.detail
    assert row.fix.startswith(
        f"grant the execution role kms:Decrypt, kms:DescribeKey, kms:GenerateDataKey* and kms:Encrypt on {made['key']} "
    )


def test_a_kms_alias_name_whose_key_is_granted_passes(runtime: LocalAws, made: dict[str, Any]) -> None:
    row = doctor(runtime, "dev-kms-alias-granted").check("role-uses-kms-key")

    assert row.status == "pass"
    assert row.detail.startswith(f"KmsKey alias/mwaa-dev is key {made['key']}; allowed by ")


class _RefusingKms:
    def describe_key(self, *, KeyId: str) -> Mapping[str, Any]:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeKey")


def test_an_alias_the_caller_may_not_describe_warns(runtime: LocalAws, made: dict[str, Any]) -> None:
    environment = runtime.client("mwaa").get_environment(Name="dev-kms-alias")["Environment"]
    facts = EnvironmentFacts.of(environment)

    rows = role_checks(
        runtime.client("iam"), facts, inspect_backend(facts.options, facts.airflow_version), _RefusingKms()
    )

    row = next(r for r in rows if r.id == "role-uses-kms-key")
    assert row.status == "warn"
    assert row.detail == f"could not resolve the KmsKey alias {made['alias']} to its key: kms:DescribeKey was refused"
    assert row.fix.startswith(f"let the doctor's caller call kms:DescribeKey on {made['alias']}")
    assert [r.status for r in rows if r.id != "role-uses-kms-key"] == ["pass"] * 4


# --------------------------------------------------------------------------------------------- the role's policies


def test_an_explicit_deny_names_the_statement_to_change(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-deny-logs")

    assert not_passing(report) == [("role-writes-logs", "fail")]
    row = report.check("role-writes-logs")
    assert "(explicitDeny by statement NoNewLogStreams of inline policy guard)" in row.detail
    assert row.fix.startswith(
        "change statement NoNewLogStreams of inline policy guard: it denies logs:CreateLogStream on "
    )
    assert "grant the execution role" not in row.fix


def test_a_permissions_boundary_without_the_action_is_named_in_the_fix(runtime: LocalAws, made: dict[str, Any]) -> None:
    report = doctor(runtime, "dev-boundary")

    assert not_passing(report) == [("role-writes-logs", "fail")]
    row = report.check("role-writes-logs")
    boundary = f"the role's permissions boundary {made['boundary']}"
    assert f"(implicitDeny: not allowed by {boundary})" in row.detail
    assert row.fix.startswith("allow logs:CreateLogStream, logs:PutLogEvents on ")
    assert f" in {boundary} too" in row.fix
    assert "grant the execution role" not in row.fix


def test_an_allow_under_a_condition_doctor_cannot_evaluate_warns(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-conditional-allow")

    assert not_passing(report) == [("role-reads-source-bucket", "warn")]
    assert report.check("role-reads-source-bucket").detail.startswith(
        "depends on a condition doctor cannot evaluate: ForAnyValue:StringLike aws:TagKeys (statement #2 of inline "
        "policy mwaa-execution)"
    )


def test_a_deny_under_a_condition_doctor_cannot_evaluate_warns_too(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-conditional-deny")

    assert not_passing(report) == [("role-reads-source-bucket", "warn")]
    assert report.check("role-reads-source-bucket").detail.startswith(
        "depends on a condition doctor cannot evaluate: StringNotEqualsIfExists aws:ResourceAccount "
        "(statement OwnAccountOnly of inline policy guard)"
    )
