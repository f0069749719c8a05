"""What the control plane knows about Airflow objects, whatever interface served them.

REST API v1 (Airflow 2), REST API v2 (Airflow 3) and the CLI (Airflow < 2.4.3) return
different shapes; the backends normalise into these models so callers never branch on
the Airflow version. Fields an interface cannot provide are ``None`` (or empty).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Annotated, Literal

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
    include_deferred: bool | None = None
    """Airflow 2.7+: deferred tasks count against the pool; None where the API did not say (older, or the CLI)."""


DEFAULT_POOL = "default_pool"


class DagRun(AirflowModel):
    dag_id: str
    run_id: str
    state: str | None = None
    logical_date: datetime | None = None
    """None on Airflow 3 for runs triggered without a logical date, or when the CLI output did not show it."""
    run_type: str | None = None
    """scheduled, manual, backfill, dataset_triggered (Airflow 2) or asset_triggered (Airflow 3)."""
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    run_after: datetime | None = None
    """Airflow 3 only: when the run was due."""


class TaskInstance(AirflowModel):
    dag_id: str
    task_id: str
    run_id: str | None = None
    map_index: int | None = None
    state: str | None = None
    start_date: datetime | None = None


class Connection(AirflowModel):
    """A connection as the REST API shows it: never with its password, sensitive extras already masked.

    The control plane never holds a connection password: Airflow's API does not return it
    (v1 leaves the field out, v2 answers ``***``), so nothing here can carry one.
    """

    connection_id: Annotated[str, Field(min_length=1)]
    conn_type: str | None = None
    description: str | None = None
    host: str | None = None
    login: str | None = None
    schema_name: str | None = None
    """Airflow's ``schema`` field (renamed here: pydantic models reserve ``schema``)."""
    port: int | None = None
    # repr=False: extras may hold values Airflow does not recognise as sensitive.
    extra: Annotated[str | None, Field(repr=False)] = None
    """The JSON text Airflow returned, sensitive keys masked as ``***``; None if absent or not listed."""
    extra_known: bool = True
    """False when the listing did not carry ``extra`` (REST v1 lists connections without it)."""
    password_set: bool | None = None
    """v2 answers a masked password when one is set; v1 never says (None)."""


ScheduleKind = Literal["none", "cron", "delta", "once", "continuous", "asset", "other"]

# airflow.utils.dates.cron_presets (Airflow 2 and 3), translated before croniter sees the expression.
CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@midnight": "0 0 * * *",
}
# str(timedelta): "0:30:00", "1 day, 0:00:00", "2 days, 3:04:05.500000" (the timetable summary of a delta schedule).
_TIMEDELTA_TEXT = re.compile(r"^(?:(?P<days>-?\d+) days?, )?(?P<h>\d+):(?P<m>\d{2}):(?P<s>\d{2}(?:\.\d+)?)$")
_CRON_FIELD = re.compile(r"^[\d*/,\-?LW#A-Za-z]+$")


class Schedule(AirflowModel):
    """A DAG's schedule, from v1's ``schedule_interval`` or v2's ``timetable_summary``, reduced to what counts runs."""

    kind: ScheduleKind
    text: str | None = None
    """As Airflow reported it (a cron expression, ``1 day, 0:00:00``, ``@once``, ``Dataset``, a custom summary)."""
    cron: str | None = None
    """kind ``cron``: the expression, presets translated."""
    delta_seconds: float | None = None
    """kind ``delta``: the interval."""


def schedule_from_summary(text: str | None) -> Schedule:
    """Classify a schedule as Airflow summarises it (v2 ``timetable_summary``, v1 ``CronExpression.value``)."""
    if text is None or text.strip() in ("", "None"):
        return Schedule(kind="none")
    stripped = text.strip()
    if stripped == "@once":
        return Schedule(kind="once", text=text)
    if stripped == "@continuous":
        return Schedule(kind="continuous", text=text)
    if stripped in ("Dataset", "Asset"):
        return Schedule(kind="asset", text=text)
    if stripped.lower() in CRON_PRESETS:
        return Schedule(kind="cron", text=text, cron=CRON_PRESETS[stripped.lower()])
    match = _TIMEDELTA_TEXT.match(stripped)
    if match:
        seconds = int(match["days"] or 0) * 86400 + int(match["h"]) * 3600 + int(match["m"]) * 60 + float(match["s"])
        return Schedule(kind="delta", text=text, delta_seconds=seconds)
    fields = stripped.split()
    if len(fields) in (5, 6) and all(_CRON_FIELD.match(field) for field in fields):
        return Schedule(kind="cron", text=text, cron=stripped)
    return Schedule(kind="other", text=text)


def schedule_from_v1(value: object) -> Schedule:
    """v1's ``schedule_interval``: null, ``{"__type": "CronExpression", "value": ...}``, TimeDelta or RelativeDelta."""
    if value is None:
        return Schedule(kind="none")
    if not isinstance(value, dict):
        return schedule_from_summary(str(value))
    kind = value.get("__type")
    if kind == "CronExpression":
        expression = value.get("value")
        return schedule_from_summary(expression if isinstance(expression, str) else None)
    if kind == "TimeDelta":
        seconds = (
            float(value.get("days") or 0) * 86400
            + float(value.get("seconds") or 0)
            + float(value.get("microseconds") or 0) / 1e6
        )
        return Schedule(kind="delta", text=f"timedelta(seconds={seconds:g})", delta_seconds=seconds)
    return Schedule(kind="other", text=str(kind or "unknown"))


class DagDetails(AirflowModel):
    """What decides a DAG's runs after its metadata is gone: schedule, catchup, start and end."""

    dag_id: str
    is_paused: bool | None = None
    catchup: bool | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    schedule: Schedule = Schedule(kind="none")
    timezone: str | None = None
    """The DAG's zone as an IANA name (v1's ``Timezone('Europe/Berlin')`` is unwrapped); None when unknown."""
    next_dagrun_create_after: datetime | None = None
    """When the scheduler would create the next run (v1 ``next_dagrun_create_after``, v2 ``next_dagrun_run_after``)."""


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
