"""Benchmark of the static DAG validator, against Airflow's own DagBag when one is available.

    python bench/bench_validate.py [--files 1000] [--repeat 5] [--runs 5] [--airflow-python PATH] [--keep DIR]
    python bench/bench_validate.py --find-threshold      # where a process pool starts to pay

Generates a corpus of realistic DAG files (classic operators with TaskGroups, TaskFlow,
dynamic task mapping, datasets) in a temporary folder, then measures, in the same run:

- whole process, as a person or CI sees it: ``mwaa-cp validate`` as a subprocess on one file
  (the pre-commit case) and on the whole folder, against ``python -c "...DagBag(folder)"`` as a
  subprocess on the same files; both timed from outside, ``--runs`` interleaved runs after one
  untimed run each, median, with bytecode caches as installed tools have them (a
  PYTHONDONTWRITEBYTECODE in the environment is dropped for these). Targets: at least 8x faster
  on one file, 10x on the folder;
- in process, what the validation Lambda pays: ``validate_files`` on the folder already read,
  median of ``--repeat`` runs (target under 1 ms per file), and DagBag's own time to fill the
  bag in a warmed interpreter (starting Python and ``import airflow`` excluded).

The DagBag side runs when ``--airflow-python`` (or ``BENCH_AIRFLOW_PYTHON``) names a Python where
``import airflow`` works, e.g. for MWAA's 2.10.3 (outside the project's venv):

    python3.11 -m venv /tmp/airflow-2.10.3
    /tmp/airflow-2.10.3/bin/pip install "apache-airflow[celery,statsd]==2.10.3" \
        "apache-airflow-providers-amazon==9.0.0" "apache-airflow-providers-postgres==5.13.1" \
        "apache-airflow-providers-celery==3.8.3" "apache-airflow-providers-fab==1.5.0"
    python bench/bench_validate.py --airflow-python /tmp/airflow-2.10.3/bin/python

For the in-process figures both sides are warmed up first on the same three DAG files, one of
each template (for DagBag so the operator modules are imported, as in a long-running DAG processor).
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
from mwaa_control_plane.dags.validation.models import DEFAULT_AIRFLOW_VERSION  # noqa: E402
from mwaa_control_plane.dags.validation.sources import load_paths  # noqa: E402

TARGET_MS_PER_FILE = 1.0
TARGET_RATIO = 10.0  # in process, throughput against a warmed DagBag
TARGET_ONE_FILE = 8.0  # whole process, one file (pre-commit)
TARGET_FOLDER = 10.0  # whole process, the whole folder

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
        # DagBag imports the DAG files, and Python would write their bytecode into the DAGs folder
        # (__pycache__/*.pyc): every later mwaa-cp run would then check twice the files. The cache
        # goes here instead; the untimed first run fills it, as an installed Airflow has its own.
        "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "mwaa-cp-bench-airflow-pycache"),
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


# -- whole process -------------------------------------------------------------------------------------

_DAGBAG_PROCESS = (
    "import sys\nfrom airflow.models import DagBag\nbag = DagBag(sys.argv[1], include_examples=False)\n"
    "sys.exit(3 if bag.import_errors else 0)\n"  # import errors: not a fair comparison, the run fails
)

# The validator in a fresh process with a given number of workers and no threshold: where a pool pays.
_THRESHOLD_PROCESS = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from mwaa_control_plane.dags.validation.parallel import validate_parallel
from mwaa_control_plane.dags.validation.sources import load_paths
loaded = load_paths([Path(sys.argv[1])])
context = loaded.context(airflow_version="2.10.3")
started = time.perf_counter()
validate_parallel(loaded.files, context, jobs=int(sys.argv[2]), min_files_per_worker=1)
print(time.perf_counter() - started)
"""


def mwaa_cp_command() -> list[str]:
    """``mwaa-cp`` as installed next to this Python (what pre-commit and a person run)."""
    script = Path(sys.executable).with_name("mwaa-cp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mwaa_cp_cli.main"]


def _installed(env: dict[str, str] | None) -> dict[str, str]:
    """``env`` as an installed tool runs: with bytecode caches (the untimed first run writes any missing)."""
    return {k: v for k, v in (os.environ if env is None else env).items() if k != "PYTHONDONTWRITEBYTECODE"}


def time_processes(commands: dict[str, tuple[list[str], dict[str, str] | None]], runs: int) -> dict[str, float]:
    """Median wall seconds of each command, timed from outside: one untimed run each, then ``runs`` interleaved."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for attempt in range(runs + 1):
        for name, (command, env) in commands.items():
            started = time.perf_counter()
            result = subprocess.run(command, capture_output=True, env=_installed(env), timeout=3600, check=False)
            elapsed = time.perf_counter() - started
            if result.returncode not in (0, 1):  # 1: findings or import errors, still a full run
                raise RuntimeError(f"{name} exited {result.returncode}: {result.stderr.decode()[-2000:]}")
            if attempt:
                times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}


def bench_processes(
    one: Path, folder: Path, runs: int, airflow_version: str, airflow_python: str | None
) -> dict[str, float]:
    """Whole-process medians: mwaa-cp on one file and on the folder (all cores, one core), DagBag on the same."""
    mwaa_cp = [*mwaa_cp_command(), "validate", "--airflow-version", airflow_version]
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "one": ([*mwaa_cp, str(one / "dag_0000.py")], None),
        "folder": ([*mwaa_cp, str(folder)], None),
        "folder_serial": ([*mwaa_cp, "--jobs", "1", str(folder)], None),
    }
    if airflow_python:
        commands["dagbag_one"] = ([airflow_python, "-c", _DAGBAG_PROCESS, str(one)], _airflow_env(one))
        commands["dagbag_folder"] = ([airflow_python, "-c", _DAGBAG_PROCESS, str(folder)], _airflow_env(folder))
    before = {path: _listing(path) for path in (one, folder)}
    timed = time_processes(commands, runs)
    for path, listing in before.items():
        if _listing(path) != listing:  # both sides must have read the same files every time
            raise RuntimeError(f"files appeared in {path} during the runs: {sorted(_listing(path) - listing)[:5]}")
    return timed


def _listing(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def find_threshold(runs: int) -> None:
    """Validation time with one process and with two, in fresh processes, for growing folders."""
    print("Validation only, in a fresh process each time (startup and reading excluded), median of", runs)
    print()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mwaa-cp-threshold-") as scratch:
        for count in (25, 50, 100, 200, 400, 800):
            folder = Path(scratch) / str(count)
            generate_corpus(folder, count)
            layers = str(REPO / "layers" / "common")
            commands = {
                str(jobs): [sys.executable, "-c", _THRESHOLD_PROCESS, str(folder), str(jobs), layers] for jobs in (1, 2)
            }
            times: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(runs):
                for name, command in commands.items():
                    result = subprocess.run(command, capture_output=True, text=True, env=_installed(None), check=True)
                    times[name].append(float(result.stdout))
            serial, pooled = (statistics.median(times[name]) for name in ("1", "2"))
            rows.append([str(count), f"{serial * 1000:.0f}", f"{pooled * 1000:.0f}", f"{serial / pooled:.2f}x"])
    print_table(["files", "1 process ms", "2 workers ms", "speed-up"], rows)


# -- report --------------------------------------------------------------------------------------------


def _row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(_row(header, widths))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(_row(row, widths))


def _verdict(ratio: float, target: float) -> str:
    return f"{'met' if ratio >= target else f'NOT met ({ratio / target:.0%} of it)'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000, help="number of generated DAG files (default 1000)")
    parser.add_argument("--repeat", type=int, default=5, help="in-process runs; the median is reported (default 5)")
    parser.add_argument("--runs", type=int, default=5, help="whole-process runs of each command (default 5)")
    parser.add_argument(
        "--airflow-version",
        default=DEFAULT_AIRFLOW_VERSION,
        help="target version for the validator",
    )
    parser.add_argument(
        "--airflow-python",
        default=os.environ.get("BENCH_AIRFLOW_PYTHON"),
        help="a python where `import airflow` works, to compare with DagBag (default $BENCH_AIRFLOW_PYTHON)",
    )
    parser.add_argument("--keep", type=Path, help="write the corpus here instead of a temporary folder")
    parser.add_argument("--find-threshold", action="store_true", help="measure where a process pool starts to pay")
    args = parser.parse_args()
    if args.find_threshold:
        find_threshold(args.runs)
        return 0

    note = "DagBag comparison skipped: pass --airflow-python PATH (a python where `import airflow` works)"
    airflow_python: str | None = None
    if args.airflow_python:
        if airflow_available(args.airflow_python):
            airflow_python = args.airflow_python
        else:
            note = f"DagBag comparison skipped: `import airflow` fails with {args.airflow_python}"

    with tempfile.TemporaryDirectory(prefix="mwaa-cp-bench-") as scratch:
        folder = args.keep or Path(scratch) / "dags"
        folder.mkdir(parents=True, exist_ok=True)
        generate_corpus(folder, args.files)
        one = Path(scratch) / "one"
        generate_corpus(one, 1)
        size = sum(p.stat().st_size for p in folder.glob("dag_*.py")) / max(args.files, 1)

        ours = bench_validator(folder, args.repeat, args.airflow_version)
        bag = bench_dagbag(airflow_python, folder) if airflow_python else None
        processes = bench_processes(one, folder, args.runs, args.airflow_version, airflow_python)

    files = ours["files"]
    print(
        f"Static DAG validator benchmark: {files:.0f} generated DAG files (average {size / 1024:.1f} KiB), "
        f"target Airflow {args.airflow_version}, Python {sys.version.split()[0]}"
        + (f", DagBag of Airflow {bag['version']}" if bag else "")
    )
    print()
    print(f"Whole process, timed from outside: median of {args.runs} interleaved runs, seconds")
    print()
    rows = []
    cases = [
        ("1 file (pre-commit)", "one", "dagbag_one", TARGET_ONE_FILE),
        (f"{files:.0f} files, all cores", "folder", "dagbag_folder", TARGET_FOLDER),
        (f"{files:.0f} files, --jobs 1", "folder_serial", "dagbag_folder", None),
    ]
    verdicts = []
    for label, mine, theirs, target in cases:
        if theirs in processes:
            ratio = processes[theirs] / processes[mine]
            goal = f">= {target:.0f}x: {_verdict(ratio, target)}" if target else "-"
            rows.append([label, f"{processes[mine]:.3f}", f"{processes[theirs]:.3f}", f"{ratio:.1f}x", goal])
            if target:
                verdicts.append(f"whole process, {label}: {ratio:.1f}x faster than DagBag (target {goal})")
        else:
            rows.append([label, f"{processes[mine]:.3f}", "-", "-", "-"])
    print_table(["case", "mwaa-cp validate", "DagBag", "ratio", "target"], rows)
    print()

    ms_per_file = ours["seconds"] * 1000 / files
    print(f"In process (what the validation Lambda pays): median of {args.repeat} runs")
    print()
    rows = [
        [
            "validate_files (read + validate)",
            f"{ours['seconds']:.3f}",
            f"{files / ours['seconds']:.0f}",
            f"{ms_per_file:.3f}",
        ],
        [
            "validate_files (validate only)",
            f"{ours['validate_seconds']:.3f}",
            f"{files / ours['validate_seconds']:.0f}",
            f"{ours['validate_seconds'] * 1000 / files:.3f}",
        ],
    ]
    if bag:
        rows.append(
            [
                f"Airflow {bag['version']} DagBag, warmed",
                f"{bag['seconds']:.3f}",
                f"{files / bag['seconds']:.0f}",
                f"{bag['seconds'] * 1000 / files:.3f}",
            ]
        )
        note = f"DagBag loaded {bag['dags']:.0f} DAGs with {bag['import_errors']:.0f} import errors"
    print_table(["run", "total s", "files/s", "ms/file"], rows)
    print()
    print(note)
    print(f"validator findings at error level on the generated corpus: {ours['errors']}")
    verdicts.append(
        f"in process: {ms_per_file:.3f} ms/file (target < {TARGET_MS_PER_FILE} ms): "
        f"{'met' if ms_per_file < TARGET_MS_PER_FILE else 'NOT met'}"
    )
    if bag:
        ratio = bag["seconds"] / ours["seconds"]
        verdicts.append(f"in process: {ratio:.1f}x a warmed DagBag's throughput (target >= {TARGET_RATIO:.0f}x)")
    for line in verdicts:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
