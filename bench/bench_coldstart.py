"""Cold-start import time of every Lambda handler, now and at a baseline revision, in the same run.

    python bench/bench_coldstart.py [--baseline-rev bbf7cad] [--repeat 15] [--python PATH]

A Lambda cold start imports the handler module (and through it the layer) before the first
invocation; that import is what this measures. The baseline revision is checked out in a
temporary ``git worktree`` (removed afterwards); the current side is the working tree as it is.
For every ``functions/*/app.py`` of either tree, a fresh Python process imports ``app`` with the
function's folder and that tree's ``layers/common`` on ``PYTHONPATH``, as Lambda lays out
``/var/task`` and ``/opt/python``. The child times ``importlib.import_module("app")`` with
``perf_counter``; the parent also times the whole process (interpreter start included).

Runs alternate baseline, current, baseline, current... for each handler, so load from other
processes on the machine falls on both sides alike. One unrecorded run per handler and side
comes first, so both sides import with bytecode already compiled. The environment of the
children is minimal: settings are read on first invocation, not at import. A handler whose
median import is more than 10% slower than at the baseline is flagged.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BASELINE = "bbf7cad"  # the last commit before issue #7's changes
SLOWER_THAN = 1.10

# Imports of the child's own machinery happen before the clock starts.
_CHILD = """\
import importlib, json, sys, time
started = time.perf_counter()
importlib.import_module("app")
elapsed = time.perf_counter() - started
print(json.dumps({"import_seconds": elapsed, "modules": len(sys.modules)}))
"""


@dataclass
class Side:
    """One tree's measurements of one handler."""

    imports: list[float] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)
    modules: int = 0
    error: str | None = None


@dataclass
class Handler:
    name: str
    baseline: Side | None
    current: Side | None


def handler_names(tree: Path) -> set[str]:
    return {path.parent.name for path in (tree / "functions").glob("*/app.py")}


def child_environment(tree: Path, handler: str) -> dict[str, str]:
    """What the child sees: the tree's function folder and layer, nothing else from this shell."""
    paths = [tree / "functions" / handler, tree / "layers" / "common"]
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        "PYTHONHASHSEED": "0",
    }


def measure_once(python: str, tree: Path, handler: str, side: Side) -> None:
    started = time.perf_counter()
    result = subprocess.run(
        [python, "-c", _CHILD],
        capture_output=True,
        text=True,
        env=child_environment(tree, handler),
        cwd=tree,
        timeout=120,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        side.error = lines[-1] if lines else f"exit code {result.returncode}"
        return
    data = json.loads(result.stdout.strip().splitlines()[-1])
    side.imports.append(float(data["import_seconds"]))
    side.walls.append(wall)
    side.modules = int(data["modules"])


def add_worktree(revision: str, where: Path) -> None:
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(where), revision],
        check=True,
        capture_output=True,
        text=True,
    )


def remove_worktree(where: Path) -> None:
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "remove", "--force", str(where)], check=False, capture_output=True
    )
    subprocess.run(["git", "-C", str(REPO), "worktree", "prune"], check=False, capture_output=True)


def resolve(revision: str) -> str:
    answer = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", f"{revision}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return answer.stdout.strip()


def run(python: str, baseline_tree: Path, repeat: int) -> list[Handler]:
    before, now = handler_names(baseline_tree), handler_names(REPO)
    handlers = [
        Handler(name, Side() if name in before else None, Side() if name in now else None)
        for name in sorted(before | now)
    ]
    sides = [(baseline_tree, "baseline"), (REPO, "current")]
    for handler in handlers:  # warm-up: bytecode compiled and files cached on both sides
        for tree, attribute in sides:
            if getattr(handler, attribute) is not None:
                measure_once(python, tree, handler.name, Side())
    for _ in range(repeat):
        for handler in handlers:
            for tree, attribute in sides:
                side: Side | None = getattr(handler, attribute)
                if side is not None and side.error is None:
                    measure_once(python, tree, handler.name, side)
    return handlers


def _ms(values: list[float], pick: str) -> str:
    if not values:
        return "-"
    value = min(values) if pick == "min" else statistics.median(values)
    return f"{value * 1000:.1f}"


def rows_for(handlers: list[Handler]) -> tuple[list[list[str]], list[str], list[str]]:
    rows: list[list[str]] = []
    slower: list[str] = []
    errors: list[str] = []
    for handler in handlers:
        base, cur = handler.baseline, handler.current
        for label, side in (("baseline", base), ("current", cur)):
            if side is not None and side.error:
                errors.append(f"{handler.name} ({label}): {side.error}")
        cells = [handler.name]
        for side in (base, cur):
            cells += (
                [_ms(side.imports, "min"), _ms(side.imports, "median"), str(side.modules or "-")]
                if side
                else ["-", "-", "-"]
            )
        if base is None:
            verdict, ratio = "new", "new"
        elif cur is None:
            verdict, ratio = "removed", "removed"
        elif not base.imports or not cur.imports:
            verdict, ratio = "error", "-"
        else:
            value = statistics.median(cur.imports) / statistics.median(base.imports)
            ratio = f"{value:.2f}x"
            verdict = f"SLOWER (>{(SLOWER_THAN - 1) * 100:.0f}%)" if value > SLOWER_THAN else "ok"
            if value > SLOWER_THAN:
                slower.append(handler.name)
        walls = [_ms(side.walls, "median") if side else "-" for side in (base, cur)]
        rows.append([*cells, ratio, *walls, verdict])
    return rows, slower, errors


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    numeric = {i for i in range(1, len(header)) if all(r[i][:1].isdigit() or r[i] == "-" for r in rows)}

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(line(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--baseline-rev", default=DEFAULT_BASELINE, help=f"revision to compare with (default {DEFAULT_BASELINE})"
    )
    parser.add_argument("--repeat", type=int, default=15, help="measured runs per handler and side (default 15)")
    venv_python = REPO / ".venv" / "bin" / "python"
    parser.add_argument(
        "--python",
        default=str(venv_python) if venv_python.exists() else sys.executable,
        help="interpreter of the children (default: the project's .venv/bin/python)",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    baseline = resolve(args.baseline_rev)
    version = subprocess.run(
        [args.python, "-c", "import platform; print(platform.python_version())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mwaa-cp-coldstart-") as scratch:
        tree = Path(scratch) / "baseline"
        add_worktree(baseline, tree)
        try:
            handlers = run(args.python, tree, args.repeat)
        finally:
            remove_worktree(tree)
    elapsed = time.perf_counter() - started

    print(
        f"Handler cold-start imports: baseline {baseline} vs the working tree, Python {version}, "
        f"{args.repeat} alternating runs per side after one warm-up ({elapsed:.0f} s)"
    )
    print("import = importlib.import_module('app') timed in the child; process = the child's wall time")
    print()
    rows, slower, errors = rows_for(handlers)
    header = [
        "handler",
        "base min ms",
        "base med ms",
        "base mods",
        "now min ms",
        "now med ms",
        "now mods",
        "ratio (med)",
        "base process ms",
        "now process ms",
        "verdict",
    ]
    print_table(header, rows)
    print()
    compared = [h for h in handlers if h.baseline and h.current and h.baseline.imports and h.current.imports]
    if compared:
        base_total = sum(statistics.median(h.baseline.imports) for h in compared if h.baseline)
        now_total = sum(statistics.median(h.current.imports) for h in compared if h.current)
        print(
            f"handlers on both sides: {len(compared)}; sum of median imports {base_total * 1000:.0f} ms -> "
            f"{now_total * 1000:.0f} ms ({now_total / base_total:.2f}x)"
        )
    print(
        f"more than {(SLOWER_THAN - 1) * 100:.0f}% slower than {baseline}: " + (", ".join(slower) if slower else "none")
    )
    for error in errors:
        print(f"import failed: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
