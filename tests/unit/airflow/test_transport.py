from __future__ import annotations

from typing import Any

import pytest
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from mwaa_control_plane.airflow import Urllib3CliTransport


class StubResponse:
    status = 200
    data = b'{"stdout": "", "stderr": ""}'


class StubPool:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.requests: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> StubResponse:
        self.requests.append({"method": method, "url": url, **kwargs})
        if self.error is not None:
            raise self.error
        return StubResponse()


def test_the_default_transport_posts_once_without_retries_or_redirects() -> None:
    pool = StubPool()

    status, body = Urllib3CliTransport(pool).post(  # type: ignore[arg-type]
        "https://host/aws_mwaa/cli", {"Authorization": "Bearer t"}, b"dags list -o json", 12.0
    )

    assert (status, body) == (200, b'{"stdout": "", "stderr": ""}')
    [request] = pool.requests
    assert request["method"] == "POST"
    assert request["body"] == b"dags list -o json"
    assert request["headers"] == {"Authorization": "Bearer t"}
    assert request["timeout"] == 12.0
    assert request["retries"] is False
    assert request["redirect"] is False


def test_a_read_timeout_becomes_a_timeout_error() -> None:
    pool = StubPool(ReadTimeoutError(None, "https://host/aws_mwaa/cli", "read timed out"))  # type: ignore[arg-type]

    with pytest.raises(TimeoutError):
        Urllib3CliTransport(pool).post("https://host/aws_mwaa/cli", {}, b"", 1.0)  # type: ignore[arg-type]


def test_a_dropped_connection_becomes_a_connection_error() -> None:
    pool = StubPool(ProtocolError("Connection aborted"))

    with pytest.raises(ConnectionError):
        Urllib3CliTransport(pool).post("https://host/aws_mwaa/cli", {}, b"", 1.0)  # type: ignore[arg-type]
