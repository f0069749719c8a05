"""What became of change requests: their outcomes, the change history, known-good artifacts.

Kept apart from ``change_request`` so that a step which only builds a request (dag-delivery's
staging) does not pay at cold start for the models of the records it never reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from mwaa_control_plane.environments.change_request import (
    ArtifactVersion,
    ChangeRequest,
    RequestedBy,
    Strict,
)

RequestStatus = Literal["applied", "superseded", "unchanged", "failed", "refused"]


class RequestOutcome(Strict):
    """What became of one request; the requester's own execution reads it when it gets the lock."""

    status: RequestStatus
    change_id: str
    detail: str
    superseded_fields: list[str] = []
    superseded_by: list[str] = []


class FieldChange(Strict):
    """One field the flow changed. Configuration option values are fingerprints, never the values."""

    field: str
    before: Any = None
    after: Any = None


# not_sent: MWAA answered that the environment was busy; the step is retried, so nothing was changed yet.
ChangeStatus = Literal[
    "updating", "succeeded", "failed", "timed_out", "unchanged", "refused", "nothing_pending", "not_sent"
]


class Supersession(Strict):
    request_id: str
    requested_by: RequestedBy
    fields: list[str]
    by: list[str]


class ChangeRecord(Strict):
    """One UpdateEnvironment (or the decision not to call it), with before and after of every changed field."""

    change_id: str
    environment_name: str
    status: ChangeStatus
    started_at: datetime
    finished_at: datetime | None = None
    request_ids: list[str] = []
    requested_by: list[RequestedBy] = []
    reasons: list[str] = []
    changes: list[FieldChange] = []
    artifacts_before: dict[str, ArtifactVersion] = {}
    artifacts_after: dict[str, ArtifactVersion] = {}
    restore_on_failure: list[str] = []
    """Artifact kinds whose previous version goes back into the bucket on UPDATE_FAILED."""
    superseded: list[Supersession] = []
    error_code: str | None = None
    error_message: str | None = None
    detail: str = ""


class KnownGood(Strict):
    """The artifact versions the environment last ran successfully, per kind."""

    artifacts: dict[str, ArtifactVersion] = {}


class StoredRequest(Strict):
    """A change request as recorded by the environment-change flow, with its outcome once known."""

    request_id: str
    requested_at: datetime
    request: ChangeRequest
    outcome: RequestOutcome | None = None
