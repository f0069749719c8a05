"""An environment's SSM secrets backend, read from its Airflow configuration options.

MWAA environments read variables and connections from SSM Parameter Store when their
configuration sets::

    secrets.backend = airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend
    secrets.backend_kwargs = {"connections_prefix": "/airflow/connections", "variables_prefix": "/airflow/variables"}

The parameter Airflow reads is ``<prefix>/<key>`` (a leading "/" is added), with decryption;
a missing one falls through to environment variables and then the metadata database. The
backend's own defaults are ``airflow/variables`` and ``airflow/connections``; a prefix set to
null turns that lookup off. A ``*_lookup_pattern`` is matched (``re.match``, case-insensitive)
against the key: a key it does not match is never looked up in SSM. MWAA's image sets a
``connections_lookup_pattern`` that keeps ``aws_default`` out of SSM; writing your own
``backend_kwargs`` replaces it. On Airflow 3 the image also sets
``workers.secrets_backend_kwargs``, which is what tasks on workers use: set both, the same.

Kwargs that are not the backend's own go to its AWS connection (``region_name``, ``role_arn``,
...): they are the user's, and a repair keeps them. Another ``secrets.backend`` is the user's
choice too: it is reported, never replaced.

:func:`inspect_backend` reads all of that into a :class:`SecretsBackend` with the problems an
operator must know about; :func:`backend_fix` is the configuration change that repairs them
(applied only through the environment-change flow, and only when asked).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from mwaa_control_plane.versions import InvalidVersion, release

SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
BACKEND_OPTION = "secrets.backend"
KWARGS_OPTION = "secrets.backend_kwargs"
WORKER_KWARGS_OPTION = "workers.secrets_backend_kwargs"
# The backend's defaults when the kwargs do not name a prefix (a leading "/" is added).
DEFAULT_VARIABLES_PREFIX = "/airflow/variables"
DEFAULT_CONNECTIONS_PREFIX = "/airflow/connections"
# Keeps aws_default out of SSM, as MWAA's image does (setting backend_kwargs replaces the image's pattern).
DEFAULT_CONNECTIONS_LOOKUP_PATTERN = "^(?!aws_default$).*"
# The kwargs the backend itself takes; anything else is passed to the AWS connection.
_BACKEND_KWARGS = frozenset(
    {
        "connections_prefix",
        "connections_lookup_pattern",
        "variables_prefix",
        "variables_lookup_pattern",
        "config_prefix",
        "config_lookup_pattern",
    }
)
# What the amazon provider reads from the rest: the backend's SSM client takes api_version and use_ssl, and
# its AWS connection (AwsConnectionWrapper, SessionFactory) the connection extras below. Other keys are
# read by nothing, which is what kwargs-unknown reports.
_CONNECTION_KWARGS = frozenset(
    {
        "api_version",
        "use_ssl",
        "region_name",
        "profile_name",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "session_kwargs",
        "endpoint_url",
        "verify",
        "config_kwargs",
        "service_config",
        "role_arn",
        "assume_role_method",
        "assume_role_kwargs",
        "assume_role_with_saml",
        "assume_role_with_web_identity_federation",
        "assume_role_with_web_identity_token_file",
        "assume_role_with_web_identity_federation_audience",
    }
)
_KNOWN_KWARGS = _BACKEND_KWARGS | _CONNECTION_KWARGS

Kind = Literal["variables", "connections"]


class BackendProblem(BaseModel):
    """One thing wrong with the backend configuration: a stable code, what was found, and the fix."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    fix: str


class SecretsBackend(BaseModel):
    """Where an environment's Airflow looks for variables and connections in SSM, if anywhere."""

    model_config = ConfigDict(frozen=True)

    configured: bool
    """The SSM Parameter Store backend is the environment's ``secrets.backend``."""
    backend: str | None = None
    variables_prefix: str | None = None
    connections_prefix: str | None = None
    variables_lookup_pattern: str | None = None
    connections_lookup_pattern: str | None = None
    problems: list[BackendProblem] = []

    def prefix(self, kind: Kind) -> str | None:
        return self.variables_prefix if kind == "variables" else self.connections_prefix

    def hides(self, kind: Kind, key: str) -> bool:
        """True when Airflow would never look ``key`` up in SSM (lookup off, or the pattern does not match it)."""
        if self.prefix(kind) is None:
            return True
        pattern = self.variables_lookup_pattern if kind == "variables" else self.connections_lookup_pattern
        if pattern is None:
            return False
        try:
            return re.match(pattern, key, re.IGNORECASE) is None
        except re.error:
            return True

    def parameter_name(self, kind: Kind, key: str) -> str | None:
        """The SSM parameter Airflow reads for ``key`` (None: this backend never reads one)."""
        prefix = self.prefix(kind)
        return None if prefix is None else f"{prefix}/{key}"


def normalized_prefix(prefix: str) -> str:
    """A prefix as the backend builds names with it: a leading "/", no trailing one."""
    return "/" + prefix.strip("/")


def _kwargs(options: Mapping[str, str], option: str) -> tuple[dict[str, object] | None, str | None]:
    """The parsed JSON of ``option`` (None when unset) and an error text when it is not a JSON object."""
    text = options.get(option)
    if text is None or not text.strip():
        return None, None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"{option} is not valid JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(value, dict):
        return None, f"{option} must be a JSON object"
    return value, None


def _prefix_of(kwargs: Mapping[str, object], name: str, default: str) -> str | None:
    if name not in kwargs:
        return default
    value = kwargs[name]
    if value is None:
        return None
    return normalized_prefix(str(value)) if str(value).strip("/") else None


def _pattern_of(kwargs: Mapping[str, object], name: str) -> str | None:
    value = kwargs.get(name)
    return None if value is None else str(value)


def _meant(key: str) -> str | None:
    """The known kwarg an unknown ``key`` looks like a misspelling of (None: it looks like none)."""
    close = difflib.get_close_matches(key.lower(), sorted(_KNOWN_KWARGS), n=1, cutoff=0.8)
    return close[0] if close else None


def _unknown(kwargs: Mapping[str, object]) -> str:
    """The unknown keys of ``kwargs``, each with the known key it may be a misspelling of."""
    names = []
    for key in sorted(set(kwargs) - _KNOWN_KWARGS):
        meant = _meant(key)
        names.append(key if meant is None else f"{key} (did you mean {meant}?)")
    return ", ".join(names)


def _backend_class(options: Mapping[str, str]) -> str | None:
    backend = (options.get(BACKEND_OPTION) or "").strip()
    return backend or None


def airflow_major(airflow_version: str) -> int:
    """The major version through the project's one version parser (2 when the text is not a version)."""
    try:
        return release(airflow_version)[0]
    except InvalidVersion:
        return 2


def inspect_backend(options: Mapping[str, str], airflow_version: str) -> SecretsBackend:
    """The SSM secrets backend of an environment with these configuration options, and its problems.

    ``options`` are GetEnvironment's ``AirflowConfigurationOptions`` (``section.option`` keys).
    The problems name what an operator would otherwise find by reading task logs: another
    secrets backend, kwargs without a backend, kwargs that are not JSON or that nothing reads, a
    prefix turned off, a lookup pattern that hides keys, MWAA's default connections pattern lost,
    and on Airflow 3 worker kwargs missing or different.
    """
    backend = _backend_class(options)
    if backend is not None and backend != SSM_BACKEND:
        # The kwargs are that backend's own: nothing here judges them.
        other = BackendProblem(
            code="other-backend",
            message=f"{BACKEND_OPTION} is {backend}, not the SSM Parameter Store backend: Airflow does not read "
            "variables or connections written to SSM while that backend is configured",
            fix=f"the control plane never replaces a secrets backend you configured: to have Airflow read SSM, set "
            f"{BACKEND_OPTION} = {SSM_BACKEND} yourself; otherwise keep mwaa-cp:variables=on or rest, "
            "which writes variables through the REST API",
        )
        return SecretsBackend(configured=False, backend=backend, problems=[other])
    if backend is None:
        unset: list[BackendProblem] = []
        if KWARGS_OPTION in options or WORKER_KWARGS_OPTION in options:
            unset.append(
                BackendProblem(
                    code="kwargs-without-backend",
                    message=f"{KWARGS_OPTION} is set but {BACKEND_OPTION} is not, so Airflow never reads SSM",
                    fix=f"set {BACKEND_OPTION} = {SSM_BACKEND}",
                )
            )
        return SecretsBackend(configured=False, problems=unset)

    problems: list[BackendProblem] = []
    kwargs, error = _kwargs(options, KWARGS_OPTION)
    if error is not None:
        problems.append(
            BackendProblem(
                code="kwargs-not-json",
                message=error + "; Airflow fails to start its secrets backend",
                fix=f'set {KWARGS_OPTION} to a JSON object, e.g. {{"variables_prefix": "{DEFAULT_VARIABLES_PREFIX}", '
                f'"connections_prefix": "{DEFAULT_CONNECTIONS_PREFIX}"}}',
            )
        )
    kwargs = kwargs or {}
    unknown = _unknown(kwargs)
    if unknown:
        problems.append(
            BackendProblem(
                code="kwargs-unknown",
                message=f"{KWARGS_OPTION} has {unknown}: not backend settings, they go to the AWS connection, "
                "which does not read them either (a misspelt prefix key leaves the default prefix in use)",
                fix=f"correct their spelling or remove them from {KWARGS_OPTION} (the backend repair keeps them)",
            )
        )
    variables_prefix = _prefix_of(kwargs, "variables_prefix", DEFAULT_VARIABLES_PREFIX)
    connections_prefix = _prefix_of(kwargs, "connections_prefix", DEFAULT_CONNECTIONS_PREFIX)
    variables_pattern = _pattern_of(kwargs, "variables_lookup_pattern")
    connections_pattern = _pattern_of(kwargs, "connections_lookup_pattern")
    for kind, prefix in (("variables", variables_prefix), ("connections", connections_prefix)):
        written = kwargs.get(f"{kind}_prefix")
        if prefix is None and written is not None:
            # Only null turns a lookup off: with "" (or "/") Airflow reads /<key> at the root of Parameter Store.
            problems.append(
                BackendProblem(
                    code=f"{kind}-prefix-empty",
                    message=f"{kind}_prefix is {json.dumps(written)} in {KWARGS_OPTION}: Airflow reads /<key> at the "
                    f"root of Parameter Store (only null turns the lookup off); the control plane writes no {kind} "
                    "there",
                    fix=f'set "{kind}_prefix" to a path such as "airflow/{kind}" in {KWARGS_OPTION}, or null to turn '
                    "the lookup off",
                )
            )
        elif prefix is None:
            problems.append(
                BackendProblem(
                    code=f"{kind}-lookup-off",
                    message=f"{kind}_prefix is null in {KWARGS_OPTION}: Airflow never reads {kind} from SSM",
                    fix=f'set "{kind}_prefix" in {KWARGS_OPTION}',
                )
            )
    for kind, pattern in (("variables", variables_pattern), ("connections", connections_pattern)):
        if pattern is None:
            continue
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(
                BackendProblem(
                    code=f"{kind}-pattern-invalid",
                    message=f"{kind}_lookup_pattern is not a valid regular expression ({exc})",
                    fix=f'correct or remove "{kind}_lookup_pattern" in {KWARGS_OPTION}',
                )
            )
    if error is None and kwargs and "connections_lookup_pattern" not in kwargs and connections_prefix is not None:
        problems.append(
            BackendProblem(
                code="default-connections-pattern-lost",
                message=f"{KWARGS_OPTION} replaces MWAA's default connections_lookup_pattern, so every connection "
                "lookup, aws_default included, goes to SSM first (slower, and more secrets API calls)",
                fix=f'add "connections_lookup_pattern": "{DEFAULT_CONNECTIONS_LOOKUP_PATTERN}" to {KWARGS_OPTION}',
            )
        )
    if airflow_major(airflow_version) >= 3 and error is None:
        workers, worker_error = _kwargs(options, WORKER_KWARGS_OPTION)
        if worker_error is not None:
            problems.append(
                BackendProblem(
                    code="worker-kwargs-not-json",
                    message=worker_error,
                    fix=f"set {WORKER_KWARGS_OPTION} to the same JSON as {KWARGS_OPTION}",
                )
            )
        elif workers is None and kwargs:
            problems.append(
                BackendProblem(
                    code="worker-kwargs-missing",
                    message=f"Airflow 3: {KWARGS_OPTION} is set but {WORKER_KWARGS_OPTION} is not, so tasks on "
                    "workers look variables and connections up with other prefixes",
                    fix=f"set {WORKER_KWARGS_OPTION} to the same JSON as {KWARGS_OPTION}",
                )
            )
        elif workers is not None and workers != kwargs:
            problems.append(
                BackendProblem(
                    code="worker-kwargs-differ",
                    message=f"Airflow 3: {WORKER_KWARGS_OPTION} differs from {KWARGS_OPTION}, so tasks on workers "
                    "read other parameters than the scheduler and the CLI",
                    fix=f"set {WORKER_KWARGS_OPTION} to the same JSON as {KWARGS_OPTION}",
                )
            )
    return SecretsBackend(
        configured=True,
        backend=backend,
        variables_prefix=variables_prefix,
        connections_prefix=connections_prefix,
        variables_lookup_pattern=variables_pattern,
        connections_lookup_pattern=connections_pattern,
        problems=problems,
    )


def backend_fix(
    options: Mapping[str, str],
    airflow_version: str,
    *,
    variables_prefix: str = DEFAULT_VARIABLES_PREFIX,
    connections_prefix: str = DEFAULT_CONNECTIONS_PREFIX,
) -> dict[str, str]:
    """The configuration options that give this environment a consistent SSM backend (empty: nothing to fix).

    Every key of the kwargs is kept, unknown ones included (they stay reported). A prefix that is
    null gets the given default, and so does a missing one unless a misspelt key seems to mean it.
    Invalid lookup patterns are dropped, MWAA's default connections pattern is put back, and on
    Airflow 3 the worker kwargs become the same JSON. Another backend is never replaced: empty.
    """
    backend = _backend_class(options)
    if backend is not None and backend != SSM_BACKEND:
        return {}
    current = inspect_backend(options, airflow_version)
    if backend is not None and not any(p.code != "kwargs-unknown" for p in current.problems):
        return {}
    kwargs = _repaired_kwargs(options, airflow_version, variables_prefix, connections_prefix)
    fix: dict[str, str] = {}
    if backend is None:
        fix[BACKEND_OPTION] = SSM_BACKEND
    text = json.dumps(kwargs, separators=(", ", ": "))
    if _kwargs(options, KWARGS_OPTION)[0] != kwargs:  # compared as JSON: a repair never only reformats
        fix[KWARGS_OPTION] = text
    if airflow_major(airflow_version) >= 3 and _kwargs(options, WORKER_KWARGS_OPTION)[0] != kwargs:
        fix[WORKER_KWARGS_OPTION] = text
    return fix


def _repaired_kwargs(
    options: Mapping[str, str], airflow_version: str, variables_prefix: str, connections_prefix: str
) -> dict[str, object]:
    """The backend kwargs with what the problem codes name repaired, and every other key as it was."""
    existing, _ = _kwargs(options, KWARGS_OPTION)
    if existing is None and airflow_major(airflow_version) >= 3:
        existing, _ = _kwargs(options, WORKER_KWARGS_OPTION)  # the user's keys, when only workers have them
    kwargs = dict(existing or {})
    meant = {_meant(key) for key in set(kwargs) - _KNOWN_KWARGS}
    for name, default in (("variables_prefix", variables_prefix), ("connections_prefix", connections_prefix)):
        if name in kwargs and _prefix_of(kwargs, name, default) is not None:
            continue
        if name not in kwargs and name in meant:
            continue  # the default stays in effect; writing it would contradict the misspelt key's value
        kwargs[name] = normalized_prefix(default)
    for name in ("variables_lookup_pattern", "connections_lookup_pattern"):
        pattern = kwargs.get(name)
        if pattern is None:
            continue
        try:
            re.compile(str(pattern))
        except re.error:
            del kwargs[name]
    kwargs.setdefault("connections_lookup_pattern", DEFAULT_CONNECTIONS_LOOKUP_PATTERN)  # an explicit null is kept
    return kwargs
