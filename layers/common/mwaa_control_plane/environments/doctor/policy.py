"""Can a role do X on Y? IAM's policy simulator where the caller may use it, else a small evaluator of its own.

``iam:SimulatePrincipalPolicy`` is the authority: it knows every condition key, SCP-free account
defaults and policy grammar. Where it cannot be used (the caller lacks the permission, or the
endpoint does not implement it: the local runtime's moto does not), :func:`evaluate` reads the role's
inline and attached policy documents and its permissions boundary itself. That evaluator is small on
purpose and says what it does not do: ``Allow``/``Deny``, ``Action``/``NotAction`` and
``Resource``/``NotResource`` with ``*`` and ``?`` wildcards, and the common string and ARN condition
operators on the context keys the caller supplies. A statement whose condition it cannot decide is
left out and named in the evaluation's notes; resource policies, SCPs and session policies are not
read. Every row that used it says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from mwaa_control_plane.errors import THROTTLING_CODES, UNAVAILABLE_CODES, translate_client_error

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

Decision = Literal["allowed", "explicitDeny", "implicitDeny"]
Method = Literal["simulation", "policy-documents"]

# How the rows name the method they used.
METHOD_TEXT: dict[Method, str] = {
    "simulation": "IAM policy simulation",
    "policy-documents": "reading the role's policy documents (IAM policy simulation unavailable)",
}


@dataclass(frozen=True)
class Request:
    """One action on one resource, with the request context AWS would set (e.g. ``kms:ViaService``)."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    request: Request
    decision: Decision
    notes: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


@dataclass(frozen=True)
class RolePermissions:
    """What the role may do for every request asked, and how that was found out."""

    method: Method
    evaluations: list[Evaluation]
    why_not_simulated: str = ""

    @property
    def denied(self) -> list[Evaluation]:
        return [e for e in self.evaluations if not e.allowed]

    @property
    def notes(self) -> list[str]:
        return sorted({note for e in self.evaluations for note in e.notes})


# ----------------------------------------------------------------------------------------- matching


@cache
def _wildcard(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one character; nothing else is special."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body + r"\Z", 0 if case_sensitive else re.IGNORECASE)


def _listed(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, Iterable) else [str(value)]


def _any_matches(patterns: object, value: str, *, case_sensitive: bool) -> bool:
    return any(_wildcard(p, case_sensitive).match(value) for p in _listed(patterns))


_STRING_OPERATORS = {
    "StringEquals": (False, True, False),  # (negated, exact, case-insensitive)
    "StringNotEquals": (True, True, False),
    "StringEqualsIgnoreCase": (False, True, True),
    "StringNotEqualsIgnoreCase": (True, True, True),
    "StringLike": (False, False, False),
    "StringNotLike": (True, False, False),
    "ArnEquals": (False, True, False),
    "ArnNotEquals": (True, True, False),
    "ArnLike": (False, False, False),
    "ArnNotLike": (True, False, False),
}


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool | None:
    """True or False when every operator and key is one this evaluator decides; None when it cannot tell."""
    for operator, tests in condition.items():
        spec = _STRING_OPERATORS.get(operator)
        if spec is None or not isinstance(tests, Mapping):
            return None
        negated, exact, ignore_case = spec
        for key, expected in tests.items():
            if key not in context:
                return None  # a key the caller did not set: AWS would decide on the real request
            value = context[key]
            values = _listed(expected)
            if exact:
                hit = value.lower() in {v.lower() for v in values} if ignore_case else value in values
            else:
                hit = _any_matches(values, value, case_sensitive=True)
            if hit == negated:
                return False
    return True


def _statement_applies(statement: Mapping[str, Any], request: Request) -> bool | None:
    if "Action" in statement:
        if not _any_matches(statement["Action"], request.action, case_sensitive=False):
            return False
    elif "NotAction" in statement:
        if _any_matches(statement["NotAction"], request.action, case_sensitive=False):
            return False
    else:
        return False
    if "Resource" in statement:
        if not _any_matches(statement["Resource"], request.resource, case_sensitive=True):
            return False
    elif "NotResource" in statement:
        if _any_matches(statement["NotResource"], request.resource, case_sensitive=True):
            return False
    else:
        return False
    condition = statement.get("Condition")
    return True if not condition else _condition_holds(condition, request.context)


def _describe(statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"statement {sid}" if sid else "a statement"


def evaluate(
    statements: Sequence[Mapping[str, Any]], request: Request, *, boundary: Sequence[Mapping[str, Any]] | None = None
) -> Evaluation:
    """The decision of identity policies ``statements`` (and a permissions boundary, if any) for ``request``.

    An explicit Deny wins; otherwise one Allow is enough; otherwise the request is implicitly denied. With a
    boundary, the boundary must allow the request too. Undecidable conditions are left out and noted.
    """
    notes: list[str] = []
    allowed = False
    for statement in statements:
        applies = _statement_applies(statement, request)
        if applies is None:
            notes.append(
                f"{_describe(statement)} with a condition this check cannot evaluate was not counted "
                f"({', '.join(sorted(statement.get('Condition', {})))})"
            )
            continue
        if not applies:
            continue
        if statement.get("Effect") == "Deny":
            return Evaluation(request, "explicitDeny", tuple(notes))
        if statement.get("Effect") == "Allow":
            allowed = True
    if allowed and boundary is not None:
        bounded = evaluate(boundary, request)
        notes.extend(bounded.notes)
        if not bounded.allowed:
            notes.append("the role's permissions boundary does not allow it")
            return Evaluation(request, bounded.decision, tuple(notes))
    return Evaluation(request, "allowed" if allowed else "implicitDeny", tuple(notes))


def statements_of(document: object) -> list[dict[str, Any]]:
    """The statements of a policy document as IAM returns it (a dict, or URL-encoded JSON text)."""
    if isinstance(document, str):
        document = json.loads(unquote(document))
    if not isinstance(document, Mapping):
        return []
    found = document.get("Statement", [])
    return [dict(found)] if isinstance(found, Mapping) else [dict(s) for s in found if isinstance(s, Mapping)]


# ----------------------------------------------------------------------------------------- the role


@dataclass(frozen=True)
class RolePolicies:
    statements: list[dict[str, Any]]
    boundary: list[dict[str, Any]] | None
    sources: list[str]
    """The policies read: ``inline:<name>`` and attached policy ARNs."""


def _managed_policy(iam: IAMClient, arn: str) -> list[dict[str, Any]]:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"].get("Document")
    return statements_of(document)


def role_policies(iam: IAMClient, role_name: str) -> RolePolicies:
    """The identity policies of ``role_name``: inline ones, attached managed ones, and its permissions boundary."""
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
        statements: list[dict[str, Any]] = []
        sources: list[str] = []
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
            for name in page["PolicyNames"]:
                document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
                statements.extend(statements_of(document))
                sources.append(f"inline:{name}")
        for attached_page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
            for attached in attached_page["AttachedPolicies"]:
                arn = attached.get("PolicyArn", "")
                statements.extend(_managed_policy(iam, arn))
                sources.append(arn)
        boundary_arn = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        boundary = _managed_policy(iam, boundary_arn) if boundary_arn else None
    except ClientError as exc:
        raise translate_client_error(exc) from exc
    return RolePolicies(statements=statements, boundary=boundary, sources=sources)


def _simulate(iam: IAMClient, role_arn: str, requests: Sequence[Request]) -> list[Evaluation]:
    """One simulation per resource and context, every action of that pair at once."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[int]] = {}
    for index, request in enumerate(requests):
        groups.setdefault((request.resource, tuple(sorted(request.context.items()))), []).append(index)
    decided: dict[int, Evaluation] = {}
    for (resource, context), indexes in groups.items():
        arguments: dict[str, Any] = {
            "PolicySourceArn": role_arn,
            "ActionNames": sorted({requests[i].action for i in indexes}),
            "ResourceArns": [resource],
        }
        if context:
            arguments["ContextEntries"] = [
                {"ContextKeyName": key, "ContextKeyValues": [value], "ContextKeyType": "string"}
                for key, value in context
            ]
        decisions: dict[str, str] = {}
        for page in iam.get_paginator("simulate_principal_policy").paginate(**arguments):
            for result in page["EvaluationResults"]:
                decisions[result["EvalActionName"].lower()] = result["EvalDecision"]
        for index in indexes:
            answer = decisions.get(requests[index].action.lower(), "implicitDeny")
            decision: Decision = (
                "allowed" if answer == "allowed" else "explicitDeny" if answer == "explicitDeny" else ("implicitDeny")
            )
            decided[index] = Evaluation(requests[index], decision)
    return [decided[i] for i in range(len(requests))]


def role_permissions(iam: IAMClient, role_arn: str, requests: Sequence[Request]) -> RolePermissions:
    """Evaluate ``requests`` for the role: by simulation when it answers, else from its policy documents.

    Throttling and unavailability propagate (the caller retries); anything else that stops the simulation
    (access denied, not implemented, an unreadable answer) falls back to the documents. NotFoundError or
    AccessDeniedError come out when the documents cannot be read either.
    """
    try:
        return RolePermissions(method="simulation", evaluations=_simulate(iam, role_arn, requests))
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in THROTTLING_CODES or code in UNAVAILABLE_CODES:
            raise translate_client_error(exc, operation="SimulatePrincipalPolicy") from exc
        why = f"SimulatePrincipalPolicy: {code or 'refused'}"
    except (BotoCoreError, ResponseParserError):
        # An endpoint that answers something botocore cannot read: the documents still tell.
        why = "SimulatePrincipalPolicy gave no readable answer"
    policies = role_policies(iam, role_arn.rsplit("/", 1)[-1])
    evaluations = [evaluate(policies.statements, r, boundary=policies.boundary) for r in requests]
    return RolePermissions(method="policy-documents", evaluations=evaluations, why_not_simulated=why)
