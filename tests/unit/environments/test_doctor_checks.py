"""The doctor's rows without AWS: version verdicts, logging and retention fixes, a missing bucket, guarded reads."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mwaa_control_plane.environments.doctor.configuration import version_check
from mwaa_control_plane.environments.doctor.facts import EnvironmentFacts
from mwaa_control_plane.environments.doctor.logs import logging_check, retention_check
from mwaa_control_plane.environments.doctor.models import Check, passed
from mwaa_control_plane.environments.doctor.run import _guarded
from mwaa_control_plane.environments.doctor.storage import public_access_check, versioning_check
from mwaa_control_plane.errors import (
    AwsRequestError,
    NotFoundError,
    ServiceUnavailableError,
    ThrottledError,
    translate_client_error,
)

AFTER_END_OF_SUPPORT = datetime(2026, 1, 15, tzinfo=UTC)
LONG_BEFORE_END_OF_SUPPORT = datetime(2025, 6, 1, tzinfo=UTC)
ALL_LOGS = ("DagProcessingLogs", "SchedulerLogs", "TaskLogs", "WebserverLogs", "WorkerLogs")


def facts(**environment: Any) -> EnvironmentFacts:
    region = environment.pop("region", "us-east-1")
    return EnvironmentFacts.of(
        {
            "Name": "dev-analytics",
            "Arn": f"arn:aws:airflow:{region}:123456789012:environment/dev-analytics",
            "Status": "AVAILABLE",
            "AirflowVersion": "2.10.3",
            "SourceBucketArn": "arn:aws:s3:::airflow-dev-analytics",
            "DagS3Path": "dags",
            "LoggingConfiguration": {t: {"Enabled": True, "LogLevel": "INFO"} for t in ALL_LOGS},
            **environment,
        }
    )


def client_error(code: str, message: str = "", operation: str = "Operation") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


# --------------------------------------------------------------------------------------------- Airflow version


def test_a_version_older_than_every_accepted_one_fails_without_a_date() -> None:
    row = version_check(facts(AirflowVersion="2.2.2"), AFTER_END_OF_SUPPORT)

    assert row.status == "fail"
    assert row.detail == (
        "Airflow 2.2.2: no longer supported by MWAA (older than 2.7.2, the oldest version MWAA accepts); "
        "a recreate (hibernate, disaster recovery) would be refused"
    )
    assert row.fix.startswith("upgrade in place: aws mwaa update-environment --name dev-analytics --airflow-version")


@pytest.mark.parametrize("now", [AFTER_END_OF_SUPPORT, LONG_BEFORE_END_OF_SUPPORT])
def test_a_version_older_than_every_accepted_one_fails_whatever_the_day(now: datetime) -> None:
    assert version_check(facts(AirflowVersion="2.0.2"), now).status == "fail"


def test_a_version_with_a_known_end_still_waits_for_its_date() -> None:
    # 2.5.1 is older than 2.7.2 too, but its end is known: before the warning window it is not yet a failure.
    row = version_check(facts(AirflowVersion="2.5.1"), LONG_BEFORE_END_OF_SUPPORT)

    assert row.status == "warn"
    assert "not one of the versions MWAA accepts" in row.detail


def test_a_version_whose_support_ended_fails_with_its_date() -> None:
    row = version_check(facts(AirflowVersion="2.4.3"), AFTER_END_OF_SUPPORT)

    assert (row.status, row.detail) == ("fail", "Airflow 2.4.3: MWAA support ended 2025-12-30")


@pytest.mark.parametrize("version", ["2.11.2", "3.3.1", "not-a-version"])
def test_a_newer_or_unreadable_version_botocore_does_not_list_only_warns(version: str) -> None:
    row = version_check(facts(AirflowVersion=version), AFTER_END_OF_SUPPORT)

    assert row.status == "warn"
    assert row.detail.startswith(f"Airflow {version}: not one of the versions MWAA accepts for new environments")


def test_an_accepted_version_passes() -> None:
    assert version_check(facts(AirflowVersion="2.7.2"), AFTER_END_OF_SUPPORT).status == "pass"


# --------------------------------------------------------------------------------------------- logging


def test_the_logging_fix_quotes_its_shorthand_so_the_shell_does_not_expand_the_braces() -> None:
    off = {t: {"Enabled": t not in ("DagProcessingLogs", "WorkerLogs"), "LogLevel": "INFO"} for t in ALL_LOGS}

    row = logging_check(facts(LoggingConfiguration=off))

    assert row.fix == (
        "aws mwaa update-environment --name dev-analytics --logging-configuration "
        "'DagProcessingLogs={Enabled=true,LogLevel=INFO},WorkerLogs={Enabled=true,LogLevel=INFO}'"
    )


class FakeLogs:
    def __init__(self, groups: dict[str, int | None]) -> None:
        self.groups = groups

    def get_paginator(self, operation: str) -> FakeLogs:
        assert operation == "describe_log_groups"
        return self

    def paginate(self, logGroupNamePrefix: str) -> list[dict[str, Any]]:
        return [
            {
                "logGroups": [
                    {"logGroupName": name, **({"retentionInDays": days} if days else {})}
                    for name, days in self.groups.items()
                    if name.startswith(logGroupNamePrefix)
                ]
            }
        ]


def test_log_retention_names_a_missing_group_and_one_kept_forever_in_one_row() -> None:
    logs = FakeLogs(
        {
            "airflow-dev-analytics-DAGProcessing": 30,
            "airflow-dev-analytics-Scheduler": 30,
            "airflow-dev-analytics-Task": None,
            "airflow-dev-analytics-WebServer": 30,
        }
    )

    row = retention_check(logs, facts())  # type: ignore[arg-type]

    assert row.status == "fail"
    assert row.detail.startswith(
        "never expire: airflow-dev-analytics-Task; CloudWatch Logs bills every GB stored for as long as it is kept; "
        "not created yet: airflow-dev-analytics-Worker; retention set: airflow-dev-analytics-DAGProcessing 30 d"
    )
    assert row.fix == (
        "aws logs put-retention-policy --log-group-name airflow-dev-analytics-Task --retention-in-days 30 && "
        "aws logs create-log-group --log-group-name airflow-dev-analytics-Worker && "
        "aws logs put-retention-policy --log-group-name airflow-dev-analytics-Worker --retention-in-days 30"
    )


def test_log_retention_only_warns_when_every_existing_group_expires() -> None:
    logs = FakeLogs({f"airflow-dev-analytics-{m}": 7 for m in ("DAGProcessing", "Scheduler", "Task", "WebServer")})

    row = retention_check(logs, facts())  # type: ignore[arg-type]

    assert row.status == "warn"
    assert row.detail.startswith("not created yet: airflow-dev-analytics-Worker; retention set: ")


# --------------------------------------------------------------------------------------------- the source bucket


class MissingBucketS3:
    def get_bucket_versioning(self, Bucket: str) -> dict[str, Any]:
        raise client_error("NoSuchBucket", "The specified bucket does not exist", "GetBucketVersioning")

    def get_public_access_block(self, Bucket: str) -> dict[str, Any]:
        raise client_error("NoSuchBucket", "The specified bucket does not exist", "GetPublicAccessBlock")


@pytest.mark.parametrize(
    ("check", "check_id"),
    [(versioning_check, "bucket-versioning"), (public_access_check, "bucket-public-access-block")],
)
def test_a_deleted_source_bucket_fails_the_bucket_rows(check: Any, check_id: str) -> None:
    row = check(MissingBucketS3(), facts())

    assert (row.id, row.status) == (check_id, "fail")
    assert row.detail.startswith("s3://airflow-dev-analytics does not exist (")
    assert "MWAA cannot read the DAGs" in row.detail
    assert row.fix.startswith(
        "aws s3api create-bucket --bucket airflow-dev-analytics && aws s3api put-bucket-versioning --bucket "
        "airflow-dev-analytics --versioning-configuration Status=Enabled && aws s3api put-public-access-block "
    )


def test_the_recreate_fix_outside_us_east_1_names_the_region() -> None:
    row = versioning_check(MissingBucketS3(), facts(region="eu-west-1"))  # type: ignore[arg-type]

    assert row.fix.startswith(
        "aws s3api create-bucket --bucket airflow-dev-analytics --create-bucket-configuration "
        "LocationConstraint=eu-west-1 && "
    )


# --------------------------------------------------------------------------------------------- guarded reads


def test_an_iam_entity_that_does_not_exist_is_not_found() -> None:
    error = translate_client_error(client_error("NoSuchEntity", "The role with name x cannot be found.", "GetRole"))

    assert isinstance(error, NotFoundError)
    assert str(error) == "GetRole: The role with name x cannot be found."


def test_other_iam_refusals_are_still_aws_request_errors() -> None:
    assert isinstance(translate_client_error(client_error("MalformedPolicyDocument")), AwsRequestError)


IDS = [("bucket-versioning", "Source bucket versioning is on")]


def _raise(error: Exception) -> Check:
    raise error


@pytest.mark.parametrize(
    "error", [ServiceUnavailableError("CLI dags list-import-errors: TimeoutError"), client_error("SlowDown")]
)
def test_a_transient_failure_is_a_warning_row_when_the_run_reports_them(error: Exception) -> None:
    [row] = _guarded(lambda: _raise(error), IDS, transient="warn")

    assert (row.id, row.status) == ("bucket-versioning", "warn")
    assert row.detail.startswith("could not check: ")
    assert row.fix.startswith("run the doctor again")


@pytest.mark.parametrize("error", [ServiceUnavailableError("GetBucketVersioning: 503"), client_error("SlowDown")])
def test_a_transient_failure_propagates_by_default_for_the_health_flows_retries(error: Exception) -> None:
    with pytest.raises((ServiceUnavailableError, ThrottledError)):
        _guarded(lambda: _raise(error), IDS)


def test_a_not_found_read_a_check_did_not_handle_is_still_a_warning() -> None:
    [row] = _guarded(lambda: _raise(NotFoundError("GetThing: gone")), IDS)

    assert (row.status, row.detail, row.fix) == (
        "warn",
        "could not check: GetThing: gone",
        "check the resource named in the detail",
    )


def test_guarded_rows_pass_through() -> None:
    row = passed("bucket-versioning", "Source bucket versioning is on", "ok")

    assert _guarded(lambda: row, IDS) == [row]


# --------------------------------------------------------------------------------------------- the CLI's log lines


def test_the_cli_sends_the_domains_log_lines_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    from aws_lambda_powertools import Logger

    from mwaa_cp_cli.output import log_to_stderr

    logger = Logger(service="doctor-test", logger_handler=logging.StreamHandler(io.StringIO()))
    log_to_stderr(logger)

    logger.info("not shown")
    logger.warning("airflow call gave up")

    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert json.loads(line)["message"] == "airflow call gave up"
