"""What an environment is, as the checks read it from GetEnvironment (one parse, typed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mwaa_control_plane.payloads import Payload

# The five log types of LoggingConfiguration and the suffix of each one's log group, airflow-<Name>-<Suffix>.
LOG_TYPES: dict[str, str] = {
    "DagProcessingLogs": "DAGProcessing",
    "SchedulerLogs": "Scheduler",
    "TaskLogs": "Task",
    "WebserverLogs": "WebServer",
    "WorkerLogs": "Worker",
}
ARTIFACTS = (
    ("requirements", "RequirementsS3Path", "RequirementsS3ObjectVersion"),
    ("plugins", "PluginsS3Path", "PluginsS3ObjectVersion"),
    ("startup script", "StartupScriptS3Path", "StartupScriptS3ObjectVersion"),
)


class ControlPlaneWiring(Payload):
    """Where the control plane's stack takes files from and what it may write (stack outputs and parameters)."""

    staging_bucket: str | None = None
    """None: the stack is not known (the CLI found no stack), so the staging check cannot run."""
    source_bucket_pattern: str = "airflow-*"
    """The stack's MwaaSourceBucketPattern: the only source buckets its delivery functions may write."""


@dataclass(frozen=True)
class Artifact:
    kind: str
    path: str
    version: str | None


@dataclass(frozen=True)
class EnvironmentFacts:
    name: str
    partition: str
    region: str
    account: str
    status: str
    airflow_version: str
    bucket: str
    dag_s3_path: str
    role_arn: str
    subnet_ids: list[str]
    security_group_ids: list[str]
    logging: dict[str, bool]
    """Enabled per log type (all five keys)."""
    artifacts: list[Artifact]
    options: dict[str, str]
    celery_queue: str | None
    kms_key: str | None
    last_update: dict[str, Any]

    @classmethod
    def of(cls, environment: Mapping[str, Any]) -> EnvironmentFacts:
        arn = str(environment.get("Arn", ""))
        parts = arn.split(":")
        partition, region, account = (parts[1], parts[3], parts[4]) if len(parts) > 5 else ("aws", "", "")
        network = environment.get("NetworkConfiguration") or {}
        logging = environment.get("LoggingConfiguration") or {}
        return cls(
            name=str(environment["Name"]),
            partition=partition,
            region=region,
            account=account,
            status=str(environment.get("Status", "UNKNOWN")),
            airflow_version=str(environment.get("AirflowVersion", "")),
            bucket=str(environment.get("SourceBucketArn", "")).split(":::")[-1],
            dag_s3_path=str(environment.get("DagS3Path", "")).strip("/"),
            role_arn=str(environment.get("ExecutionRoleArn", "")),
            subnet_ids=list(network.get("SubnetIds") or []),
            security_group_ids=list(network.get("SecurityGroupIds") or []),
            logging={t: bool((logging.get(t) or {}).get("Enabled")) for t in LOG_TYPES},
            artifacts=[
                Artifact(kind, str(environment[path]), environment.get(version))
                for kind, path, version in ARTIFACTS
                if environment.get(path)
            ],
            options={str(k): str(v) for k, v in (environment.get("AirflowConfigurationOptions") or {}).items()},
            celery_queue=environment.get("CeleryExecutorQueue"),
            kms_key=environment.get("KmsKey"),
            last_update=dict(environment.get("LastUpdate") or {}),
        )

    def log_group(self, log_type: str) -> str:
        return f"airflow-{self.name}-{LOG_TYPES[log_type]}"

    def arn(self, service: str, resource: str, *, region: str | None = None, account: str | None = None) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region is None else region}:"
            f"{self.account if account is None else account}:{resource}"
        )
