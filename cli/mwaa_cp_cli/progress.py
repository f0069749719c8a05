"""Follow a Step Functions execution step by step in the terminal."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from typing import Any

from rich.console import Console

#: Step Functions execution statuses after which nothing changes any more.
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
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


class ExecutionRenderer:
    """One line per state entered and per failure; a loop through states already shown becomes one line."""

    def __init__(self, console: Console, started: datetime) -> None:
        self.console = console
        self.started = started
        self.entered: Counter[str] = Counter()
        self.looping: list[str] = []
        self.rounds = 0

    def _print(self, event: dict[str, Any], text: str) -> None:
        elapsed = (event["timestamp"] - self.started).total_seconds()
        self.console.print(f"[dim]{elapsed:7.2f}s[/] {text}", highlight=False)

    def flush(self, event: dict[str, Any] | None = None) -> None:
        if self.looping:
            text = f"[yellow]↻[/] {' → '.join(self.looping)} [dim](again, {self.rounds} more time(s))[/]"
            if event is None:
                self.console.print(f"         {text}", highlight=False)
            else:
                self._print(event, text)
            self.looping, self.rounds = [], 0

    def render(self, event: dict[str, Any]) -> None:
        kind: str = event["type"]
        detail = _detail(event)
        if kind == "MapIterationStarted":
            self.flush(event)
            self.entered.clear()  # each item walks the same states: show each item's walk
            self._print(event, f"  [dim]↳ item {detail.get('index', '?')}[/]")
        elif kind.endswith("StateEntered"):
            name = str(detail.get("name", kind))
            self.entered[name] += 1
            if self.entered[name] > 1:
                if name not in self.looping:
                    self.looping.append(name)
                self.rounds = max(self.rounds, self.entered[name] - 1)
                return
            self.flush(event)
            self._print(event, f"[cyan]→[/] {name}")
        elif kind in _FAILURES:
            self.flush(event)
            cause = str(detail.get("cause", ""))
            self._print(event, f"[red]✗ {detail.get('error', kind)}[/] {cause[:300]}")


def follow_execution(
    sfn: Any, execution_arn: str, console: Console, *, timeout: float = 3600.0, poll_seconds: float = 0.25
) -> dict[str, Any]:
    """Print the execution's steps as they happen; return DescribeExecution once it has ended."""
    shown = 0
    deadline = time.monotonic() + timeout
    renderer: ExecutionRenderer | None = None
    while True:
        description: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        renderer = renderer or ExecutionRenderer(console, description["startDate"])
        events: list[dict[str, Any]] = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
            events.extend(page["events"])
        for event in events[shown:]:
            renderer.render(event)
        shown = len(events)
        if description["status"] in TERMINAL_STATUSES:
            renderer.flush()
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
