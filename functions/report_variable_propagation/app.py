"""Step "Report the propagation" of variable-propagation: the stored report and the (masked) notification text."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mwaa_control_plane.config import VariablePropagationSettings
from mwaa_control_plane.observability import MetricUnit, instrumented, metrics
from mwaa_control_plane.payloads import Payload, parse_input
from mwaa_control_plane.variables.files import ImportResult
from mwaa_control_plane.variables.flow import report_step
from mwaa_control_plane.variables.propagation import ApplyResult
from mwaa_control_plane.wiring import dependencies


class ReportInput(Payload):
    plan_key: str
    applied: list[ApplyResult] = []
    """The Map's results: one per environment written (the last result of its loop, with the totals)."""
    execution: str
    imported: ImportResult | None = None


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse_input(ReportInput, event)
    deps = dependencies(VariablePropagationSettings)
    outcome = report_step(
        deps.s3,
        bucket=deps.settings.staging_bucket,
        plan_key=step.plan_key,
        applied=step.applied,
        execution=step.execution,
        imported=step.imported,
    )
    metrics.add_metric(name="VariablesReported", unit=MetricUnit.Count, value=1)
    return outcome.model_dump(mode="json")
