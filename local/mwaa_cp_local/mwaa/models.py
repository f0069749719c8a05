"""The fake Amazon MWAA service: environments, their lifecycle and the API's rules.

moto discovers this module as ``moto.mwaa`` (see :func:`mwaa_cp_local.patches.install_mwaa`)
and reads :data:`mwaa_backends` from it, like any of its own services; it routes requests
through :mod:`.urls`, found by moto's own models-to-urls naming convention.

Status transitions are lazy: an operation records when it started and the phases it goes
through, and every read computes the status from :func:`mwaa_control_plane.clock.get_clock`.
Nothing sleeps, so the local runtime's virtual clock makes a 25-minute creation take
a second and a half of waiting and a test's ``ManualClock`` makes it instant.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import json
import re
import secrets
import threading
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import ServiceException
from moto.utilities.utils import get_partition

from mwaa_control_plane.clock import get_clock
from mwaa_cp_local.mwaa import s3
from mwaa_cp_local.mwaa.airflow import (
    AirflowInstance,
    CliResult,
    DagProcessingTimings,
    RestResponse,
    RunHold,
    airflow_major,
    invoke_rest_api,
    run_cli,
)

Config = dict[str, Any]

SUPPORTED_AIRFLOW_VERSIONS = (
    "2.2.2",
    "2.4.3",
    "2.5.1",
    "2.6.3",
    "2.7.2",
    "2.8.1",
    "2.9.2",
    "2.10.1",
    "2.10.3",
    "2.11.0",
    "3.0.6",
)
# The real API defaults to the latest version; the fake pins a 2.x default so that a test
# that does not care gets the REST API v1 shapes most of the control plane was written for.
DEFAULT_AIRFLOW_VERSION = "2.10.3"
# InvokeRestApi reaches Airflow's REST API only from this version on.
INVOKE_REST_API_MIN_VERSION = "2.4.3"
ENVIRONMENT_CLASSES = ("mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge")
LOG_MODULES = {
    "DagProcessingLogs": "DAGProcessing",
    "SchedulerLogs": "Scheduler",
    "TaskLogs": "Task",
    "WebserverLogs": "WebServer",
    "WorkerLogs": "Worker",
}
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_NAME = re.compile(r"[a-zA-Z][0-9a-zA-Z\-_]*")
_ROLE_ARN = re.compile(r"arn:aws(-[a-z]+)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
_BUCKET_ARN = re.compile(r"arn:aws(-[a-z]+)?:s3:::[a-z0-9.\-]+")
_SUBNET = re.compile(r"subnet-[a-zA-Z0-9\-._]+")
_SECURITY_GROUP = re.compile(r"sg-[a-zA-Z0-9\-._]+")
_MAINTENANCE_WINDOW = re.compile(r"(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):(00|30)")
_CONFIG_KEY = re.compile(r"[a-z]+([a-z0-9._]*[a-z0-9_]+)?")
_CONFIG_VALUE = re.compile(r"[ -~]+")
# Airflow 2.x prints this on every CLI call on MWAA; the control plane must not treat stderr as failure.
AIRFLOW2_CLI_WARNING = (
    "/usr/local/airflow/.local/lib/python3.11/site-packages/airflow/configuration.py:859 FutureWarning: "
    "section/key [core/sql_alchemy_conn] has been deprecated, you should use[database/sql_alchemy_conn] "
    "instead. Please update your `conf.get*` call to use the new name\n"
)
UPDATE_SOURCE = "CUSTOMER"


# --------------------------------------------------------------------------------------------
# Errors (names and members from the botocore model, so moto's serializer renders them)
# --------------------------------------------------------------------------------------------


class ValidationException(ServiceException):  # type: ignore[misc, unused-ignore]  # moto is untyped
    code = "ValidationException"


class ResourceNotFoundException(ServiceException):  # type: ignore[misc, unused-ignore]  # moto is untyped
    code = "ResourceNotFoundException"


class AccessDeniedException(ServiceException):  # type: ignore[misc, unused-ignore]  # moto is untyped
    code = "AccessDeniedException"


class _RestApiException(ServiceException):  # type: ignore[misc, unused-ignore]  # moto is untyped
    """Airflow answered with an error; its status and body travel in the exception, as on MWAA."""

    def __init__(self, response: RestResponse) -> None:
        super().__init__(f"Apache Airflow REST API returned HTTP {response.status}")
        # Attribute names are the model's member names: moto's serializer reads them as they are.
        self.RestApiStatusCode = response.status
        self.RestApiResponse = response.body


class RestApiClientException(_RestApiException):
    code = "RestApiClientException"


class RestApiServerException(_RestApiException):
    code = "RestApiServerException"


# --------------------------------------------------------------------------------------------
# Settings and failure hooks (module level: the lead's runtime and tests reach them without
# knowing which account or region a backend lives in)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How long operations take and what fails; see :func:`configure`."""

    create_seconds: float = 1500.0
    update_seconds: float = 900.0
    delete_seconds: float = 900.0
    # A version upgrade snapshots the metadata database between two UPDATING phases.
    snapshot_seconds: float = 300.0
    # A failed update spends this long ROLLING_BACK before UPDATE_FAILED.
    rollback_seconds: float = 300.0
    environment_quota: int = 10
    token_seconds: float = 60.0
    uninstallable_packages: frozenset[str] = frozenset({"this-package-does-not-exist"})
    timings: DagProcessingTimings = field(default_factory=DagProcessingTimings)
    # None: the version's own warning (Airflow 2 prints one, Airflow 3 none).
    cli_warning: str | None = None


@dataclass(frozen=True)
class UpdateError:
    code: str
    message: str


_settings = Settings()
_pending_failures: dict[str, list[UpdateError]] = {}
_pending_create_failures: dict[str, list[UpdateError]] = {}
_run_holds: dict[str, dict[str, RunHold]] = {}
_hooks_lock = threading.Lock()


def settings() -> Settings:
    return _settings


def configure(**changes: Any) -> Settings:
    """Change settings; DAG processing timings (``sync_seconds``, ...) may be passed flat."""
    global _settings
    timing_names = {f.name for f in dataclasses.fields(DagProcessingTimings)}
    timing_changes = {name: changes.pop(name) for name in list(changes) if name in timing_names}
    if "uninstallable_packages" in changes:
        changes["uninstallable_packages"] = frozenset(_normalise_package(n) for n in changes["uninstallable_packages"])
    with _hooks_lock:
        timings = dataclasses.replace(_settings.timings, **timing_changes)
        _settings = dataclasses.replace(_settings, timings=timings, **changes)
        return _settings


def reset() -> None:
    """Default settings and no pending failures (call between tests)."""
    global _settings
    with _hooks_lock:
        _settings = Settings()
        _pending_failures.clear()
        _pending_create_failures.clear()
        _run_holds.clear()


def fail_next_update(environment_name: str, error_code: str, message: str) -> None:
    """Make the next UpdateEnvironment of ``environment_name`` end UPDATE_FAILED with this error."""
    with _hooks_lock:
        _pending_failures.setdefault(environment_name, []).append(UpdateError(error_code, message))


def fail_next_create(environment_name: str, error_code: str, message: str) -> None:
    """Make the next CreateEnvironment of ``environment_name`` end CREATE_FAILED with this ``LastUpdate.Error``."""
    with _hooks_lock:
        _pending_create_failures.setdefault(environment_name, []).append(UpdateError(error_code, message))


def hold_runs(environment_name: str, dag_id: str, seconds: float, *, task_state: str = "running") -> None:
    """Make every run of ``dag_id`` in ``environment_name`` last ``seconds`` of virtual time once it starts.

    Its task instances show ``task_state`` meanwhile ("running", or "queued" for work waiting on
    workers). Applies to runs already started too; holds end with :func:`reset`. The environment's
    Airflow is not needed yet: the hold is applied whenever it serves a request.
    """
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    if task_state not in ("running", "queued", "scheduled", "deferred", "up_for_retry"):
        raise ValueError(f"a running run's task instances cannot be {task_state!r}")
    with _hooks_lock:
        _run_holds.setdefault(environment_name, {})[dag_id] = RunHold(seconds, task_state)


def _take_pending_failure(environment_name: str, pending: dict[str, list[UpdateError]]) -> UpdateError | None:
    with _hooks_lock:
        queue = pending.get(environment_name)
        return queue.pop(0) if queue else None


def _holds_for(environment_name: str) -> dict[str, RunHold]:
    with _hooks_lock:
        return dict(_run_holds.get(environment_name, {}))


def _normalise_package(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --------------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    status: str
    seconds: float


@dataclass
class Operation:
    """A create, update or delete in flight: the statuses it passes through and how it ends."""

    kind: Literal["create", "update", "delete"]
    started_at: datetime
    phases: list[Phase]
    final_status: str
    error: UpdateError | None = None
    previous_config: Config | None = None
    worker_replacement_strategy: str | None = None

    @property
    def ends_at(self) -> datetime:
        return self.started_at + timedelta(seconds=sum(phase.seconds for phase in self.phases))

    def status_at(self, now: datetime) -> str:
        elapsed = (now - self.started_at).total_seconds()
        for phase in self.phases:
            if elapsed < phase.seconds:
                return phase.status
            elapsed -= phase.seconds
        return self.final_status


@dataclass
class Environment:
    name: str
    arn: str
    region: str
    account_id: str
    created_at: datetime
    webserver_hostname: str
    celery_queue: str
    config: Config
    tags: dict[str, str]
    status: str
    operation: Operation | None = None
    last_update: dict[str, Any] | None = None
    airflow: AirflowInstance | None = None
    vpc_endpoint_services: dict[str, str] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        return str(get_partition(self.region))

    def refresh(self, now: datetime) -> None:
        """Settle a finished operation; the clock may have jumped past several phases."""
        operation = self.operation
        if operation is None or now < operation.ends_at:
            return
        self.operation = None
        finished_at = operation.ends_at
        assert self.last_update is not None
        self.last_update["Status"] = "FAILED" if operation.error else "SUCCESS"
        if operation.error:
            self.last_update["Error"] = {"ErrorCode": operation.error.code, "ErrorMessage": operation.error.message}
        if operation.kind == "delete":
            self.status = "DELETED"
            return
        if operation.kind == "update" and operation.error and operation.previous_config is not None:
            # UPDATE_FAILED means "rolled back and usable": the previous configuration is back.
            self.config = operation.previous_config
        self.status = operation.final_status
        if self.status in ("AVAILABLE", "UPDATE_FAILED"):
            self._start_airflow(finished_at)

    def _start_airflow(self, at: datetime) -> None:
        version = self.config["AirflowVersion"]
        if self.airflow is None:
            self.airflow = AirflowInstance(airflow_version=version, started_at=at)
        elif self.airflow.airflow_version != version:
            # Containers restart on the new version and re-list the whole DAG folder.
            self.airflow.airflow_version = version
            self.airflow.started_at = at
        self.airflow.configuration = dict(self.config.get("AirflowConfigurationOptions") or {})

    def current_status(self, now: datetime) -> str:
        self.refresh(now)
        return self.operation.status_at(now) if self.operation else self.status

    def running_airflow(self, now: datetime) -> AirflowInstance | None:
        """The Airflow serving requests now, synced with the source bucket; None while none runs."""
        status = self.current_status(now)
        if self.airflow is None or status in ("CREATING", "CREATE_FAILED", "DELETING", "DELETED"):
            return None
        # During an update the old containers keep serving with the old configuration.
        running = self.operation.previous_config if self.operation and self.operation.previous_config else self.config
        self.airflow.run_holds = _holds_for(self.name)
        prefix = _dag_prefix(running["DagS3Path"])
        folder = self.airflow.use_folder(running["SourceBucketArn"], prefix, now)
        versions = s3.list_versions(
            self.account_id, self.partition, running["SourceBucketArn"], prefix, folder.known_versions
        )
        folder.observe(versions, now)
        return self.airflow

    def describe(self, now: datetime) -> dict[str, Any]:
        status = self.current_status(now)
        config = self.config
        description: dict[str, Any] = {
            "Name": self.name,
            "Status": status,
            "Arn": self.arn,
            "CreatedAt": self.created_at,
            "WebserverUrl": self.webserver_hostname,
            "ExecutionRoleArn": config["ExecutionRoleArn"],
            "ServiceRoleArn": (
                f"arn:{self.partition}:iam::{self.account_id}:role/aws-service-role/airflow.amazonaws.com/"
                "AWSServiceRoleForAmazonMWAA"
            ),
            "AirflowVersion": config["AirflowVersion"],
            "SourceBucketArn": config["SourceBucketArn"],
            "DagS3Path": config["DagS3Path"],
            "AirflowConfigurationOptions": dict(config.get("AirflowConfigurationOptions") or {}),
            "EnvironmentClass": config["EnvironmentClass"],
            "MaxWorkers": config["MaxWorkers"],
            "MinWorkers": config["MinWorkers"],
            "Schedulers": config["Schedulers"],
            "MaxWebservers": config["MaxWebservers"],
            "MinWebservers": config["MinWebservers"],
            "NetworkConfiguration": config["NetworkConfiguration"],
            "LoggingConfiguration": self._logging(config["LoggingConfiguration"]),
            "WeeklyMaintenanceWindowStart": config["WeeklyMaintenanceWindowStart"],
            "Tags": dict(self.tags),
            "WebserverAccessMode": config["WebserverAccessMode"],
            "EndpointManagement": config["EndpointManagement"],
            "CeleryExecutorQueue": self.celery_queue,
            **self.vpc_endpoint_services,
        }
        for name in (
            "KmsKey",
            "PluginsS3Path",
            "PluginsS3ObjectVersion",
            "RequirementsS3Path",
            "RequirementsS3ObjectVersion",
            "StartupScriptS3Path",
            "StartupScriptS3ObjectVersion",
        ):
            if config.get(name):
                description[name] = config[name]
        if self.last_update is not None:
            description["LastUpdate"] = {
                key: dict(value) if isinstance(value, dict) else value for key, value in self.last_update.items()
            }
        return description

    def _logging(self, logging: Mapping[str, Any]) -> dict[str, Any]:
        described = {}
        for module, suffix in LOG_MODULES.items():
            settings_ = dict(logging.get(module) or {"Enabled": False, "LogLevel": "INFO"})
            if settings_.get("Enabled"):
                settings_["CloudWatchLogGroupArn"] = (
                    f"arn:{self.partition}:logs:{self.region}:{self.account_id}:log-group:airflow-{self.name}-{suffix}"
                )
            described[module] = settings_
        return described


def _dag_prefix(dag_s3_path: str) -> str:
    path = dag_s3_path.strip("/")
    return f"{path}/" if path else ""


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _require(request: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if request.get(name) in (None, ""):
            raise ValidationException(
                f"1 validation error detected: Value null at '{name}' failed to satisfy "
                "constraint: Member must not be null"
            )


def _validate_name(name: Any) -> str:
    if not isinstance(name, str) or not name or len(name) > 80 or not _NAME.fullmatch(name):
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: ^[a-zA-Z][0-9a-zA-Z-_]*$ and have length between 1 and 80"
        )
    return name


def _validate_config(config: Config, *, for_create: bool) -> None:
    role = config.get("ExecutionRoleArn")
    if not isinstance(role, str) or not _ROLE_ARN.fullmatch(role):
        raise ValidationException(f"Invalid ExecutionRoleArn '{role}': must be an IAM role ARN")
    bucket = config.get("SourceBucketArn")
    if not isinstance(bucket, str) or not _BUCKET_ARN.fullmatch(bucket):
        raise ValidationException(f"Invalid SourceBucketArn '{bucket}': must look like arn:aws:s3:::bucket-name")
    network = config.get("NetworkConfiguration") or {}
    subnets = network.get("SubnetIds") or []
    if for_create and len(subnets) != 2:
        raise ValidationException(f"NetworkConfiguration.SubnetIds must contain exactly 2 subnets, got {len(subnets)}")
    if any(not isinstance(s, str) or not _SUBNET.fullmatch(s) for s in subnets):
        raise ValidationException(f"Invalid subnet ID in {subnets}: subnet IDs look like subnet-0123456789abcdef0")
    groups = network.get("SecurityGroupIds") or []
    if not 1 <= len(groups) <= 5:
        raise ValidationException(
            f"NetworkConfiguration.SecurityGroupIds must contain between 1 and 5 security groups, got {len(groups)}"
        )
    if any(not isinstance(g, str) or not _SECURITY_GROUP.fullmatch(g) for g in groups):
        raise ValidationException(f"Invalid security group ID in {groups}: IDs look like sg-0123456789abcdef0")
    version = config.get("AirflowVersion")
    if version not in SUPPORTED_AIRFLOW_VERSIONS:
        raise ValidationException(
            f"Airflow version {version} is not supported. Supported versions: {', '.join(SUPPORTED_AIRFLOW_VERSIONS)}"
        )
    environment_class = config.get("EnvironmentClass")
    if environment_class not in ENVIRONMENT_CLASSES:
        raise ValidationException(
            f"Invalid EnvironmentClass '{environment_class}'. Valid values: {', '.join(ENVIRONMENT_CLASSES)}"
        )
    micro = environment_class == "mw1.micro"
    _validate_counts(config, micro=micro)
    _validate_options(config)


def _integer(config: Config, name: str) -> int:
    value = config.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationException(f"{name} must be an integer, got {value!r}")
    return value


def _validate_counts(config: Config, *, micro: bool) -> None:
    min_workers, max_workers = _integer(config, "MinWorkers"), _integer(config, "MaxWorkers")
    if min_workers < 1:
        raise ValidationException(f"MinWorkers must be at least 1, got {min_workers}")
    if max_workers > 25:
        raise ValidationException(f"MaxWorkers must be at most 25 (the default quota), got {max_workers}")
    if min_workers > max_workers:
        raise ValidationException(f"MinWorkers ({min_workers}) must not exceed MaxWorkers ({max_workers})")
    if micro and max_workers > 1:
        raise ValidationException(f"mw1.micro runs a single worker: MaxWorkers must be 1, got {max_workers}")
    schedulers = _integer(config, "Schedulers")
    low, high = (1, 1) if micro else (2, 5)
    if not low <= schedulers <= high:
        raise ValidationException(
            f"Schedulers must be between {low} and {high} for {config['EnvironmentClass']}, got {schedulers}"
        )
    min_web, max_web = _integer(config, "MinWebservers"), _integer(config, "MaxWebservers")
    for name, value in (("MinWebservers", min_web), ("MaxWebservers", max_web)):
        if not low <= value <= high:
            raise ValidationException(
                f"{name} must be between {low} and {high} for {config['EnvironmentClass']}, got {value}"
            )
    if min_web > max_web:
        raise ValidationException(f"MinWebservers ({min_web}) must not exceed MaxWebservers ({max_web})")


def _validate_options(config: Config) -> None:
    for key, value in (config.get("AirflowConfigurationOptions") or {}).items():
        if not _CONFIG_KEY.fullmatch(key) or len(key) > 64:
            raise ValidationException(f"Invalid AirflowConfigurationOptions key '{key}'")
        if not isinstance(value, str) or not _CONFIG_VALUE.fullmatch(value):
            # Never echo the value: configuration options are sensitive.
            raise ValidationException(f"Invalid value for AirflowConfigurationOptions key '{key}'")
    window = config.get("WeeklyMaintenanceWindowStart")
    if not isinstance(window, str) or not _MAINTENANCE_WINDOW.fullmatch(window):
        raise ValidationException(f"Invalid WeeklyMaintenanceWindowStart '{window}': expected e.g. SUN:03:30")
    if config.get("WebserverAccessMode") not in ("PRIVATE_ONLY", "PUBLIC_ONLY", "PUBLIC_AND_PRIVATE"):
        raise ValidationException(f"Invalid WebserverAccessMode '{config.get('WebserverAccessMode')}'")
    if config.get("EndpointManagement") not in ("CUSTOMER", "SERVICE"):
        raise ValidationException(f"Invalid EndpointManagement '{config.get('EndpointManagement')}'")
    for module, settings_ in (config.get("LoggingConfiguration") or {}).items():
        if module not in LOG_MODULES:
            raise ValidationException(f"Unknown LoggingConfiguration module '{module}'")
        if settings_.get("LogLevel") not in LOG_LEVELS:
            raise ValidationException(f"Invalid LogLevel '{settings_.get('LogLevel')}' for {module}")


def _validate_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    if len(tags) > 50:
        raise ValidationException(f"An environment can have at most 50 tags, got {len(tags)}")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or not isinstance(value, str) or len(value) > 256:
            raise ValidationException(f"Invalid tag '{key}': keys are 1-128 characters, values up to 256")
    return {str(key): str(value) for key, value in tags.items()}


# --------------------------------------------------------------------------------------------
# Requirements, plugins and startup script: what makes an update fail on the real service
# --------------------------------------------------------------------------------------------


def _installation_error(config: Config, account_id: str, partition: str) -> UpdateError | None:
    bucket_arn = config["SourceBucketArn"]
    bucket = s3.bucket_name_from_arn(bucket_arn)
    contents: dict[str, bytes] = {}
    for kind in ("Requirements", "Plugins", "StartupScript"):
        path = config.get(f"{kind}S3Path")
        if not path:
            continue
        version = config.get(f"{kind}S3ObjectVersion")
        content = s3.get_object(account_id, partition, bucket_arn, path, version)
        if content is None:
            where = f"s3://{bucket}/{path}" + (f" (version {version})" if version else "")
            return UpdateError(
                "INCORRECT_CONFIGURATION",
                f"Unable to read {where}: the object or object version does not exist or cannot be accessed "
                "with the execution role.",
            )
        contents[kind] = content
    if "Requirements" in contents:
        error = _requirements_error(contents["Requirements"].decode("utf-8", "replace"))
        if error is not None:
            return error
    if "Plugins" in contents and not zipfile.is_zipfile(io.BytesIO(contents["Plugins"])):
        return UpdateError("INCORRECT_CONFIGURATION", f"s3://{bucket}/{config['PluginsS3Path']} is not a zip file.")
    return None


_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _requirements_error(requirements: str) -> UpdateError | None:
    """The pip failure an uninstallable requirement would cause, or None."""
    uninstallable = _settings.uninstallable_packages
    for raw in requirements.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = _REQUIREMENT_NAME.match(line)
        if match and _normalise_package(match.group(1)) in uninstallable:
            name = match.group(1)
            return UpdateError(
                "INCORRECT_DEPENDENCIES",
                f"ERROR: Could not find a version that satisfies the requirement {line} (from versions: none)\n"
                f"ERROR: No matching distribution found for {name}",
            )
    return None


# --------------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    environment_name: str
    expires_at: datetime


_CONFIG_DEFAULTS: Config = {
    "EnvironmentClass": "mw1.small",
    "MaxWorkers": 10,
    "MinWorkers": 1,
    "WebserverAccessMode": "PRIVATE_ONLY",
    "EndpointManagement": "SERVICE",
    "WeeklyMaintenanceWindowStart": "SUN:03:30",
    "AirflowVersion": DEFAULT_AIRFLOW_VERSION,
    "AirflowConfigurationOptions": {},
}
_CREATE_ONLY = ("KmsKey", "EndpointManagement")
_CONFIG_FIELDS = (
    "ExecutionRoleArn",
    "SourceBucketArn",
    "DagS3Path",
    "NetworkConfiguration",
    "PluginsS3Path",
    "PluginsS3ObjectVersion",
    "RequirementsS3Path",
    "RequirementsS3ObjectVersion",
    "StartupScriptS3Path",
    "StartupScriptS3ObjectVersion",
    "AirflowConfigurationOptions",
    "EnvironmentClass",
    "MaxWorkers",
    "MinWorkers",
    "KmsKey",
    "AirflowVersion",
    "LoggingConfiguration",
    "WeeklyMaintenanceWindowStart",
    "WebserverAccessMode",
    "Schedulers",
    "EndpointManagement",
    "MinWebservers",
    "MaxWebservers",
)


class MwaaBackend(BaseBackend):  # type: ignore[misc, unused-ignore]  # moto is untyped
    """Amazon MWAA for one account and region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.environments: dict[str, Environment] = {}
        self.cli_tokens: dict[str, _Token] = {}
        self.lock = threading.RLock()

    # -- lookups ------------------------------------------------------------------------------

    def _refresh(self, now: datetime) -> None:
        for name, environment in list(self.environments.items()):
            environment.refresh(now)
            if environment.status == "DELETED":
                del self.environments[name]

    def _environment(self, name: str, now: datetime) -> Environment:
        self._refresh(now)
        environment = self.environments.get(name)
        if environment is None:
            raise ResourceNotFoundException(f"Environment named {name} does not exist.")
        return environment

    def _by_arn(self, arn: str, now: datetime) -> Environment:
        self._refresh(now)
        for environment in self.environments.values():
            if environment.arn == arn:
                return environment
        raise ResourceNotFoundException(f"Resource {arn} does not exist.")

    # -- environments --------------------------------------------------------------------------

    def create_environment(self, request: Mapping[str, Any]) -> str:
        now = get_clock().now()
        with self.lock:
            name = _validate_name(request.get("Name"))
            _require(request, "ExecutionRoleArn", "SourceBucketArn", "DagS3Path", "NetworkConfiguration")
            self._refresh(now)
            if name in self.environments:
                raise ValidationException(f"Environment named {name} already exists.")
            if len(self.environments) >= _settings.environment_quota:
                raise ValidationException(
                    f"You have reached the maximum number of environments ({_settings.environment_quota}) "
                    f"in {self.region_name}. Delete an environment or request a quota increase."
                )
            config = self._initial_config(request)
            _validate_config(config, for_create=True)
            tags = _validate_tags(request.get("Tags") or {})
            error = _take_pending_failure(name, _pending_create_failures) or _installation_error(
                config, self.account_id, self.partition
            )
            environment = Environment(
                name=name,
                arn=f"arn:{self.partition}:airflow:{self.region_name}:{self.account_id}:environment/{name}",
                region=self.region_name,
                account_id=self.account_id,
                created_at=now,
                webserver_hostname=f"{uuid.uuid4()}.c2.{self.region_name}.airflow.amazonaws.com",
                celery_queue=(
                    f"arn:{self.partition}:sqs:{self.region_name}:{uuid.uuid4().int % 10**12:012d}:"
                    f"airflow-celery-{uuid.uuid4()}"
                ),
                config=config,
                tags=tags,
                status="CREATING",
                operation=Operation(
                    kind="create",
                    started_at=now,
                    phases=[Phase("CREATING", _settings.create_seconds)],
                    final_status="CREATE_FAILED" if error else "AVAILABLE",
                    error=error,
                ),
                last_update={"Status": "PENDING", "CreatedAt": now, "Source": UPDATE_SOURCE},
            )
            if config["EndpointManagement"] == "CUSTOMER":
                suffix = secrets.token_hex(9)[:17]
                environment.vpc_endpoint_services = {
                    "WebserverVpcEndpointService": f"com.amazonaws.vpce.{self.region_name}.vpce-svc-{suffix}",
                    "DatabaseVpcEndpointService": f"com.amazonaws.vpce.{self.region_name}.vpce-svc-{suffix[::-1]}",
                }
            self.environments[name] = environment
            return environment.arn

    def _initial_config(self, request: Mapping[str, Any]) -> Config:
        config: Config = json.loads(json.dumps(_CONFIG_DEFAULTS))
        config.update({key: request[key] for key in _CONFIG_FIELDS if request.get(key) is not None})
        micro = config["EnvironmentClass"] == "mw1.micro"
        default_count = 1 if micro else 2
        config.setdefault("Schedulers", default_count)
        config.setdefault("MinWebservers", default_count)
        config.setdefault("MaxWebservers", default_count)
        if micro and "MaxWorkers" not in request:
            config["MaxWorkers"] = 1
        config["LoggingConfiguration"] = self._logging_input(
            {"TaskLogs": {"Enabled": True, "LogLevel": "INFO"}}, request.get("LoggingConfiguration")
        )
        config["NetworkConfiguration"] = {
            "SubnetIds": list(config["NetworkConfiguration"].get("SubnetIds") or []),
            "SecurityGroupIds": list(config["NetworkConfiguration"].get("SecurityGroupIds") or []),
        }
        return config

    @staticmethod
    def _logging_input(current: Mapping[str, Any], requested: Mapping[str, Any] | None) -> dict[str, Any]:
        merged = {module: dict(value) for module, value in current.items()}
        for module, value in (requested or {}).items():
            merged[module] = {"Enabled": bool(value.get("Enabled")), "LogLevel": value.get("LogLevel")}
        return merged

    def get_environment(self, name: str) -> dict[str, Any]:
        now = get_clock().now()
        with self.lock:
            return self._environment(name, now).describe(now)

    def list_environments(self, max_results: int | None, next_token: str | None) -> tuple[list[str], str | None]:
        now = get_clock().now()
        limit = 25 if max_results is None else max_results
        if not 1 <= limit <= 25:
            raise ValidationException(f"MaxResults must be between 1 and 25, got {limit}")
        after = ""
        if next_token:
            try:
                after = json.loads(base64.urlsafe_b64decode(next_token.encode()))["after"]
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise ValidationException("The NextToken is not valid.") from None
        with self.lock:
            self._refresh(now)
            names = sorted(name for name in self.environments if name > after)
        page = names[:limit]
        token = None
        if len(names) > limit:
            token = base64.urlsafe_b64encode(json.dumps({"after": page[-1]}).encode()).decode()
        return page, token

    def update_environment(self, request: Mapping[str, Any]) -> str:
        now = get_clock().now()
        with self.lock:
            name = _validate_name(request.get("Name"))
            environment = self._environment(name, now)
            status = environment.current_status(now)
            if status not in ("AVAILABLE", "UPDATE_FAILED"):
                raise ValidationException(
                    f"Environment {name} is in status {status}; it can be updated only when AVAILABLE or UPDATE_FAILED."
                )
            for immutable in _CREATE_ONLY:
                if request.get(immutable) is not None:
                    raise ValidationException(f"{immutable} cannot be changed after the environment is created.")
            network = request.get("NetworkConfiguration") or {}
            if network.get("SubnetIds") is not None:
                raise ValidationException("Subnets cannot be changed after the environment is created.")
            previous = json.loads(json.dumps(environment.config))
            config = self._updated_config(previous, request)
            _validate_config(config, for_create=False)
            self._validate_version_change(previous["AirflowVersion"], config["AirflowVersion"])
            error = _take_pending_failure(name, _pending_failures) or _installation_error(
                config, self.account_id, self.partition
            )
            strategy = request.get("WorkerReplacementStrategy") or "FORCED"
            if strategy not in ("FORCED", "GRACEFUL"):
                raise ValidationException(f"Invalid WorkerReplacementStrategy '{strategy}'")
            environment.config = config
            environment.operation = Operation(
                kind="update",
                started_at=now,
                phases=self._update_phases(previous["AirflowVersion"] != config["AirflowVersion"], failing=bool(error)),
                final_status="UPDATE_FAILED" if error else "AVAILABLE",
                error=error,
                previous_config=previous,
                worker_replacement_strategy=strategy,
            )
            environment.last_update = {
                "Status": "PENDING",
                "CreatedAt": now,
                "Source": UPDATE_SOURCE,
                "WorkerReplacementStrategy": strategy,
            }
            return environment.arn

    @staticmethod
    def _updated_config(previous: Config, request: Mapping[str, Any]) -> Config:
        config: Config = json.loads(json.dumps(previous))
        for key in _CONFIG_FIELDS:
            if key in _CREATE_ONLY or key in ("NetworkConfiguration", "LoggingConfiguration"):
                continue
            if request.get(key) is not None:
                config[key] = request[key]
        if request.get("NetworkConfiguration"):
            config["NetworkConfiguration"]["SecurityGroupIds"] = list(
                request["NetworkConfiguration"].get("SecurityGroupIds") or []
            )
        if request.get("LoggingConfiguration"):
            config["LoggingConfiguration"] = MwaaBackend._logging_input(
                config["LoggingConfiguration"], request["LoggingConfiguration"]
            )
        return config

    @staticmethod
    def _validate_version_change(old: str, new: str) -> None:
        if _version_tuple(new) < _version_tuple(old):
            raise ValidationException(f"Airflow version downgrade from {old} to {new} is not supported.")
        if airflow_major(new) != airflow_major(old):
            raise ValidationException(
                f"Upgrading from Airflow {old} to {new} in place is not supported; create a new environment."
            )

    @staticmethod
    def _update_phases(upgrade: bool, *, failing: bool) -> list[Phase]:
        update = _settings.update_seconds
        if upgrade:
            phases = [
                Phase("UPDATING", update / 2),
                Phase("CREATING_SNAPSHOT", _settings.snapshot_seconds),
                Phase("UPDATING", update / 2),
            ]
        else:
            phases = [Phase("UPDATING", update)]
        if failing:
            phases.append(Phase("ROLLING_BACK", _settings.rollback_seconds))
        return phases

    def delete_environment(self, name: str) -> None:
        now = get_clock().now()
        with self.lock:
            environment = self._environment(name, now)
            status = environment.current_status(now)
            if status not in ("AVAILABLE", "CREATE_FAILED", "UPDATE_FAILED", "UNAVAILABLE"):
                raise ValidationException(f"Environment {name} is in status {status} and cannot be deleted now.")
            environment.operation = Operation(
                kind="delete",
                started_at=now,
                phases=[Phase("DELETING", _settings.delete_seconds)],
                final_status="DELETED",
            )
            environment.last_update = {"Status": "PENDING", "CreatedAt": now, "Source": UPDATE_SOURCE}

    # -- tags ----------------------------------------------------------------------------------

    def tag_resource(self, arn: str, tags: Mapping[str, Any]) -> None:
        now = get_clock().now()
        with self.lock:
            environment = self._by_arn(arn, now)
            environment.tags = _validate_tags({**environment.tags, **tags})

    def untag_resource(self, arn: str, keys: Iterable[str]) -> None:
        now = get_clock().now()
        with self.lock:
            environment = self._by_arn(arn, now)
            for key in keys:
                environment.tags.pop(key, None)

    def list_tags_for_resource(self, arn: str) -> dict[str, str]:
        now = get_clock().now()
        with self.lock:
            return dict(self._by_arn(arn, now).tags)

    # -- tokens --------------------------------------------------------------------------------

    def create_cli_token(self, name: str) -> tuple[str, str]:
        now = get_clock().now()
        with self.lock:
            environment = self._environment(name, now)
            token = secrets.token_urlsafe(48)
            expires = now + timedelta(seconds=_settings.token_seconds)
            self.cli_tokens = {k: v for k, v in self.cli_tokens.items() if v.expires_at > now}
            self.cli_tokens[token] = _Token(name, expires)
            return token, environment.webserver_hostname

    def create_web_login_token(self, name: str) -> dict[str, str]:
        now = get_clock().now()
        with self.lock:
            environment = self._environment(name, now)
            token = secrets.token_urlsafe(48)
            return {
                "WebToken": token,
                "WebServerHostname": environment.webserver_hostname,
                "IamIdentity": f"arn:{self.partition}:iam::{self.account_id}:root",
                "AirflowIdentity": f"assumed-role/{environment.name}-admin",
            }

    # -- Airflow -------------------------------------------------------------------------------

    def _airflow_for_request(self, environment: Environment, now: datetime) -> AirflowInstance:
        airflow = environment.running_airflow(now)
        if airflow is None:
            status = environment.current_status(now)
            raise ValidationException(
                f"Environment {environment.name} is {status}; its Airflow web server is not running."
            )
        return airflow

    def invoke_rest_api(self, request: Mapping[str, Any]) -> tuple[int, Any]:
        now = get_clock().now()
        with self.lock:
            name = _validate_name(request.get("Name"))
            _require(request, "Path", "Method")
            path, method = str(request["Path"]), str(request["Method"])
            if len(path) > 64:
                raise ValidationException(f"Path must be at most 64 characters, got {len(path)}")
            if method not in ("GET", "PUT", "POST", "PATCH", "DELETE"):
                raise ValidationException(f"Invalid Method '{method}': use GET, PUT, POST, PATCH or DELETE")
            environment = self._environment(name, now)
            airflow = self._airflow_for_request(environment, now)
            if _version_tuple(airflow.airflow_version) < _version_tuple(INVOKE_REST_API_MIN_VERSION):
                # The model has no dedicated error for this; the service rejects the request before it
                # reaches Airflow, so it is a client-side ValidationException (400).
                raise ValidationException(
                    f"InvokeRestApi is not supported for Apache Airflow {airflow.airflow_version}; it requires "
                    f"Apache Airflow {INVOKE_REST_API_MIN_VERSION} or later."
                )
            response = invoke_rest_api(
                airflow,
                method=method,
                path=path,
                query=request.get("QueryParameters"),
                body=request.get("Body"),
                now=now,
                timings=_settings.timings,
            )
        if response.status >= 500:
            raise RestApiServerException(response)
        if response.status >= 400:
            raise RestApiClientException(response)
        # Airflow's 204 has no body; MWAA still returns a RestApiResponse document.
        return response.status, response.body if response.body is not None else {}

    def run_cli(self, token: str, hostname: str, command: str) -> tuple[int, CliResult | str]:
        """Run a CLI command for a token this backend issued; (status, result or error message)."""
        now = get_clock().now()
        with self.lock:
            issued = self.cli_tokens.get(token)
            if issued is None or issued.expires_at <= now:
                return 403, "Forbidden: the CLI token is invalid or expired"
            self._refresh(now)
            environment = self.environments.get(issued.environment_name)
            if environment is None:
                return 403, "Forbidden: the environment no longer exists"
            host = hostname.split(":", 1)[0].lower()
            # The local HTTP server is reached as 127.0.0.1; only an MWAA-looking host must match.
            if host.endswith(".airflow.amazonaws.com") and host != environment.webserver_hostname:
                return 403, "Forbidden: the CLI token was issued for another environment"
            airflow = environment.running_airflow(now)
            if airflow is None:
                return 503, "Service Unavailable: the Airflow web server is not running"
            warning = _settings.cli_warning
            if warning is None:
                warning = AIRFLOW2_CLI_WARNING if airflow.major < 3 else ""
            return 200, run_cli(airflow, command, now=now, timings=_settings.timings, warning=warning)


mwaa_backends = BackendDict(MwaaBackend, "mwaa")


def all_backends() -> list[MwaaBackend]:
    """Every MWAA backend created so far, across accounts and regions."""
    return [backend for account in list(mwaa_backends.values()) for backend in list(account.values())]


def handle_cli_request(hostname: str, authorization_header: str, body: str) -> tuple[int, dict[str, str]]:
    """Serve ``POST https://{WebServerHostname}/aws_mwaa/cli`` as MWAA does.

    The command's output comes back base64-encoded with status 200 even when the command
    fails or is unknown (the usage text goes to stderr); only a missing, expired or foreign
    token (403) or an environment without a running web server (503) is an HTTP error.
    """
    scheme, _, token = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return 403, {"message": "Forbidden: expected 'Authorization: Bearer <CliToken>'"}
    token = token.strip()
    for backend in all_backends():
        if token in backend.cli_tokens:
            status, result = backend.run_cli(token, hostname, body)
            if isinstance(result, str):
                return status, {"message": result}
            return status, {
                "stdout": base64.b64encode(result.stdout.encode()).decode(),
                "stderr": base64.b64encode(result.stderr.encode()).decode(),
            }
    return 403, {"message": "Forbidden: the CLI token is invalid or expired"}
