"""Hard-coded credentials in any text file of the DAGs folder or the environment files.

Messages never repeat the secret: they name what was found and where.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from functools import cache

from mwaa_control_plane.dags.validation.models import Finding
from mwaa_control_plane.dags.validation.rules import finding

# Long-term (AKIA) and temporary (ASIA) access key ids; AWS's documentation examples end in EXAMPLE.
_ACCESS_KEY = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_SECRET_KEY = re.compile(
    r"(?i)aws_?secret_?(?:access_?)?key[\"']?\s*(?:[:=]|=>)\s*[\"']?(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
)
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----")
# scheme://user:password@host, the form of Airflow connection URIs and SQLAlchemy URLs.
_URI_PASSWORD = re.compile(
    r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,30}://(?P<user>[^\s:/@'\"]+):(?P<password>[^\s@/'\"]+)@[\w.\-\[\]]"
)
# The part of _URI_PASSWORD after "://". A match containing a given "://" can only have its own
# "://" there (no other part admits ':' followed by '/'), so when this fails right after it the
# full search cannot report it: the common "s3://bucket/key" is rejected without the slow search.
_URI_CREDENTIALS = re.compile(r"[^\s:/@'\"]+:[^\s@/'\"]+@[\w.\-\[\]]")
_PLACEHOLDER = re.compile(
    r"^(?:\*+|x+|\.+|password|passwd|pass|pwd|secret|changeme|user|username|none|null|redacted)$", re.I
)
_TEMPLATED = ("{", "$", "<", "%", "%(")


def _is_placeholder(value: str) -> bool:
    return any(mark in value for mark in _TEMPLATED) or bool(_PLACEHOLDER.match(value))


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    pos = find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = find("\n", pos + 1)
    return starts


def scan_text(text: str) -> list[Finding]:
    """Credentials anywhere in ``text`` (code, comments, SQL, YAML, shell)."""
    # Cheap pre-filters, each searched once: a file without any of them cannot match a pattern.
    keys = "AKIA" in text or "ASIA" in text
    secret = "ecret" in text
    private = "PRIVATE KEY" in text
    uris = "://" in text
    if not (keys or secret or private or uris):
        return []
    starts: list[int] | None = None

    def line_of(offset: int) -> int:
        nonlocal starts
        if starts is None:
            starts = _line_starts(text)
        return bisect_right(starts, offset)

    found: list[Finding] = []
    for rule, what, offset in _iter_matches(text, keys=keys, secret=secret, private=private, uris=uris):
        found.append(finding(rule, what, line_of(offset)))
    return found


def _iter_matches(text: str, *, keys: bool, secret: bool, private: bool, uris: bool) -> Iterator[tuple[str, str, int]]:
    if keys:
        for m in _ACCESS_KEY.finditer(text):
            if not m.group(0).endswith("EXAMPLE"):
                yield (
                    "credential-aws-key",
                    "AWS access key id in the file; use the execution role or a connection",
                    m.start(),
                )
    if secret:
        for m in _SECRET_KEY.finditer(text):
            if "EXAMPLEKEY" not in m.group("value"):
                yield (
                    "credential-aws-key",
                    "AWS secret access key in the file; use the execution role or a connection",
                    m.start(),
                )
    if private:
        for m in _PRIVATE_KEY.finditer(text):
            yield "credential-private-key", "private key in the file; keep it in Secrets Manager or SSM", m.start()
    if uris:
        # Anchor the regex at each "://" instead of scanning every word of the file.
        find = text.find
        at = find("://")
        while at != -1:
            if _URI_CREDENTIALS.match(text, at + 3, at + 512) is None:
                at = find("://", at + 3)
                continue
            uri = _URI_PASSWORD.search(text, max(0, at - 32), at + 512)
            if uri is not None and uri.start() <= at < uri.end() and not _is_placeholder(uri.group("password")):
                yield (
                    "credential-uri-password",
                    "password inside a URI; store the connection in the secrets backend instead",
                    uri.start(),
                )
            at = find("://", at + 3)


_SECRET_NAME = re.compile(
    r"(?i)(?:^|_)(?:password|passwd|pwd|secret|secret_key|secret_access_key|api_key|apikey|access_token|auth_token|private_key)$"
)
_NOT_A_SECRET_NAME = re.compile(r"(?i)_(?:id|ids|name|names|path|file|env|var|key_id|conn_id|field|prefix|arn)$")


@cache
def is_secret_name(name: str) -> bool:
    """Whether a variable or keyword named ``name`` is expected to hold a credential."""
    return bool(_SECRET_NAME.search(name)) and not _NOT_A_SECRET_NAME.search(name)


def is_literal_secret(value: str) -> bool:
    """A string literal that looks like a real credential rather than a template or placeholder."""
    return len(value) >= 6 and not value.isspace() and " " not in value.strip() and not _is_placeholder(value)
