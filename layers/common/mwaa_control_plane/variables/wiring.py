"""The collaborators of the variable-propagation steps, built from their settings."""

from __future__ import annotations

from mwaa_control_plane import clients
from mwaa_control_plane.airflow import AirflowClient
from mwaa_control_plane.config import VariablePropagationSettings
from mwaa_control_plane.variables.propagation import Connections
from mwaa_control_plane.wiring import Dependencies


def connections(deps: Dependencies[VariablePropagationSettings]) -> Connections:
    """SSM without botocore retries: the steps pace their calls and back off from throttling themselves."""
    settings = deps.settings
    return Connections(
        mwaa=deps.mwaa,
        ssm=clients.ssm(settings.region, max_attempts=1),
        airflow=lambda name: AirflowClient.for_environment(name, region=settings.region, clock=deps.clock),
        clock=deps.clock,
        kms_key_id=settings.kms_key_id,
        write_rate=settings.write_rate,
    )
