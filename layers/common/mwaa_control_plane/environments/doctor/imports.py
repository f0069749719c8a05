"""What Airflow says now: DAG files that fail to import."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mwaa_control_plane.environments.doctor.models import Check, failed, passed, warned
from mwaa_control_plane.statuses import USABLE_STATES

if TYPE_CHECKING:
    from mwaa_control_plane.airflow.models import DagImportError
    from mwaa_control_plane.environments.doctor.facts import EnvironmentFacts

# How many files the row names; the count is always exact.
MAX_NAMED = 10


def import_errors_check(facts: EnvironmentFacts, errors: Sequence[DagImportError] | None) -> Check:
    """``errors``: what Airflow reported (None: it was not asked, because the environment is not usable)."""
    title = "No DAG import errors"
    check_id = "import-errors"
    if errors is None:
        return warned(
            check_id,
            title,
            f"Airflow not asked: the environment is {facts.status} (its web server answers in "
            f"{' or '.join(sorted(USABLE_STATES))})",
            "run the doctor again once the environment is AVAILABLE",
        )
    if not errors:
        return passed(check_id, title, "Airflow reports no import errors")
    files = sorted({e.filename for e in errors})
    named = ", ".join(files[:MAX_NAMED]) + (f" and {len(files) - MAX_NAMED} more" if len(files) > MAX_NAMED else "")
    first = errors[0].stack_trace.strip().splitlines()[-1:] if errors[0].stack_trace.strip() else []
    return failed(
        check_id,
        title,
        f"{len(errors)} DAG file(s) fail to import: {named}" + (f" (first: {first[0]})" if first else ""),
        "fix the files (mwaa-cp validate FILE shows why before upload) and push them again to the staging bucket; "
        "the Airflow UI banner and the DAGProcessing log group have the full traceback",
    )
