"""Settings: one pydantic model per function, read from the environment once.

This is the only module that reads ``os.environ``. Each handler calls
``load_settings(TheSettings)``; the result is cached per model class. The local runtime
calls :func:`clear_settings_cache` when it switches between stacks.
"""

from __future__ import annotations

import os
import re
from functools import cache
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mwaa_control_plane.errors import ConfigurationError
from mwaa_control_plane.payloads import validation_problems

if TYPE_CHECKING:
    from mwaa_control_plane.environments.offhours.tags import StackDefaults

Stage = Literal["dev", "test", "staging", "prod"]


class Settings(BaseModel):
    """Base of every settings model: environment variable names are the field aliases."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class CommonSettings(Settings):
    """What every function of the stack gets from ``Globals``."""

    stage: Annotated[Stage, Field(alias="STAGE")] = "dev"
    region: Annotated[str, Field(alias="AWS_REGION", min_length=1)] = "us-east-1"
    state_table: Annotated[str, Field(alias="STATE_TABLE_NAME", min_length=1)]
    notification_topic_arn: Annotated[str, Field(alias="NOTIFICATION_TOPIC_ARN", pattern=r"^arn:aws[\w-]*:sns:")]


class DagDeliverySettings(CommonSettings):
    """Functions of the dag-delivery flow."""

    staging_bucket: Annotated[str, Field(alias="STAGING_BUCKET_NAME", min_length=3)]


class EnvironmentChangeSettings(CommonSettings):
    """Functions of the environment-change flow."""

    # MWAA's default service quota for MaxWorkers; raise it here when the account's quota was raised.
    max_workers_quota: Annotated[int, Field(alias="MAX_WORKERS_QUOTA", ge=1)] = 25


class SnapshotSettings(CommonSettings):
    """Functions that read or write hibernated environments' snapshots (off-hours, and environment-change
    pinning artifacts in the snapshot of a hibernated environment)."""

    snapshot_bucket: Annotated[str, Field(alias="SNAPSHOT_BUCKET_NAME", min_length=3)]
    snapshot_kms_key_id: Annotated[str, Field(alias="SNAPSHOT_KMS_KEY_ID", min_length=1)]


class OffHoursDefaults(CommonSettings):
    """The stack's off-hours defaults. Window, zone and holidays stay raw text here: ``config_from_tags``
    checks them per environment and names the stack parameter in its problems."""

    default_window: Annotated[str, Field(alias="OFF_HOURS_DEFAULT_WINDOW")] = ""
    """Empty: no default (an environment without ``mwaa-cp:window`` is then reported, not guessed)."""
    default_timezone: Annotated[str, Field(alias="OFF_HOURS_DEFAULT_TIMEZONE", min_length=1)] = "UTC"
    holidays: Annotated[str, Field(alias="OFF_HOURS_HOLIDAYS")] = ""
    """ISO dates separated by commas or spaces (a CloudFormation list parameter arrives comma-joined)."""

    @property
    def holiday_list(self) -> tuple[str, ...]:
        return tuple(day for day in re.split(r"[\s,]+", self.holidays) if day)

    def stack_defaults(self) -> StackDefaults:
        """The defaults every environment's tags are read against; stage prod protects every environment."""
        # Imported here: the tag reader (zoneinfo, the window grammar) is not every function's cold start.
        from mwaa_control_plane.environments.offhours.tags import StackDefaults

        return StackDefaults(
            window=self.default_window.strip() or None,
            timezone=self.default_timezone.strip(),
            holidays=self.holiday_list,
            production=self.stage == "prod",
        )


class OffHoursSettings(SnapshotSettings, OffHoursDefaults):
    """Functions of the off-hours flow: the snapshot store and the stack's defaults."""

    environment_change_state_machine_arn: Annotated[
        str | None, Field(alias="ENVIRONMENT_CHANGE_STATE_MACHINE_ARN", pattern=r"^arn:aws[\w-]*:states:")
    ] = None

    @field_validator("environment_change_state_machine_arn", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


class WorkerAnalysisSettings(CommonSettings):
    """Functions of the worker-analysis flow and the alarms reconciler (stack parameters in template.yaml)."""

    reports_bucket: Annotated[str, Field(alias="REPORTS_BUCKET_NAME", min_length=3)]
    reports_prefix: Annotated[str, Field(alias="REPORTS_PREFIX", pattern=r"^[\w./-]*/$")] = "reports/worker-analysis/"
    alarm_name_prefix: Annotated[str, Field(alias="ALARM_NAME_PREFIX", min_length=1, max_length=120)] = "mwaa-cp/"
    dashboard_name_prefix: Annotated[str, Field(alias="DASHBOARD_NAME_PREFIX", pattern=r"^[\w-]{1,120}$")] = "mwaa-cp-"
    window_minutes: Annotated[int, Field(alias="ANALYSIS_WINDOW_MINUTES", ge=15, le=1440)] = 120
    max_workers_ceiling: Annotated[int, Field(alias="REMEDIATION_MAX_WORKERS_CEILING", ge=1)] = 10
    cooldown_minutes: Annotated[int, Field(alias="REMEDIATION_COOLDOWN_MINUTES", ge=0)] = 360
    approval_timeout_seconds: Annotated[int, Field(alias="APPROVAL_TIMEOUT_SECONDS", ge=1)] = 86400
    queue_age_threshold_seconds: Annotated[int, Field(alias="ALARM_QUEUE_AGE_SECONDS", ge=60)] = 1800
    queued_tasks_threshold: Annotated[int, Field(alias="ALARM_QUEUED_TASKS", ge=1)] = 100
    worker_utilization_threshold: Annotated[int, Field(alias="ALARM_WORKER_UTILIZATION_PERCENT", ge=1, le=100)] = 95


class VariablePropagationSettings(CommonSettings):
    """Functions of the variable-propagation flow (stack parameters Variables* in template.yaml)."""

    staging_bucket: Annotated[str, Field(alias="STAGING_BUCKET_NAME", min_length=3)]
    reports_prefix: Annotated[str, Field(alias="REPORTS_PREFIX", pattern=r"^[\w./-]*/$")] = (
        "reports/variable-propagation/"
    )
    kms_key_id: Annotated[str, Field(alias="VARIABLES_KMS_KEY_ID", min_length=1)] = "alias/aws/ssm"
    """The key SecureString values are written with (source tree imports and targets)."""
    write_rate: Annotated[float, Field(alias="VARIABLES_WRITE_RATE", gt=0, le=1000)] = 3.0
    """SSM writes per second this flow allows itself (the account's quota is shared with everyone)."""
    repair_drift: Annotated[bool, Field(alias="VARIABLES_REPAIR_DRIFT")] = False
    apply_budget_seconds: Annotated[float, Field(alias="VARIABLES_APPLY_BUDGET_SECONDS", gt=0, le=840)] = 600.0
    """Seconds one apply step writes before handing over to the next (a Lambda runs at most 900)."""


class CliSettings(Settings):
    """Settings of the ``mwaa-cp`` command line (not a Lambda)."""

    # Region and endpoint are read by typer from AWS_REGION / AWS_ENDPOINT_URL on the commands themselves.
    stack_name: Annotated[str, Field(alias="MWAA_CP_STACK_NAME")] = "mwaa-control-plane"
    debug: Annotated[bool, Field(alias="MWAA_CP_DEBUG")] = False


@cache
def load_settings[S: Settings](model: type[S]) -> S:
    """Validate the process environment into ``model``; raise ConfigurationError naming what is wrong."""
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as exc:
        raise ConfigurationError(f"invalid settings for {model.__name__}: {validation_problems(exc)}") from None


def clear_settings_cache() -> None:
    """Forget every loaded settings model (the local runtime switches environments)."""
    load_settings.cache_clear()
