"""What every dag-delivery handler builds before it delegates: settings, clients, state, clock."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from mwaa_control_plane import clients
from mwaa_control_plane.clock import Clock, get_clock
from mwaa_control_plane.config import DagDeliverySettings, load_settings
from mwaa_control_plane.state import StateStore

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class DeliveryDependencies:
    """Clients are built on first use: a step's cold start pays only for the services it calls."""

    settings: DagDeliverySettings
    clock: Clock

    @cached_property
    def s3(self) -> S3Client:
        return clients.s3(self.settings.region)

    @cached_property
    def mwaa(self) -> MWAAClient:
        return clients.mwaa(self.settings.region)

    @cached_property
    def store(self) -> StateStore:
        return StateStore(clients.dynamodb(self.settings.region), self.settings.state_table, self.clock)


def delivery_dependencies() -> DeliveryDependencies:
    return DeliveryDependencies(settings=load_settings(DagDeliverySettings), clock=get_clock())
