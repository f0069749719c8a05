"""Per-thread capture of stdout, so in-process Lambdas log like Lambdas.

The local runtime runs every function in one process. A Lambda's stdout (Powertools JSON
logs, EMF metrics) must land in that function's log group, while the CLI keeps printing
its own progress from other threads. ``sys.stdout`` is replaced by a router that writes to
the current thread's capture buffer when one is open, else to the real stream.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO


class ThreadRoutedStream(io.TextIOBase):
    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self._local = threading.local()

    def write(self, text: str) -> int:
        buffer: io.StringIO | None = getattr(self._local, "buffer", None)
        return (buffer or self.fallback).write(text)

    def flush(self) -> None:
        if getattr(self._local, "buffer", None) is None:
            self.fallback.flush()

    def isatty(self) -> bool:
        return self.fallback.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.fallback, "encoding", "utf-8")

    def fileno(self) -> int:
        return self.fallback.fileno()

    @contextmanager
    def capture(self) -> Iterator[io.StringIO]:
        previous = getattr(self._local, "buffer", None)
        buffer = io.StringIO()
        self._local.buffer = buffer
        try:
            yield buffer
        finally:
            self._local.buffer = previous


_router: ThreadRoutedStream | None = None
_lock = threading.Lock()


def install() -> ThreadRoutedStream:
    """Route sys.stdout through a per-thread router (idempotent) and repoint Powertools' handlers."""
    global _router
    with _lock:
        if _router is None or sys.stdout is not _router:
            _router = ThreadRoutedStream(sys.stdout)
            sys.stdout = _router
        _repoint_logging_handlers(_router)
        return _router


def uninstall() -> None:
    global _router
    with _lock:
        if _router is not None and sys.stdout is _router:
            sys.stdout = _router.fallback
            _repoint_logging_handlers(_router.fallback)
        _router = None


def _repoint_logging_handlers(stream: Any) -> None:
    # Powertools' Logger binds sys.stdout when it is built, which may be before install().
    import logging

    for name in list(logging.root.manager.loggerDict):
        for handler in getattr(logging.getLogger(name), "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream in (
                sys.__stdout__,
                getattr(stream, "fallback", None),
                _router,
            ):
                handler.setStream(stream)
