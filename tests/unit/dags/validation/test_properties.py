"""Property tests: whatever the bytes, the validator returns a consistent report, quickly.

The time bound is hypothesis' per-example ``deadline``: generous (a typical file takes about
a millisecond) so that a loaded 2-core CI machine does not make it flaky, tight enough to
catch a pathological slowdown (exponential regex, runaway recursion, decompressing a bomb).
"""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mwaa_control_plane.dags.validation import Report, Severity, SourceFile, ValidationContext, validate_files
from tests.unit.dags.validation.corpus import CLEAN

SETTINGS = settings(
    max_examples=250,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CLEAN_FILES = sorted(p for p in CLEAN.rglob("*") if p.is_file() and p.suffix in {".py", ".txt", ".sql"})
CLEAN_SOURCES = [p.read_bytes() for p in CLEAN_FILES]
PATHS = st.sampled_from(
    ["dag.py", "pkg/dag.py", "packaged.zip", "plugins.zip", "requirements.txt", "startup.sh", ".airflowignore", "q.sql"]
)
VERSIONS = st.sampled_from(["2.7.2", "2.10.3", "2.11.0", "3.0.6"])
SNIPPETS = [
    "from airflow import DAG\n",
    "from airflow.decorators import dag, task, task_group\n",
    "from airflow.utils.task_group import TaskGroup\n",
    "from airflow.operators.empty import EmptyOperator\n",
    'with DAG("d", schedule="@daily", catchup=False) as dag:\n',
    "    ",
    'EmptyOperator(task_id="a")',
    'EmptyOperator(task_id="b")',
    "a = ",
    "b = ",
    "a >> b",
    "b << a",
    "[a, b] >> [b, a]",
    "chain(a, [a, b], b)",
    'with TaskGroup("g"):\n',
    "@dag()\ndef f():\n",
    "@task\ndef t(x):\n    return x\n",
    "t(t(1))",
    "f()",
    "for i in range(3):\n",
    "if x:\n",
    "else:\n",
    "try:\n",
    "except ImportError:\n",
    "\n",
    ")",
    "(",
    ":",
    "import pandas\n",
    "Variable.get('x')",
    'f"{x["k"]}"',
    "globals()['x'] = dag",
]


def assert_consistent(report: Report, files: list[SourceFile]) -> None:
    assert len(report.files) >= len(files)
    errors = 0
    for file in report.files:
        assert file.verdict in ("pass", "fail")
        has_error = any(f.severity is Severity.ERROR for f in file.findings)
        assert (file.verdict == "fail") == has_error
        errors += sum(f.severity is Severity.ERROR for f in file.findings)
        for finding in file.findings:
            assert finding.line is None or finding.line >= 0
    assert report.summary.errors == errors
    assert report.summary.passed + report.summary.failed == report.summary.files


def mutate(data: bytes, ops: list[tuple[int, int, bytes]]) -> bytes:
    buffer = bytearray(data)
    for kind, position, payload in ops:
        if not buffer:
            buffer.extend(payload)
            continue
        at = position % len(buffer)
        if kind == 0:  # delete a slice
            del buffer[at : at + max(1, len(payload))]
        elif kind == 1:  # insert bytes
            buffer[at:at] = payload
        elif kind == 2:  # overwrite bytes
            buffer[at : at + len(payload)] = payload
        else:  # duplicate a slice
            buffer[at:at] = buffer[at : at + 64]
    return bytes(buffer)


OPS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=16)), max_size=6)


@SETTINGS
@given(content=st.binary(max_size=4096), path=PATHS, version=VERSIONS)
def test_random_bytes_never_crash_the_validator(content: bytes, path: str, version: str) -> None:
    files = [SourceFile(path=path, content=content)]

    report = validate_files(files, ValidationContext(airflow_version=version))

    assert_consistent(report, files)


@SETTINGS
@given(index=st.integers(0, len(CLEAN_SOURCES) - 1), ops=OPS, version=VERSIONS)
def test_mutated_clean_dags_never_crash_the_validator(
    index: int, ops: list[tuple[int, int, bytes]], version: str
) -> None:
    files = [SourceFile(path=Path(CLEAN_FILES[index]).name, content=mutate(CLEAN_SOURCES[index], ops))]

    report = validate_files(files, ValidationContext(airflow_version=version))

    assert_consistent(report, files)


@SETTINGS
@given(parts=st.lists(st.sampled_from(SNIPPETS), max_size=40), version=VERSIONS)
def test_dag_shaped_fragments_never_crash_the_validator(parts: list[str], version: str) -> None:
    files = [SourceFile(path="dag.py", content="".join(parts).encode())]

    report = validate_files(files, ValidationContext(airflow_version=version))

    assert_consistent(report, files)


def _zip_of(sources: list[bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, source in enumerate(sources):
            archive.writestr(f"dag_{number}.py", source)
    return buffer.getvalue()


ZIPPED = _zip_of(CLEAN_SOURCES[:4])


@SETTINGS
@given(ops=OPS, path=st.sampled_from(["packaged.zip", "plugins.zip"]))
def test_mutated_archives_never_crash_the_validator(ops: list[tuple[int, int, bytes]], path: str) -> None:
    files = [SourceFile(path=path, content=mutate(ZIPPED, ops))]

    report = validate_files(files, ValidationContext())

    assert_consistent(report, files)
