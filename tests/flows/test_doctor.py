"""`mwaa-cp doctor`: each misconfiguration, built in the local runtime, fails exactly its check with its fix.

One runtime for the module: every environment is created once with its own misconfiguration, side by side
(their creations overlap on the virtual clock), and no test changes another's environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from mwaa_control_plane.airflow import AirflowClient
from mwaa_control_plane.clock import get_clock
from mwaa_control_plane.environments.doctor import (
    ControlPlaneWiring,
    DoctorClients,
    DoctorReport,
    run_doctor,
)
from mwaa_control_plane.environments.offhours.records import OffHoursRecord
from mwaa_control_plane.errors import NotFoundError
from mwaa_control_plane.state import StateRepository
from mwaa_cp_local.mwaa import models as mwaa_models
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment, network, source_bucket_name, wait_for_status
from mwaa_cp_local.server import LocalServer
from tests.conftest import REPO, load_event
from tests.flows.helpers import staging_bucket

pytestmark = pytest.mark.flow

# The stack may write only the buckets of environments named dev-*: team-b's bucket is outside it.
PATTERN = "airflow-dev-*"
AFTER_END_OF_SUPPORT = datetime(2026, 1, 15, tzinfo=UTC)
SSM_BACKEND = {
    "secrets.backend": "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend",
    "secrets.backend_kwargs": json.dumps(
        {
            "variables_prefix": "/airflow/variables",
            "connections_prefix": "/airflow/connections",
            "connections_lookup_pattern": "^(?!aws_default$).*",
        }
    ),
}
CHECK_IDS = [
    "bucket-versioning",
    "bucket-public-access-block",
    "artifact-versions",
    "role-reads-source-bucket",
    "role-writes-logs",
    "role-uses-celery-queue",
    "role-uses-kms-key",
    "role-reads-ssm-prefixes",
    "subnets-availability-zones",
    "subnets-private",
    "subnets-egress",
    "security-group-self-reference",
    "logging-enabled",
    "log-retention",
    "secrets-backend",
    "airflow-version-supported",
    "last-update",
    "import-errors",
    "staging-wired",
]
ALL_LOGS = ("DagProcessingLogs", "SchedulerLogs", "TaskLogs", "WebserverLogs", "WorkerLogs")
ROLE_CHECK_IDS = CHECK_IDS[3:8]


def _statements_without(aws: LocalAws, name: str, prefix: str) -> None:
    """Rewrite the seed's execution-role policy of ``name`` without the statements granting ``prefix`` actions."""
    iam = aws.client("iam")
    role = f"{name}-execution-role"
    document = iam.get_role_policy(RoleName=role, PolicyName="mwaa-execution")["PolicyDocument"]
    kept = [
        s
        for s in document["Statement"]
        if not any(a.startswith(prefix) for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    ]
    iam.put_role_policy(
        RoleName=role, PolicyName="mwaa-execution", PolicyDocument=json.dumps({**document, "Statement": kept})
    )


def _delete_bucket(aws: LocalAws, bucket: str) -> None:
    """Every object version and delete marker, then the bucket."""
    s3 = aws.client("s3")
    listing = s3.list_object_versions(Bucket=bucket)
    for entry in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]:
        s3.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])
    s3.delete_bucket(Bucket=bucket)


def _delete_role(aws: LocalAws, role: str) -> None:
    iam = aws.client("iam")
    for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=policy)
    iam.delete_role(RoleName=role)


class _WebServerTimesOut:
    """The CLI endpoint of a web server this machine cannot reach (a PRIVATE_ONLY one, from a laptop)."""

    def post(self, url: str, headers: Any, body: bytes, timeout: float) -> tuple[int, bytes]:
        raise TimeoutError(f"no answer from the MWAA CLI endpoint within {timeout} s")


def _subnet(aws: LocalAws, cidr: str, zone: str, *, route_to: str) -> str:
    """A subnet in the seed's VPC whose route table sends 0.0.0.0/0 to ``route_to`` (igw or nat)."""
    ec2 = aws.client("ec2")
    shared = network(aws)
    subnet = ec2.create_subnet(VpcId=shared.vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=shared.vpc_id)["RouteTable"]["RouteTableId"]
    if route_to == "igw":
        [gateway] = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [shared.vpc_id]}])[
            "InternetGateways"
        ]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway["InternetGatewayId"])
    else:
        [nat] = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [shared.vpc_id]}])["NatGateways"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat["NatGatewayId"])
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return str(subnet)


def _build(aws: LocalAws) -> None:
    """Every environment of the module, created without waiting, then waited for together."""
    s3 = aws.client("s3")
    ec2 = aws.client("ec2")
    shared = network(aws)
    zone_a, zone_b = f"{aws.region}a", f"{aws.region}b"
    names: list[str] = []

    def create(name: str, **extra: Any) -> None:
        create_environment(aws, name, wait=False, **extra)
        names.append(name)

    create("dev-healthy")
    create("dev-backend", AirflowConfigurationOptions=SSM_BACKEND)
    create("dev-unversioned")
    create("dev-public-bucket")
    # The requirements version the environment references is deleted after it was created.
    requirements_bucket = source_bucket_name("dev-requirements")
    s3.create_bucket(Bucket=requirements_bucket)
    s3.put_bucket_versioning(Bucket=requirements_bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=requirements_bucket, Key="requirements.txt", Body=b"# nothing to install\n")[
        "VersionId"
    ]
    create("dev-requirements", RequirementsS3Path="requirements.txt", RequirementsS3ObjectVersion=version)
    create("dev-no-s3-read")
    create("dev-no-logs-write")
    create("dev-no-ssm-read", AirflowConfigurationOptions=SSM_BACKEND)
    public = _subnet(aws, "10.192.20.0/24", zone_b, route_to="igw")
    [private_a] = [
        s["SubnetId"]
        for s in ec2.describe_subnets(SubnetIds=shared.subnet_ids)["Subnets"]
        if s["AvailabilityZone"] == zone_a
    ]
    create(
        "dev-public-subnet",
        NetworkConfiguration={
            "SubnetIds": [private_a, public],
            "SecurityGroupIds": [shared.security_group_id],
        },
    )
    same_zone = [
        _subnet(aws, "10.192.30.0/24", zone_a, route_to="nat"),
        _subnet(aws, "10.192.31.0/24", zone_a, route_to="nat"),
    ]
    create(
        "dev-one-zone", NetworkConfiguration={"SubnetIds": same_zone, "SecurityGroupIds": [shared.security_group_id]}
    )
    isolated = [
        ec2.create_subnet(VpcId=shared.vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for cidr, zone in (("10.192.40.0/24", zone_a), ("10.192.41.0/24", zone_b))
    ]
    create(
        "dev-no-egress", NetworkConfiguration={"SubnetIds": isolated, "SecurityGroupIds": [shared.security_group_id]}
    )
    lonely = ec2.create_security_group(GroupName="lonely", Description="no self-reference", VpcId=shared.vpc_id)
    create(
        "dev-no-self-reference",
        NetworkConfiguration={"SubnetIds": shared.subnet_ids, "SecurityGroupIds": [lonely["GroupId"]]},
    )
    create(
        "dev-worker-logs-off",
        LoggingConfiguration={t: {"Enabled": t != "WorkerLogs", "LogLevel": "INFO"} for t in ALL_LOGS},
    )
    create("dev-no-retention")
    create("dev-log-groups")
    create(
        "dev-bad-kwargs",
        AirflowConfigurationOptions={
            **SSM_BACKEND,
            "secrets.backend_kwargs": '{"variables_prefix": "/airflow/variables"',
        },
    )
    create("dev-old-airflow", airflow_version="2.5.1")
    create("dev-airflow-2-2-2", airflow_version="2.2.2")
    create("dev-no-bucket")
    create("dev-no-role")
    create("dev-update-failed")
    create("dev-import-errors")
    create("team-b")
    for name in names:
        wait_for_status(aws, name, {"AVAILABLE"})

    # Misconfigurations that come after the environment exists.
    s3.put_bucket_versioning(
        Bucket=source_bucket_name("dev-unversioned"), VersioningConfiguration={"Status": "Suspended"}
    )
    s3.delete_public_access_block(Bucket=source_bucket_name("dev-public-bucket"))
    s3.delete_object(Bucket=requirements_bucket, Key="requirements.txt", VersionId=version)
    _statements_without(aws, "dev-no-s3-read", "s3:")
    _statements_without(aws, "dev-no-logs-write", "logs:Create")
    _statements_without(aws, "dev-no-ssm-read", "ssm:")
    aws.client("logs").delete_retention_policy(logGroupName="airflow-dev-no-retention-Worker")
    aws.client("logs").delete_retention_policy(logGroupName="airflow-dev-log-groups-Task")
    aws.client("logs").delete_log_group(logGroupName="airflow-dev-log-groups-Worker")
    _delete_bucket(aws, source_bucket_name("dev-no-bucket"))
    _delete_role(aws, "dev-no-role-execution-role")
    s3.put_object(
        Bucket=source_bucket_name("dev-import-errors"),
        Key="dags/broken.py",
        Body=b"from airflow import DAG\n\nwith DAG('broken') as dag:\n    print(\n",
    )
    mwaa_models.fail_next_update("dev-update-failed", "INCORRECT_CONFIGURATION", "requirements.txt failed to install")
    aws.client("mwaa").update_environment(Name="dev-update-failed", MaxWorkers=4)
    wait_for_status(aws, "dev-update-failed", {"UPDATE_FAILED"})


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalAws]:
    with LocalAws(parameters={"MwaaSourceBucketPattern": PATTERN, "ManagedExecutionRolePattern": "*"}) as aws:
        # More environments than MWAA's default quota of 10, as an account with a raised quota has.
        mwaa_models.configure(environment_quota=25)
        _build(aws)
        yield aws


def _clients(aws: LocalAws) -> DoctorClients:
    return DoctorClients(
        mwaa=aws.client("mwaa"),
        s3=aws.client("s3"),
        iam=aws.client("iam"),
        ec2=aws.client("ec2"),
        logs=aws.client("logs"),
        kms=aws.client("kms"),
    )


def doctor(
    aws: LocalAws, name: str, *, now: datetime | None = None, airflow: AirflowClient | None = None
) -> DoctorReport:
    return run_doctor(
        _clients(aws),
        name,
        now=now or AFTER_END_OF_SUPPORT,
        wiring=ControlPlaneWiring(staging_bucket=staging_bucket(aws), source_bucket_pattern=PATTERN),
        airflow=airflow or AirflowClient(aws.client("mwaa"), name, clock=get_clock()),
        repository=StateRepository(aws.client("dynamodb"), aws.stack.ref("StateTable"), get_clock()),
    )


def failing(report: DoctorReport) -> list[str]:
    return [c.id for c in report.checks if c.status == "fail"]


# --------------------------------------------------------------------------------------------- healthy


def test_a_healthy_environment_passes_every_check(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-healthy")

    assert [(c.id, c.status) for c in report.checks] == [(check_id, "pass") for check_id in CHECK_IDS]
    assert report.exit_code == 0


def test_a_healthy_environment_with_an_ssm_backend_passes_every_check(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-backend")

    assert failing(report) == []
    assert "/airflow/variables" in report.check("secrets-backend").detail
    ssm = report.check("role-reads-ssm-prefixes")
    assert ssm.status == "pass" and "ssm:GetParameter" in ssm.detail


def test_the_role_rows_say_how_the_permissions_were_evaluated(runtime: LocalAws) -> None:
    # moto has no policy simulator: the role's documents are read, and the row says so.
    row = doctor(runtime, "dev-healthy").check("role-reads-source-bucket")

    assert "reading the role's policy documents (IAM policy simulation unavailable)" in row.detail


# --------------------------------------------------------------------------------------------- the bucket


def test_versioning_suspended_fails_bucket_versioning(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-unversioned")

    assert failing(report) == ["bucket-versioning"]
    row = report.check("bucket-versioning")
    assert "versioning is Suspended" in row.detail
    assert row.fix == (
        "aws s3api put-bucket-versioning --bucket airflow-dev-unversioned --versioning-configuration Status=Enabled"
    )


def test_a_missing_public_access_block_fails_its_check(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-public-bucket")

    assert failing(report) == ["bucket-public-access-block"]
    assert report.check("bucket-public-access-block").fix == (
        "aws s3api put-public-access-block --bucket airflow-dev-public-bucket --public-access-block-configuration "
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
    )


def test_a_deleted_source_bucket_fails_both_bucket_rows_with_a_recreate_fix(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-no-bucket")

    assert failing(report) == ["bucket-versioning", "bucket-public-access-block"]
    for check_id in ("bucket-versioning", "bucket-public-access-block"):
        row = report.check(check_id)
        assert row.detail.startswith("s3://airflow-dev-no-bucket does not exist (")
        assert row.fix == (
            "aws s3api create-bucket --bucket airflow-dev-no-bucket && "
            "aws s3api put-bucket-versioning --bucket airflow-dev-no-bucket --versioning-configuration Status=Enabled"
            " && aws s3api put-public-access-block --bucket airflow-dev-no-bucket --public-access-block-configuration "
            "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true, then push "
            "the DAGs again through the staging bucket; or point the environment at an existing versioned bucket "
            "that blocks public access (aws mwaa update-environment --name dev-no-bucket --source-bucket-arn ITS_ARN)"
        )


def test_a_deleted_requirements_version_fails_artifact_versions(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-requirements")

    assert failing(report) == ["artifact-versions"]
    row = report.check("artifact-versions")
    assert "missing: requirements s3://airflow-dev-requirements/requirements.txt version" in row.detail
    assert row.fix.startswith("upload the file again and update the environment with its new object version")


# --------------------------------------------------------------------------------------------- the role


def test_a_role_without_s3_read_fails_role_reads_source_bucket(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-no-s3-read")

    assert failing(report) == ["role-reads-source-bucket"]
    row = report.check("role-reads-source-bucket")
    assert "s3:ListBucket on arn:aws:s3:::airflow-dev-no-s3-read (implicitDeny)" in row.detail
    assert row.fix == (
        "grant the execution role s3:GetObject*, s3:GetBucket* and s3:List* on arn:aws:s3:::airflow-dev-no-s3-read "
        "and arn:aws:s3:::airflow-dev-no-s3-read/*"
    )


def test_a_role_without_logs_write_fails_role_writes_logs(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-no-logs-write")

    assert failing(report) == ["role-writes-logs"]
    row = report.check("role-writes-logs")
    assert "logs:CreateLogStream on arn:aws:logs:us-east-1:123456789012:log-group:airflow-dev-no-logs-write-Task" in (
        row.detail
    )
    assert row.fix.startswith(
        "grant the execution role logs:CreateLogStream, logs:CreateLogGroup, logs:PutLogEvents, logs:GetLogEvents, "
        "logs:GetLogRecord, logs:GetLogGroupFields and logs:GetQueryResults on "
        "arn:aws:logs:us-east-1:123456789012:log-group:airflow-dev-no-logs-write-*"
    )


def test_a_role_without_ssm_read_fails_role_reads_ssm_prefixes(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-no-ssm-read")

    assert failing(report) == ["role-reads-ssm-prefixes"]
    assert report.check("role-reads-ssm-prefixes").fix == (
        "grant the execution role ssm:GetParameter and ssm:GetParameters on "
        "arn:aws:ssm:us-east-1:123456789012:parameter/airflow/variables/*, "
        "arn:aws:ssm:us-east-1:123456789012:parameter/airflow/connections/* "
        "(and kms:Decrypt on the key of SecureString parameters when it is a customer managed key)"
    )


def test_a_deleted_execution_role_fails_every_role_row(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-no-role")

    assert failing(report) == ROLE_CHECK_IDS
    for check_id in ROLE_CHECK_IDS:
        row = report.check(check_id)
        assert "arn:aws:iam::123456789012:role/dev-no-role-execution-role does not exist" in row.detail
        assert row.fix.startswith("create the role")
        assert "ExecutionRoleArn" in row.fix


# --------------------------------------------------------------------------------------------- the network


def test_a_public_subnet_fails_subnets_private(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-public-subnet")

    assert failing(report) == ["subnets-private"]
    row = report.check("subnets-private")
    assert "default route" in row.detail and " to igw-" in row.detail
    assert row.fix.startswith("route the subnet's 0.0.0.0/0 to a NAT gateway instead of the internet gateway")


def test_two_subnets_in_one_zone_fail_subnets_availability_zones(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-one-zone")

    assert failing(report) == ["subnets-availability-zones"]
    assert report.check("subnets-availability-zones").fix == (
        "the subnets cannot change: recreate the environment with two private subnets in two Availability Zones"
    )


def test_subnets_without_nat_or_endpoints_fail_subnets_egress(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-no-egress")

    assert failing(report) == ["subnets-egress"]
    row = report.check("subnets-egress")
    assert "VPC endpoints missing for airflow.api, airflow.env, airflow.ops, sqs" in row.detail
    assert row.fix.startswith("add a 0.0.0.0/0 route to a NAT gateway in each subnet's route table")


def test_a_security_group_without_self_reference_fails_its_check(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-no-self-reference")

    assert failing(report) == ["security-group-self-reference"]
    group = runtime.client("mwaa").get_environment(Name="dev-no-self-reference")["Environment"]["NetworkConfiguration"][
        "SecurityGroupIds"
    ][0]
    assert report.check("security-group-self-reference").fix == (
        f"aws ec2 authorize-security-group-ingress --group-id {group} --ip-permissions "
        f"'IpProtocol=-1,UserIdGroupPairs=[{{GroupId={group}}}]'"
    )


# --------------------------------------------------------------------------------------------- logging


def test_a_disabled_log_type_fails_logging_enabled(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-worker-logs-off")

    assert failing(report) == ["logging-enabled"]
    assert report.check("logging-enabled").fix == (
        "aws mwaa update-environment --name dev-worker-logs-off --logging-configuration "
        "'WorkerLogs={Enabled=true,LogLevel=INFO}'"
    )


def test_a_log_group_kept_forever_fails_log_retention(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-no-retention")

    assert failing(report) == ["log-retention"]
    assert report.check("log-retention").fix == (
        "aws logs put-retention-policy --log-group-name airflow-dev-no-retention-Worker --retention-in-days 30"
    )


def test_a_missing_log_group_and_one_kept_forever_are_named_in_one_row(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-log-groups")

    assert failing(report) == ["log-retention"]
    row = report.check("log-retention")
    assert row.detail.startswith(
        "never expire: airflow-dev-log-groups-Task; CloudWatch Logs bills every GB stored for as long as it is kept; "
        "not created yet: airflow-dev-log-groups-Worker; retention set: "
    )
    assert row.fix == (
        "aws logs put-retention-policy --log-group-name airflow-dev-log-groups-Task --retention-in-days 30 && "
        "aws logs create-log-group --log-group-name airflow-dev-log-groups-Worker && "
        "aws logs put-retention-policy --log-group-name airflow-dev-log-groups-Worker --retention-in-days 30"
    )


# --------------------------------------------------------------------------------------------- configuration


def test_backend_kwargs_that_are_not_json_fail_secrets_backend(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-bad-kwargs")

    assert failing(report) == ["secrets-backend"]
    row = report.check("secrets-backend")
    assert row.detail.startswith("kwargs-not-json: secrets.backend_kwargs is not valid JSON")
    assert row.fix.startswith('set secrets.backend_kwargs to a JSON object, e.g. {"variables_prefix": ')


def test_airflow_2_5_1_fails_after_its_end_of_support(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-old-airflow")

    assert failing(report) == ["airflow-version-supported"]
    row = report.check("airflow-version-supported")
    assert row.detail == "Airflow 2.5.1: MWAA support ended 2025-12-30"
    assert row.fix.startswith(
        "upgrade in place: aws mwaa update-environment --name dev-old-airflow --airflow-version 2.11.0"
    )


def test_airflow_2_5_1_warns_before_its_end_of_support_with_the_clock_it_is_given(runtime: LocalAws) -> None:
    row = doctor(runtime, "dev-old-airflow", now=datetime(2025, 11, 1, tzinfo=UTC)).check("airflow-version-supported")

    assert (row.status, row.detail) == ("warn", "Airflow 2.5.1: MWAA support ends 2025-12-30 (59 days)")


def test_airflow_older_than_every_accepted_version_fails_without_an_invented_date(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-airflow-2-2-2")

    assert failing(report) == ["airflow-version-supported"]
    row = report.check("airflow-version-supported")
    assert row.detail == (
        "Airflow 2.2.2: no longer supported by MWAA (older than 2.7.2, the oldest version MWAA accepts); "
        "a recreate (hibernate, disaster recovery) would be refused"
    )
    assert row.fix.startswith(
        "upgrade in place: aws mwaa update-environment --name dev-airflow-2-2-2 --airflow-version 2.11.0"
    )


def test_a_failed_last_update_fails_with_its_error(runtime: LocalAws) -> None:
    report = doctor(runtime, "dev-update-failed")

    assert failing(report) == ["last-update"]
    assert report.check("last-update").detail == (
        "LastUpdate.Status FAILED: INCORRECT_CONFIGURATION: requirements.txt failed to install"
    )


def test_import_errors_fail_with_the_file(runtime: LocalAws) -> None:
    deadline = time.monotonic() + 20
    report = doctor(runtime, "dev-import-errors")
    while report.check("import-errors").status == "pass" and time.monotonic() < deadline:
        time.sleep(0.1)  # the scheduler lists the DAG folder every 300 virtual seconds
        report = doctor(runtime, "dev-import-errors")

    assert failing(report) == ["import-errors"]
    row = report.check("import-errors")
    assert row.detail.startswith("1 DAG file(s) fail to import: ")
    assert "broken.py" in row.detail
    assert row.fix.startswith("fix the files (mwaa-cp validate FILE shows why before upload)")


def test_an_airflow_web_server_that_times_out_warns_import_errors_and_every_other_row_is_reported(
    runtime: LocalAws,
) -> None:
    # Airflow 2.2.2 is asked through its web server's CLI endpoint, which does not answer from here.
    airflow = AirflowClient(
        runtime.client("mwaa"), "dev-airflow-2-2-2", clock=get_clock(), transport=_WebServerTimesOut()
    )

    report = doctor(runtime, "dev-airflow-2-2-2", airflow=airflow)

    assert [c.id for c in report.checks] == CHECK_IDS
    assert failing(report) == ["airflow-version-supported"]
    row = report.check("import-errors")
    assert row.status == "warn"
    assert row.detail == "could not check: Airflow did not answer (CLI dags list-import-errors: TimeoutError)"
    assert row.fix.startswith("run the doctor where the web server answers")


def test_a_source_bucket_outside_the_stacks_pattern_fails_staging_wired(runtime: LocalAws) -> None:
    report = doctor(runtime, "team-b")

    assert failing(report) == ["staging-wired"]
    row = report.check("staging-wired")
    assert f"s3://{staging_bucket(runtime)}/team-b/dags/ -> s3://airflow-team-b/dags/" in row.detail
    assert row.fix == (
        "deploy the control plane with a MwaaSourceBucketPattern that matches airflow-team-b "
        "(e.g. sam deploy --parameter-overrides MwaaSourceBucketPattern=airflow-*)"
    )


def _hibernate_dev_sleeping(runtime: LocalAws) -> None:
    repository = StateRepository(runtime.client("dynamodb"), runtime.stack.ref("StateTable"), get_clock())
    if repository.off_hours_record("dev-sleeping") is not None:
        return  # the module's runtime already has it (tests share it)
    since = datetime(2026, 1, 14, 20, tzinfo=UTC)
    repository.put_off_hours_record(OffHoursRecord(environment_name="dev-sleeping", state="hibernated", since=since))


def test_a_hibernated_environment_is_one_row_not_failures(runtime: LocalAws) -> None:
    _hibernate_dev_sleeping(runtime)

    report = doctor(runtime, "dev-sleeping")

    assert [(c.id, c.status) for c in report.checks] == [("environment-hibernated", "pass")]
    assert "HIBERNATED since 2026-01-14 20:00 UTC" in report.checks[0].detail


def test_an_unknown_environment_is_not_found(runtime: LocalAws) -> None:
    with pytest.raises(NotFoundError):
        doctor(runtime, "dev-nobody")


# --------------------------------------------------------------------------------------------- health flow


def test_the_health_flow_report_carries_the_failing_checks(runtime: LocalAws) -> None:
    arn = runtime.start_execution("environment-health", {"environment_name": "dev-unversioned"})
    result = runtime.wait_for_execution(arn)

    assert result["status"] == "SUCCEEDED", result
    [report] = json.loads(result["output"])
    assert report["healthy"] is False
    assert [c["id"] for c in report["failing_checks"]] == ["bucket-versioning"]
    assert report["problems"] == [f"bucket-versioning: {report['failing_checks'][0]['detail']}"]


def test_the_health_flow_finds_a_healthy_environment_healthy(runtime: LocalAws) -> None:
    event = {**load_event("environment-health/one-environment.json"), "environment_name": "dev-healthy"}
    result = runtime.wait_for_execution(runtime.start_execution("environment-health", event))

    [report] = json.loads(result["output"])
    assert (report["healthy"], report["failing_checks"], report["problems"]) == (True, [], [])


# --------------------------------------------------------------------------------------------- the CLI


@pytest.fixture(scope="module")
def endpoint(runtime: LocalAws) -> Iterator[list[str]]:
    """The local endpoint, and the stack's wiring as options (the local runtime registers no CloudFormation stack)."""
    server = LocalServer(port=0).start()
    try:
        yield [
            "--endpoint-url",
            server.endpoint_url,
            "--staging-bucket",
            staging_bucket(runtime),
            "--source-bucket-pattern",
            PATTERN,
            "--state-table",
            runtime.stack.ref("StateTable"),
        ]
    finally:
        server.stop()


def _mwaa_cp(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if k != "COLUMNS"},
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("cli", "layers/common", "local")),
    }
    return subprocess.run(
        [sys.executable, "-m", "mwaa_cp_cli.main", "doctor", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_the_cli_exits_0_and_prints_every_row_for_a_healthy_environment(endpoint: list[str]) -> None:
    result = _mwaa_cp("dev-healthy", *endpoint)

    assert result.returncode == 0, result.stderr
    assert "dev-healthy: 19 passed, 0 warnings, 0 failed" in result.stdout
    assert "security-group-self-reference" in result.stdout


def test_the_cli_exits_1_with_json_reports_when_a_check_fails(endpoint: list[str]) -> None:
    result = _mwaa_cp("dev-unversioned", "--format", "json", *endpoint)

    assert result.returncode == 1, result.stderr
    output = json.loads(result.stdout)
    [report] = output["environments"]
    assert report["environment_name"] == "dev-unversioned" and report["failed"] is True
    assert [c["id"] for c in report["checks"] if c["status"] == "fail"] == ["bucket-versioning"]
    assert output["wiring"]["source_bucket_pattern"] == PATTERN


def test_the_cli_reports_an_unreachable_web_server_as_a_warning_and_keeps_its_json_clean(endpoint: list[str]) -> None:
    # The CLI asks Airflow 2.2.2's web server at its MWAA host name, which this machine cannot reach.
    result = _mwaa_cp("dev-airflow-2-2-2", "--format", "json", *endpoint)

    assert result.returncode == 1, result.stderr
    [report] = json.loads(result.stdout)["environments"]  # nothing but the report on stdout
    rows = {c["id"]: c for c in report["checks"]}
    assert list(rows) == CHECK_IDS
    assert rows["import-errors"]["status"] == "warn"
    assert rows["import-errors"]["detail"].startswith("could not check: ")
    assert [c["id"] for c in report["checks"] if c["status"] == "fail"] == ["airflow-version-supported"]


def test_the_cli_exits_2_on_a_usage_error_or_an_unknown_environment(endpoint: list[str]) -> None:
    usage = _mwaa_cp("dev-healthy", "--format", "yaml", *endpoint)
    unknown = _mwaa_cp("dev-nobody", *endpoint)

    assert usage.returncode == 2 and "--format must be text or json" in usage.stderr
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert "dev-nobody" in unknown.stderr


def test_the_cli_without_an_environment_checks_every_one_and_fails_if_any_fails(
    runtime: LocalAws, endpoint: list[str]
) -> None:
    _hibernate_dev_sleeping(runtime)  # the same record whichever test ran first (xdist splits the module)
    result = _mwaa_cp("--format", "json", *endpoint)

    assert result.returncode == 1, result.stderr
    reports = {r["environment_name"]: r for r in json.loads(result.stdout)["environments"]}
    assert reports["dev-healthy"]["failed"] is False
    assert reports["dev-unversioned"]["failed"] is True
    # An environment whose web server does not answer is reported too, without stopping the others.
    assert reports["dev-airflow-2-2-2"]["failed"] is True
    # Hibernated ones come from the state table, as one row each.
    assert [c["id"] for c in reports["dev-sleeping"]["checks"]] == ["environment-hibernated"]
