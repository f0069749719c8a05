"""Can a role do X on Y? IAM's policy simulator where the caller may use it, else a small evaluator of its own.

``iam:SimulatePrincipalPolicy`` is the authority: it knows every condition key, SCP-free account
defaults and policy grammar. Where it cannot be used (the caller lacks the permission, or the
endpoint does not implement it: the local runtime's moto does not), :func:`evaluate` reads the role's
inline and attached policy documents and its permissions boundary itself. That evaluator is small on
purpose and says what it does not do: ``Allow``/``Deny``, ``Action``/``NotAction`` and
``Resource``/``NotResource`` with ``*`` and ``?`` wildcards, and the common string and ARN condition
operators on the context keys the caller supplies. A statement whose condition it cannot decide makes
the decision ``undecided`` when it would change it (an Allow nothing else grants, a Deny of what is
otherwise allowed), with the condition named; resource policies, SCPs and session policies are not
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

Decision = Literal["allowed", "explicitDeny", "implicitDeny", "undecided"]
"""``undecided``: the decision depends on a condition the doctor's own evaluator cannot evaluate."""
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
    denied_by: str = ""
    """What denies it, when known: the Deny statement (``statement <Sid> of inline policy <name>``), or the
    permissions boundary that does not allow it."""
    in_boundary: bool = False
    """The permissions boundary denies it (the identity policies alone would allow it)."""
    conditions: tuple[str, ...] = ()
    """``undecided``: the condition tests it depends on, ``<operator> <key> (<statement>)``."""

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"

    @property
    def denied(self) -> bool:
        return self.decision in ("explicitDeny", "implicitDeny")


@dataclass(frozen=True)
class RolePermissions:
    """What the role may do for every request asked, and how that was found out."""

    method: Method
    evaluations: list[Evaluation]
    why_not_simulated: str = ""

    @property
    def denied(self) -> list[Evaluation]:
        return [e for e in self.evaluations if e.denied]

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
_IF_EXISTS = "IfExists"


@dataclass(frozen=True)
class Statement:
    """One policy statement and where it comes from, so that a row can say which statement to change."""

    body: Mapping[str, Any]
    policy: str = ""
    """``inline policy <name>``, ``managed policy <arn>``, ``permissions boundary <arn>``; empty when not known."""
    position: int = 0
    """1-based position in its policy, to name a statement without a Sid."""

    def describe(self) -> str:
        sid = self.body.get("Sid")
        which = f"statement {sid}" if sid else f"statement #{self.position}" if self.position else "a statement"
        return f"{which} of {self.policy}" if self.policy else which


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> tuple[bool | None, list[str]]:
    """True or False when every test is one this evaluator decides; else None and the ``<operator> <key>`` it cannot.

    The tests of a condition are ANDed: one test that decidably fails makes the condition false, whatever the
    undecidable ones would say. ``...IfExists`` decides like its base operator when the caller set the key.
    """
    keys = {key.lower(): value for key, value in context.items()}
    undecided: list[str] = []
    for operator, tests in condition.items():
        base = operator[: -len(_IF_EXISTS)] if operator.endswith(_IF_EXISTS) else operator
        spec = _STRING_OPERATORS.get(base)
        if not isinstance(tests, Mapping):
            undecided.append(str(operator))
            continue
        for key, expected in tests.items():
            if spec is None or str(key).lower() not in keys:
                # An operator it does not implement, or a key the caller did not set: AWS decides on the real request.
                undecided.append(f"{operator} {key}")
                continue
            negated, exact, ignore_case = spec
            value = keys[str(key).lower()]
            values = _listed(expected)
            if exact:
                hit = value.lower() in {v.lower() for v in values} if ignore_case else value in values
            else:
                hit = _any_matches(values, value, case_sensitive=True)
            if hit == negated:
                return False, []
    return (None, undecided) if undecided else (True, [])


def _statement_applies(statement: Mapping[str, Any], request: Request) -> tuple[bool | None, list[str]]:
    """Whether the statement applies to ``request``; None with the undecidable condition tests when it depends."""
    if "Action" in statement:
        if not _any_matches(statement["Action"], request.action, case_sensitive=False):
            return False, []
    elif "NotAction" in statement:
        if _any_matches(statement["NotAction"], request.action, case_sensitive=False):
            return False, []
    else:
        return False, []
    if "Resource" in statement:
        if not _any_matches(statement["Resource"], request.resource, case_sensitive=True):
            return False, []
    elif "NotResource" in statement:
        if _any_matches(statement["NotResource"], request.resource, case_sensitive=True):
            return False, []
    else:
        return False, []
    condition = statement.get("Condition")
    return (True, []) if not condition else _condition_holds(condition, request.context)


@dataclass(frozen=True)
class _Outcome:
    decision: Decision
    denied_by: str = ""
    conditions: tuple[str, ...] = ()


def _decide(statements: Sequence[Statement], request: Request) -> _Outcome:
    """One policy set's decision. A statement whose condition is undecidable makes the outcome undecided only
    when it would change it: an Allow when nothing else allows, a Deny when something allows."""
    allowed = False
    allow_conditions: list[str] = []
    deny_conditions: list[str] = []
    for statement in statements:
        applies, undecided = _statement_applies(statement.body, request)
        effect = statement.body.get("Effect")
        if applies is False or effect not in ("Allow", "Deny"):
            continue
        if applies is None:
            named = [f"{test} ({statement.describe()})" for test in undecided]
            (deny_conditions if effect == "Deny" else allow_conditions).extend(named)
        elif effect == "Deny":
            return _Outcome("explicitDeny", denied_by=statement.describe())
        else:
            allowed = True
    if allowed:
        return _Outcome("undecided", conditions=tuple(deny_conditions)) if deny_conditions else _Outcome("allowed")
    if allow_conditions:
        return _Outcome("undecided", conditions=tuple(allow_conditions + deny_conditions))
    return _Outcome("implicitDeny")


def _as_statements(items: Sequence[Mapping[str, Any] | Statement], policy: str = "") -> list[Statement]:
    return [
        item if isinstance(item, Statement) else Statement(item, policy, position)
        for position, item in enumerate(items, start=1)
    ]


def evaluate(
    statements: Sequence[Mapping[str, Any] | Statement],
    request: Request,
    *,
    boundary: Sequence[Mapping[str, Any] | Statement] | None = None,
) -> Evaluation:
    """The decision of identity policies ``statements`` (and a permissions boundary, if any) for ``request``.

    An explicit Deny wins; otherwise one Allow is enough; otherwise the request is implicitly denied. With a
    boundary, the boundary must allow the request too. A statement whose condition this evaluator cannot
    decide, and that would change the decision, makes it ``undecided`` (Allow and Deny alike), with the
    ``<operator> <key>`` tests named in ``conditions``.
    """
    identity = _decide(_as_statements(statements), request)
    if identity.decision in ("explicitDeny", "implicitDeny") or boundary is None:
        return Evaluation(request, identity.decision, denied_by=identity.denied_by, conditions=identity.conditions)
    bounded = _decide(_as_statements(boundary, "the role's permissions boundary"), request)
    if bounded.decision == "explicitDeny":
        return Evaluation(request, "explicitDeny", denied_by=bounded.denied_by, in_boundary=True)
    if bounded.decision == "implicitDeny":
        policy = next((s.policy for s in boundary if isinstance(s, Statement) and s.policy), "")
        return Evaluation(
            request,
            "implicitDeny",
            ("the role's permissions boundary does not allow it",),
            denied_by=policy or "the role's permissions boundary",
            in_boundary=True,
        )
    conditions = identity.conditions + bounded.conditions
    return Evaluation(request, "undecided" if conditions else "allowed", conditions=conditions)


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
    statements: list[Statement]
    boundary: list[Statement] | None
    sources: list[str]
    """The policies read: ``inline:<name>`` and attached policy ARNs."""


def _managed_policy(iam: IAMClient, arn: str, policy: str) -> list[Statement]:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"].get("Document")
    return _as_statements(statements_of(document), policy)


def role_policies(iam: IAMClient, role_name: str) -> RolePolicies:
    """The identity policies of ``role_name``: inline ones, attached managed ones, and its permissions boundary."""
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
        statements: list[Statement] = []
        sources: list[str] = []
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
            for name in page["PolicyNames"]:
                document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
                statements.extend(_as_statements(statements_of(document), f"inline policy {name}"))
                sources.append(f"inline:{name}")
        for attached_page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
            for attached in attached_page["AttachedPolicies"]:
                arn = attached.get("PolicyArn", "")
                statements.extend(_managed_policy(iam, arn, f"managed policy {arn}"))
                sources.append(arn)
        boundary_arn = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        boundary = (
            _managed_policy(iam, boundary_arn, f"the role's permissions boundary {boundary_arn}")
            if boundary_arn
            else None
        )
    except ClientError as exc:
        raise translate_client_error(exc) from exc
    return RolePolicies(statements=statements, boundary=boundary, sources=sources)


def _simulated(request: Request, result: Mapping[str, Any]) -> Evaluation:
    """One EvaluationResult as an Evaluation: the deny's source policy and the boundary's verdict when given."""
    answer = str(result.get("EvalDecision", "implicitDeny"))
    if answer == "allowed":
        return Evaluation(request, "allowed")
    if answer == "explicitDeny":
        policies = sorted(
            {str(m["SourcePolicyId"]) for m in result.get("MatchedStatements", []) if m.get("SourcePolicyId")}
        )
        return Evaluation(
            request, "explicitDeny", denied_by=f"a Deny statement of policy {', '.join(policies)}" if policies else ""
        )
    if result.get("PermissionsBoundaryDecisionDetail", {}).get("AllowedByPermissionsBoundary") is False:
        return Evaluation(request, "implicitDeny", denied_by="the role's permissions boundary", in_boundary=True)
    return Evaluation(request, "implicitDeny")


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
        results: dict[str, Mapping[str, Any]] = {}
        for page in iam.get_paginator("simulate_principal_policy").paginate(**arguments):
            for result in page["EvaluationResults"]:
                results[result["EvalActionName"].lower()] = result
        for index in indexes:
            decided[index] = _simulated(requests[index], results.get(requests[index].action.lower(), {}))
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
