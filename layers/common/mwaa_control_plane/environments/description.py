"""An environment as the flows that deliver files to it see it: GetEnvironment, reduced and typed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from mwaa_control_plane.errors import NotFoundError, translate_client_error
from mwaa_control_plane.payloads import Payload

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient

    from mwaa_control_plane.state import StateRepository

# MWAA's default (docs/mwaa-facts.md): new files in the DAG folder are listed every 300 s.
DAG_DIR_LIST_INTERVAL = 300
# Not an MWAA status: the control plane deleted the environment off-hours and keeps its snapshot.
HIBERNATED = "HIBERNATED"


class EnvironmentTarget(Payload):
    """Where an environment reads its files from, from GetEnvironment."""

    name: str
    status: str
    airflow_version: str
    source_bucket: str
    dag_s3_path: str
    requirements_s3_path: str | None = None
    requirements_version: str | None = None
    plugins_s3_path: str | None = None
    plugins_version: str | None = None
    startup_s3_path: str | None = None
    startup_version: str | None = None
    dag_dir_list_interval: int = DAG_DIR_LIST_INTERVAL
    last_update_error_code: str | None = None
    last_update_error_message: str | None = None

    def artifact(self, kind: str) -> tuple[str | None, str | None]:
        """S3 path and object version the environment runs for requirements.txt, plugins.zip or startup.sh."""
        return {
            "requirements": (self.requirements_s3_path, self.requirements_version),
            "plugins": (self.plugins_s3_path, self.plugins_version),
            "startup": (self.startup_s3_path, self.startup_version),
        }[kind]


def get_environment(mwaa: MWAAClient, name: str) -> dict[str, Any]:
    """GetEnvironment's ``Environment``, with AWS errors translated (NotFoundError for an unknown environment)."""
    try:
        return dict(mwaa.get_environment(Name=name)["Environment"])
    except ClientError as exc:
        raise translate_client_error(exc, operation="GetEnvironment") from exc


def describe_environment(
    mwaa: MWAAClient, name: str, *, repository: StateRepository | None = None
) -> EnvironmentTarget:
    """GetEnvironment, reduced to what delivery needs. Raises NotFoundError for an unknown environment.

    With ``repository``, an environment that off-hours hibernated is described from its off-hours record
    (status ``HIBERNATED``): its bucket stays, so files are still delivered to it.
    """
    try:
        env = get_environment(mwaa, name)
    except NotFoundError:
        hibernated = hibernated_target(repository, name) if repository is not None else None
        if hibernated is None:
            raise
        return hibernated
    options = env.get("AirflowConfigurationOptions") or {}
    listed = options.get("scheduler.dag_dir_list_interval") or options.get("dag_processor.refresh_interval")
    error = env.get("LastUpdate", {}).get("Error", {})
    return EnvironmentTarget(
        name=name,
        status=env.get("Status", "UNKNOWN"),
        airflow_version=env.get("AirflowVersion", "2.10.3"),
        source_bucket=env["SourceBucketArn"].split(":::")[-1],
        dag_s3_path=env.get("DagS3Path", "dags").strip("/"),
        requirements_s3_path=env.get("RequirementsS3Path"),
        requirements_version=env.get("RequirementsS3ObjectVersion"),
        plugins_s3_path=env.get("PluginsS3Path"),
        plugins_version=env.get("PluginsS3ObjectVersion"),
        startup_s3_path=env.get("StartupScriptS3Path"),
        startup_version=env.get("StartupScriptS3ObjectVersion"),
        dag_dir_list_interval=int(str(listed)) if str(listed or "").isdigit() else DAG_DIR_LIST_INTERVAL,
        last_update_error_code=error.get("ErrorCode"),
        last_update_error_message=error.get("ErrorMessage"),
    )


def hibernated_target(repository: StateRepository, name: str) -> EnvironmentTarget | None:
    """The target of an environment off-hours hibernated (its record says so), else None."""
    record = repository.off_hours_record(name)
    if record is None or record.state != "hibernated" or record.target is None:
        return None
    return record.target.model_copy(update={"status": HIBERNATED})
