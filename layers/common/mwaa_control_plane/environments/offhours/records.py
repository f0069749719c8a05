"""What the control plane remembers about each managed environment between off-hours ticks.

One :class:`OffHoursRecord` per environment (``StateRepository.off_hours_record``), written
conditionally on its ``revision`` so two executions cannot both act on the same reading. It
also lists hibernated environments, which ListEnvironments no longer shows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field

from mwaa_control_plane.environments.change_request import Strict
from mwaa_control_plane.environments.description import EnvironmentTarget
from mwaa_control_plane.environments.offhours.capacity import Capacity
from mwaa_control_plane.environments.offhours.snapshot import SnapshotRef
from mwaa_control_plane.payloads import EnvironmentName

OffHoursState = Literal["awake", "scaled-down", "hibernating", "hibernated", "resuming"]
CREATE_DURATIONS_KEPT = 10
RESUME_BACKOFF_FIRST = timedelta(minutes=15)
RESUME_BACKOFF_MAX = timedelta(hours=8)
_MAX_ERROR = 1000


def resume_backoff(failures: int) -> timedelta:
    """How long after the ``failures``-th failed resume the next one may start: 15 min, doubling, at most 8 h."""
    if failures <= 0:
        return timedelta(0)
    return min(RESUME_BACKOFF_FIRST * (1 << min(failures - 1, 16)), RESUME_BACKOFF_MAX)


class CapacityEntry(Strict):
    """One recorded capacity in an environment's history (``StateRepository.record_capacity``)."""

    recorded_at: datetime
    capacity: Capacity


class OffHoursRecord(Strict):
    """One managed environment's off-hours state; ``revision`` counts the writes (0: never written)."""

    environment_name: EnvironmentName
    state: OffHoursState
    since: datetime
    snapshot: SnapshotRef | None = None
    """The verified snapshot of a hibernating, hibernated or resuming environment."""
    capacity: Capacity | None = None
    """The capacity recorded before a scale-down: what scale-up restores."""
    tags: dict[str, str] = {}
    """The environment's tags as they are now; the plan reads them here while the environment does not exist."""
    hibernated_capacity: Capacity | None = None
    """The class and counts a hibernated environment is recreated with (no secrets): ``mwaa-cp cost`` prices it."""
    target: EnvironmentTarget | None = None
    """Where a hibernated environment reads its files (bucket, paths, pinned artifact versions: no secrets):
    dag-delivery keeps delivering to it while the environment does not exist."""
    create_durations_seconds: list[float] = []
    """The last 10 resumes' CreateEnvironment durations, oldest first (the lead time learns from them)."""
    resume_failures: Annotated[int, Field(ge=0)] = 0
    next_resume_attempt_at: datetime | None = None
    last_error: str | None = None
    revision: Annotated[int, Field(ge=0)] = 0

    @property
    def create_durations(self) -> list[timedelta]:
        return [timedelta(seconds=seconds) for seconds in self.create_durations_seconds]

    def moved_to(self, state: OffHoursState, now: datetime, **changes: object) -> OffHoursRecord:
        """This record in ``state`` since ``now`` (same revision: write it with ``put_off_hours_record``)."""
        return self.model_copy(update={"state": state, "since": now, **changes})

    def with_create_duration(self, duration: timedelta) -> OffHoursRecord:
        """A resume succeeded: remember how long its create took, forget the failures."""
        durations = [*self.create_durations_seconds, duration.total_seconds()][-CREATE_DURATIONS_KEPT:]
        return self.model_copy(
            update={
                "create_durations_seconds": durations,
                "resume_failures": 0,
                "next_resume_attempt_at": None,
                "last_error": None,
            }
        )

    def with_resume_failure(self, error: str, now: datetime) -> OffHoursRecord:
        """A resume failed (e.g. CREATE_FAILED with ``LastUpdate.Error``): back off before the next attempt."""
        failures = self.resume_failures + 1
        return self.model_copy(
            update={
                "resume_failures": failures,
                "next_resume_attempt_at": now + resume_backoff(failures),
                "last_error": error[:_MAX_ERROR],
            }
        )

    def resume_due(self, now: datetime) -> bool:
        return self.next_resume_attempt_at is None or now >= self.next_resume_attempt_at
