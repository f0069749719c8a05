"""AWS as the unit tests see it: moto's DynamoDB and S3 shaped like the stack, and an in-memory MWAA.

MWAA has no moto backend, so :class:`FakeMwaa` answers GetEnvironment from GetEnvironment-shaped
dicts and records every UpdateEnvironment call it is given.
"""

from __future__ import annotations

import copy
from typing import Any

from botocore.exceptions import ClientError

from mwaa_control_plane.clock import Clock
from mwaa_control_plane.state import StateRepository

REGION = "us-east-1"
STATE_TABLE = "mwaa-cp-state"
STAGING_BUCKET = "mwaa-control-plane-stagingbucket-d813bebe567a"
SOURCE_BUCKET = "airflow-dev"
ENVIRONMENT = "dev-analytics"


def create_state_table(dynamodb: Any, name: str = STATE_TABLE) -> None:
    """The StateTable of template.yaml: pk/sk string keys (moto ignores the TTL, as DynamoDB mostly does)."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def state_repository(dynamodb: Any, clock: Clock) -> StateRepository:
    create_state_table(dynamodb)
    return StateRepository(dynamodb, STATE_TABLE, clock)


def create_versioned_bucket(s3: Any, name: str) -> None:
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def put(s3: Any, bucket: str, key: str, body: str | bytes) -> str:
    """Upload ``body`` and return the new object version's id."""
    data = body.encode() if isinstance(body, str) else body
    version: str = s3.put_object(Bucket=bucket, Key=key, Body=data)["VersionId"]
    return version


def body_of(s3: Any, bucket: str, key: str) -> bytes:
    data: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def client_error(
    code: str, message: str = "", *, operation: str = "UpdateEnvironment", status: int = 400
) -> ClientError:
    """A ClientError as botocore raises it; ``status`` >= 500 is what makes an answer a server error."""
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


def environment(**overrides: Any) -> dict[str, Any]:
    """A GetEnvironment ``Environment`` of an mw1.small environment reading from ``airflow-dev``."""
    return {
        "Name": ENVIRONMENT,
        "Status": "AVAILABLE",
        "AirflowVersion": "2.10.3",
        "EnvironmentClass": "mw1.small",
        "MinWorkers": 1,
        "MaxWorkers": 10,
        "Schedulers": 2,
        "MinWebservers": 2,
        "MaxWebservers": 2,
        "SourceBucketArn": f"arn:aws:s3:::{SOURCE_BUCKET}",
        "DagS3Path": "dags",
        "AirflowConfigurationOptions": {"core.default_timezone": "utc"},
        **overrides,
    }


class FakeMwaa:
    """GetEnvironment and UpdateEnvironment for one or more environments, by name.

    ``updates`` holds the keyword arguments of every UpdateEnvironment call. Set ``refusal`` to make
    the next UpdateEnvironment raise it; the environment's status becomes ``status_after_refusal``
    first (another update may have started meanwhile). A successful update leaves the environment UPDATING.
    """

    def __init__(self, *environments: dict[str, Any]) -> None:
        self.environments = {e["Name"]: copy.deepcopy(e) for e in environments or (environment(),)}
        self.updates: list[dict[str, Any]] = []
        self.refusal: ClientError | None = None
        self.status_after_refusal: str | None = None

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self.environments[name]

    def get_environment(self, *, Name: str) -> dict[str, Any]:
        if Name not in self.environments:
            raise client_error("ResourceNotFoundException", f"Environment {Name} not found", operation="GetEnvironment")
        return {"Environment": copy.deepcopy(self.environments[Name])}

    def update_environment(self, **kwargs: Any) -> dict[str, Any]:
        self.updates.append(kwargs)
        name = kwargs["Name"]
        if self.refusal is not None:
            if self.status_after_refusal is not None:
                self.environments[name]["Status"] = self.status_after_refusal
            raise self.refusal
        self.environments[name]["Status"] = "UPDATING"
        return {"Arn": f"arn:aws:airflow:{REGION}:123456789012:environment/{name}"}
