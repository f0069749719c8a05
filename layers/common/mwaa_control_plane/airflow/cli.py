"""Airflow 2.0 - 2.4.2 through MWAA's CLI endpoint (``CreateCliToken`` + ``POST /aws_mwaa/cli``).

The endpoint runs one ``airflow`` command and answers ``{"stdout": b64, "stderr": b64}``,
without the exit code. Airflow writes warnings (deprecations, provider import failures with
their tracebacks) to stderr on success, so stderr alone is not failure. Expected output on
stdout (JSON, "Created <DagRun ...>") wins; otherwise :func:`classify_stderr` drops the noise
(:func:`signal_lines`) and looks at what is left: an uncaught traceback, ``...Error:`` or
argparse's ``error:`` is a failed command, "does not exist"/"not found" a missing object, and
argparse's "invalid choice"/"unrecognized arguments" an UnsupportedAirflowVersionError.

Unconfirmed: how MWAA splits the command text into arguments. Arguments are quoted with
:func:`shlex.join`, which is right if it uses ``shlex.split`` and harmless for plain words.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from mwaa_control_plane.airflow.models import Dag, DagImportError, DagRun, Pool, Variable, new_run_id
from mwaa_control_plane.airflow.resilience import HttpStatusError, RetryPolicy
from mwaa_control_plane.airflow.rest import parse_payload
from mwaa_control_plane.errors import AirflowApiError, UnsupportedAirflowVersionError
from mwaa_control_plane.observability import logger
from mwaa_control_plane.payloads import Payload

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient

    from mwaa_control_plane.airflow.transport import CliTransport
    from mwaa_control_plane.clock import Clock

# Tokens live 60 s; renewing after 50 s leaves room for a slow command.
DEFAULT_TOKEN_TTL_SECONDS = 50.0
# `dags list` parses the whole DAG folder on Airflow 2.0-2.2; give it longer than a REST call.
DEFAULT_CLI_TIMEOUT_SECONDS = 60.0

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# "[2024-01-01 00:00:00,123] {dagbag.py:500} INFO - Filling up the DagBag from ..." (Airflow's console log format)
_LOG_RECORD = re.compile(r"^\[[^\]]*\]\s*(?:\{[^}]*\}\s*)?(?P<level>[A-Z]+)\s+-\s")
_NOISE_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "WARN"})
_CHAINED = ("During handling of the above exception", "The above exception was the direct cause")
_UNSUPPORTED = re.compile(r"invalid choice|unrecognized arguments", re.IGNORECASE)
_NOT_FOUND = re.compile(r"does not exist|not found|DagNotFound|could not be found", re.IGNORECASE)
_ERROR = re.compile(
    r"^Traceback \(most recent call last\)"
    r"|^(?:[\w.]+\.)?\w*(?:Error|Exception|NotFound)\b:"
    r"|^airflow(?: [\w-]+)*: error:"
    r"|^error:",
    re.IGNORECASE,
)
_ALREADY_EXISTS = re.compile(r"already exists|DagRunAlreadyExists", re.IGNORECASE)
_NO_DATA = "No data found"
# "Created <DagRun my_dag @ 2021-01-01 00:00:00+00:00: manual__2021-..., state:queued, queued_at: ..., externally ...>"
_CREATED_RUN = re.compile(
    r"<DagRun (?P<dag_id>\S+) @ (?P<logical_date>.+?): (?P<run_id>[^,\s>]+)(?:, state:\s*(?P<state>\w+))?"
)

Failure = Literal["unsupported", "not_found", "failed"]


@dataclass(frozen=True)
class CliCommand:
    args: tuple[str, ...]
    label: str
    """What is safe to log: the sub-command, never its arguments."""
    sensitive: bool = False
    """Arguments or output carry a variable value or DAG conf: keep them out of errors."""

    @property
    def text(self) -> str:
        return shlex.join(self.args)


@dataclass(frozen=True)
class CliOutput:
    stdout: str
    stderr: str


@dataclass(frozen=True)
class _Token:
    token: str
    hostname: str
    minted_at: datetime


class _CliDag(Payload):
    dag_id: str
    filepath: str | None = None
    paused: bool | None = None


class _CliImportError(Payload):
    filepath: str
    error: str


class _CliVariable(Payload):
    key: str


class _CliPool(Payload):
    pool: str
    slots: int
    description: str | None = None


class CliBackend:
    """The Airflow operations over the CLI endpoint for one environment."""

    def __init__(
        self,
        mwaa: MWAAClient,
        environment: str,
        *,
        transport: CliTransport,
        policy: RetryPolicy,
        clock: Clock,
        token_ttl_seconds: float = DEFAULT_TOKEN_TTL_SECONDS,
        timeout_seconds: float = DEFAULT_CLI_TIMEOUT_SECONDS,
    ) -> None:
        self._mwaa = mwaa
        self._environment = environment
        self._transport = transport
        self._policy = policy
        self._clock = clock
        self._token_ttl = timedelta(seconds=token_ttl_seconds)
        self._timeout = timeout_seconds
        self._token: _Token | None = None

    # -- DAGs -------------------------------------------------------------------------------

    def list_dags(self) -> list[Dag]:
        items = self._json(CliCommand(("dags", "list", "-o", "json"), "dags list"))
        dags = [parse_payload(_CliDag, item, "CLI dags list") for item in items]
        return [Dag(dag_id=d.dag_id, fileloc=d.filepath, is_paused=d.paused) for d in dags]

    def get_dag(self, dag_id: str) -> Dag | None:
        # No single-DAG command on every 2.x: filter the listing.
        return next((dag for dag in self.list_dags() if dag.dag_id == dag_id), None)

    def set_dag_paused(self, dag_id: str, paused: bool) -> None:
        verb = "pause" if paused else "unpause"
        command = CliCommand(("dags", verb, dag_id), f"dags {verb}")
        self._raise_on_failure(self._run(command), command)

    def trigger_dag_run(self, dag_id: str, conf: dict[str, Any] | None, run_id: str | None) -> DagRun:
        # Name the run ourselves: the result is known whatever the output format, and a retried
        # command that already ran meets "already exists" instead of starting a second run.
        generated = run_id is None
        name = run_id or new_run_id(self._clock.now())
        args = ["dags", "trigger", dag_id, "-r", name]
        if conf:
            args += ["-c", json.dumps(conf)]
        command = CliCommand(tuple(args), "dags trigger", sensitive=bool(conf))
        output = self._run(command)
        match = _CREATED_RUN.search(output.stdout)
        if match is None:
            # Success is what stdout says; only without the "Created <DagRun ...>" line does stderr decide.
            if generated and _ALREADY_EXISTS.search("\n".join(signal_lines(output.stderr))):
                logger.info("dag run already created by an earlier attempt", extra={"dag_id": dag_id, "run_id": name})
                return DagRun(dag_id=dag_id, run_id=name)
            self._raise_on_failure(output, command)
        logical_date: datetime | None = None
        state: str | None = None
        if match:
            state = match.group("state")
            try:
                logical_date = datetime.fromisoformat(match.group("logical_date").strip())
            except ValueError:
                logical_date = None
        return DagRun(dag_id=dag_id, run_id=name, state=state, logical_date=logical_date)

    def list_import_errors(self) -> list[DagImportError]:
        items = self._json(CliCommand(("dags", "list-import-errors", "-o", "json"), "dags list-import-errors"))
        errors = [parse_payload(_CliImportError, item, "CLI dags list-import-errors") for item in items]
        return [DagImportError(filename=e.filepath, stack_trace=e.error) for e in errors]

    # -- variables --------------------------------------------------------------------------

    def get_variable(self, key: str) -> Variable | None:
        command = CliCommand(("variables", "get", key), "variables get", sensitive=True)
        output = self._run(command)
        printed = _strip_log_lines(output.stdout)
        failure = classify_stderr(output.stderr)
        if failure == "not_found" and not printed.strip():
            return None
        if failure is not None and not printed.strip():
            self._raise(failure, command, output.stderr)
        # `variables get` prints the raw value and a newline; the CLI has no description.
        return Variable(key=key, value=printed.removesuffix("\n"))

    def set_variable(self, key: str, value: str, description: str | None) -> None:
        args = ["variables", "set", key, value]
        if description is not None:
            args += ["--description", description]  # Airflow versions without it answer "unrecognized arguments"
        command = CliCommand(tuple(args), "variables set", sensitive=True)
        self._raise_on_failure(self._run(command), command)

    def delete_variable(self, key: str) -> None:
        command = CliCommand(("variables", "delete", key), "variables delete")
        output = self._run(command)
        failure = classify_stderr(output.stderr)
        if failure not in (None, "not_found"):
            self._raise(failure, command, output.stderr)

    def list_variables(self) -> list[Variable]:
        items = self._json(CliCommand(("variables", "list", "-o", "json"), "variables list"))
        return [Variable(key=parse_payload(_CliVariable, item, "CLI variables list").key) for item in items]

    # -- pools ------------------------------------------------------------------------------

    def list_pools(self) -> list[Pool]:
        items = self._json(CliCommand(("pools", "list", "-o", "json"), "pools list"))
        pools = [parse_payload(_CliPool, item, "CLI pools list") for item in items]
        return [Pool(name=p.pool, slots=p.slots, description=p.description) for p in pools]

    # -- plumbing ---------------------------------------------------------------------------

    def _json(self, command: CliCommand) -> list[object]:
        output = self._run(command)
        parsed = extract_json(output.stdout)
        if parsed is None:
            if _strip_log_lines(output.stdout).strip() == _NO_DATA:
                return []
            failure = classify_stderr(output.stderr)
            if failure is not None:
                self._raise(failure, command, output.stderr)
            raise AirflowApiError(f"CLI {command.label}: no JSON in the command output", status=200)
        if not isinstance(parsed, list):
            raise AirflowApiError(f"CLI {command.label}: malformed output: expected a JSON list", status=200)
        return parsed

    def _raise_on_failure(self, output: CliOutput, command: CliCommand) -> None:
        failure = classify_stderr(output.stderr)
        if failure is not None:
            self._raise(failure, command, output.stderr)

    @staticmethod
    def _raise(failure: Failure, command: CliCommand, stderr: str) -> NoReturn:
        detail = "" if command.sensitive else _last_error_line(stderr)
        suffix = f": {detail}" if detail else ""
        if failure == "unsupported":
            raise UnsupportedAirflowVersionError(f"CLI {command.label}: not available on this Airflow version{suffix}")
        if failure == "not_found":
            raise AirflowApiError(f"CLI {command.label}: not found{suffix}", status=404)
        raise AirflowApiError(f"CLI {command.label}: command failed{suffix}")

    def _run(self, command: CliCommand) -> CliOutput:
        """One command, with the token renewed once if the web server refuses it (expired or revoked)."""
        operation = f"CLI {command.label}"
        token = self._current_token()
        status, raw = self._policy.call(
            operation, partial(self._post, token, command, accept_refusal=True), sensitive=command.sensitive
        )
        if status in (401, 403):
            logger.info("cli token refused, renewing", extra={"environment": self._environment, "status": status})
            token = self._current_token(renew=True)
            status, raw = self._policy.call(
                operation, partial(self._post, token, command, accept_refusal=False), sensitive=command.sensitive
            )
        return decode_cli_response(raw, command.label)

    def _post(self, token: _Token, command: CliCommand, *, accept_refusal: bool) -> tuple[int, bytes]:
        status, raw = self._transport.post(
            f"https://{token.hostname}/aws_mwaa/cli",
            {"Authorization": f"Bearer {token.token}", "Content-Type": "text/plain"},
            command.text.encode("utf-8"),
            self._timeout,
        )
        if accept_refusal and status in (401, 403):
            return status, raw
        if status >= 300:
            # The policy retries 429/5xx and turns the rest into AirflowApiError with this status.
            raise HttpStatusError(status, None if command.sensitive else raw)
        return status, raw

    def _current_token(self, *, renew: bool = False) -> _Token:
        now = self._clock.now()
        if not renew and self._token is not None and now - self._token.minted_at < self._token_ttl:
            return self._token
        response = self._policy.call("CreateCliToken", lambda: self._mwaa.create_cli_token(Name=self._environment))
        token, hostname = response.get("CliToken"), response.get("WebServerHostname")
        if not isinstance(token, str) or not token or not isinstance(hostname, str) or not hostname:
            raise AirflowApiError("CreateCliToken: malformed response: CliToken and WebServerHostname are required")
        self._token = _Token(token=token, hostname=hostname, minted_at=self._clock.now())
        logger.info("cli token minted", extra={"environment": self._environment, "hostname": hostname})
        return self._token


def decode_cli_response(raw: bytes, label: str) -> CliOutput:
    """``{"stdout": b64, "stderr": b64}`` -> text; anything else is a clear AirflowApiError."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise AirflowApiError(f"CLI {label}: malformed response: not JSON", status=200) from None
    if not isinstance(document, dict):
        raise AirflowApiError(f"CLI {label}: malformed response: expected an object", status=200)
    streams: dict[str, str] = {}
    for name in ("stdout", "stderr"):
        encoded = document.get(name, "")
        if encoded is None:
            encoded = ""
        if not isinstance(encoded, str):
            raise AirflowApiError(f"CLI {label}: malformed response: {name} is not a string", status=200)
        try:
            streams[name] = base64.b64decode(encoded, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            raise AirflowApiError(f"CLI {label}: malformed response: {name} is not base64", status=200) from None
    return CliOutput(stdout=_ANSI.sub("", streams["stdout"]), stderr=_ANSI.sub("", streams["stderr"]))


def classify_stderr(stderr: str) -> Failure | None:
    """What stderr says about the command; warnings, info logs and their tracebacks say nothing."""
    lines = signal_lines(stderr)
    text = "\n".join(lines)
    if _UNSUPPORTED.search(text):
        return "unsupported"
    if _NOT_FOUND.search(text):
        return "not_found"
    if any(_ERROR.search(line) for line in lines):
        return "failed"
    return None


def signal_lines(stderr: str) -> list[str]:
    """stderr without the noise Airflow prints on success.

    Noise is a log record below ERROR or a Python warning, *with what belongs to it*: indented
    lines (the warning's source line, traceback frames), a traceback right after it (providers
    log import failures as "WARNING - Exception when importing ..." plus a traceback), chained
    tracebacks and the exception line that ends one. The first other line ends the record, so an
    uncaught exception printed after warnings is still seen.
    """
    signal: list[str] = []
    in_noise = False  # inside a noise record
    expect_traceback = False  # a "Traceback" line now still belongs to the noise record
    in_traceback = False  # inside a traceback that belongs to the noise record
    for raw in stderr.splitlines():
        line = raw.strip()
        if not line:
            continue
        record = _LOG_RECORD.match(line)
        indented = raw[:1] in (" ", "\t")
        if record or (not indented and "warning" in line.lower()):
            noisy = record is None or record.group("level") in _NOISE_LEVELS
            in_noise, expect_traceback, in_traceback = noisy, noisy, False
            if not noisy:
                signal.append(line)
            continue
        if in_noise:
            if indented:
                continue
            if line.startswith("Traceback (most recent call last)") and expect_traceback:
                in_traceback, expect_traceback = True, False
                continue
            if line.startswith(_CHAINED):
                expect_traceback = True
                continue
            if in_traceback:  # "SomeError: message" closes the traceback
                in_traceback = False
                continue
            in_noise = False
        signal.append(line)
    return signal


def _last_error_line(stderr: str) -> str:
    lines = signal_lines(stderr)
    return lines[-1][:300] if lines else ""


def _strip_log_lines(stdout: str) -> str:
    return "".join(line for line in stdout.splitlines(keepends=True) if not _LOG_RECORD.match(line))


def extract_json(stdout: str) -> object | None:
    """The first JSON list or object in ``stdout``, skipping log lines printed before it."""
    decoder = json.JSONDecoder()
    position = 0
    for line in stdout.splitlines(keepends=True):
        stripped = line.lstrip()
        if stripped[:1] in ("[", "{"):
            start = position + (len(line) - len(stripped))
            try:
                value: object = decoder.raw_decode(stdout, start)[0]
            except ValueError:
                pass
            else:
                return value
        position += len(line)
    return None
