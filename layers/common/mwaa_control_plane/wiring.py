"""What every handler builds before it delegates: its settings, the clock, and clients on first use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from mwaa_control_plane import clients
from mwaa_control_plane.clock import Clock, get_clock
from mwaa_control_plane.config import CommonSettings, load_settings
from mwaa_control_plane.state import StateRepository

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class Dependencies[S: CommonSettings]:
    """Clients are built on first use: a step's cold start pays only for the services it calls."""

    settings: S
    clock: Clock

    @cached_property
    def s3(self) -> S3Client:
        return clients.s3(self.settings.region)

    @cached_property
    def mwaa(self) -> MWAAClient:
        return clients.mwaa(self.settings.region)

    @cached_property
    def repository(self) -> StateRepository:
        return StateRepository(clients.dynamodb(self.settings.region), self.settings.state_table, self.clock)


def dependencies[S: CommonSettings](settings_model: type[S]) -> Dependencies[S]:
    return Dependencies(settings=load_settings(settings_model), clock=get_clock())
