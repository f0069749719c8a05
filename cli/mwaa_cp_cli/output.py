"""Terminal output that stays whole when it is piped.

Rich sizes everything to the terminal, and with no terminal (``| cat``, ``| grep``, a file, a CI
log) it assumes 80 columns: table cells become ``dev-anal…`` and long lines are wrapped in the
middle of an ARN or a message. Output that is not a terminal is read by scripts and searched, so
there lines are never wrapped and tables are as wide as their content.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.measure import Measurement

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

# Room to measure a renderable's natural width in; far wider than any table the CLI prints.
_UNBOUNDED = 100_000


def make_console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    """A Console for the CLI: sized to the terminal, or never wrapping lines when output is not a terminal."""
    console = Console(stderr=stderr, file=file)
    console.soft_wrap = not console.is_terminal
    return console


def print_whole(console: Console, renderable: RenderableType) -> None:
    """Print a table or panel; when the output is not a terminal, widen it to its content instead of cutting cells."""
    if console.is_terminal:
        console.print(renderable)
        return
    needed = Measurement.get(console, console.options.update_width(_UNBOUNDED), renderable).maximum
    width = console.width
    console.width = max(width, needed)
    try:
        console.print(renderable)
    finally:
        console.width = width


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written (a test runner swaps it), not the one at setup."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def log_to_stderr(logger: Logger) -> None:
    """A command's report is its stdout (``--format json`` must parse): the domain's log lines go to stderr, and
    only from WARNING on (its INFO lines are for Lambda's logs)."""
    logger.setLevel("WARNING")
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(_CurrentStderr())
