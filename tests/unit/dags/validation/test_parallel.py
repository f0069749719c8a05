"""The validator on several processes gives the serial run's report, byte for byte."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from mwaa_control_plane.dags.validation import (
    Report,
    SourceFile,
    ValidationContext,
    parallel,
    render_json,
    validate_files,
)
from mwaa_control_plane.dags.validation.models import SettingsFile
from mwaa_control_plane.dags.validation.parallel import (
    MIN_FILES_PER_WORKER,
    unknown_fields,
    validate_parallel,
    worker_count,
)
from mwaa_control_plane.dags.validation.sources import load_paths
from mwaa_cp_cli.validate import run
from tests.unit.dags.validation.corpus import CLEAN, CORPUS, defect_cases

# Every file its own chunk, on more workers than files need: the most cross-file state to get wrong.
SPLIT_EVERYTHING = {"jobs": 3, "min_files_per_worker": 1}


def _dag(dag_id: str, *imports: str, schedule: str | None = "@daily") -> bytes:
    lines = ["from datetime import datetime", "from airflow import DAG", *(f"import {m}" for m in imports)]
    arguments = f'dag_id="{dag_id}", start_date=datetime(2024, 1, 1), catchup=False'
    if schedule is not None:
        arguments += f', schedule="{schedule}"'
    lines += [f"with DAG({arguments}):", "    pass"]
    return ("\n".join(lines) + "\n").encode()


def _plugins_zip(module: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}/__init__.py", "VALUE = 1\n")
    return buffer.getvalue()


def _folder_with_cross_file_state() -> list[SourceFile]:
    """A DAGs folder where most findings of a file depend on other files of the run."""
    files = {
        ".airflowignore": b"skipped_.*\n",
        "helpers.py": b"X = 1\n",
        # The same dag_id at both ends of the run: never in one chunk.
        "dag_00.py": _dag("shared", schedule=None),
        **{f"dag_{n:02d}.py": _dag(f"dag_{n:02d}", "helpers", "yaml_plus", "company_ops") for n in range(1, 8)},
        "dag_08.py": _dag("dag_08", "vendor_sdk", schedule=None),
        "dag_09.py": _dag("shared", "jobs.shared_transform"),
        # Job scripts Airflow never parses: one imported by dag_09.py, one by nothing.
        "jobs/shared_transform.py": b"import pyspark\n",
        "jobs/glue_job.py": b"import awsglue\n",
        "skipped_dag.py": _dag("skipped"),
        "team/.airflowignore": b"old_.*\n",
        "team/old_dag.py": _dag("old"),
        "team/current.py": _dag("current", "helpers", schedule=None).replace(
            b"catchup=False):", b"catchup=False):  # mwaa-cp: ignore[schedule-missing]"
        ),
        "plugins.zip": _plugins_zip("company_ops"),
        "requirements.txt": b"-c https://x/constraints-2.10.3/constraints-3.11.txt\nyaml-plus==1.0\n",
    }
    return [SourceFile(path=path, content=content) for path, content in files.items()]


def _rules(report: Report) -> dict[str, list[str]]:
    return {f.path: sorted(item.rule for item in f.findings) for f in report.files if f.findings}


def test_a_split_run_keeps_every_cross_file_finding() -> None:
    files = _folder_with_cross_file_state()
    context = ValidationContext()  # no sibling modules: they come from the files, wherever each is checked

    serial = validate_files(files, context)
    parallel = validate_parallel(files, context, **SPLIT_EVERYTHING)

    assert render_json(parallel) == render_json(serial)
    # The folder does exercise what a worker cannot see alone:
    rules = _rules(serial)
    assert rules["dag_00.py"].count("dag-id-conflict") == rules["dag_09.py"].count("dag-id-conflict") == 1
    assert "dag-ignored" in rules["skipped_dag.py"]  # the root .airflowignore
    assert "dag-ignored" in rules["team/old_dag.py"]  # team/.airflowignore
    assert rules["jobs/glue_job.py"] == ["file-not-imported"]  # nothing imports it
    assert "file-not-imported" not in rules["jobs/shared_transform.py"]  # dag_09.py imports it: fully checked
    assert rules["jobs/shared_transform.py"]
    about_imports = [
        i.message for f in serial.files if f.path.startswith("dag_") for i in f.findings if "import" in i.rule
    ]
    assert any("vendor_sdk" in message for message in about_imports)  # in no file of the run
    for module in ("helpers", "yaml_plus", "company_ops"):  # a sibling, a requirement, a plugins.zip module
        assert not any(module in message for message in about_imports)
    assert serial.summary.suppressed == 1  # team/current.py's comment


@pytest.mark.parametrize(
    "context",
    [
        ValidationContext(
            settings_file=SettingsFile(
                content=b'[rules]\ndisable = ["schedule-missing"]\n[imports]\nextra_modules = ["vendor_sdk"]\n'
            )
        ),
        ValidationContext(settings_file=SettingsFile(content=b'[rules]\ndisable = ["no-such-rule"]\n')),
        ValidationContext(imported_modules=frozenset({"jobs.glue_job"}), sibling_modules=frozenset({"jobs"})),
    ],
    ids=["settings", "invalid-settings", "imported-from-outside"],
)
def test_a_split_run_applies_the_context_as_the_serial_run_does(context: ValidationContext) -> None:
    files = _folder_with_cross_file_state()

    serial = validate_files(files, context)

    assert render_json(validate_parallel(files, context, **SPLIT_EVERYTHING)) == render_json(serial)
    assert serial != validate_files(files, ValidationContext())  # the context does change the report


def test_the_whole_corpus_in_one_split_run_is_byte_identical() -> None:
    loaded = load_paths([CORPUS])
    context = loaded.context(airflow_version="2.10.3")

    serial = render_json(validate_files(loaded.files, context))

    for jobs in (2, 5):
        assert render_json(validate_parallel(loaded.files, context, jobs=jobs, min_files_per_worker=1)) == serial


@pytest.mark.parametrize(
    ("folder", "airflow_version", "settings"),
    [(c.folder, c.airflow_version, c.context) for c in defect_cases()]
    + [(folder, "2.10.3", {}) for folder in sorted(CLEAN.iterdir())],
    ids=lambda value: value.name if isinstance(value, Path) else None,
)
def test_each_corpus_case_split_is_byte_identical(folder: Path, airflow_version: str, settings: dict[str, str]) -> None:
    loaded = load_paths([folder])
    files = [f for f in loaded.files if f.path != "case.json"]
    context = loaded.context(with_requirements=False, airflow_version=airflow_version, **settings)

    assert render_json(validate_parallel(files, context, **SPLIT_EVERYTHING)) == render_json(
        validate_files(files, context)
    )


def test_a_process_pool_where_fork_is_not_used_gives_the_same_report(monkeypatch: pytest.MonkeyPatch) -> None:
    # macOS and Windows: a pool of spawned workers instead of forked children.
    files = _folder_with_cross_file_state()
    context = ValidationContext()
    monkeypatch.setattr(parallel, "_can_fork", lambda: False)

    assert render_json(validate_parallel(files, context, **SPLIT_EVERYTHING)) == render_json(
        validate_files(files, context)
    )


def test_a_failure_in_a_worker_is_raised_with_its_traceback_and_no_worker_is_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parent = os.getpid()
    real_check = parallel._check

    def failing(*args: object) -> list[object]:
        if os.getpid() != parent:
            raise ValueError("boom in a worker")
        return real_check(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "_check", failing)

    with pytest.raises(ValueError, match="boom in a worker") as raised:
        validate_parallel(_folder_with_cross_file_state(), ValidationContext(), **SPLIT_EVERYTHING)

    assert any("in validation worker" in note and "failing" in note for note in raised.value.__notes__)
    with pytest.raises(ChildProcessError):  # every child was waited for: none left, not even a zombie
        os.waitpid(-1, os.WNOHANG)


def test_the_shares_are_balanced_by_size_and_keep_the_input_order() -> None:
    sizes = [900, 10, 10, 10, 500, 400, 10, 10]

    shares = parallel._balanced(list(range(len(sizes))), sizes, 2)

    assert sorted(i for share in shares for i in share) == list(range(len(sizes)))
    assert all(share == sorted(share) for share in shares)
    loads = sorted(sum(sizes[i] for i in share) for share in shares)
    assert loads == [920, 930]  # of 1,850


def test_the_split_knows_every_field_of_the_validators_models() -> None:
    # A new field may be state shared across files (a setting, an index of imports) that the
    # split does not hand to its workers: validate_parallel then stays serial, correct but slow.
    # Teach parallel.py the field (and how workers get it), then add it to its _KNOWN_FIELDS.
    assert unknown_fields() == {}


def test_small_inputs_and_one_job_run_in_process() -> None:
    assert worker_count(2 * MIN_FILES_PER_WORKER - 1, jobs=8) == 1
    assert worker_count(2 * MIN_FILES_PER_WORKER, jobs=8) == 2
    assert worker_count(100 * MIN_FILES_PER_WORKER, jobs=1) == 1
    assert worker_count(100 * MIN_FILES_PER_WORKER, jobs=3) == 3


def _cli(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str]:
    code = run(args)
    return code, capsys.readouterr().out


def test_cli_output_is_the_same_with_one_job_or_several(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Enough files to cross the threshold, with a dag_id shared by the first and the last one.
    count = 2 * MIN_FILES_PER_WORKER
    for n in range(count):
        (tmp_path / f"dag_{n:04d}.py").write_bytes(_dag("shared" if n in (0, count - 1) else f"dag_{n}", "helpers"))
    (tmp_path / "helpers.py").write_text("X = 1\n")

    serial = _cli(capsys, [str(tmp_path), "--format", "json", "--jobs", "1"])
    split = _cli(capsys, [str(tmp_path), "--format", "json", "--jobs", "2"])

    assert serial[0] == split[0] == 1
    assert split[1] == serial[1]
    assert serial[1].count('"dag-id-conflict"') == 2
