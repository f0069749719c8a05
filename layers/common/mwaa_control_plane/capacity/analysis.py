"""The worker analysis in one call: scenario in, report out (the CLI and the flow's diagnose step both call this)."""

from __future__ import annotations

from mwaa_control_plane.capacity.diagnosis import diagnose
from mwaa_control_plane.capacity.recommendation import recommend
from mwaa_control_plane.capacity.report import AnalysisReport, ReportWindow
from mwaa_control_plane.capacity.scenario import Scenario
from mwaa_control_plane.environments.limits import DEFAULT_MAX_WORKERS_QUOTA


def analyze(
    scenario: Scenario,
    *,
    max_workers_ceiling: int = DEFAULT_MAX_WORKERS_QUOTA,
    execution: str = "",
) -> AnalysisReport:
    """Diagnose ``scenario`` and propose the change, if any, within ``max_workers_ceiling`` workers.

    ``execution`` is the Step Functions execution that asks (it goes into the change request's ``requested_by``).
    No AWS call: everything comes from the scenario.
    """
    diagnosis = diagnose(scenario)
    recommendation = recommend(scenario, diagnosis, max_workers_ceiling=max_workers_ceiling, execution=execution)
    environment = scenario.environment
    return AnalysisReport(
        environment=environment.Name,
        environment_class=environment.EnvironmentClass,
        window=ReportWindow(start=scenario.window.start, end=scenario.window.end),
        cause=diagnosis.cause,
        limit=diagnosis.limit,
        decided_by=diagnosis.decided_by,
        summary=diagnosis.findings[0].message,
        findings=diagnosis.findings,
        recommendation=recommendation,
        capacity=diagnosis.capacity,
        data=diagnosis.data,
        description=scenario.description,
        notes=scenario.notes,
    )
