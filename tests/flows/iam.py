"""IAM, checked where the local runtime cannot enforce it: every AWS call a Lambda makes during a
flow test must be allowed by the inline policy its template role was given.

moto creates the roles and policies from the translated template but evaluates none of them, so a
missing grant (say, ``dynamodb:DeleteItem`` on a step that clears a record) would pass every flow
test and fail on AWS. The recorder wraps botocore's ``_make_api_call``: a call made by the control
plane's own clients (their user agent carries ``mwaa-control-plane``) while a handler runs
(``AWS_LAMBDA_FUNCTION_NAME`` is set only then) is mapped to the IAM action and resource AWS would
authorise, and checked against the function role's Allow statements.

Two grants are implied by a call rather than named by it, and checked too: ``iam:PassRole`` on the
execution role a CreateEnvironment passes (with ``iam:PassedToService``), and the KMS use of an object
call on a bucket whose default encryption is a KMS key (``kms:GenerateDataKey`` to write,
``kms:Decrypt`` to read, through S3), allowed by the role's policy or by the key's own policy. A
statement with a condition counts only when every condition key is one the call sets and matches.

``MWAA_CP_IAM_LOG=<file>`` appends every checked ``function action resource`` to a file: run the
flow tests with it to see what each role really uses before granting or trimming.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.client

_USER_AGENT_MARK = "mwaa-control-plane"


def _object_action(base: str, params: dict[str, Any]) -> str:
    return f"{base}Version" if params.get("VersionId") else base


def required(service: str, operation: str, params: dict[str, Any], region: str, account: str) -> list[tuple[str, str]]:
    """The (action, resource) pairs AWS authorises for one API call.

    A resource may be a pattern of alternatives: InvokeRestApi is allowed on whichever Airflow role
    (``role/<environment>/<Admin|Op|User|Viewer>``) the caller holds, so any granted one will do.
    """
    if service == "s3":
        bucket = params.get("Bucket", "")
        key = params.get("Key", "")
        obj = f"arn:aws:s3:::{bucket}/{key}"
        if operation in ("GetObject", "HeadObject"):
            return [(_object_action("s3:GetObject", params), obj)]
        if operation == "DeleteObject":
            return [(_object_action("s3:DeleteObject", params), obj)]
        if operation == "PutObject":
            return [("s3:PutObject", obj)]
        if operation == "CopyObject":
            source = params["CopySource"]
            if isinstance(source, str):
                path, _, version = source.partition("?versionId=")
                source = {"Bucket": path.split("/", 1)[0], "Key": path.split("/", 1)[1], "VersionId": version}
            source_arn = f"arn:aws:s3:::{source['Bucket']}/{source['Key']}"
            return [("s3:PutObject", obj), (_object_action("s3:GetObject", source), source_arn)]
        if operation == "ListObjectVersions":
            return [("s3:ListBucketVersions", f"arn:aws:s3:::{bucket}")]
        if operation in ("ListObjects", "ListObjectsV2"):
            return [("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
        # Bucket-level reads whose IAM action is not named like the API call.
        bucket_actions = {
            "GetBucketVersioning": "s3:GetBucketVersioning",
            "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
            "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
        }
        if operation in bucket_actions:
            return [(bucket_actions[operation], f"arn:aws:s3:::{bucket}")]
        return [(f"s3:{operation}", "*")]
    if service == "iam":
        if operation == "SimulatePrincipalPolicy":
            return [("iam:SimulatePrincipalPolicy", str(params.get("PolicySourceArn", "")))]
        if "RoleName" in params:
            return [(f"iam:{operation}", f"arn:aws:iam::{account}:role/{params['RoleName']}")]
        if "PolicyArn" in params:
            return [(f"iam:{operation}", str(params["PolicyArn"]))]
    if service == "dynamodb":
        return [(f"dynamodb:{operation}", f"arn:aws:dynamodb:{region}:{account}:table/{params.get('TableName', '')}")]
    if service == "mwaa":
        environment = f"arn:aws:airflow:{region}:{account}:environment/{params.get('Name', '')}"
        if operation == "InvokeRestApi":
            # Authorised on the Airflow role the call maps to (role/<environment>/<role>), not on the environment.
            return [("airflow:InvokeRestApi", f"arn:aws:airflow:{region}:{account}:role/{params.get('Name', '')}/*")]
        if operation == "ListEnvironments":
            return [("airflow:ListEnvironments", "*")]
        if operation in ("TagResource", "UntagResource", "ListTagsForResource"):
            return [(f"airflow:{operation}", str(params.get("ResourceArn", "")))]
        if operation == "CreateEnvironment":
            # MWAA authorises the Tags of a create as TagResource, and the execution role as a PassRole to MWAA.
            needed = [("airflow:CreateEnvironment", environment), ("iam:PassRole", str(params["ExecutionRoleArn"]))]
            return needed + ([("airflow:TagResource", environment)] if params.get("Tags") else [])
        return [(f"airflow:{operation}", environment)]
    if service == "sns" and operation == "Publish":
        return [("sns:Publish", str(params.get("TopicArn", "")))]
    if service == "cloudwatch":
        if operation in ("PutMetricAlarm", "DescribeAlarms", "DeleteAlarms"):
            # Alarm actions are authorised per alarm; a describe by prefix is authorised on each alarm it may return.
            names = params.get("AlarmNames") or [params.get("AlarmName") or f"{params.get('AlarmNamePrefix', '')}*"]
            return [(f"cloudwatch:{operation}", f"arn:aws:cloudwatch:{region}:{account}:alarm:{n}") for n in names]
        if operation in ("PutDashboard", "DeleteDashboards", "GetDashboard"):
            # Dashboards are global: no Region in their ARN.
            names = params.get("DashboardNames") or [params.get("DashboardName", "")]
            return [(f"cloudwatch:{operation}", f"arn:aws:cloudwatch::{account}:dashboard/{n}") for n in names]
        # GetMetricData, GetMetricWidgetImage, ListDashboards: no resource-level permissions.
        return [(f"cloudwatch:{operation}", "*")]
    return [(f"{service}:{operation}", "*")]


def _matches(patterns: Any, value: str) -> bool:
    items = [patterns] if isinstance(patterns, str) else list(patterns)
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in items)


_AIRFLOW_ROLES = ("Admin", "Op", "User", "Viewer")


def _resource_matches(patterns: Any, resource: str) -> bool:
    if resource == "*":
        return True
    if ":role/" in resource and resource.endswith("/*"):
        return any(_matches(patterns, resource[:-1] + role) for role in _AIRFLOW_ROLES)
    return _matches(patterns, resource)


def _conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """StringEquals/StringLike/ArnLike on the keys the call sets; any other key or operator does not hold."""
    for operator, tests in condition.items():
        if operator not in ("StringEquals", "StringLike", "ArnLike", "ArnEquals"):
            return False
        for key, expected in tests.items():
            if key not in context:
                return False
            values = [expected] if isinstance(expected, str) else list(expected)
            if operator in ("StringEquals", "ArnEquals"):
                if context[key] not in values:
                    return False
            elif not _matches(values, context[key]):
                return False
    return True


def allowed(
    statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, str] | None = None
) -> bool:
    return any(
        s.get("Effect") == "Allow"
        and _matches(s.get("Action", []), action)
        and _resource_matches(s["Resource"], resource)
        and _conditions_hold(s.get("Condition", {}), context or {})
        for s in statements
    )


def _implied_context(action: str, region: str, account: str) -> dict[str, str]:
    """The condition keys AWS sets for an implied call."""
    if action == "iam:PassRole":
        return {"iam:PassedToService": "airflow.amazonaws.com"}
    if action.startswith("kms:"):
        return {"kms:ViaService": f"s3.{region}.amazonaws.com", "kms:CallerAccount": account}
    return {}


def _principal_matches(principal: Any, role_arn: str) -> bool:
    if principal == "*":
        return True
    arns = principal.get("AWS", []) if isinstance(principal, dict) else []
    return role_arn in ([arns] if isinstance(arns, str) else arns)


class IamRecorder:
    """Collects the calls a function's policy does not allow, while installed."""

    def __init__(self) -> None:
        self.denied: list[str] = []
        self.checked = 0
        self._policies: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        self._roles: dict[str, str] = {}
        self._bucket_keys: dict[str, str | None] = {}
        self._key_policies: dict[str, list[dict[str, Any]]] = {}

    def _role(self, function_name: str, region: str) -> tuple[str, list[dict[str, Any]]]:
        """The function's account and the Allow/Deny statements of its role's inline policies."""
        if function_name not in self._policies:
            configuration = boto3.client("lambda", region_name=region).get_function(FunctionName=function_name)
            account = configuration["Configuration"]["FunctionArn"].split(":")[4]
            self._roles[function_name] = configuration["Configuration"]["Role"]
            role_name = configuration["Configuration"]["Role"].split("/")[-1]
            iam = boto3.client("iam", region_name=region)
            statements: list[dict[str, Any]] = []
            for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
                document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
                found = document["Statement"]
                statements.extend([found] if isinstance(found, dict) else found)
            self._policies[function_name] = (account, statements)
        return self._policies[function_name]

    def check(self, client: Any, operation: str, params: dict[str, Any]) -> None:
        function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        if not function_name or _USER_AGENT_MARK not in (client.meta.config.user_agent_extra or ""):
            return
        region = client.meta.region_name
        account, statements = self._role(function_name, region)
        service = client.meta.service_model.service_name
        needed = required(service, operation, params, region, account)
        if service == "s3":
            needed += self._kms_for_object_call(operation, params, region)
        for action, resource in needed:
            self.checked += 1
            if os.environ.get("MWAA_CP_IAM_LOG"):
                with open(os.environ["MWAA_CP_IAM_LOG"], "a", encoding="utf-8") as log:
                    log.write(f"{function_name.split('-')[-2]} {action} {resource}\n")
            context = _implied_context(action, region, account)
            if not allowed(statements, action, resource, context) and not self._key_allows(
                function_name, action, resource, context, region
            ):
                logical = function_name.split("-")[-2] if function_name.count("-") >= 2 else function_name
                self.denied.append(f"{logical}: {action} on {resource}")

    def _kms_for_object_call(self, operation: str, params: dict[str, Any], region: str) -> list[tuple[str, str]]:
        """What S3 asks KMS for on the caller's behalf: a data key to write, a decrypt to read."""
        bucket = params.get("Bucket", "")
        if not bucket or operation not in ("PutObject", "CopyObject", "GetObject"):
            return []
        if bucket not in self._bucket_keys:
            s3 = boto3.client("s3", region_name=region)
            try:
                rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
            except s3.exceptions.ClientError:
                rules = []
            default = rules[0]["ApplyServerSideEncryptionByDefault"] if rules else {}
            key = default.get("KMSMasterKeyID") if default.get("SSEAlgorithm") == "aws:kms" else None
            if key and not key.startswith("arn:"):
                key = boto3.client("kms", region_name=region).describe_key(KeyId=key)["KeyMetadata"]["Arn"]
            self._bucket_keys[bucket] = key
        key_arn = self._bucket_keys[bucket]
        if key_arn is None:
            return []
        return [("kms:Decrypt" if operation == "GetObject" else "kms:GenerateDataKey", key_arn)]

    def _key_allows(self, function_name: str, action: str, resource: str, context: dict[str, str], region: str) -> bool:
        """A KMS key's own policy may grant the function's role (IAM policies then need not)."""
        if not action.startswith("kms:"):
            return False
        if resource not in self._key_policies:
            policy = boto3.client("kms", region_name=region).get_key_policy(KeyId=resource, PolicyName="default")
            found = json.loads(policy["Policy"])["Statement"]
            self._key_policies[resource] = [found] if isinstance(found, dict) else found
        role = self._roles[function_name]
        granted = [s for s in self._key_policies[resource] if _principal_matches(s.get("Principal", {}), role)]
        return allowed(granted, action, "*", context)

    @contextmanager
    def installed(self) -> Iterator[IamRecorder]:
        original = botocore.client.BaseClient._make_api_call
        recorder = self

        def checked_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            recorder.check(client, operation_name, api_params)
            return original(client, operation_name, api_params)

        botocore.client.BaseClient._make_api_call = checked_call  # type: ignore[method-assign]
        try:
            yield self
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
