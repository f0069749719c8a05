"""What the dag-delivery steps hand each other through the state machine."""

from __future__ import annotations

from typing import Literal

from mwaa_control_plane.dags.events import DeliveryRequest
from mwaa_control_plane.payloads import Payload


class ValidationOutcome(Payload):
    request: DeliveryRequest
    verdict: Literal["pass", "fail", "gone"]
    report_key: str | None = None
    dag_ids: list[str] = []
    modules: list[str] = []  # plugins.zip: the modules it makes importable
    errors: int = 0
    warnings: int = 0
    notification: str = ""


class Verification(Payload):
    state: Literal["pending", "registered", "import_error", "gave_up", "skipped", "deferred"] = "pending"
    wait_seconds: int
    deadline: str
    synced_at: str
    attempts: int = 0
    detail: str = ""


class SyncOutcome(Payload):
    request: DeliveryRequest
    outcome: Literal["synced", "superseded", "deleted"]
    mwaa_key: str
    mwaa_version_id: str | None = None
    previous_version_id: str | None = None
    dag_ids: list[str] = []
    previous_dag_ids: list[str] = []
    verification: Verification | None = None
    notification: str = ""
