"""How one MWAA environment is doing: its configuration and what Airflow says about its DAGs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, computed_field, field_validator

from mwaa_control_plane.config import OffHoursDefaults
from mwaa_control_plane.environments.description import HIBERNATED, get_environment
from mwaa_control_plane.environments.doctor import Check, ControlPlaneWiring, DoctorClients, run_doctor
from mwaa_control_plane.environments.inventory import EnvironmentConfiguration, configuration_of
from mwaa_control_plane.errors import NotFoundError, OffHoursTagError
from mwaa_control_plane.statuses import USABLE_STATES

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient

    from mwaa_control_plane.airflow.models import Dag, DagImportError
    from mwaa_control_plane.airflow.reader import AirflowReader
    from mwaa_control_plane.environments.offhours.records import OffHoursRecord
    from mwaa_control_plane.environments.offhours.tags import StackDefaults
    from mwaa_control_plane.state import StateRepository

# How many import-error files a report names; the count is always exact.
MAX_NAMED_IMPORT_ERRORS = 20
# Doctor rows the health report already states in its own words (status, last update, import errors).
_REPORTED_BY_HEALTH = frozenset({"last-update", "import-errors"})


class EnvironmentHealthSettings(OffHoursDefaults):
    """The health step: the off-hours defaults (hibernated environments) and the stack's wiring the doctor checks."""

    staging_bucket: Annotated[str | None, Field(alias="STAGING_BUCKET_NAME")] = None
    source_bucket_pattern: Annotated[str, Field(alias="MWAA_SOURCE_BUCKET_PATTERN", min_length=1)] = "airflow-*"

    @field_validator("staging_bucket", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def wiring(self) -> ControlPlaneWiring:
        return ControlPlaneWiring(staging_bucket=self.staging_bucket, source_bucket_pattern=self.source_bucket_pattern)


@dataclass(frozen=True)
class Preflight:
    """What the health check needs to run the doctor's checks too."""

    clients: DoctorClients
    wiring: ControlPlaneWiring
    now: datetime


class EnvironmentHealth(EnvironmentConfiguration):
    environment_name: str
    dag_count: int = 0
    paused_dag_count: int = 0
    import_error_count: int = 0
    import_error_files: list[str] = []
    failing_checks: list[Check] = []
    """The doctor's failing rows (``mwaa-cp doctor`` shows every row); each one is a problem too."""
    problems: list[str] = []
    hibernated_since: datetime | None = None
    back_at: datetime | None = None
    """When off-hours starts the resume of a hibernated environment (None: not scheduled; see ``detail``)."""
    detail: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def healthy(self) -> bool:
        return not self.problems


def check_environment_health(
    mwaa: MWAAClient,
    airflow: AirflowReader,
    name: str,
    *,
    repository: StateRepository | None = None,
    stack: StackDefaults | None = None,
    preflight: Preflight | None = None,
) -> EnvironmentHealth:
    """Describe ``name`` and, when Airflow can answer, count its DAGs and import errors.

    Unhealthy means: not AVAILABLE, the last update failed, Airflow reports import errors, or (with
    ``preflight``) one of the doctor's checks fails. An environment off-hours hibernated (``repository``
    knows) is healthy and says since when and until when.
    """
    # Throttling and 5xx reach the ASL retriers by name; a deleted environment is a NotFoundError.
    try:
        environment = get_environment(mwaa, name)
    except NotFoundError:
        record = _hibernation(repository, name)
        if record is None:
            raise
        return hibernated_health(record, stack, repository.clock.now() if repository is not None else record.since)
    configuration = configuration_of(environment)
    status = configuration["status"]
    usable = status in USABLE_STATES
    problems: list[str] = []
    if not usable:
        problems.append(f"environment is {status}, not AVAILABLE")
    last_update = environment.get("LastUpdate", {})
    if last_update.get("Status") == "FAILED":
        error = last_update.get("Error", {})
        problems.append(f"last update failed: {error.get('ErrorCode', '?')}: {error.get('ErrorMessage', '')}".strip())
    dags: list[Dag] = []
    import_errors: list[DagImportError] = []
    if usable:
        dags = airflow.list_dags()
        import_errors = airflow.list_import_errors()
    if import_errors:
        problems.append(f"{len(import_errors)} DAG file(s) fail to import")
    failing: list[Check] = []
    if preflight is not None:
        report = run_doctor(
            preflight.clients,
            name,
            now=preflight.now,
            wiring=preflight.wiring,
            import_errors=import_errors if usable else None,
            repository=repository,
            environment=environment,
        )
        failing = report.failing
        problems.extend(f"{c.id}: {c.detail}" for c in failing if c.id not in _REPORTED_BY_HEALTH)
    return EnvironmentHealth(
        environment_name=name,
        **configuration,
        dag_count=len(dags),
        paused_dag_count=sum(1 for d in dags if d.is_paused),
        import_error_count=len(import_errors),
        import_error_files=sorted({e.filename for e in import_errors})[:MAX_NAMED_IMPORT_ERRORS],
        failing_checks=failing,
        problems=problems,
    )


def _hibernation(repository: StateRepository | None, name: str) -> OffHoursRecord | None:
    if repository is None:
        return None
    record = repository.off_hours_record(name)
    return record if record is not None and record.state == "hibernated" else None


def hibernated_health(record: OffHoursRecord, stack: StackDefaults | None, now: datetime) -> EnvironmentHealth:
    """A hibernated environment's report: "hibernated since X, back at Y", from its record and its tags."""
    from mwaa_control_plane.environments.offhours.schedule import lead_time, resume_at
    from mwaa_control_plane.environments.offhours.tags import config_from_tags

    back_at: datetime | None = None
    try:
        config = config_from_tags(record.tags, stack)
    except OffHoursTagError as exc:
        back = f"back: unknown, its tags cannot be read ({exc})"
    else:
        if not config.managed or config.protection is not None:
            back = "back at the next off-hours run: it is no longer managed or it is protected"
        else:
            back_at = resume_at(config, now, lead_time(record.create_durations))
            back = f"back at {back_at:%Y-%m-%d %H:%M} UTC" if back_at else "back: no end to its off-hours window"
            if back_at is not None and record.next_resume_attempt_at and record.next_resume_attempt_at > back_at:
                back_at = record.next_resume_attempt_at
                back = f"back at {back_at:%Y-%m-%d %H:%M} UTC at the earliest (the last resume failed)"
    detail = f"hibernated since {record.since:%Y-%m-%d %H:%M} UTC, {back}"
    if record.last_error:
        detail += f"; last resume failed: {record.last_error}"
    target = record.target
    return EnvironmentHealth(
        environment_name=record.environment_name,
        status=HIBERNATED,
        airflow_version=target.airflow_version if target else None,
        environment_class=record.capacity.environment_class if record.capacity else None,
        hibernated_since=record.since,
        back_at=back_at,
        detail=detail,
    )
