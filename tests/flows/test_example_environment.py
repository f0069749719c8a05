"""The example environment stack (examples/environment/template.yaml): cfn-lint clean, and provisioned by the
local runtime next to the control plane into exactly the environment the setup guides build by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from mwaa_control_plane.environments.offhours.schedule import desired_state
from mwaa_control_plane.environments.offhours.tags import config_from_tags
from mwaa_cp_local.provisioner import ProvisionedStack, load_template
from mwaa_cp_local.runtime import ACCOUNT_ID, LocalAws
from tests.conftest import REPO

pytestmark = pytest.mark.flow

TEMPLATE = REPO / "examples" / "environment" / "template.yaml"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
LOG_GROUP_SUFFIXES = {"DAGProcessing", "Scheduler", "Task", "WebServer", "Worker"}
# Actions that may have Resource "*": AWS offers them no resource-level permission.
STAR_RESOURCE_ACTIONS = {"cloudwatch:PutMetricData", "logs:DescribeLogGroups", "s3:GetAccountPublicAccessBlock"}


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalAws]:
    """One local account for the module: every stack below has its own names, so they do not interfere."""
    with LocalAws() as aws:
        yield aws


@pytest.fixture(scope="module")
def dev(runtime: LocalAws) -> ProvisionedStack:
    return runtime.deploy(TEMPLATE, "analytics-dev-env", {"ProjectName": "analytics", "Stage": "dev"})


@pytest.fixture(scope="module")
def prod(runtime: LocalAws) -> ProvisionedStack:
    parameters = {"ProjectName": "billing", "Stage": "prod", "AirflowVersion": "3.0.6", "OffHoursMode": "hibernate"}
    return runtime.deploy(TEMPLATE, "billing-prod-env", parameters)


def _environment(runtime: LocalAws, stack: ProvisionedStack) -> dict[str, Any]:
    environment: dict[str, Any] = runtime.client("mwaa").get_environment(Name=stack.outputs["EnvironmentName"])[
        "Environment"
    ]
    return environment


def _role_policy(runtime: LocalAws, stack: ProvisionedStack) -> list[dict[str, Any]]:
    iam = runtime.client("iam")
    role = stack.ref("ExecutionRole")
    [name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    statements: list[dict[str, Any]] = document["Statement"]
    return statements


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


# ---------------------------------------------------------------------- the template itself


def test_the_example_template_passes_cfn_lint() -> None:
    from cfnlint.api import lint_file

    matches = lint_file(TEMPLATE)
    assert not matches, "\n".join(str(m) for m in matches)


def test_the_template_has_the_parameters_of_the_guides_module() -> None:
    parameters = set(load_template(TEMPLATE)["Parameters"])
    assert parameters == {
        "ProjectName",
        "Stage",
        "VpcId",
        "PrivateSubnetIds",
        "VpcCidr",
        "EnvironmentClass",
        "MinWorkers",
        "MaxWorkers",
        "Schedulers",
        "AirflowVersion",
        "WebserverAccessMode",
        "LogLevel",
        "LogRetentionDays",
        "OffHoursMode",
        "OffHoursWindow",
        "OffHoursTimezone",
    }


# ---------------------------------------------------------------------- a new VPC, stage dev


def test_the_dev_environment_becomes_available_with_the_stacks_outputs(
    runtime: LocalAws, dev: ProvisionedStack
) -> None:
    environment = _environment(runtime, dev)
    assert environment["Status"] == "AVAILABLE"
    assert dev.outputs["EnvironmentName"] == "analytics-dev"
    assert dev.outputs["EnvironmentArn"] == environment["Arn"]
    assert dev.outputs["WebserverUrl"] == f"https://{environment['WebserverUrl']}"
    assert dev.outputs["ExecutionRoleArn"] == environment["ExecutionRoleArn"]
    assert environment["SourceBucketArn"] == f"arn:aws:s3:::{dev.outputs['SourceBucketName']}"
    assert environment["NetworkConfiguration"]["SecurityGroupIds"] == [dev.outputs["SecurityGroupId"]]
    assert (environment["AirflowVersion"], environment["EnvironmentClass"]) == ("2.10.3", "mw1.small")
    assert (environment["MinWorkers"], environment["MaxWorkers"], environment["Schedulers"]) == (1, 5, 2)
    assert environment["WebserverAccessMode"] == "PRIVATE_ONLY"


def test_the_dev_environment_is_tagged_for_off_hours_analysis_and_variables(
    runtime: LocalAws, dev: ProvisionedStack
) -> None:
    tags = _environment(runtime, dev)["Tags"]
    assert tags["mwaa-cp:off-hours"] == "scale-down"
    assert tags["mwaa-cp:window"] == "Mon-Fri 20:00-07:00 / Sat-Sun"
    assert tags["mwaa-cp:timezone"] == "UTC"
    assert tags["mwaa-cp:analysis"] == "on"
    assert tags["mwaa-cp:variables"] == "on"
    assert "mwaa-cp:protected" not in tags
    # The control plane's own reading of the tags: managed, and off on a Saturday.
    config = config_from_tags(tags)
    assert config.mode == "scale-down" and config.protection is None
    assert desired_state(config, datetime(2026, 3, 7, 12, 0, tzinfo=UTC)).state == "scaled-down"


def test_the_two_private_subnets_are_in_different_zones_and_route_to_the_nat_gateway(
    runtime: LocalAws, dev: ProvisionedStack
) -> None:
    ec2 = runtime.client("ec2")
    subnet_ids = _environment(runtime, dev)["NetworkConfiguration"]["SubnetIds"]
    assert subnet_ids == [dev.ref("PrivateSubnet1"), dev.ref("PrivateSubnet2")]
    subnets = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 2
    assert {s["VpcId"] for s in subnets} == {dev.ref("Vpc")}
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)
    nat_id = dev.ref("NatGateway")
    for subnet_id in subnet_ids:
        [table] = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])[
            "RouteTables"
        ]
        default = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        assert [r.get("NatGatewayId") for r in default] == [nat_id], subnet_id
    # The NAT gateway sits in the public subnet, whose default route is the internet gateway.
    [nat] = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"]
    assert nat["SubnetId"] == dev.ref("PublicSubnet")
    [public] = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [nat["SubnetId"]]}])[
        "RouteTables"
    ]
    assert {r.get("GatewayId") for r in public["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"} == {
        dev.ref("InternetGateway")
    }


def test_the_security_group_admits_itself_on_https_and_lets_everything_out(
    runtime: LocalAws, dev: ProvisionedStack
) -> None:
    group_id = dev.outputs["SecurityGroupId"]
    [group] = runtime.client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    assert group["VpcId"] == dev.ref("Vpc")
    inbound = {
        (rule["IpProtocol"], rule.get("FromPort"), pair["GroupId"])
        for rule in group["IpPermissions"]
        for pair in rule.get("UserIdGroupPairs", [])
    }
    assert ("tcp", 443, group_id) in inbound
    assert all(source == group_id for _, _, source in inbound)
    assert not any(rule.get("IpRanges") for rule in group["IpPermissions"]), "nothing is open to an address range"
    outbound = [
        (rule["IpProtocol"], [r["CidrIp"] for r in rule.get("IpRanges", [])]) for rule in group["IpPermissionsEgress"]
    ]
    assert outbound == [("-1", ["0.0.0.0/0"])]


def test_the_source_bucket_is_named_airflow_versioned_private_encrypted_and_sends_events(
    runtime: LocalAws, dev: ProvisionedStack
) -> None:
    s3 = runtime.client("s3")
    bucket = dev.outputs["SourceBucketName"]
    assert bucket == "airflow-analytics-dev-123456789012"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # moto's GetBucketNotificationConfiguration leaves EventBridge out; its bucket model holds it (as the
    # local runtime's S3 -> EventBridge delivery reads it).
    from moto.s3.models import s3_backends

    assert s3_backends[ACCOUNT_ID]["aws"].buckets[bucket].notification_configuration.event_bridge is not None


def test_every_log_type_is_on_and_writes_to_a_log_group_with_retention(
    runtime: LocalAws, dev: ProvisionedStack
) -> None:
    logging = _environment(runtime, dev)["LoggingConfiguration"]
    modules = ("DagProcessingLogs", "SchedulerLogs", "TaskLogs", "WebserverLogs", "WorkerLogs")
    assert {module: (s["Enabled"], s["LogLevel"]) for module, s in logging.items()} == dict.fromkeys(
        modules, (True, "INFO")
    )
    # The groups MWAA writes to are the ones the stack created first, under MWAA's own names.
    used = {s["CloudWatchLogGroupArn"].split(":log-group:")[1] for s in logging.values()}
    assert used == {f"airflow-analytics-dev-{suffix}" for suffix in LOG_GROUP_SUFFIXES}
    groups = runtime.client("logs").describe_log_groups(logGroupNamePrefix="airflow-analytics-dev-")["logGroups"]
    assert {g["logGroupName"]: g.get("retentionInDays") for g in groups} == dict.fromkeys(used, 30)


def test_the_secrets_backend_reads_ssm_under_the_stages_own_prefixes(runtime: LocalAws, dev: ProvisionedStack) -> None:
    options = _environment(runtime, dev)["AirflowConfigurationOptions"]
    assert options["secrets.backend"] == SSM_BACKEND
    kwargs = json.loads(options["secrets.backend_kwargs"])
    assert kwargs["connections_prefix"] == "/airflow/dev/connections"
    assert kwargs["variables_prefix"] == "/airflow/dev/variables"
    # MWAA's default kept: aws_default is never looked up in SSM, every other connection is.
    pattern = kwargs["connections_lookup_pattern"]
    assert re_match(pattern, "aws_default") is False
    assert re_match(pattern, "aws_default_eu") is True and re_match(pattern, "warehouse") is True
    assert "workers.secrets_backend_kwargs" not in options, "Airflow 2 has no workers section for it"


def re_match(pattern: str, key: str) -> bool:
    import re

    # Airflow matches lookup patterns from the start of the key, case-insensitively.
    return re.match(pattern, key, re.IGNORECASE) is not None


def test_the_execution_role_is_trusted_by_mwaa_and_passable_by_the_control_plane(
    runtime: LocalAws, dev: ProvisionedStack
) -> None:
    role = runtime.client("iam").get_role(RoleName=dev.ref("ExecutionRole"))["Role"]
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert sorted(_as_list(statement["Principal"]["Service"])) == ["airflow-env.amazonaws.com", "airflow.amazonaws.com"]
    # The control plane's default ManagedExecutionRolePattern is service-role/AmazonMWAA-*.
    assert role["Arn"].split(":role/")[1].startswith("service-role/AmazonMWAA-")


def test_the_execution_role_grants_nothing_on_every_resource_but_what_aws_requires(
    runtime: LocalAws, dev: ProvisionedStack
) -> None:
    statements = _role_policy(runtime, dev)
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if "*" in _as_list(statement["Resource"]):
            assert set(_as_list(statement["Action"])) <= STAR_RESOURCE_ACTIONS, statement
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["ReadStageSecrets"]["Resource"] == [
        "arn:aws:ssm:us-east-1:123456789012:parameter/airflow/dev/connections/*",
        "arn:aws:ssm:us-east-1:123456789012:parameter/airflow/dev/variables/*",
    ]
    assert by_sid["WriteEnvironmentLogs"]["Resource"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:airflow-analytics-dev-*"
    )
    assert by_sid["UseCeleryQueue"]["Resource"] == "arn:aws:sqs:us-east-1:*:airflow-celery-*"
    assert by_sid["UseCeleryQueueKeyThroughSqs"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}
    }
    assert by_sid["PublishEnvironmentMetrics"]["Resource"] == _environment(runtime, dev)["Arn"]
    bucket_arn = f"arn:aws:s3:::{dev.outputs['SourceBucketName']}"
    assert by_sid["ReadSourceBucket"]["Resource"] == [bucket_arn, f"{bucket_arn}/*"]
    assert not any(a.startswith(("s3:Put", "s3:Delete")) for a in _as_list(by_sid["ReadSourceBucket"]["Action"]))


# ---------------------------------------------------------------------- prod


def test_a_prod_environment_is_protected_and_never_managed_by_off_hours(
    runtime: LocalAws, prod: ProvisionedStack
) -> None:
    tags = _environment(runtime, prod)["Tags"]
    assert tags["mwaa-cp:protected"] == "true"
    # OffHoursMode=hibernate was asked for, and prod ignores it.
    assert not {"mwaa-cp:off-hours", "mwaa-cp:window", "mwaa-cp:timezone"} & set(tags)
    decision = desired_state(config_from_tags(tags), datetime(2026, 3, 7, 12, 0, tzinfo=UTC))
    assert (decision.state, decision.reason) == ("awake", "protected")


def test_a_prod_environment_reads_only_the_prod_prefixes(runtime: LocalAws, prod: ProvisionedStack) -> None:
    [resources] = [s["Resource"] for s in _role_policy(runtime, prod) if s["Sid"] == "ReadStageSecrets"]
    assert resources == [
        "arn:aws:ssm:us-east-1:123456789012:parameter/airflow/prod/connections/*",
        "arn:aws:ssm:us-east-1:123456789012:parameter/airflow/prod/variables/*",
    ]


def test_on_airflow_3_the_workers_get_the_same_secrets_backend_kwargs(
    runtime: LocalAws, prod: ProvisionedStack
) -> None:
    options = _environment(runtime, prod)["AirflowConfigurationOptions"]
    assert options["secrets.backend"] == SSM_BACKEND
    assert json.loads(options["workers.secrets_backend_kwargs"]) == json.loads(options["secrets.backend_kwargs"])
    assert json.loads(options["secrets.backend_kwargs"])["variables_prefix"] == "/airflow/prod/variables"


# ---------------------------------------------------------------------- an existing VPC


def test_an_existing_vpc_and_its_two_private_subnets_are_used_as_given(runtime: LocalAws) -> None:
    # Given a VPC a network team built, with two private subnets in two zones
    ec2 = runtime.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.50.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    vpcs_before = len(ec2.describe_vpcs()["Vpcs"])
    # When the stack is deployed into it
    stack = runtime.deploy(
        TEMPLATE,
        "ingest-staging-env",
        {
            "ProjectName": "ingest",
            "Stage": "staging",
            "VpcId": vpc_id,
            "PrivateSubnetIds": ",".join(subnet_ids),
            "OffHoursMode": "off",
        },
    )
    # Then the environment runs in those subnets, and the stack built no network of its own
    environment = _environment(runtime, stack)
    assert environment["Status"] == "AVAILABLE"
    assert environment["NetworkConfiguration"]["SubnetIds"] == subnet_ids
    assert stack.outputs["PrivateSubnetIds"] == ",".join(subnet_ids)
    assert not stack.of_type("AWS::EC2::VPC") and not stack.of_type("AWS::EC2::NatGateway")
    assert len(ec2.describe_vpcs()["Vpcs"]) == vpcs_before
    [group] = ec2.describe_security_groups(GroupIds=[stack.outputs["SecurityGroupId"]])["SecurityGroups"]
    assert group["VpcId"] == vpc_id
    # OffHoursMode=off: not managed by off-hours, and not protected either
    tags = environment["Tags"]
    assert not {"mwaa-cp:off-hours", "mwaa-cp:protected"} & set(tags)
    assert tags["stage"] == "staging"


# ------------------------------------------------------------------ the control plane manages it


def test_the_control_plane_manages_the_example_environment(runtime: LocalAws, dev: ProvisionedStack) -> None:
    """The environment the stack creates passes every doctor check and receives the control plane's variables."""
    from mwaa_control_plane.airflow import AirflowClient
    from mwaa_control_plane.clock import get_clock
    from mwaa_control_plane.environments.doctor import ControlPlaneWiring, DoctorClients, run_doctor
    from mwaa_control_plane.state import StateRepository
    from mwaa_cp_local.mwaa import airflow_of, read_variable

    name = dev.outputs["EnvironmentName"]
    report = run_doctor(
        DoctorClients(
            mwaa=runtime.client("mwaa"),
            s3=runtime.client("s3"),
            iam=runtime.client("iam"),
            ec2=runtime.client("ec2"),
            logs=runtime.client("logs"),
            kms=runtime.client("kms"),
        ),
        name,
        now=datetime(2026, 11, 30, tzinfo=UTC),
        wiring=ControlPlaneWiring(staging_bucket=runtime.stack.ref("StagingBucket"), source_bucket_pattern="airflow-*"),
        airflow=AirflowClient(runtime.client("mwaa"), name, clock=get_clock()),
        repository=StateRepository(runtime.client("dynamodb"), runtime.stack.ref("StateTable"), get_clock()),
    )
    assert [c.id for c in report.checks if c.status != "pass"] == []

    runtime.client("ssm").put_parameter(Name="/mwaa-cp/variables/global/example_bucket", Value="data", Type="String")
    runtime.events.drain(timeout=30)
    runtime.wait_for_executions("variable-propagation", 1)
    assert read_variable(airflow_of(name), "example_bucket", on="worker") == "data"
