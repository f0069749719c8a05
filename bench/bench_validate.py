"""Benchmark of the static DAG validator, against Airflow's own DagBag when one is available.

    python bench/bench_validate.py [--files 1000] [--repeat 5] [--airflow-python PATH] [--keep DIR]

Generates a corpus of realistic DAG files (classic operators with TaskGroups, TaskFlow,
dynamic task mapping, datasets) in a temporary folder, validates it in-process several
times and prints files per second and milliseconds per file. When ``--airflow-python``
(or ``BENCH_AIRFLOW_PYTHON``) names a Python where ``import airflow`` works, the same
folder is loaded with ``DagBag`` in that interpreter, in the same run, and the ratio is
printed. Targets: under 1 ms per file, at least 10x DagBag's throughput.

An Airflow to compare with (optional, outside the project's venv), e.g. for MWAA's 2.10.3:

    python3.11 -m venv /tmp/airflow-2.10.3
    /tmp/airflow-2.10.3/bin/pip install "apache-airflow[celery,statsd]==2.10.3" \
        "apache-airflow-providers-amazon==9.0.0" "apache-airflow-providers-postgres==5.13.1" \
        "apache-airflow-providers-celery==3.8.3" "apache-airflow-providers-fab==1.5.0"
    python bench/bench_validate.py --airflow-python /tmp/airflow-2.10.3/bin/python

Both sides are warmed up first on the same three DAG files, one of each template (for DagBag so the
operator modules are imported, as in a long-running DAG processor); DagBag's time excludes
starting Python and ``import airflow``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "layers" / "common"))

from mwaa_control_plane.dags.validation import ValidationContext, validate_files  # noqa: E402
from mwaa_control_plane.dags.validation.sources import load_paths  # noqa: E402

TARGET_MS_PER_FILE = 1.0
TARGET_RATIO = 10.0

_CLASSIC = '''\
"""Generated DAG {n}: daily load of the sales tables.

Classic operators, one TaskGroup per table built in a loop, branching, quality checks
and a report; the shape of most hand-written MWAA DAGs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.models.baseoperator import chain
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import BranchPythonOperator, PythonOperator
from airflow.utils.task_group import TaskGroup
from airflow.utils.trigger_rule import TriggerRule
from common.settings import DEFAULT_ARGS

TABLES = ("orders", "customers", "products", "payments", "refunds", "shipments")
BUCKET = "s3://generated-landing-{n}"


def choose_{n}(**context):
    return "full_load" if context["logical_date"].day == 1 else "incremental_load"


def report_{n}(**context):
    print("run", context["run_id"], "interval", context["data_interval_start"], context["data_interval_end"])


with DAG(
    dag_id="classic_{n}",
    description="Generated classic DAG number {n}",
    schedule="{minute} {hour} * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=3),
    default_args={{**DEFAULT_ARGS, "retry_delay": timedelta(minutes=5)}},
    tags=["generated", "classic"],
    doc_md=__doc__,
) as dag:
    start = EmptyOperator(task_id="start")
    branch = BranchPythonOperator(task_id="branch", python_callable=choose_{n})
    full_load = EmptyOperator(task_id="full_load")
    incremental_load = EmptyOperator(task_id="incremental_load")
    joined = EmptyOperator(task_id="joined", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    groups = []
    for table in TABLES:
        with TaskGroup(group_id=f"load_{{table}}", tooltip=f"Load {{table}}") as group:
            extract = BashOperator(
                task_id="extract",
                bash_command=f"aws s3 cp {{BUCKET}}/{{table}}/{{{{{{{{ ds }}}}}}}}/ /tmp/{{table}}/ --recursive",
                execution_timeout=timedelta(minutes=30),
            )
            load = BashOperator(
                task_id="load",
                bash_command=f"echo loading {{table}} for {{{{{{{{ data_interval_start }}}}}}}}",
                retries=3,
            )
            check = BashOperator(task_id="check", bash_command=f"echo checking {{table}}")
            extract >> load >> check
        groups.append(group)
    with TaskGroup("quality") as quality:
        rows = BashOperator(task_id="rows", bash_command="echo rows")
        nulls = BashOperator(task_id="nulls", bash_command="echo nulls")
        duplicates = BashOperator(task_id="duplicates", bash_command="echo duplicates")
        [rows, nulls] >> duplicates
    report = PythonOperator(task_id="report", python_callable=report_{n}, trigger_rule="none_failed")
    end = EmptyOperator(task_id="end")
    start >> branch >> [full_load, incremental_load] >> joined
    chain(joined, groups, quality, report, end)
'''

_TASKFLOW = '''\
"""Generated DAG {n}: TaskFlow ETL with dynamic task mapping."""

from __future__ import annotations

import json

import pendulum

from airflow.decorators import dag, task, task_group


@dag(
    dag_id="taskflow_{n}",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["generated", "taskflow"],
    default_args={{"retries": 2}},
)
def taskflow_{n}():
    @task
    def extract() -> list[dict]:
        return json.loads('[{{"id": 1, "value": 10}}, {{"id": 2, "value": 20}}]')

    @task
    def transform(row: dict, factor: int) -> int:
        return row["value"] * factor

    @task
    def load(values: list[int]) -> int:
        total = sum(values)
        print("loaded", total)
        return total

    @task_group
    def audit(total: int):
        @task
        def compare(value: int) -> bool:
            return value > {n}

        @task
        def notify(ok: bool) -> None:
            print("ok" if ok else "too small")

        notify(compare(total))

    values = transform.partial(factor={factor}).expand(row=extract())
    audit(load(values))


taskflow_{n}()
'''

_DATASETS = '''\
"""Generated DAGs {n}: a producer and a consumer of a dataset."""

from __future__ import annotations

import pendulum

from airflow.datasets import Dataset
from airflow.decorators import dag, task
from airflow.operators.bash import BashOperator

TABLE = Dataset("s3://generated-lake/table_{n}/")
START = pendulum.datetime(2024, 1, 1, tz="UTC")


@dag(dag_id="produce_{n}", schedule="@hourly", start_date=START, catchup=False)
def produce_{n}():
    @task(outlets=[TABLE])
    def write() -> None:
        print("written")

    write()


@dag(dag_id="consume_{n}", schedule=[TABLE], start_date=START, catchup=False)
def consume_{n}():
    @task
    def read() -> str:
        return "read"

    echo = BashOperator(task_id="echo", bash_command="echo {{{{ ti.xcom_pull(task_ids='read') }}}}")
    read() >> echo


produce_{n}()
consume_{n}()
'''

_TEMPLATES = (_CLASSIC, _TASKFLOW, _DATASETS)


def generate_corpus(folder: Path, count: int) -> None:
    """``count`` DAG files plus the helper package they import."""
    (folder / "common").mkdir(parents=True, exist_ok=True)
    (folder / "common" / "__init__.py").write_text("")
    (folder / "common" / "settings.py").write_text(
        textwrap.dedent(
            """\
            DEFAULT_ARGS = {"owner": "bench", "retries": 1}
            """
        )
    )
    (folder / ".airflowignore").write_text("common/\n")
    for n in range(count):
        template = _TEMPLATES[n % len(_TEMPLATES)]
        source = template.format(n=n, minute=n % 60, hour=n % 24, factor=n % 7 + 1)
        (folder / f"dag_{n:04d}.py").write_text(source)


def bench_validator(folder: Path, repeat: int, airflow_version: str) -> dict[str, float]:
    """Median seconds to load the folder from disk and validate it (and validation alone)."""
    totals: list[float] = []
    validation: list[float] = []
    files = errors = 0
    # Warm-up on one file of each template, as DagBag is warmed up below.
    warm_up = [f for f in load_paths([folder]).files if f.path.startswith("dag_")][:3]
    validate_files(warm_up, ValidationContext(airflow_version=airflow_version))
    for _ in range(repeat):
        started = time.perf_counter()
        loaded = load_paths([folder])
        loaded_at = time.perf_counter()
        context = loaded.context(with_requirements=False, airflow_version=airflow_version)
        report = validate_files(loaded.files, context)
        finished = time.perf_counter()
        totals.append(finished - started)
        validation.append(finished - loaded_at)
        files = sum(1 for f in loaded.files if f.path.endswith(".py") and f.path.startswith("dag_"))
        errors = report.summary.errors
    return {
        "seconds": statistics.median(totals),
        "validate_seconds": statistics.median(validation),
        "files": files,
        "errors": errors,
    }


_DAGBAG_SCRIPT = """
import json, os, sys, time, warnings
warnings.simplefilter("ignore")
import airflow
from airflow.models.dagbag import DagBag
# Warm-up, as in a long-running DAG processor: the modules the files use are imported once, from one
# file of each template (dag_0000.py, dag_0001.py, dag_0002.py; not .airflowignore or common/).
for name in sorted(n for n in os.listdir(sys.argv[1]) if n.startswith("dag_"))[:3]:
    DagBag(dag_folder=os.path.join(sys.argv[1], name), include_examples=False, safe_mode=True)
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1], include_examples=False, safe_mode=True)
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "dags": len(bag.dags), "import_errors": len(bag.import_errors),
                  "version": airflow.__version__}))
"""


def airflow_available(python: str) -> bool:
    try:
        result = subprocess.run(
            [python, "-c", "import airflow"], capture_output=True, timeout=120, check=False, env=_airflow_env()
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _airflow_env(dags_folder: Path | None = None) -> dict[str, str]:
    home = Path(tempfile.gettempdir()) / "mwaa-cp-bench-airflow-home"
    home.mkdir(exist_ok=True)
    extra = {"AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder), "PYTHONPATH": str(dags_folder)} if dags_folder else {}
    return {
        **os.environ,
        **extra,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        "PYTHONWARNINGS": "ignore",
    }


def bench_dagbag(python: str, folder: Path) -> dict[str, float]:
    result = subprocess.run(
        [python, "-c", _DAGBAG_SCRIPT, str(folder)],
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
        # Airflow puts the configured DAGs folder on sys.path, as MWAA does: helpers import.
        env=_airflow_env(folder),
    )
    data: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def _row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"


def print_table(rows: list[list[str]]) -> None:
    header = ["run", "files", "total s", "files/s", "ms/file"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(_row(header, widths))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(_row(row, widths))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000, help="number of generated DAG files (default 1000)")
    parser.add_argument("--repeat", type=int, default=5, help="validator runs; the median is reported (default 5)")
    parser.add_argument(
        "--airflow-version",
        default=ValidationContext.model_fields["airflow_version"].default,
        help="target version for the validator",
    )
    parser.add_argument(
        "--airflow-python",
        default=os.environ.get("BENCH_AIRFLOW_PYTHON"),
        help="a python where `import airflow` works, to compare with DagBag (default $BENCH_AIRFLOW_PYTHON)",
    )
    parser.add_argument("--keep", type=Path, help="write the corpus here instead of a temporary folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mwaa-cp-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        generate_corpus(folder, args.files)
        size = sum(p.stat().st_size for p in folder.glob("dag_*.py")) / max(args.files, 1)

        ours = bench_validator(folder, args.repeat, args.airflow_version)
        ms_per_file = ours["seconds"] * 1000 / ours["files"]
        rows = [
            [
                "mwaa-cp validate (read + validate)",
                str(ours["files"]),
                f"{ours['seconds']:.3f}",
                f"{ours['files'] / ours['seconds']:.0f}",
                f"{ms_per_file:.3f}",
            ],
            [
                "mwaa-cp validate (validate only)",
                str(ours["files"]),
                f"{ours['validate_seconds']:.3f}",
                f"{ours['files'] / ours['validate_seconds']:.0f}",
                f"{ours['validate_seconds'] * 1000 / ours['files']:.3f}",
            ],
        ]
        ratio: float | None = None
        note = "DagBag comparison skipped: pass --airflow-python PATH (a python where `import airflow` works)"
        if args.airflow_python:
            if airflow_available(args.airflow_python):
                bag = bench_dagbag(args.airflow_python, folder)
                ratio = bag["seconds"] / ours["seconds"]
                rows.append(
                    [
                        f"Airflow {bag['version']} DagBag",
                        str(ours["files"]),
                        f"{bag['seconds']:.3f}",
                        f"{ours['files'] / bag['seconds']:.0f}",
                        f"{bag['seconds'] * 1000 / ours['files']:.3f}",
                    ]
                )
                note = f"DagBag loaded {bag['dags']:.0f} DAGs with {bag['import_errors']:.0f} import errors"
            else:
                note = f"DagBag comparison skipped: `import airflow` fails with {args.airflow_python}"

        print(
            f"Static DAG validator benchmark: {ours['files']} generated DAG files (average {size / 1024:.1f} KiB), "
            f"target Airflow {args.airflow_version}, median of {args.repeat} runs, Python {sys.version.split()[0]}"
        )
        print()
        print_table(rows)
        print()
        print(note)
        print(f"validator findings at error level on the generated corpus: {ours['errors']}")
        verdicts = [
            f"{ms_per_file:.3f} ms/file (target < {TARGET_MS_PER_FILE} ms): "
            f"{'met' if ms_per_file < TARGET_MS_PER_FILE else 'NOT met'}"
        ]
        if ratio is not None:
            verdicts.append(
                f"{ratio:.1f}x DagBag throughput (target >= {TARGET_RATIO:.0f}x): "
                f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}"
            )
        for line in verdicts:
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
