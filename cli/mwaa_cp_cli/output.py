"""Terminal output that stays whole when it is piped.

Rich sizes everything to the terminal, and with no terminal (``| cat``, ``| grep``, a file, a CI
log) it assumes 80 columns: table cells become ``dev-anal…`` and long lines are wrapped in the
middle of an ARN or a message. Output that is not a terminal is read by scripts and searched, so
there lines are never wrapped and tables are as wide as their content.
"""

from __future__ import annotations

from typing import IO

from rich.console import Console, RenderableType
from rich.measure import Measurement

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
