"""An in-memory Amazon MWAA for moto, with an in-memory Airflow behind each environment.

moto 5.2.5 has no MWAA backend. :func:`mwaa_cp_local.patches.install_mwaa` plugs this one in, so
that ``boto3.client("mwaa")`` works inside ``moto.mock_aws()`` and through moto's server:

* ``moto.backends.get_backend("mwaa")`` imports ``moto.mwaa`` and reads ``mwaa_backends``:
  :mod:`.models` is installed under that name in ``sys.modules``, and moto finds the request
  routing of a backend defined in ``<package>.models`` in ``<package>.urls`` (:mod:`.urls`).
* Decorator mode: ``BotocoreStubber`` walks ``moto.backend_index.backend_url_patterns`` on
  every request, so the host patterns of :mod:`.urls` go first in that list. ``mock_aws``
  registers the same patterns with ``responses`` (``requests``-library calls) when it starts,
  so the service must be installed before ``mock_aws`` starts for those calls to reach it.
* Server mode: moto rebuilds the host from the SigV4 credential scope as
  ``{signing name}.{region}.amazonaws.com``. MWAA's signing name is ``airflow``, and
  ``airflow.{region}.amazonaws.com`` already matches our pattern, so no entry in
  ``werkzeug_app.SIGNING_ALIASES`` is needed (an alias to "mwaa" would build a host our
  pattern does not match). Clients on a custom endpoint must not add the ``api.``/``env.``
  host prefixes: ``Config(inject_host_prefix=False)`` or ``AWS_DISABLE_HOST_PREFIX_INJECTION``.
"""

from __future__ import annotations

from mwaa_cp_local.mwaa import models, secrets
from mwaa_cp_local.mwaa.airflow import (
    AirflowInstance,
    DagProcessingTimings,
    lookup_connection,
    lookup_variable,
    read_connection,
    read_variable,
)
from mwaa_cp_local.mwaa.models import (
    DEFAULT_AIRFLOW_VERSION,
    SUPPORTED_AIRFLOW_VERSIONS,
    MwaaBackend,
    Settings,
    configure,
    fail_next_create,
    fail_next_update,
    handle_cli_request,
    hold_runs,
    reset,
    settings,
)
from mwaa_cp_local.mwaa.workload import SimulationResult, Workload, simulate_workload


def backend(account_id: str = "123456789012", region: str = "us-east-1") -> MwaaBackend:
    """The backend of one account and region (for the local runtime and tests)."""
    found: MwaaBackend = models.mwaa_backends[account_id][region]
    return found


def _locate(instance: object) -> tuple[str, str] | None:
    """(account, region) of the environment running ``instance``: the secrets backend reads that SSM."""
    for found in models.all_backends():
        for environment in list(found.environments.values()):
            if environment.airflow is instance:
                return str(environment.account_id), str(environment.region)
    return None


secrets.locate_with(_locate)


def airflow_of(environment_name: str, account_id: str = "123456789012", region: str = "us-east-1") -> AirflowInstance:
    """The Airflow serving environment ``environment_name`` now (its DAG folder synced, as a request would).

    Tests use it with :func:`read_variable` / :func:`read_connection` to see what a task would read.
    Raises LookupError when the environment does not exist or no Airflow runs (creating, deleting).
    """
    from mwaa_control_plane.clock import get_clock

    found = backend(account_id, region)
    with found.lock:
        environment = found.environments.get(environment_name)
        airflow = environment.running_airflow(get_clock().now()) if environment is not None else None
    if airflow is None:
        raise LookupError(f"environment {environment_name!r} has no running Airflow in {account_id}/{region}")
    return airflow


__all__ = [
    "DEFAULT_AIRFLOW_VERSION",
    "SUPPORTED_AIRFLOW_VERSIONS",
    "AirflowInstance",
    "DagProcessingTimings",
    "MwaaBackend",
    "Settings",
    "SimulationResult",
    "Workload",
    "airflow_of",
    "backend",
    "configure",
    "fail_next_create",
    "fail_next_update",
    "handle_cli_request",
    "hold_runs",
    "lookup_connection",
    "lookup_variable",
    "read_connection",
    "read_variable",
    "reset",
    "settings",
    "simulate_workload",
]
