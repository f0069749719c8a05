"""The validator on several processes: the report of ``validate_files``, sooner for a large DAGs folder.

For the CLI (``mwaa-cp validate --jobs``), not the Lambda: a Lambda checks one file, on one or two
vCPUs.

What one file's findings depend on besides the file itself, and how each worker gets it, all
through ``validate_files`` and ``ValidationContext``:

- the modules importable as siblings (every DAGs-folder file's top-level module) and from
  plugins.zip, and the distributions in requirements.txt: computed here or by the first run
  below, and handed to each worker in its context;
- which modules the files Airflow parses import, transitively (a file nothing imports is only
  checked for syntax and secrets): a file a worker judged never imported is checked again with
  the modules the whole run imports (``imported_modules``), computed only then;
- the ``.airflowignore`` files: every run gets all of them (their rules are cheap to compile),
  their own reports are taken from the first run only;
- ``.mwaa-cp.toml`` comes in the context, the same for every run; what it has to say about
  itself is reported once, by the first run;
- duplicate dag_ids across files: a worker only sees its own files, so every file that shares
  a dag_id with another file is checked again, with all such files in one run.

Order: environment files and ``.airflowignore`` files in the parent first (that also loads the
validator's data before the workers fork), then the rest of the DAGs folder split across the
processes, then the two steps above; reports are put back in the input order.

How: on Linux the parent forks a child per extra job and checks a share of the files itself; each
child already holds the files (fork copies nothing until written) and sends back only its
reports, pickled through a pipe. The shares are balanced by size, which is what checking a file
costs in proportion to. A process pool cost a 1,000-file run more (importing multiprocessing and
concurrent.futures, sending every file to a worker, a parent waiting idle beside its workers);
it remains where fork is unsafe or missing (macOS, Windows), with the spawn start method.

The split mirrors what ``validator.py`` shares across files today. A field added to the
validator's models may be new shared state (a setting, an index of imports) that the split does
not carry: until this module learns it, such a run stays serial, and a unit test says so.
"""

from __future__ import annotations

import gc
import heapq
import os
import posixpath
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NoReturn

from mwaa_control_plane.dags.validation.archives import top_level_module
from mwaa_control_plane.dags.validation.import_graph import reached_modules
from mwaa_control_plane.dags.validation.models import (
    FileKind,
    FileReport,
    Finding,
    Report,
    Severity,
    SourceFile,
    Summary,
    ValidationContext,
    decode_utf8,
    default_kind,
    normalize_path,
)
from mwaa_control_plane.dags.validation.target import make_target
from mwaa_control_plane.dags.validation.validator import validate_files

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

#: Fewer DAGs-folder files than this per worker and a split saves a few ms at best, or costs them.
#: Measured with ``bench/bench_validate.py --find-threshold`` on 2 cores (validation only, fresh
#: processes, forked children): 25 files 14 ms serial / 17 ms on 2 processes, 50 files 25 / 22,
#: 100 files 45 / 33, 200 files 84 / 53, 800 files 328 / 182. A spawned pool (macOS, Windows) costs
#: far more to start.
MIN_FILES_PER_WORKER = 50

#: Chunks per worker of a process pool (not on Linux): enough for a worker that finishes early to
#: take more, few enough that the per-run setup (compiling the ignore rules, the import environment)
#: stays negligible.
_CHUNKS_PER_WORKER = 4

# The fields this module knows how to carry across workers (see the module docstring).
_KNOWN_FIELDS: dict[type, frozenset[str]] = {
    ValidationContext: frozenset(
        {
            "airflow_version",
            "python_version",
            "requirements",
            "sibling_modules",
            "plugin_modules",
            "airflowignore",
            "dag_ignore_syntax",
            "dag_id_owners",
            "safe_mode",
            "imported_modules",
            "settings_file",
            "max_python_file_bytes",
            "max_file_bytes",
            "max_plugins_bytes",
            "max_uncompressed_bytes",
            "max_zip_members",
            "max_compression_ratio",
        }
    ),
    SourceFile: frozenset({"path", "content", "kind"}),
    Finding: frozenset({"rule", "severity", "message", "line", "suppressed", "suppression"}),
    FileReport: frozenset({"path", "verdict", "findings", "dag_ids", "modules"}),
    Summary: frozenset(
        {"files", "passed", "failed", "errors", "warnings", "infos", "suppressed", "airflow_version", "python_version"}
    ),
}


def unknown_fields() -> dict[str, frozenset[str]]:
    """Fields of the validator's models this module does not know, by model name; empty when it can split a run."""
    found = {model.__name__: frozenset(f.name for f in fields(model)) ^ known for model, known in _KNOWN_FIELDS.items()}
    return {name: fields for name, fields in found.items() if fields}


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def worker_count(files: int, jobs: int | None = None, *, min_files_per_worker: int = MIN_FILES_PER_WORKER) -> int:
    """Processes worth starting for ``files`` DAGs-folder files: at most ``jobs`` (default: the cores); 1 is serial."""
    wanted = available_cores() if jobs is None else jobs
    return max(1, min(wanted, files // max(1, min_files_per_worker)))


def validate_parallel(
    files: Sequence[SourceFile],
    context: ValidationContext,
    *,
    jobs: int | None = None,
    min_files_per_worker: int = MIN_FILES_PER_WORKER,
) -> Report:
    """``validate_files(files, context)``, the same report, with the DAGs-folder files checked on ``jobs`` processes.

    ``jobs`` defaults to the available cores; 1, a small input (under ``min_files_per_worker``
    files per worker) or a validator this module cannot split runs in this process.
    """
    kinds: list[FileKind] = [f.kind or default_kind(normalize_path(f.path)) for f in files]
    shared = [i for i, f in enumerate(files) if kinds[i] != "dags" or _is_ignore_file(f.path)]
    work = [i for i in range(len(files)) if kinds[i] == "dags" and not _is_ignore_file(files[i].path)]
    workers = worker_count(len(work), jobs, min_files_per_worker=min_files_per_worker)
    if workers < 2 or unknown_fields():
        return validate_files(files, context)

    folder = [(normalize_path(files[i].path), files[i].content) for i, kind in enumerate(kinds) if kind == "dags"]
    # Sibling modules: every DAGs-folder file of the run, whichever worker checks it.
    tops = {module for path, _ in folder if (module := top_level_module(path)) is not None}
    full = replace(context, sibling_modules=context.sibling_modules | tops)
    head = validate_files([files[i] for i in shared], full)
    worker_context = _worker_context(full, [files[i] for i in shared], kinds, shared, head)
    ignore_files = [files[i] for i in shared if kinds[i] == "dags"]

    reports: dict[int, FileReport] = dict(zip(shared, head.files, strict=False))
    # The first file in this process, before the workers fork: they inherit what the validator
    # loads on first use (data files, caches, croniter) instead of each loading it again.
    first, *rest = work
    reports[first] = _check(ignore_files, worker_context, [files[first]])[0]
    check = partial(_check, ignore_files, worker_context)
    # Out of the collector's sight: a worker's first collection would otherwise write to (and so copy)
    # every page of the inherited heap.
    gc.freeze()
    try:
        if _can_fork():
            chunks = _balanced(rest, [len(files[i].content) for i in rest], workers)
            checked = _forked(check, [[files[i] for i in chunk] for chunk in chunks])
        else:
            chunks = _chunks(rest, workers * _CHUNKS_PER_WORKER)
            with _pool(workers) as pool:
                checked = list(pool.map(check, [[files[i] for i in c] for c in chunks]))
    finally:
        gc.unfreeze()
    for chunk, chunk_reports in zip(chunks, checked, strict=True):
        reports.update(zip(chunk, chunk_reports, strict=True))

    def again(indexes: list[int], context: ValidationContext) -> None:
        rerun = validate_files([*ignore_files, *(files[i] for i in indexes)], context)
        reports.update(zip(indexes, rerun.files[len(ignore_files) :], strict=False))

    # Files nothing imports as far as their worker saw: a file of another worker may. The modules the
    # whole run imports (closed, so a run's own closure adds nothing) decide, computed only then: a
    # regex pass over every file costs as much as checking a tenth of them. A worker that saw an
    # importer saw right: more files only import more. A file judged never imported with nothing
    # waived has the same findings either way.
    lonely = [i for i in work if any(item.rule == "file-not-imported" for item in reports[i].findings)]
    if lonely:
        major = make_target(context.airflow_version, context.python_version).major
        imported = reached_modules(folder, major, context.imported_modules or frozenset())
        worker_context = replace(worker_context, imported_modules=frozenset(imported))
        again(lonely, worker_context)

    # dag_id conflicts across workers: the files sharing a dag_id with another file, checked together.
    owners = Counter(dag_id for i in work for dag_id in reports[i].dag_ids)
    shared_ids = [i for i in work if any(owners[dag_id] > 1 for dag_id in reports[i].dag_ids)]
    if shared_ids:
        again(shared_ids, worker_context)

    # After the files: reports validate_files adds for inputs that are not files (the context's .airflowignore).
    ordered = [*(reports[i] for i in range(len(files))), *head.files[len(shared) :]]
    return Report(files=ordered, summary=_summary(ordered, head.summary))


def _is_ignore_file(path: str) -> bool:
    return posixpath.basename(normalize_path(path)) == ".airflowignore"


def _worker_context(
    full: ValidationContext, head_files: list[SourceFile], kinds: list[FileKind], shared: list[int], head: Report
) -> ValidationContext:
    """``full`` plus what the environment files of the run give: plugins.zip's modules, requirements.txt."""
    update: dict[str, Any] = {}
    modules = {
        m for i, report in zip(shared, head.files, strict=False) if kinds[i] == "plugins" for m in report.modules
    }
    if modules:
        update["plugin_modules"] = full.plugin_modules | modules
    requirements = next((f for i, f in zip(shared, head_files, strict=True) if kinds[i] == "requirements"), None)
    if requirements is not None:  # the validator reads the first one; an undecodable file counts as empty
        try:
            update["requirements"] = decode_utf8(requirements.content)
        except UnicodeDecodeError:
            update["requirements"] = ""
    return replace(full, **update) if update else full


def _balanced(indexes: list[int], sizes: list[int], count: int) -> list[list[int]]:
    """``indexes`` in ``count`` shares of nearly equal total size: largest file first, each to the lightest share.

    Checking a file costs about in proportion to its size, so the processes finish together. Each
    share keeps the input order.
    """
    shares: list[list[int]] = [[] for _ in range(max(1, min(count, len(indexes))))]
    loads = [(0, n) for n in range(len(shares))]
    for size, index in sorted(zip(sizes, indexes, strict=True), key=lambda pair: (-pair[0], pair[1])):
        load, n = heapq.heappop(loads)
        shares[n].append(index)
        heapq.heappush(loads, (load + size, n))
    return [sorted(share) for share in shares]


def _chunks(indexes: list[int], count: int) -> list[list[int]]:
    """``indexes`` in ``count`` contiguous, nearly equal slices (fewer when there are fewer indexes)."""
    count = max(1, min(count, len(indexes)))
    size, extra = divmod(len(indexes), count)
    bounds = [0]
    for n in range(count):
        bounds.append(bounds[-1] + size + (n < extra))
    return [indexes[a:b] for a, b in pairwise(bounds)]


def _summary(reports: list[FileReport], head: Summary) -> Summary:
    """The summary of ``reports``, counted as ``Finding`` documents: a suppressed finding counts only as suppressed."""
    errors = warnings = infos = suppressed = 0
    for report in reports:
        for item in report.findings:
            if item.suppressed:
                suppressed += 1
            elif item.severity is Severity.ERROR:
                errors += 1
            elif item.severity is Severity.WARNING:
                warnings += 1
            else:
                infos += 1
    failed = sum(report.verdict == "fail" for report in reports)
    return Summary(
        files=len(reports),
        passed=len(reports) - failed,
        failed=failed,
        errors=errors,
        warnings=warnings,
        infos=infos,
        airflow_version=head.airflow_version,
        python_version=head.python_version,
        suppressed=suppressed,
    )


def _can_fork() -> bool:
    """Whether a worker may be a plain fork of this process: Linux only (macOS frameworks break in a
    forked child, which is why Python spawns there; Windows has no fork)."""
    return sys.platform == "linux" and hasattr(os, "fork")


def _forked(
    check: Callable[[list[SourceFile]], list[FileReport]], chunks: list[list[SourceFile]]
) -> list[list[FileReport]]:
    """``check`` of each chunk: the first in this process, each other in a child forked for it.

    A child sends its reports back pickled through a pipe; an exception it raises is raised here,
    with the child's traceback as a note. Children still running when this process fails are
    killed, and every child is waited for.
    """
    import pickle

    children: list[tuple[int, int]] = []  # (pid, read end of its pipe)
    unread: set[int] = set()  # read ends not yet read to the end and closed
    finished = False
    try:
        for chunk in chunks[1:]:
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                _child(check, chunk, write, [read, *unread])
            os.close(write)
            children.append((pid, read))
            unread.add(read)
        results = [check(chunks[0])]
        for pid, read in children:
            with os.fdopen(read, "rb") as pipe:
                unread.discard(read)
                data = pipe.read()
            if not data:
                raise RuntimeError(f"validation worker {pid} ended without sending its reports")
            ok, value = pickle.loads(data)  # noqa: S301  # our own child's, through a pipe only we hold
            if not ok:
                error, trace = value
                error.add_note(f"in validation worker {pid}:\n{trace}")
                raise error
            results.append(value)
        finished = True
        return results
    finally:
        for read in unread:
            os.close(read)
        for pid, _ in children:
            if not finished:  # unreaped, so still ours even when it has ended
                import signal

                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _child(
    check: Callable[[list[SourceFile]], list[FileReport]], chunk: list[SourceFile], write: int, inherited: list[int]
) -> NoReturn:
    """In a forked child: check ``chunk``, send the result through ``write``, leave without cleaning up.

    ``os._exit``: nothing of the parent's (atexit handlers, buffered output, pytest's state) may run
    or be flushed twice from here. ``inherited``: pipe ends of the parent's to close here.
    """
    import pickle
    import traceback

    status = 0
    try:
        for fd in inherited:
            os.close(fd)
        payload = pickle.dumps((True, check(chunk)), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:
        status = 1
        trace = traceback.format_exc()
        try:
            payload = pickle.dumps((False, (exc, trace)))
        except Exception:  # an exception that does not pickle: its text still tells what happened
            payload = pickle.dumps((False, (RuntimeError(f"{type(exc).__name__}: {exc}"), trace)))
    try:
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(status)


def _pool(workers: int) -> ProcessPoolExecutor:
    # Imported here: only where a child cannot be a plain fork (see _can_fork), and these cost ~10 ms.
    from concurrent.futures import ProcessPoolExecutor

    # The platform's default start method: spawn on macOS and Windows (~150 ms a worker).
    return ProcessPoolExecutor(workers)


# -- in the workers -----------------------------------------------------------------------------------


def _check(ignore_files: list[SourceFile], context: ValidationContext, chunk: list[SourceFile]) -> list[FileReport]:
    """Reports of ``chunk``'s files, checked with every ``.airflowignore`` of the run (their reports dropped)."""
    report = validate_files([*ignore_files, *chunk], context)
    return report.files[len(ignore_files) : len(ignore_files) + len(chunk)]
