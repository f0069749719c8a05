"""Serve the local runtime over HTTP on 127.0.0.1 (``mwaa-cp local up``).

moto's own WSGI dispatcher answers every AWS API; the one path it does not know,
MWAA's CLI endpoint ``POST /aws_mwaa/cli``, goes to the emulated web server. The
backends are the in-process ones, so what the AWS CLI creates is what the flows see.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from mwaa_control_plane.errors import ConfigurationError

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class LocalServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigurationError("the local runtime only listens on the loopback interface")
        self.host = host
        self.requested_port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port) if self._server else self.requested_port

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalServer:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        moto_app = DomainDispatcherApplication(create_backend_app)
        try:
            self._server = make_server(self.host, self.requested_port, _with_cli_endpoint(moto_app), threaded=True)
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on {self.host}:{self.requested_port}: {exc.strerror}") from exc
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-aws-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _with_cli_endpoint(app: Callable[[Environ, StartResponse], Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def wsgi(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/aws_mwaa/cli" and environ.get("REQUEST_METHOD") == "POST":
            from mwaa_cp_local.mwaa import handle_cli_request

            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length).decode("utf-8", errors="replace")
            status, answer = handle_cli_request(
                environ.get("HTTP_HOST", ""), environ.get("HTTP_AUTHORIZATION", ""), body
            )
            payload = json.dumps(answer).encode()
            start_response(
                f"{status} {'OK' if status == 200 else 'Error'}",
                [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
            )
            return [payload]
        return app(environ, start_response)

    return wsgi
