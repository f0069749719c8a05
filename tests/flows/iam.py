"""IAM, checked where the local runtime cannot enforce it: every AWS call a Lambda makes during a
flow test must be allowed by the inline policy its template role was given.

moto creates the roles and policies from the translated template but evaluates none of them, so a
missing grant (say, ``dynamodb:DeleteItem`` on a step that clears a record) would pass every flow
test and fail on AWS. The recorder wraps botocore's ``_make_api_call``: a call made by the control
plane's own clients (their user agent carries ``mwaa-control-plane``) while a handler runs
(``AWS_LAMBDA_FUNCTION_NAME`` is set only then) is mapped to the IAM action and resource AWS would
authorise, and checked against the function role's Allow statements.

``MWAA_CP_IAM_LOG=<file>`` appends every checked ``function action resource`` to a file: run the
flow tests with it to see what each role really uses before granting or trimming.
"""

from __future__ import annotations

import fnmatch
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
        return [(f"s3:{operation}", "*")]
    if service == "dynamodb":
        return [(f"dynamodb:{operation}", f"arn:aws:dynamodb:{region}:{account}:table/{params.get('TableName', '')}")]
    if service == "mwaa":
        if operation == "InvokeRestApi":
            # Authorised on the Airflow role the call maps to (role/<environment>/<role>), not on the environment.
            return [("airflow:InvokeRestApi", f"arn:aws:airflow:{region}:{account}:role/{params.get('Name', '')}/*")]
        return [(f"airflow:{operation}", f"arn:aws:airflow:{region}:{account}:environment/{params.get('Name', '')}")]
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


def allowed(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    return any(
        s.get("Effect") == "Allow"
        and _matches(s.get("Action", []), action)
        and _resource_matches(s["Resource"], resource)
        for s in statements
    )


class IamRecorder:
    """Collects the calls a function's policy does not allow, while installed."""

    def __init__(self) -> None:
        self.denied: list[str] = []
        self.checked = 0
        self._policies: dict[str, tuple[str, list[dict[str, Any]]]] = {}

    def _role(self, function_name: str, region: str) -> tuple[str, list[dict[str, Any]]]:
        """The function's account and the Allow/Deny statements of its role's inline policies."""
        if function_name not in self._policies:
            configuration = boto3.client("lambda", region_name=region).get_function(FunctionName=function_name)
            account = configuration["Configuration"]["FunctionArn"].split(":")[4]
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
        for action, resource in required(client.meta.service_model.service_name, operation, params, region, account):
            self.checked += 1
            if os.environ.get("MWAA_CP_IAM_LOG"):
                with open(os.environ["MWAA_CP_IAM_LOG"], "a", encoding="utf-8") as log:
                    log.write(f"{function_name.split('-')[-2]} {action} {resource}\n")
            if not allowed(statements, action, resource):
                logical = function_name.split("-")[-2] if function_name.count("-") >= 2 else function_name
                self.denied.append(f"{logical}: {action} on {resource}")

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
