"""Settings: one pydantic model per function, read from the environment once.

This is the only module that reads ``os.environ``. Each handler calls
``load_settings(TheSettings)``; the result is cached per model class. The local runtime
calls :func:`clear_settings_cache` when it switches between stacks.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mwaa_control_plane.errors import ConfigurationError
from mwaa_control_plane.payloads import validation_problems

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
