"""What every dag-delivery handler builds before it delegates: settings, clients, state, clock."""

from __future__ import annotations

from dataclasses import dataclass
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
    settings: DagDeliverySettings
    s3: S3Client
    mwaa: MWAAClient
    store: StateStore
    clock: Clock


def delivery_dependencies() -> DeliveryDependencies:
    settings = load_settings(DagDeliverySettings)
    clock = get_clock()
    return DeliveryDependencies(
        settings=settings,
        s3=clients.s3(settings.region),
        mwaa=clients.mwaa(settings.region),
        store=StateStore(clients.dynamodb(settings.region), settings.state_table, clock),
        clock=clock,
    )
