"""A burst of uploads to the staging bucket, end to end in the local runtime.

    python bench/bench_burst.py [--uploads 300] [--time-scale 0.01] [--timeout SECONDS]

The scenario of the flow test "a burst of 300 uploads loses nothing and updates the
environment once", at full size (CI runs a smaller burst): one MWAA environment; ``uploads - 2``
DAG files spread over seven team folders, then a requirements.txt and a startup.sh, all put into
the staging bucket as fast as boto3 can. Files come from ``examples/``. It reports how many
executions ran, how each ended, how many ``UpdateEnvironment`` calls MWAA accepted, and the wall
and virtual time the burst took. Exit code 1 if anything was lost (an execution missing or not
SUCCEEDED, a DAG file missing from the environment's bucket, requirements.txt or startup.sh not
applied) or MWAA did not get exactly one ``UpdateEnvironment``.

Only the local runtime's public API is used (``LocalAws``, ``seed``, boto3 clients of the local
account), so the bench holds whichever steps the flows are made of. ``UpdateEnvironment`` is
counted where every caller meets, botocore: Lambda handlers and Step Functions SDK
integrations alike. The flow test's own count (handlers answering "updating") is printed
beside it.

Virtual time runs at 10 ms per second by default, as in the flow test: the executions queue
behind one in-process Lambda at a time, and at the runtime's default scale that queueing alone
would be hours of virtual time, past every bound the flow keeps.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for folder in ("local", "cli", "layers/common"):
    sys.path.insert(0, str(REPO / folder))

from mwaa_cp_local import mwaa  # noqa: E402
from mwaa_cp_local.runtime import TERMINAL_STATUSES, LocalAws  # noqa: E402
from mwaa_cp_local.seed import create_environment, source_bucket_name  # noqa: E402

ENVIRONMENT = "dev-analytics"
DAG_TEMPLATE = REPO / "examples" / "dags" / "good" / "hello_mwaa.py"
REQUIREMENTS = REPO / "examples" / "requirements.txt"
STARTUP = b"#!/bin/sh\nexport MY_SETTING=1\n"
TEAMS = 7

# Handlers that emit no metric on a path say so on every invocation; the bench reports its own numbers.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@dataclass
class UpdateEnvironmentCalls:
    """``UpdateEnvironment`` calls seen by botocore in this process: every caller, once per call."""

    accepted: int = 0
    refused: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            if getattr(http_response, "status_code", 500) < 300 and "Error" not in parsed:
                self.accepted += 1
            else:
                self.refused.append(str(parsed.get("Error", {}).get("Code", "?")))


@contextmanager
def counting(calls: UpdateEnvironmentCalls) -> Iterator[None]:
    """Register ``calls`` with every botocore session created from now on (LocalAws creates its own)."""
    import boto3
    import botocore.handlers

    entry = ("after-call.mwaa.UpdateEnvironment", calls)
    botocore.handlers.BUILTIN_HANDLERS.append(entry)
    boto3.DEFAULT_SESSION = None
    try:
        yield
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(entry)
        boto3.DEFAULT_SESSION = None


def upload(aws: LocalAws, staging: str, key: str, body: bytes) -> None:
    aws.client("s3").put_object(Bucket=staging, Key=key, Body=body)


def wait_until_idle(aws: LocalAws, deadline: float) -> None:
    """Every execution of every flow has ended (a flow may start another one after its own end)."""
    while True:
        aws.events.drain(timeout=max(0.1, deadline - time.monotonic()))
        running = [e for flow in aws.flows() for e in aws.executions(flow) if e["status"] not in TERMINAL_STATUSES]
        if not running:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(running)} executions still running")
        time.sleep(0.2)


def final_state(aws: LocalAws, execution: dict[str, Any]) -> str:
    """``STATUS / last state entered``, the way a person reads an execution in the console."""
    entered = [e for e in aws.history(execution["executionArn"]) if e["type"].endswith("StateEntered")]
    last = entered[-1]["stateEnteredEventDetails"]["name"] if entered else "-"
    return f"{execution['status']} / {last}"


def source_keys(aws: LocalAws, prefix: str) -> list[str]:
    keys: list[str] = []
    paginator = aws.client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=source_bucket_name(ENVIRONMENT), Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=300, help="objects put, 2 of them not DAGs (default 300)")
    parser.add_argument("--time-scale", type=float, default=0.01, help="real seconds per virtual second")
    parser.add_argument("--timeout", type=float, help="real seconds to wait for the burst (default max(600, 2/upload))")
    args = parser.parse_args()
    if args.uploads < 3:
        parser.error("--uploads must be at least 3 (one DAG, requirements.txt, startup.sh)")
    dags = args.uploads - 2
    timeout = args.timeout or max(600.0, 2.0 * args.uploads)
    template = DAG_TEMPLATE.read_text()

    calls = UpdateEnvironmentCalls()
    with counting(calls), LocalAws(time_scale=args.time_scale) as aws:
        mwaa.configure(create_seconds=60)  # creating the environment is not what is measured
        create_environment(aws, ENVIRONMENT)
        staging = aws.stack.ref("StagingBucket")
        if aws.clock is None:
            raise RuntimeError("the local runtime runs without a compressed clock")
        virtual_start, started = aws.clock.now(), time.perf_counter()
        for n in range(dags):
            body = template.replace('"hello_mwaa"', f'"dag_{n}"').encode()
            upload(aws, staging, f"{ENVIRONMENT}/dags/team_{n % TEAMS}/dag_{n}.py", body)
        upload(aws, staging, f"{ENVIRONMENT}/requirements.txt", REQUIREMENTS.read_bytes())
        upload(aws, staging, f"{ENVIRONMENT}/startup.sh", STARTUP)
        uploaded = time.perf_counter() - started
        deadline = time.monotonic() + timeout
        aws.wait_for_executions("dag-delivery", args.uploads, timeout=timeout)
        wait_until_idle(aws, deadline)
        wall = time.perf_counter() - started
        virtual = (aws.clock.now() - virtual_start).total_seconds()

        executions = {flow: aws.executions(flow) for flow in aws.flows()}
        states = {flow: Counter(final_state(aws, e) for e in found) for flow, found in executions.items() if found}
        synced = len(source_keys(aws, "dags/team_"))
        environment = aws.client("mwaa").get_environment(Name=ENVIRONMENT)["Environment"]
        # The flow test's count: invocations whose answer says "updating" ("status" today, "outcome" before #7).
        by_answer = sum(
            1
            for i in aws.lambdas.invocations
            if isinstance(i.result, dict) and "updating" in (i.result.get("status"), i.result.get("outcome"))
        )

    delivery = executions.get("dag-delivery", [])
    problems = []
    if len(delivery) != args.uploads:
        problems.append(f"{len(delivery)} dag-delivery executions for {args.uploads} uploads")
    failed = sum(1 for found in executions.values() for e in found if e["status"] != "SUCCEEDED")
    if failed:
        problems.append(f"{failed} executions did not succeed")
    if synced != dags:
        problems.append(f"{synced} of {dags} DAG files in the environment's bucket")
    for name in ("RequirementsS3ObjectVersion", "StartupScriptS3ObjectVersion"):
        if not environment.get(name):
            problems.append(f"{name} not set on the environment")
    if calls.accepted != 1:
        problems.append(f"{calls.accepted} UpdateEnvironment calls, expected exactly 1")

    print(
        f"Burst of {args.uploads} uploads ({dags} DAGs in {TEAMS} folders, requirements.txt, startup.sh) "
        f"to {ENVIRONMENT}, time scale {args.time_scale} s per virtual second"
    )
    print()
    rows = [
        ("uploads", str(args.uploads)),
        *((f"{flow} executions", str(len(found))) for flow, found in executions.items() if found),
        *(
            (f"  {flow}: {state}", str(count))
            for flow, counter in states.items()
            for state, count in sorted(counter.items())
        ),
        ("DAG files in the environment's bucket", f"{synced} of {dags}"),
        ("UpdateEnvironment calls accepted by MWAA", str(calls.accepted)),
        ("UpdateEnvironment calls refused (retried)", f"{len(calls.refused)} {sorted(set(calls.refused)) or ''}"),
        ("handlers answering 'updating' (the flow test's count)", str(by_answer)),
        ("environment status / last update", f"{environment['Status']} / {environment['LastUpdate']['Status']}"),
        ("wall seconds: uploads put", f"{uploaded:.1f}"),
        ("wall seconds: first upload to last execution ended", f"{wall:.1f}"),
        ("virtual seconds: first upload to last execution ended", f"{virtual:.0f}"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value.rstrip()}")
    print()
    if problems:
        for problem in problems:
            print(f"FAILED: {problem}")
        return 1
    print("nothing lost; exactly one UpdateEnvironment")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
