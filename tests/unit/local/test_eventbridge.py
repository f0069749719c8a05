"""EventBridge delivery in the local runtime: waiting for deliveries in flight."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from mwaa_cp_local.eventbridge import EventDelivery
from mwaa_cp_local.lambda_dispatch import LambdaDispatcher


@pytest.fixture
def delivery() -> Iterator[EventDelivery]:
    dispatcher = LambdaDispatcher(region="us-east-1", base_environment={})
    delivery = EventDelivery(account_id="123456789012", region="us-east-1", dispatcher=dispatcher)
    yield delivery
    delivery.shutdown()


def test_drain_gives_up_at_its_timeout_while_a_slow_delivery_is_still_running(delivery: EventDelivery) -> None:
    release = threading.Event()
    finished = threading.Event()

    def slow_delivery() -> None:
        release.wait(timeout=10)
        finished.set()

    delivery._submit(slow_delivery)

    delivery.drain(timeout=0.2)
    drained_early = not finished.is_set()
    release.set()
    delivery.drain(timeout=10)

    assert drained_early  # a drain that ignored its timeout would have waited for the delivery to finish
    assert finished.is_set()


def test_an_input_template_quotes_strings_and_nulls_missing_paths_as_eventbridge_does() -> None:
    from mwaa_cp_local.eventbridge import render_input_template

    event = {"detail": {"status": "FAILED", "cause": '{"errorMessage": "x"}', "count": 3}}
    rendered = render_input_template(
        '{"status": <status>, "cause": <cause>, "count": <count>, "error": <error>, "text": "status is <status>"}',
        {"status": "$.detail.status", "cause": "$.detail.cause", "count": "$.detail.count", "error": "$.detail.error"},
        event,
    )
    assert rendered == {
        "status": "FAILED",
        "cause": '{"errorMessage": "x"}',
        "count": 3,
        "error": None,
        "text": "status is FAILED",
    }
