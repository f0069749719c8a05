"""What the control plane knows about Airflow objects, whatever interface served them.

REST API v1 (Airflow 2), REST API v2 (Airflow 3) and the CLI (Airflow < 2.4.3) return
different shapes; the backends normalise into these models so callers never branch on
the Airflow version. Fields an interface cannot provide are ``None`` (or empty).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from mwaa_control_plane.errors import UnsupportedAirflowVersionError
from mwaa_control_plane.versions import InvalidVersion, Release, release

AirflowVersion = Release

# InvokeRestApi exists from this version on; older environments only have the CLI endpoint.
REST_API_MIN_VERSION: AirflowVersion = (2, 4, 3)


class AirflowModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Dag(AirflowModel):
    dag_id: Annotated[str, Field(min_length=1)]
    fileloc: str | None = None
    """Path on the Airflow side: absolute over REST, possibly relative to the DAGs folder over the CLI."""
    is_paused: bool | None = None
    is_active: bool | None = None
    """False when Airflow no longer sees the file (v1 ``is_active``, v2 ``not is_stale``); None when unknown (CLI)."""
    tags: tuple[str, ...] = ()


class DagImportError(AirflowModel):
    filename: str
    stack_trace: str
    timestamp: datetime | None = None
    """When Airflow recorded the error; the CLI does not report it."""


class Variable(AirflowModel):
    key: Annotated[str, Field(min_length=1)]
    # repr=False: a Variable printed or logged by accident never shows its value.
    value: Annotated[str | None, Field(repr=False)] = None
    """None when the listing does not carry values (REST v1 and CLI listings give keys only)."""
    description: str | None = None


class Pool(AirflowModel):
    name: str
    slots: int
    """-1 means unlimited on Airflow 3."""
    occupied_slots: int | None = None
    running_slots: int | None = None
    queued_slots: int | None = None
    open_slots: int | None = None
    description: str | None = None


class DagRun(AirflowModel):
    dag_id: str
    run_id: str
    state: str | None = None
    logical_date: datetime | None = None
    """None on Airflow 3 for runs triggered without a logical date, or when the CLI output did not show it."""


def parse_airflow_version(text: str) -> AirflowVersion:
    """``"2.10.3"`` -> ``(2, 10, 3)``; suffixes such as ``rc1`` or ``+amzn`` are ignored, missing parts are 0."""
    try:
        return release(text)
    except InvalidVersion:
        raise UnsupportedAirflowVersionError(f"cannot read an Airflow version from {text!r}") from None


def new_run_id(now: datetime) -> str:
    """A run id in Airflow's manual style, unique enough that a retried trigger meets "already exists"."""
    return f"manual__{now.isoformat()}_{secrets.token_hex(3)}"


def format_version(version: AirflowVersion) -> str:
    return ".".join(str(p) for p in version)
