"""One emulated MWAA environment for the emulator's tests: its source bucket, REST API and clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from mwaa_control_plane.clock import ManualClock
from mwaa_cp_local import mwaa

REGION = "us-east-1"
BUCKET = "analytics-mwaa-source"
SYNC_AND_LIST = 30 + 300
NETWORK = {"SubnetIds": ["subnet-0aaa", "subnet-0bbb"], "SecurityGroupIds": ["sg-0aaa"]}
ROLE = "arn:aws:iam::123456789012:role/mwaa-execution"


@dataclass
class Env:
    """One available environment and shortcuts to its bucket and REST API."""

    client: Any
    s3: Any
    clock: ManualClock
    name: str = "analytics"

    def upload(self, path: str, content: str) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=f"dags/{path}", Body=content.encode())

    def rest(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None) -> tuple[int, Any]:
        request: dict[str, Any] = {"Name": self.name, "Path": path, "Method": method}
        if query is not None:
            request["QueryParameters"] = query
        if body is not None:
            request["Body"] = body
        try:
            response = self.client.invoke_rest_api(**request)
        except (
            self.client.exceptions.RestApiClientException,
            self.client.exceptions.RestApiServerException,
        ) as error:
            return error.response["RestApiStatusCode"], error.response["RestApiResponse"]
        return response["RestApiStatusCode"], response["RestApiResponse"]

    def ok(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None) -> Any:
        """The body of a 2xx answer (fails the test on any other)."""
        status, answer = self.rest(method, path, query, body)
        assert 200 <= status < 300, (status, answer)
        return answer

    def unpause(self, dag_id: str) -> None:
        self.ok("PATCH", f"/dags/{dag_id}", body={"is_paused": False})

    def pause(self, dag_id: str) -> None:
        self.ok("PATCH", f"/dags/{dag_id}", body={"is_paused": True})

    def runs(self, dag_id: str = "~", **query: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.ok("GET", f"/dags/{dag_id}/dagRuns", query)
        return answer


def create_request(name: str = "analytics", version: str = "2.10.3", **options: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "ExecutionRoleArn": ROLE,
        "SourceBucketArn": f"arn:aws:s3:::{BUCKET}",
        "DagS3Path": "dags",
        "NetworkConfiguration": NETWORK,
        "AirflowVersion": version,
        **options,
    }


def available(s3: Any, clock: ManualClock, version: str = "2.10.3", **options: Any) -> Env:
    """Create an environment and move the clock until it is AVAILABLE."""
    client = boto3.client("mwaa", region_name=REGION)
    client.create_environment(**create_request(version=version, **options))
    clock.advance(mwaa.settings().create_seconds)
    return Env(client, s3, clock)


def with_dag(env: Env, source: str, path: str = "pipeline.py") -> Env:
    """Upload a DAG file and wait until the DAG processor has listed it."""
    env.upload(path, source)
    env.clock.advance(SYNC_AND_LIST)
    return env
