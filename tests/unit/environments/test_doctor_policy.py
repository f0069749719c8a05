"""The doctor's own IAM evaluator, used where the policy simulator cannot be: what it decides and what it notes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from mwaa_control_plane.environments.doctor.policy import (
    Request,
    Statement,
    evaluate,
    role_permissions,
    statements_of,
)
from mwaa_control_plane.errors import ThrottledError

BUCKET = "arn:aws:s3:::airflow-dev"
QUEUE = "arn:aws:sqs:us-east-1:111122223333:airflow-celery-abc"
OWNED_KEY = "arn:aws:kms:us-east-1:111122223333:key/*"
VIA_SQS = {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_an_allow_with_wildcards_in_action_and_resource_allows() -> None:
    statements = [allow("s3:Get*", f"{BUCKET}/*")]

    assert evaluate(statements, Request("s3:GetObject", f"{BUCKET}/dags/*")).decision == "allowed"


def test_actions_match_case_insensitively_and_resources_case_sensitively() -> None:
    statements = [allow("S3:getobject", f"{BUCKET}/DAGS/*")]

    assert evaluate(statements, Request("s3:GetObject", f"{BUCKET}/DAGS/x")).allowed
    assert not evaluate(statements, Request("s3:GetObject", f"{BUCKET}/dags/x")).allowed


def test_nothing_granted_is_an_implicit_deny() -> None:
    assert evaluate([allow("s3:GetObject", f"{BUCKET}/*")], Request("s3:ListBucket", BUCKET)).decision == (
        "implicitDeny"
    )


def test_an_explicit_deny_wins_over_an_allow() -> None:
    statements = [allow("s3:*", "*"), {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": BUCKET}]

    assert evaluate(statements, Request("s3:ListBucket", BUCKET)).decision == "explicitDeny"
    assert evaluate(statements, Request("s3:GetObject", f"{BUCKET}/a")).decision == "allowed"


def test_not_action_allows_everything_but_the_listed_actions() -> None:
    statements = [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]

    assert evaluate(statements, Request("sqs:SendMessage", QUEUE)).allowed
    assert not evaluate(statements, Request("iam:PassRole", "*")).allowed


def test_mwaas_owned_key_statement_allows_a_key_outside_the_account_through_sqs_only() -> None:
    statements = [
        allow(
            ["kms:Decrypt", "kms:GenerateDataKey*"],
            None,
            NotResource="arn:aws:kms:*:123456789012:key/*",
            Condition={"StringLike": {"kms:ViaService": ["sqs.us-east-1.amazonaws.com"]}},
        )
    ]
    del statements[0]["Resource"]

    assert evaluate(statements, Request("kms:GenerateDataKey", OWNED_KEY, VIA_SQS)).allowed
    own_key = "arn:aws:kms:us-east-1:123456789012:key/1234"
    assert not evaluate(statements, Request("kms:Decrypt", own_key, VIA_SQS)).allowed
    assert not evaluate(statements, Request("kms:Decrypt", OWNED_KEY, {"kms:ViaService": "s3.amazonaws.com"})).allowed


def test_an_allow_under_a_condition_it_cannot_decide_is_undecided_and_names_the_condition() -> None:
    statements = [allow("s3:GetObject", "*", Sid="OnlyFromVpce", Condition={"StringEquals": {"aws:SourceVpce": "x"}})]

    evaluation = evaluate(statements, Request("s3:GetObject", f"{BUCKET}/a"))

    assert evaluation.decision == "undecided"
    assert evaluation.conditions == ("StringEquals aws:SourceVpce (statement OnlyFromVpce)",)


def test_an_operator_it_does_not_implement_is_undecided_too() -> None:
    statements = [allow("s3:GetObject", "*", Condition={"ForAnyValue:StringLike": {"aws:TagKeys": ["team*"]}})]

    evaluation = evaluate(statements, Request("s3:GetObject", f"{BUCKET}/a"))

    assert (evaluation.decision, evaluation.conditions) == (
        "undecided",
        ("ForAnyValue:StringLike aws:TagKeys (statement #1)",),
    )


def test_a_deny_under_a_condition_it_cannot_decide_makes_an_allowed_request_undecided() -> None:
    deny = {
        "Sid": "OwnAccountOnly",
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:ResourceAccount": "123456789012"}},
    }

    evaluation = evaluate([allow("s3:*", "*"), deny], Request("s3:GetObject", f"{BUCKET}/a"))

    assert evaluation.decision == "undecided"
    assert evaluation.conditions == ("StringNotEqualsIfExists aws:ResourceAccount (statement OwnAccountOnly)",)


def test_an_undecidable_statement_that_cannot_change_the_decision_is_ignored() -> None:
    conditional = allow("s3:GetObject", "*", Condition={"StringEquals": {"aws:SourceVpce": "x"}})
    conditional_deny = {**conditional, "Effect": "Deny"}
    request = Request("s3:GetObject", f"{BUCKET}/a")

    # Granted anyway: a conditional Allow changes nothing.
    assert evaluate([allow("s3:*", "*"), conditional], request).decision == "allowed"
    # Not granted anyway: a conditional Deny changes nothing.
    assert evaluate([conditional_deny], request).decision == "implicitDeny"


def test_a_test_that_decidably_fails_decides_the_condition_whatever_the_others() -> None:
    statements = [
        allow(
            "kms:Decrypt",
            "*",
            Condition={
                "StringEquals": {"aws:SourceVpce": "x"},
                "StringLike": {"kms:ViaService": "s3.*"},
            },
        )
    ]

    assert evaluate(statements, Request("kms:Decrypt", OWNED_KEY, VIA_SQS)).decision == "implicitDeny"


def test_if_exists_decides_like_its_operator_when_the_key_is_set_and_keys_ignore_case() -> None:
    statements = [allow("kms:Decrypt", "*", Condition={"StringLikeIfExists": {"KMS:viaservice": "sqs.*"}})]

    assert evaluate(statements, Request("kms:Decrypt", OWNED_KEY, VIA_SQS)).allowed
    assert not evaluate(statements, Request("kms:Decrypt", OWNED_KEY, {"kms:ViaService": "s3.x"})).allowed


def test_an_explicit_deny_names_its_statement_and_policy() -> None:
    deny = Statement({"Effect": "Deny", "Action": "s3:List*", "Resource": "*"}, "inline policy guard", 3)

    evaluation = evaluate([allow("s3:*", "*"), deny], Request("s3:ListBucket", BUCKET))

    assert (evaluation.decision, evaluation.denied_by) == ("explicitDeny", "statement #3 of inline policy guard")


def test_a_permissions_boundary_must_allow_the_request_too() -> None:
    statements = [allow("s3:*", "*")]

    evaluation = evaluate(statements, Request("s3:GetObject", f"{BUCKET}/a"), boundary=[allow("logs:*", "*")])

    assert evaluation.decision == "implicitDeny"
    assert "the role's permissions boundary does not allow it" in evaluation.notes
    assert (evaluation.in_boundary, evaluation.denied_by) == (True, "the role's permissions boundary")


def test_a_boundary_under_a_condition_it_cannot_decide_is_undecided() -> None:
    boundary = [allow("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "true"}})]

    evaluation = evaluate([allow("s3:*", "*")], Request("s3:GetObject", f"{BUCKET}/a"), boundary=boundary)

    assert evaluation.decision == "undecided"
    assert evaluation.conditions == ("Bool aws:SecureTransport (statement #1 of the role's permissions boundary)",)


def test_policy_documents_are_read_as_iam_returns_them() -> None:
    document = {"Version": "2012-10-17", "Statement": allow("s3:GetObject", "*")}

    assert statements_of(document) == [allow("s3:GetObject", "*")]
    assert statements_of(quote(json.dumps(document))) == [allow("s3:GetObject", "*")]


class _Iam:
    """An IAM client whose simulator answers, refuses or is missing; the role has one inline policy."""

    def __init__(self, simulate: Any) -> None:
        self.simulate = simulate
        self.document = {"Statement": [allow("sqs:SendMessage", "*")]}

    def get_paginator(self, operation: str) -> Any:
        outer = self

        class _Pages:
            def paginate(self, **arguments: Any) -> Any:
                if operation == "simulate_principal_policy":
                    return [outer.simulate(arguments)]
                if operation == "list_role_policies":
                    return [{"PolicyNames": ["inline"]}]
                return [{"AttachedPolicies": []}]

        return _Pages()

    def get_role(self, RoleName: str) -> Any:
        return {"Role": {"RoleName": RoleName}}

    def get_role_policy(self, RoleName: str, PolicyName: str) -> Any:
        return {"PolicyDocument": self.document}


def _refused(code: str) -> Any:
    def simulate(arguments: dict[str, Any]) -> Any:
        raise ClientError({"Error": {"Code": code, "Message": "no"}}, "SimulatePrincipalPolicy")

    return simulate


def test_the_simulator_is_used_when_it_answers() -> None:
    def simulate(arguments: dict[str, Any]) -> Any:
        return {
            "EvaluationResults": [
                {"EvalActionName": a, "EvalDecision": "explicitDeny"} for a in arguments["ActionNames"]
            ]
        }

    permissions = role_permissions(_Iam(simulate), "arn:aws:iam::1:role/r", [Request("sqs:SendMessage", QUEUE)])  # type: ignore[arg-type]

    assert permissions.method == "simulation"
    assert [e.decision for e in permissions.evaluations] == ["explicitDeny"]


def test_the_simulators_deny_names_its_policy_and_a_boundary_says_it_denies() -> None:
    def simulate(arguments: dict[str, Any]) -> Any:
        if arguments["ResourceArns"] == [QUEUE]:
            return {
                "EvaluationResults": [
                    {
                        "EvalActionName": "sqs:SendMessage",
                        "EvalDecision": "explicitDeny",
                        "MatchedStatements": [{"SourcePolicyId": "guard", "SourcePolicyType": "IAM Policy"}],
                    }
                ]
            }
        return {
            "EvaluationResults": [
                {
                    "EvalActionName": "s3:GetObject",
                    "EvalDecision": "implicitDeny",
                    "PermissionsBoundaryDecisionDetail": {"AllowedByPermissionsBoundary": False},
                }
            ]
        }

    permissions = role_permissions(
        _Iam(simulate),  # type: ignore[arg-type]
        "arn:aws:iam::1:role/r",
        [Request("sqs:SendMessage", QUEUE), Request("s3:GetObject", f"{BUCKET}/a")],
    )

    deny, bounded = permissions.evaluations
    assert (deny.decision, deny.denied_by) == ("explicitDeny", "a Deny statement of policy guard")
    assert (bounded.decision, bounded.in_boundary) == ("implicitDeny", True)


def test_a_refused_simulation_falls_back_to_the_documents_and_says_why() -> None:
    permissions = role_permissions(
        _Iam(_refused("AccessDenied")),
        "arn:aws:iam::1:role/r",
        [Request("sqs:SendMessage", QUEUE)],  # type: ignore[arg-type]
    )

    assert permissions.method == "policy-documents"
    assert permissions.why_not_simulated == "SimulatePrincipalPolicy: AccessDenied"
    assert permissions.evaluations[0].allowed


def test_a_throttled_simulation_is_retried_by_the_caller_not_replaced() -> None:
    with pytest.raises(ThrottledError):
        role_permissions(_Iam(_refused("Throttling")), "arn:aws:iam::1:role/r", [Request("sqs:SendMessage", QUEUE)])  # type: ignore[arg-type]
