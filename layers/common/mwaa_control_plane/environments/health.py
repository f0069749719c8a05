"""How one MWAA environment is doing: its configuration and what Airflow says about its DAGs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import computed_field

from mwaa_control_plane.environments.description import get_environment
from mwaa_control_plane.environments.inventory import USABLE_STATES, EnvironmentConfiguration, configuration_of

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient

    from mwaa_control_plane.airflow.models import Dag, DagImportError
    from mwaa_control_plane.airflow.reader import AirflowReader

# How many import-error files a report names; the count is always exact.
MAX_NAMED_IMPORT_ERRORS = 20


class EnvironmentHealth(EnvironmentConfiguration):
    environment_name: str
    dag_count: int = 0
    paused_dag_count: int = 0
    import_error_count: int = 0
    import_error_files: list[str] = []
    problems: list[str] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def healthy(self) -> bool:
        return not self.problems


def check_environment_health(mwaa: MWAAClient, airflow: AirflowReader, name: str) -> EnvironmentHealth:
    """Describe ``name`` and, when Airflow can answer, count its DAGs and import errors.

    Unhealthy means: not AVAILABLE, the last update failed, or Airflow reports import errors.
    """
    # Throttling and 5xx reach the ASL retriers by name; a deleted environment is a NotFoundError.
    environment = get_environment(mwaa, name)
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
    return EnvironmentHealth(
        environment_name=name,
        **configuration,
        dag_count=len(dags),
        paused_dag_count=sum(1 for d in dags if d.is_paused),
        import_error_count=len(import_errors),
        import_error_files=sorted({e.filename for e in import_errors})[:MAX_NAMED_IMPORT_ERRORS],
        problems=problems,
    )
