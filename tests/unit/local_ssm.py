"""moto with the local runtime's Parameter Store checks and its fault injector, for unit tests of SSM behaviour.

moto alone accepts what SSM refuses (a String <-> SecureString overwrite, a tier downgrade): tests that
rely on SSM's answers run against this instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto import mock_aws

from mwaa_cp_local.eventbridge import EventDelivery
from mwaa_cp_local.faults import FaultInjector
from mwaa_cp_local.lambda_dispatch import LambdaDispatcher
from mwaa_cp_local.patches import Patches, install_faults, install_ssm


@contextmanager
def local_ssm(region: str) -> Iterator[FaultInjector]:
    """Inside: SSM answers as in the local runtime; the injector makes chosen calls fail."""
    delivery = EventDelivery(
        account_id="123456789012", region=region, dispatcher=LambdaDispatcher(region=region, base_environment={})
    )
    try:
        with mock_aws(), Patches() as patches:
            injector = FaultInjector()
            install_faults(patches, injector)
            install_ssm(patches, delivery)
            yield injector
    finally:
        delivery.shutdown()
