"""An in-memory Amazon MWAA for moto, with an in-memory Airflow behind each environment.

moto 5.2.5 has no MWAA backend. :func:`register` plugs one in, so that
``boto3.client("mwaa")`` works inside ``moto.mock_aws()`` and through moto's server:

* ``moto.backends.get_backend("mwaa")`` imports ``moto.mwaa`` and reads ``mwaa_backends``:
  :mod:`.models` is installed under that name in ``sys.modules``.
* Decorator mode: ``BotocoreStubber`` walks ``moto.backend_index.backend_url_patterns`` on
  every request, so adding our host pattern there works whether ``mock_aws`` started before
  or after :func:`register`. ``requests``-library calls go through ``responses``, whose
  callbacks ``mock_aws`` registers at start; when it is already running they are added here.
* Server mode: moto rebuilds the host from the SigV4 credential scope as
  ``{signing name}.{region}.amazonaws.com``. MWAA's signing name is ``airflow``, and
  ``airflow.{region}.amazonaws.com`` already matches our pattern, so no entry in
  ``werkzeug_app.SIGNING_ALIASES`` is needed (an alias to "mwaa" would build a host our
  pattern does not match). Clients on a custom endpoint must not add the ``api.``/``env.``
  host prefixes: ``Config(inject_host_prefix=False)`` or ``AWS_DISABLE_HOST_PREFIX_INJECTION``.
"""

from __future__ import annotations

import re
import sys
import threading

from mwaa_cp_local.mwaa import models, s3
from mwaa_cp_local.mwaa.airflow import AirflowInstance, DagProcessingTimings
from mwaa_cp_local.mwaa.models import (
    DEFAULT_AIRFLOW_VERSION,
    SUPPORTED_AIRFLOW_VERSIONS,
    MwaaBackend,
    Settings,
    configure,
    fail_next_update,
    handle_cli_request,
    reset,
    settings,
)
from mwaa_cp_local.mwaa.responses import API_URL_BASE, WEBSERVER_URL_BASE

SERVICE = "mwaa"
URL_PATTERNS = (re.compile(API_URL_BASE), re.compile(WEBSERVER_URL_BASE))
_register_lock = threading.Lock()


def register() -> None:
    """Install the MWAA backend into moto (idempotent; before or after ``mock_aws`` starts)."""
    from moto import backend_index

    with _register_lock:
        sys.modules["moto.mwaa"] = models
        known = {pattern.pattern for service, pattern in backend_index.backend_url_patterns if service == SERVICE}
        missing = [pattern for pattern in URL_PATTERNS if pattern.pattern not in known]
        # First in the list: no other service's pattern may claim an airflow host before ours.
        for pattern in reversed(missing):
            backend_index.backend_url_patterns.insert(0, (SERVICE, pattern))
        s3.install_clock_stamps()
        if missing:
            _add_to_running_mock(missing)


def _add_to_running_mock(patterns: list[re.Pattern[str]]) -> None:
    from moto.core.custom_responses_mock import CallbackResponse
    from moto.core.models import RESPONSES_METHODS, botocore_stubber, responses_mock

    if not botocore_stubber.enabled:
        return
    for method in RESPONSES_METHODS:
        for pattern in patterns:
            responses_mock.add(
                CallbackResponse(method=method, url=pattern, callback=botocore_stubber.process_prepared_request)
            )


def backend(account_id: str = "123456789012", region: str = "us-east-1") -> MwaaBackend:
    """The backend of one account and region (for the local runtime and tests)."""
    found: MwaaBackend = models.mwaa_backends[account_id][region]
    return found


__all__ = [
    "DEFAULT_AIRFLOW_VERSION",
    "SUPPORTED_AIRFLOW_VERSIONS",
    "AirflowInstance",
    "DagProcessingTimings",
    "MwaaBackend",
    "Settings",
    "backend",
    "configure",
    "fail_next_update",
    "handle_cli_request",
    "register",
    "reset",
    "settings",
]
