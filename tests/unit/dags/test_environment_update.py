"""apply_pending: UpdateEnvironment refused because the environment stopped being AVAILABLE meanwhile."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from mwaa_control_plane.dags.environment_update import apply_pending
from mwaa_control_plane.errors import EnvironmentBusyError

ENVIRONMENT = {
    "SourceBucketArn": "arn:aws:s3:::airflow-dev",
    "DagS3Path": "dags",
    "AirflowVersion": "2.10.3",
}


class _Store:
    def query(self, pk: str) -> dict[str, dict[str, Any]]:
        return {"requirements": {"s3_path": "requirements.txt", "version": "v2"}} if pk.startswith("pending#") else {}


class _Mwaa:
    """AVAILABLE when first described, then ``later`` (another update started in between)."""

    def __init__(self, later: str) -> None:
        self.statuses = ["AVAILABLE", later]

    def get_environment(self, *, Name: str) -> dict[str, Any]:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"Environment": {"Name": Name, "Status": status, **ENVIRONMENT}}

    def update_environment(self, **_: Any) -> None:
        raise ClientError({"Error": {"Code": "ValidationException", "Message": "Cannot update"}}, "UpdateEnvironment")


def test_a_validation_error_from_an_environment_that_became_busy_is_retryable() -> None:
    with pytest.raises(EnvironmentBusyError, match="UPDATING"):
        apply_pending(_Mwaa(later="UPDATING"), _Store(), "dev", force=True)  # type: ignore[arg-type]


def test_a_validation_error_from_an_available_environment_stays_a_client_error() -> None:
    with pytest.raises(ClientError):
        apply_pending(_Mwaa(later="AVAILABLE"), _Store(), "dev", force=True)  # type: ignore[arg-type]
