"""Run every check on one environment: read-only, one row per check, never a crash on one check's AWS error."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from mwaa_control_plane.environments.description import HIBERNATED, get_environment
from mwaa_control_plane.environments.doctor.access import role_checks
from mwaa_control_plane.environments.doctor.configuration import last_update_check, secrets_backend_check, version_check
from mwaa_control_plane.environments.doctor.facts import ControlPlaneWiring, EnvironmentFacts
from mwaa_control_plane.environments.doctor.imports import import_errors_check
from mwaa_control_plane.environments.doctor.logs import logging_check, retention_check
from mwaa_control_plane.environments.doctor.models import Check, DoctorReport, passed, warned
from mwaa_control_plane.environments.doctor.network import network_checks, security_group_check
from mwaa_control_plane.environments.doctor.staging import staging_check
from mwaa_control_plane.environments.doctor.storage import (
    artifact_versions_check,
    public_access_check,
    versioning_check,
)
from mwaa_control_plane.errors import (
    AccessDeniedError,
    ControlPlaneError,
    NotFoundError,
    RetryableError,
    translate_client_error,
)
from mwaa_control_plane.statuses import USABLE_STATES
from mwaa_control_plane.variables.backend import inspect_backend

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client

    from mwaa_control_plane.airflow.models import DagImportError
    from mwaa_control_plane.airflow.reader import AirflowReader
    from mwaa_control_plane.state import StateRepository


@dataclass(frozen=True)
class DoctorClients:
    """The read-only AWS clients the checks use."""

    mwaa: MWAAClient
    s3: S3Client
    iam: IAMClient
    ec2: EC2Client
    logs: CloudWatchLogsClient
    kms: KMSClient
    """Resolves a KmsKey alias to the key IAM evaluates."""


def doctor_clients(region: str | None, endpoint_url: str | None = None) -> DoctorClients:
    """The cached clients of ``region`` (and endpoint: the local runtime)."""
    from mwaa_control_plane import clients

    return DoctorClients(
        mwaa=clients.mwaa(region, endpoint_url),
        s3=clients.s3(region, endpoint_url),
        iam=clients.iam(region, endpoint_url),
        ec2=clients.ec2(region, endpoint_url),
        logs=clients.logs(region, endpoint_url),
        kms=clients.kms(region, endpoint_url),
    )


# The ids and titles a guarded group of checks reports under when it cannot run at all.
_GROUPS: dict[str, list[tuple[str, str]]] = {
    "network": [
        ("subnets-availability-zones", "Two subnets in two Availability Zones"),
        ("subnets-private", "Subnets are private"),
        ("subnets-egress", "Subnets reach AWS through NAT or VPC endpoints"),
    ],
    "role": [
        ("role-reads-source-bucket", "Execution role reads the source bucket"),
        ("role-writes-logs", "Execution role writes the environment's log groups"),
        ("role-uses-celery-queue", "Execution role uses the Celery queue"),
        ("role-uses-kms-key", "Execution role uses the KMS key"),
        ("role-reads-ssm-prefixes", "Execution role reads the SSM prefixes of its secrets backend"),
    ],
}


Transient = Literal["raise", "warn"]
"""What a throttle or an outage that outlasted the clients' retries does: ``raise`` (the health flow: its state
machine retries the whole step by the error's class name) or ``warn`` (``mwaa-cp doctor``: report every other row
and environment)."""


def _guarded(
    rows: Callable[[], Check | list[Check]], ids: Sequence[tuple[str, str]], *, transient: Transient = "raise"
) -> list[Check]:
    """The rows, or one warning per id when a read the check needs failed (a missing resource a check can tell
    about is the check's own row: it catches it before this does)."""
    try:
        result = rows()
    except ClientError as exc:
        error: ControlPlaneError = translate_client_error(exc)
        if isinstance(error, RetryableError) and transient == "raise":
            raise error from exc
    except RetryableError as exc:
        if transient == "raise":
            raise
        error = exc
    except ControlPlaneError as exc:
        error = exc
    else:
        return result if isinstance(result, list) else [result]
    if isinstance(error, AccessDeniedError):
        fix = (
            "give the caller read access to it (mwaa-cp doctor: your credentials; the health flow: "
            "CheckEnvironmentHealthFunction's role)"
        )
    elif isinstance(error, RetryableError):
        fix = "run the doctor again: AWS kept refusing the read after retries (throttled or unavailable)"
    else:
        fix = "check the resource named in the detail"
    return [warned(check_id, title, f"could not check: {error}", fix) for check_id, title in ids]


def _airflow_unanswered(error: RetryableError) -> Check:
    """Airflow did not answer (timeout, 5xx, throttled after retries): the row cannot tell, the others still can."""
    return warned(
        "import-errors",
        "No DAG import errors",
        f"could not check: Airflow did not answer ({error})",
        "run the doctor where the web server answers (Airflow before 2.4.3 is asked through the web server's CLI "
        "endpoint, and a PRIVATE_ONLY web server answers only inside its VPC), or again later",
    )


def hibernated_report(name: str, since: datetime | None, detail: str = "") -> DoctorReport:
    """One row: off-hours deleted the environment on purpose; its checks run again once it is back."""
    when = f" since {since:%Y-%m-%d %H:%M} UTC" if since else ""
    return DoctorReport(
        environment_name=name,
        checks=[
            passed(
                "environment-hibernated",
                "Environment is hibernated by off-hours",
                f"{HIBERNATED}{when}: MWAA does not run it, so there is nothing to check"
                + (f" ({detail})" if detail else ""),
            )
        ],
    )


def run_doctor(
    clients: DoctorClients,
    name: str,
    *,
    now: datetime,
    wiring: ControlPlaneWiring,
    airflow: AirflowReader | None = None,
    import_errors: Sequence[DagImportError] | None = None,
    repository: StateRepository | None = None,
    environment: Mapping[str, Any] | None = None,
    transient: Transient = "raise",
) -> DoctorReport:
    """Every check on environment ``name``. Raises NotFoundError when MWAA does not know it and it is not hibernated.

    ``import_errors``: already fetched (the health flow asked Airflow once); else ``airflow`` is asked when the
    environment is usable, and the row warns when neither can answer (nor when Airflow does not answer in time).
    ``transient``: whether an AWS read still throttled or unavailable after retries raises (the health flow's
    state machine retries) or is a warning row (``mwaa-cp doctor``).
    """
    try:
        environment = get_environment(clients.mwaa, name)
    except NotFoundError:
        record = repository.off_hours_record(name) if repository is not None else None
        if record is None or record.state != "hibernated":
            raise
        return hibernated_report(name, record.since)
    facts = EnvironmentFacts.of(environment)
    backend = inspect_backend(facts.options, facts.airflow_version)

    def imports() -> Check:
        errors = import_errors
        if errors is None and airflow is not None and facts.status in USABLE_STATES:
            try:
                errors = airflow.list_import_errors()
            except RetryableError as exc:
                # An optional read through the web server: its silence is not AWS's and no retry of the run helps.
                return _airflow_unanswered(exc)
        return import_errors_check(facts, errors)

    def one(check_id: str, title: str, rows: Callable[[], Check | list[Check]]) -> list[Check]:
        return _guarded(rows, [(check_id, title)], transient=transient)

    checks: list[Check] = [
        *one("bucket-versioning", "Source bucket versioning is on", lambda: versioning_check(clients.s3, facts)),
        *one(
            "bucket-public-access-block",
            "Source bucket blocks public access",
            lambda: public_access_check(clients.s3, facts),
        ),
        *one(
            "artifact-versions",
            "Referenced requirements, plugins and startup versions exist",
            lambda: artifact_versions_check(clients.s3, facts),
        ),
        *_guarded(
            lambda: role_checks(clients.iam, facts, backend, kms=clients.kms), _GROUPS["role"], transient=transient
        ),
        *_guarded(lambda: network_checks(clients.ec2, facts), _GROUPS["network"], transient=transient),
        *one(
            "security-group-self-reference",
            "Security group references itself",
            lambda: security_group_check(clients.ec2, facts),
        ),
        logging_check(facts),
        *one("log-retention", "Log groups have a retention", lambda: retention_check(clients.logs, facts)),
        secrets_backend_check(backend),
        version_check(facts, now),
        last_update_check(facts),
        *one("import-errors", "No DAG import errors", imports),
        *one(
            "staging-wired",
            "Control plane staging prefix is wired",
            lambda: staging_check(clients.s3, facts, wiring),
        ),
    ]
    return DoctorReport(environment_name=name, checks=checks)
