"""Where moto routes MWAA requests: the API's and the web servers' hosts, and each path's handler.

moto finds this module by convention: a backend class defined in ``<package>.models`` is served
by ``<package>.urls`` (``url_bases``, ``url_paths``), so :mod:`.models` never imports the
request handling that depends on it.
"""

from __future__ import annotations

import re

from mwaa_cp_local.mwaa.responses import MwaaResponse, cli_dispatch

# botocore prefixes MWAA hosts with api./env./ops.; clients on a custom endpoint
# (inject_host_prefix=False) and moto's server (which rebuilds the host from the SigV4
# signing name) use the bare airflow.{region} host.
API_URL_BASE = r"https?://(?:api\.|env\.|ops\.)?airflow\.(.+)\.amazonaws\.com"
# Web servers: https://<uuid>.c2.<region>.airflow.amazonaws.com/aws_mwaa/cli
WEBSERVER_URL_BASE = r"https?://[^/]+\.airflow\.amazonaws\.com"

url_bases = [API_URL_BASE, WEBSERVER_URL_BASE]

url_paths = {
    "{0}/environments$": MwaaResponse.dispatch,
    "{0}/environments/(?P<Name>[^/]+)$": MwaaResponse.dispatch,
    "{0}/tags/(?P<ResourceArn>.+)$": MwaaResponse.dispatch,
    "{0}/clitoken/(?P<Name>[^/]+)$": MwaaResponse.dispatch,
    "{0}/webtoken/(?P<Name>[^/]+)$": MwaaResponse.dispatch,
    "{0}/restapi/(?P<Name>[^/]+)$": MwaaResponse.dispatch,
    "{0}/metrics/environments/(?P<EnvironmentName>[^/]+)$": MwaaResponse.dispatch,
    "{0}/aws_mwaa/cli$": cli_dispatch,
}

# What moto.backend_index needs to send a request to this service: the service name and its host patterns.
SERVICE = "mwaa"
URL_PATTERNS = tuple(re.compile(base) for base in url_bases)
