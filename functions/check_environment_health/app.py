"""Step "Ask Airflow how the environment is doing" of the environment-health flow (the doctor's checks included)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.airflow import AirflowClient
from mwaa_control_plane.environments.doctor import doctor_clients
from mwaa_control_plane.environments.health import EnvironmentHealthSettings, Preflight, check_environment_health
from mwaa_control_plane.observability import MetricUnit, instrumented, metrics
from mwaa_control_plane.payloads import EnvironmentName, Payload, parse_input
from mwaa_control_plane.wiring import dependencies


class HealthRequest(Payload):
    environment_name: EnvironmentName


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_input(HealthRequest, event)
    deps = dependencies(EnvironmentHealthSettings)
    airflow = AirflowClient.for_environment(request.environment_name, region=deps.settings.region, clock=deps.clock)
    report = check_environment_health(
        deps.mwaa,
        airflow,
        request.environment_name,
        repository=deps.repository,
        stack=deps.settings.stack_defaults(),
        preflight=Preflight(doctor_clients(deps.settings.region), deps.settings.wiring, deps.clock.now()),
    )
    metrics.add_metric(
        name="EnvironmentHealthy" if report.healthy else "EnvironmentUnhealthy", unit=MetricUnit.Count, value=1
    )
    metrics.add_metric(name="DoctorChecksFailed", unit=MetricUnit.Count, value=len(report.failing_checks))
    return report.model_dump(mode="json")
