"""HTTP for the MWAA CLI endpoint (Airflow < 2.4.3), behind a Protocol.

The Lambda runtime uses :class:`Urllib3CliTransport` (urllib3 ships with botocore, so no new
dependency); the local runtime passes its own in-process implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import urllib3
from urllib3.exceptions import HTTPError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError


class CliTransport(Protocol):
    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> tuple[int, bytes]:
        """POST ``body`` to ``url``; return the status and the raw response body.

        Raise ``TimeoutError`` or ``ConnectionError`` when no answer came back: the client retries those.
        """
        ...


class Urllib3CliTransport:
    """The default transport: one connection pool per instance, no retries of its own (the client retries)."""

    def __init__(self, pool: urllib3.PoolManager | None = None) -> None:
        self._pool = pool

    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> tuple[int, bytes]:
        if self._pool is None:
            self._pool = urllib3.PoolManager()
        try:
            response = self._pool.request(
                "POST", url, body=body, headers=dict(headers), timeout=timeout, retries=False, redirect=False
            )
        except Urllib3TimeoutError as exc:
            raise TimeoutError(f"no answer from the MWAA CLI endpoint within {timeout} s") from exc
        except HTTPError as exc:
            raise ConnectionError(f"MWAA CLI endpoint unreachable: {type(exc).__name__}") from exc
        return response.status, response.data


_default_transport: CliTransport | None = None


def get_default_transport() -> CliTransport:
    """The transport clients use when none is passed (urllib3, unless the local runtime replaced it)."""
    global _default_transport
    if _default_transport is None:
        _default_transport = Urllib3CliTransport()
    return _default_transport


def set_default_transport(transport: CliTransport | None) -> None:
    """Replace the process-wide default (the local runtime routes the CLI endpoint in-process); None resets it."""
    global _default_transport
    _default_transport = transport
