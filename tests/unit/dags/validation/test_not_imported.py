"""Python files Airflow never imports (job scripts next to the DAGs): syntax and secrets only, and said so."""

from __future__ import annotations

from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from mwaa_control_plane.dags.validation import Report, Severity, SourceFile, ValidationContext, validate_files
from mwaa_control_plane.dags.validation.import_graph import (
    ImportReach,
    imported_names,
    is_imported,
    module_name,
    reached_modules,
)
from tests.unit.dags.validation.corpus import DEFECTS, validate_folder

JOBS = DEFECTS / "file-not-imported--job-scripts"
GLUE_JOB = (JOBS / "jobs" / "glue_orders_dedup.py").read_bytes()
SPARK_JOB = (JOBS / "jobs" / "spark_clickstream_rollup.py").read_bytes()
DAG = b"""from datetime import datetime

from airflow import DAG
{imports}
with DAG("uses_helpers", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    pass
"""
# A helper without the words safe mode looks for, with an import the environment does not have.
HELPER = b"import company_sdk\n\n\ndef bucket_for(team):\n    return company_sdk.bucket(team)\n"


def _validate(files: dict[str, bytes], **context: object) -> Report:
    return validate_files([SourceFile(path=p, content=c) for p, c in files.items()], ValidationContext(**context))


def _rules(report: Report, path: str) -> set[str]:
    return {f.rule for f in next(f for f in report.files if f.path == path).findings}


def test_glue_and_spark_job_scripts_are_reported_as_not_imported_never_as_errors() -> None:
    report = validate_folder(JOBS, "2.10.3")

    for path in ("jobs/glue_orders_dedup.py", "jobs/spark_clickstream_rollup.py"):
        [only] = next(f for f in report.files if f.path == path).findings
        assert only.rule == "file-not-imported" and only.severity is Severity.INFO
        assert "import-unresolved" in only.message, "the message names what was not reported"
    assert report.ok


def test_the_same_job_script_is_fully_checked_when_safe_mode_is_off() -> None:
    # Airflow then imports every .py file: the script's imports would really fail.
    report = _validate({"jobs/glue_job.py": GLUE_JOB}, safe_mode=False)

    assert "import-unresolved" in _rules(report, "jobs/glue_job.py")


def test_a_job_script_alone_in_a_run_is_not_imported_on_airflow_3_either() -> None:
    report = _validate({"spark_job.py": SPARK_JOB}, airflow_version="3.0.6")

    assert _rules(report, "spark_job.py") == {"file-not-imported"}


def test_a_job_script_with_a_syntax_error_still_fails() -> None:
    report = _validate({"glue_job.py": GLUE_JOB + b"def broken(:\n"})

    assert _rules(report, "glue_job.py") == {"syntax-error"}
    assert not report.ok


def test_a_job_script_with_a_hard_coded_secret_still_fails() -> None:
    script = SPARK_JOB + b'\nwarehouse_password = "Pr0duction-Only"\n'

    rules = _rules(_validate({"spark_job.py": script}), "spark_job.py")

    assert rules == {"credential-literal", "file-not-imported"}


def test_a_skipped_helper_imported_by_a_dag_keeps_the_full_checks() -> None:
    dag = DAG.replace(b"{imports}", b"from common.storage import bucket_for\n")
    report = _validate({"etl.py": dag, "common/storage.py": HELPER})

    assert "import-unresolved" in _rules(report, "common/storage.py")


def test_a_helper_reached_through_another_skipped_helper_keeps_the_full_checks() -> None:
    dag = DAG.replace(b"{imports}", b"import naming\n")
    naming = b"from .storage_helpers import bucket_for\n"  # relative: resolved against the folder
    report = _validate({"etl.py": dag, "naming.py": naming, "storage_helpers.py": HELPER})

    assert "import-unresolved" in _rules(report, "storage_helpers.py")


def test_an_importer_outside_the_run_counts_through_the_context() -> None:
    report = _validate({"common/storage.py": HELPER}, imported_modules=frozenset({"common", "common.storage"}))

    assert "import-unresolved" in _rules(report, "common/storage.py")


def test_a_skipped_file_that_imports_airflow_is_airflow_code_and_keeps_the_full_checks() -> None:
    helper = b"from airflow.models import Variable\nimport company_sdk\n"

    assert "import-unresolved" in _rules(_validate({"settings.py": helper}), "settings.py")


def test_a_skipped_file_with_nothing_to_say_gets_no_info() -> None:
    report = _validate({"common/__init__.py": b"", "constants.py": b"REGION = 'eu-west-1'\n"})

    assert all(not f.findings for f in report.files)


def test_imports_are_read_with_prefixes_relative_imports_and_submodules() -> None:
    source = b"import a.b as c, d\nfrom .. import sibling\nfrom pkg import (\n    mod,\n    other as o,\n)\n"
    source += b"x = 1; import e\n"

    names = imported_names("team/dags/etl.py", source)

    assert {"a", "a.b", "d", "team.sibling", "pkg", "pkg.mod", "pkg.other", "e"} <= names
    assert module_name("team/jobs/__init__.py") == "team.jobs" and module_name("my job.py") is None
    assert is_imported("team/jobs/etl.py", {"jobs.etl"}) and not is_imported("team/jobs/etl.py", {"team.jobs"})


_MODULES = ["helpers", "jobs.etl", "jobs", "team.common", "team", "glue_job"]


def _path(module: str) -> str:
    return module.replace(".", "/") + ("/__init__.py" if module in ("jobs", "team") else ".py")


_sources = st.tuples(
    st.booleans(),  # a file Airflow parses (it names airflow and a dag)
    st.lists(st.sampled_from(_MODULES), max_size=3),
    st.booleans(),  # `from x import y` rather than `import x.y`
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_MODULES), _sources, min_size=1), st.randoms(use_true_random=False))
def test_reading_only_as_far_as_a_question_needs_gives_the_whole_closure_s_answers(
    folder: dict[str, tuple[bool, list[str], bool]], random: Random
) -> None:
    files = []
    for module, (parsed, imports, from_form) in folder.items():
        lines = ["# airflow dag"] if parsed else []
        for imported in imports:
            head, _, tail = imported.rpartition(".")
            lines.append(f"from {head} import {tail}" if from_form and head else f"import {imported}")
        files.append((_path(module), "\n".join(lines).encode()))
    whole = reached_modules(files, 2)
    questions = [path for path, _ in files] * 2
    random.shuffle(questions)

    reach = ImportReach(files, 2)

    assert [reach.imports(path) for path in questions] == [is_imported(path, whole) for path in questions]
    assert reach.closure() == whole
