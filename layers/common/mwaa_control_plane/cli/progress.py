"""Follow a Step Functions execution step by step in the terminal."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from rich.console import Console

_TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
_FAILURES = (
    "TaskFailed",
    "LambdaFunctionFailed",
    "TaskTimedOut",
    "LambdaFunctionTimedOut",
    "ExecutionFailed",
    "MapStateFailed",
    "TaskStartFailed",
    "LambdaFunctionStartFailed",
)


def _detail(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def render_event(event: dict[str, Any], started: datetime) -> str | None:
    """One line for the events a person wants to see, None for the rest."""
    kind: str = event["type"]
    elapsed = (event["timestamp"] - started).total_seconds()
    stamp = f"[dim]{elapsed:7.2f}s[/]"
    detail = _detail(event)
    if kind.endswith("StateEntered"):
        return f"{stamp} [cyan]→[/] {detail.get('name', kind)}"
    if kind.endswith("StateExited"):
        return f"{stamp} [green]✓[/] {detail.get('name', kind)}"
    if kind in _FAILURES:
        cause = str(detail.get("cause", ""))
        return f"{stamp} [red]✗ {detail.get('error', kind)}[/] {cause[:300]}"
    if kind == "MapIterationStarted":
        return f"{stamp}   [dim]↳ item {detail.get('index', '?')}[/]"
    return None


def follow_execution(
    sfn: Any, execution_arn: str, console: Console, *, timeout: float = 3600.0, poll_seconds: float = 0.25
) -> dict[str, Any]:
    """Print the execution's steps as they happen; return DescribeExecution once it has ended."""
    shown = 0
    deadline = time.monotonic() + timeout
    started: datetime | None = None
    while True:
        description: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        started = started or description["startDate"]
        events: list[dict[str, Any]] = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
            events.extend(page["events"])
        for event in events[shown:]:
            line = render_event(event, started)
            if line:
                console.print(line, highlight=False)
        shown = len(events)
        if description["status"] in _TERMINAL:
            return description
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution still {description['status']} after {timeout:.0f} s: {execution_arn}")
        time.sleep(poll_seconds)


def print_outcome(description: dict[str, Any], console: Console) -> None:
    status = description["status"]
    colour = "green" if status == "SUCCEEDED" else "red"
    console.print(f"[bold {colour}]{status}[/]  {description['executionArn']}", highlight=False)
    if description.get("output"):
        console.print_json(description["output"])
    if description.get("error"):
        console.print(f"[red]{description['error']}[/]: {description.get('cause', '')}", highlight=False)


def load_json_file(path: str) -> Any:
    from mwaa_control_plane.errors import InvalidInputError

    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from None
