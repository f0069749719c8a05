"""What SSM and Airflow accept as names and values, which keys are secrets, and how values are shown.

SSM Parameter Store: names use ``a-zA-Z0-9_.-`` and ``/`` between levels, at most 15 levels,
no first level starting with ``aws`` or ``ssm`` (any case), at most 1011 characters counting
the parameter's ARN. A Standard parameter holds up to 4 KB, an Advanced one up to 8 KB
(Advanced parameters are billed per parameter and month, so the tier is Advanced only when a
value needs it). Airflow: variable keys and connection ids at most 250 characters; connection
ids are ``[A-Za-z0-9_.-]``. A key here is one level below its prefix, so it uses the same
characters (a "/" would add a level to the name Airflow reads).

Airflow's secrets masker treats a key as sensitive when it contains (lowercase substring
match) one of the names below, plus the environment's ``core.sensitive_var_conn_names``
(MWAA sets ``proxy,proxies``). Such values, values marked secret, and every connection are
written as ``SecureString``; values are never logged or reported: :func:`masked` shows a
hash prefix and the length.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Literal

Tier = Literal["Standard", "Advanced"]
ParameterType = Literal["String", "SecureString"]

STANDARD_MAX_BYTES = 4096
ADVANCED_MAX_BYTES = 8192
MAX_NAME_WITH_ARN = 1011
MAX_LEVELS = 15
MAX_KEY_LENGTH = 250
# An Advanced parameter costs this much a month (AWS Systems Manager pricing); Standard ones nothing.
ADVANCED_PARAMETER_USD_MONTH = 0.05

_KEY = re.compile(r"[A-Za-z0-9_.\-]+\Z")
_NAME = re.compile(r"/?[A-Za-z0-9_.\-/]+\Z")

# Airflow's secrets masker: the names of every version MWAA runs (Airflow 2.10) and what Airflow 3 adds.
MASKER_NAMES = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "authorization",
        "passphrase",
        "passwd",
        "password",
        "private_key",
        "secret",
        "token",
        "keyfile_dict",
        "service_account",
    }
)
MASKER_NAMES_AIRFLOW_3 = frozenset(
    {
        "access_key",
        "auth_header",
        "bearer",
        "connection_string",
        "dsn",
        "proxy",
        "proxy_password",
        "proxies",
        "service_key",
        "webhook_url",
    }
)
# Whichever version reads the value, a name either list holds is a secret.
SENSITIVE_NAMES = MASKER_NAMES | MASKER_NAMES_AIRFLOW_3
SENSITIVE_CONFIG_OPTION = "core.sensitive_var_conn_names"


def key_problem(key: str, *, kind: Literal["variables", "connections"]) -> str | None:
    """Why Airflow or SSM would refuse ``key`` as a variable key or connection id (None: fine)."""
    what = "variable key" if kind == "variables" else "connection id"
    if not key:
        return f"empty {what}"
    if len(key) > MAX_KEY_LENGTH:
        return f"{what} is {len(key)} characters; Airflow allows {MAX_KEY_LENGTH}"
    if not _KEY.match(key):
        bad = sorted({c for c in key if not re.match(r"[A-Za-z0-9_.\-]", c)})
        shown = ", ".join(repr(c) for c in bad[:5])
        return f"{what} has characters SSM parameter names and Airflow keys refuse ({shown}); use A-Z a-z 0-9 _ . -"
    return None


def name_problem(name: str, *, region: str = "us-east-1", account: str = "123456789012") -> str | None:
    """Why SSM would refuse ``name`` as a parameter name (None: fine)."""
    if not _NAME.match(name):
        return "parameter names use only A-Z a-z 0-9 _ . - and /"
    levels = [part for part in name.strip("/").split("/") if part]
    if len(levels) > MAX_LEVELS:
        return f"{len(levels)} levels; SSM allows {MAX_LEVELS}"
    if levels and levels[0].lower().startswith(("aws", "ssm")):
        return "SSM refuses names whose first level starts with aws or ssm"
    arn = f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"
    if len(arn) > MAX_NAME_WITH_ARN:
        return f"the name with its ARN is {len(arn)} characters; SSM allows {MAX_NAME_WITH_ARN}"
    return None


def value_size(value: str) -> int:
    return len(value.encode("utf-8"))


def tier_for(value: str) -> Tier | None:
    """The cheapest tier that holds ``value`` (None: too large for any)."""
    size = value_size(value)
    if size <= STANDARD_MAX_BYTES:
        return "Standard"
    if size <= ADVANCED_MAX_BYTES:
        return "Advanced"
    return None


def sensitive_names(options: Mapping[str, str]) -> frozenset[str]:
    """The masker's names plus the environment's ``core.sensitive_var_conn_names``."""
    extra = options.get(SENSITIVE_CONFIG_OPTION, "")
    return SENSITIVE_NAMES | {part.strip().lower() for part in extra.split(",") if part.strip()}


def is_sensitive(key: str, names: Iterable[str] = SENSITIVE_NAMES) -> bool:
    lowered = key.lower()
    return any(name in lowered for name in names)


def fingerprint(value: str) -> str:
    """A value as reports show it: a hash prefix and its length, never the value."""
    return f"sha256:{hashlib.sha256(value.encode()).hexdigest()[:12]} ({len(value)} chars)"


def masked(value: str | None) -> str | None:
    return None if value is None else fingerprint(value)
