"""The account's MWAA environments at a glance (``mwaa-cp envs``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from mwaa_control_plane.errors import translate_client_error
from mwaa_control_plane.payloads import Payload

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient

    from mwaa_control_plane.state import StateRepository


class EnvironmentConfiguration(Payload):
    """What GetEnvironment says about an environment's status and size, as every report shows it."""

    status: str
    airflow_version: str | None = None
    environment_class: str | None = None
    min_workers: int | None = None
    max_workers: int | None = None
    schedulers: int | None = None


def configuration_of(environment: Mapping[str, Any]) -> dict[str, Any]:
    """The EnvironmentConfiguration fields of a GetEnvironment ``Environment``."""
    return {
        "status": environment.get("Status", "UNKNOWN"),
        "airflow_version": environment.get("AirflowVersion"),
        "environment_class": environment.get("EnvironmentClass"),
        "min_workers": environment.get("MinWorkers"),
        "max_workers": environment.get("MaxWorkers"),
        "schedulers": environment.get("Schedulers"),
    }


class EnvironmentSummary(EnvironmentConfiguration):
    name: str
    last_update: str | None = None
    """Status of the last update (SUCCESS, PENDING, FAILED) and its error code when it failed."""


def listed_names(mwaa: MWAAClient) -> list[str]:
    """Every name ListEnvironments gives, all pages (at most 25 a page), sorted."""
    names: list[str] = []
    try:
        for page in mwaa.get_paginator("list_environments").paginate():
            names.extend(page["Environments"])
    except ClientError as exc:
        raise translate_client_error(exc, operation="ListEnvironments") from exc
    return sorted(names)


def environment_names(mwaa: MWAAClient, repository: StateRepository) -> list[str]:
    """Every environment of the account and Region, with those off-hours hibernated (MWAA no longer lists them)."""
    hibernated = [r.environment_name for r in repository.off_hours_records() if r.state == "hibernated"]
    return sorted({*listed_names(mwaa), *hibernated})


def list_environment_summaries(mwaa: MWAAClient) -> list[EnvironmentSummary]:
    """Every environment of the account and Region, sorted by name.

    An environment deleted between ListEnvironments and GetEnvironment is left out.
    """
    summaries: list[EnvironmentSummary] = []
    for name in listed_names(mwaa):
        try:
            environment = mwaa.get_environment(Name=name)["Environment"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                continue
            raise translate_client_error(exc) from exc
        last = environment.get("LastUpdate")
        last_update = None
        if last:
            code = last.get("Error", {}).get("ErrorCode")
            last_update = f"{last.get('Status', '?')}{f' ({code})' if code else ''}"
        summaries.append(EnvironmentSummary(name=name, last_update=last_update, **configuration_of(environment)))
    return summaries
