"""The delivery flow's validation step with the environment's .mwaa-cp.toml and files Airflow never imports.

moto holds the versioned staging bucket and the environment's source bucket ``airflow-dev``
(DagS3Path ``dags``); MWAA is the in-memory FakeMwaa.
"""

from __future__ import annotations

import json
from itertools import count
from typing import Any

import pytest

from mwaa_control_plane.dags import validate_step
from mwaa_control_plane.dags.events import Action, ArtifactKind, DeliveryRequest, normalise_sequencer
from mwaa_control_plane.dags.payloads import ValidationOutcome
from mwaa_control_plane.dags.validate_step import settings_key, validate_object
from mwaa_control_plane.state import StateRepository
from tests.unit.aws import (
    ENVIRONMENT,
    SOURCE_BUCKET,
    STAGING_BUCKET,
    FakeMwaa,
    body_of,
    put,
)
from tests.unit.dags.validation.corpus import DEFECTS

# A DAG the default rules reject (a literal API key) and a team's configuration may accept.
DAG_WITH_KEY = """\
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

SANDBOX_API_KEY = "sandbox-demo-key"
with DAG("sandbox_sync", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    EmptyOperator(task_id="sync")
"""
GLUE_JOB = (DEFECTS / "file-not-imported--job-scripts" / "jobs" / "glue_orders_dedup.py").read_text()
_sequencers = count(0x00627F08299329D189)


def _validate(s3: Any, repository: StateRepository, relative: str, body: str) -> ValidationOutcome:
    """Upload ``<environment>/dags/<relative>`` to staging and validate that version."""
    key = f"{ENVIRONMENT}/dags/{relative}"
    request = DeliveryRequest(
        environment_name=ENVIRONMENT,
        kind=ArtifactKind.DAG,
        action=Action.CREATED,
        staging_bucket=STAGING_BUCKET,
        key=key,
        relative_path=relative,
        version_id=put(s3, STAGING_BUCKET, key, body),
        sequencer=normalise_sequencer(f"{next(_sequencers):018X}"),
    )
    return validate_object(s3, FakeMwaa(), repository, request)  # type: ignore[arg-type]


def _report(s3: Any, outcome: ValidationOutcome) -> dict[str, Any]:
    assert outcome.report_key is not None
    report: dict[str, Any] = json.loads(body_of(s3, STAGING_BUCKET, outcome.report_key))
    return report


def test_without_a_config_file_the_defaults_apply(s3: Any, repository: StateRepository) -> None:
    outcome = _validate(s3, repository, "sandbox_sync.py", DAG_WITH_KEY)

    assert outcome.verdict == "fail" and "[credential-literal]" in outcome.notification
    assert _report(s3, outcome)["settings_file"] is None


def test_the_environments_config_disables_a_rule_and_the_report_says_so(s3: Any, repository: StateRepository) -> None:
    version = put(s3, STAGING_BUCKET, settings_key(ENVIRONMENT), '[rules]\ndisable = ["credential-literal"]\n')

    outcome = _validate(s3, repository, "sandbox_sync.py", DAG_WITH_KEY)

    assert (outcome.verdict, outcome.errors) == ("pass", 0)
    report = _report(s3, outcome)
    assert report["settings_file"] == {
        "bucket": STAGING_BUCKET,
        "key": f"{ENVIRONMENT}/.mwaa-cp.toml",
        "version_id": version,
    }
    [suppressed] = [f for f in report["files"][0]["findings"] if f["suppressed"]]
    assert (suppressed["rule"], suppressed["suppression"]) == ("credential-literal", "config")
    assert report["summary"]["suppressed"] == 1


def test_a_broken_config_rejects_the_upload_with_config_invalid(s3: Any, repository: StateRepository) -> None:
    put(s3, STAGING_BUCKET, settings_key(ENVIRONMENT), '[rules]\ndisabled = ["credential-literal"]\n')
    clean = DAG_WITH_KEY.replace('SANDBOX_API_KEY = "sandbox-demo-key"\n', "")

    outcome = _validate(s3, repository, "sandbox_sync.py", clean)

    assert outcome.verdict == "fail" and outcome.errors == 1
    assert f"[config-invalid] {ENVIRONMENT}/.mwaa-cp.toml whole file: unknown key [rules] 'disabled'" in (
        outcome.notification
    )
    files = _report(s3, outcome)["files"]
    assert [(f["path"], f["verdict"]) for f in files] == [
        ("sandbox_sync.py", "pass"),
        (f"{ENVIRONMENT}/.mwaa-cp.toml", "fail"),
    ]


def test_a_job_script_nothing_imports_passes_with_an_info(s3: Any, repository: StateRepository) -> None:
    put(s3, SOURCE_BUCKET, "dags/orders.py", "from airflow import DAG  # starts the job by its S3 path\n")

    outcome = _validate(s3, repository, "jobs/glue_orders_dedup.py", GLUE_JOB)

    assert outcome.verdict == "pass"
    [only] = _report(s3, outcome)["files"][0]["findings"]
    assert only["rule"] == "file-not-imported"


def test_a_skipped_helper_a_deployed_dag_imports_keeps_the_full_checks(s3: Any, repository: StateRepository) -> None:
    importer = "from datetime import datetime\nfrom airflow import DAG\nfrom jobs.glue_orders_dedup import job\n"
    put(s3, SOURCE_BUCKET, "dags/orders.py", importer)

    outcome = _validate(s3, repository, "jobs/glue_orders_dedup.py", GLUE_JOB)

    assert outcome.verdict == "fail" and "[import-unresolved]" in outcome.notification


def test_a_skipped_helper_a_staged_file_imports_keeps_the_full_checks(s3: Any, repository: StateRepository) -> None:
    put(s3, STAGING_BUCKET, f"{ENVIRONMENT}/dags/orders.py", "import glue_orders_dedup\n")

    assert _validate(s3, repository, "glue_orders_dedup.py", GLUE_JOB).verdict == "fail"


def test_past_the_read_limit_a_skipped_file_is_taken_as_imported(
    s3: Any, repository: StateRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validate_step, "MAX_IMPORTERS_READ", 1)
    for n in range(2):
        put(s3, SOURCE_BUCKET, f"dags/other_{n}.py", "x = 1\n")

    assert _validate(s3, repository, "jobs/glue_orders_dedup.py", GLUE_JOB).verdict == "fail"


def test_a_dag_file_never_reads_the_other_files(s3: Any, repository: StateRepository) -> None:
    put(s3, SOURCE_BUCKET, "dags/orders.py", "import anything\n")
    reads: list[str] = []
    real = s3.get_object

    def counting(**kwargs: Any) -> Any:
        reads.append(kwargs["Key"])
        return real(**kwargs)

    s3.get_object = counting

    _validate(s3, repository, "sandbox_sync.py", DAG_WITH_KEY)

    assert "dags/orders.py" not in reads
