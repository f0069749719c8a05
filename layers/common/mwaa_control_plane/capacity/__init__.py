"""Worker analysis: why tasks wait on an MWAA environment, with the evidence, and what (if anything) to change.

The analysis reads a :class:`~mwaa_control_plane.capacity.scenario.Scenario` (the environment's configuration, its
CloudWatch metrics over a window, Airflow's pool and task counts), diagnoses one cause with explicit rules
(:mod:`~mwaa_control_plane.capacity.rules`, precedence in :mod:`~mwaa_control_plane.capacity.diagnosis`) and
proposes an environment-change request with its monthly cost
(:mod:`~mwaa_control_plane.capacity.recommendation`). :func:`analyze` does all of it without an AWS call;
:mod:`~mwaa_control_plane.capacity.gather` builds the scenario from a live environment (imported on its own:
it needs boto3). docs/worker-analysis.md describes the file, the rules and the precedence.
"""

from mwaa_control_plane.capacity.analysis import analyze
from mwaa_control_plane.capacity.diagnosis import PRECEDENCE, Diagnosis, diagnose
from mwaa_control_plane.capacity.recommendation import CostDelta, Recommendation, recommend
from mwaa_control_plane.capacity.report import AnalysisReport, render_markdown, render_text
from mwaa_control_plane.capacity.rules import Cause, Finding
from mwaa_control_plane.capacity.scenario import Scenario, load_scenario, parse_scenario

__all__ = [
    "PRECEDENCE",
    "AnalysisReport",
    "Cause",
    "CostDelta",
    "Diagnosis",
    "Finding",
    "Recommendation",
    "Scenario",
    "analyze",
    "diagnose",
    "load_scenario",
    "parse_scenario",
    "recommend",
    "render_markdown",
    "render_text",
]
