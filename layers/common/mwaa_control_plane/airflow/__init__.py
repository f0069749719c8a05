"""Talking to the Airflow inside an MWAA environment: REST API v1/v2 or the CLI, paced and retried."""

from mwaa_control_plane.airflow.client import AirflowClient, EnvironmentInfo, Interface, interface_for
from mwaa_control_plane.airflow.models import (
    AirflowVersion,
    Connection,
    Dag,
    DagDetails,
    DagImportError,
    DagRun,
    Pool,
    Schedule,
    TaskInstance,
    Variable,
    parse_airflow_version,
)
from mwaa_control_plane.airflow.ratelimit import RateLimiter
from mwaa_control_plane.airflow.resilience import RetryPolicy, translate_error
from mwaa_control_plane.airflow.transport import CliTransport, Urllib3CliTransport

__all__ = [
    "AirflowClient",
    "AirflowVersion",
    "CliTransport",
    "Connection",
    "Dag",
    "DagDetails",
    "DagImportError",
    "DagRun",
    "EnvironmentInfo",
    "Interface",
    "Pool",
    "RateLimiter",
    "RetryPolicy",
    "Schedule",
    "TaskInstance",
    "Urllib3CliTransport",
    "Variable",
    "interface_for",
    "parse_airflow_version",
    "translate_error",
]
