"""environment-change end to end in the local runtime: the one door for every UpdateEnvironment."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from mwaa_control_plane import clock as clock_module
from mwaa_control_plane.state import StateRepository
from mwaa_cp_local import mwaa
from mwaa_cp_local.runtime import LocalAws
from mwaa_cp_local.seed import create_environment, source_bucket_name, wait_for_status
from tests.conftest import load_event
from tests.flows.helpers import FILES, Notifications, last_state

pytestmark = pytest.mark.flow
ENV = "dev-analytics"


@pytest.fixture
def aws(aws: LocalAws) -> LocalAws:
    create_environment(aws, ENV)
    return aws


def _sample(name: str, **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(f"environment-change/{name}.json"))
    event.update(changes)
    return event


def _final_state(aws: LocalAws, execution_arn: str) -> str:
    aws.wait_for_execution(execution_arn, timeout=180)
    return last_state(aws, execution_arn)


def _update_calls(aws: LocalAws) -> list[dict[str, Any]]:
    """What the one door's apply step sent: records whose status says UpdateEnvironment was called."""
    return [
        i.result for i in aws.lambdas.invocations if isinstance(i.result, dict) and i.result.get("status") == "updating"
    ]


def _environment(aws: LocalAws) -> dict[str, Any]:
    return dict(aws.client("mwaa").get_environment(Name=ENV)["Environment"])


def _wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Poll ``condition`` (real time, bounded): for steps of a running execution the test must not race."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.05)


def _repository(aws: LocalAws) -> StateRepository:
    return StateRepository(aws.client("dynamodb"), aws.stack.ref("StateTable"), clock_module.get_clock())


def test_a_capacity_change_is_applied_and_recorded_with_before_and_after(aws: LocalAws, inbox: Notifications) -> None:
    before = _environment(aws)
    arn = aws.start_execution("environment-change", _sample("capacity-change"))
    assert _final_state(aws, arn) == "Environment changed"
    environment = _environment(aws)
    assert (environment["MinWorkers"], environment["MaxWorkers"]) == (2, 6)
    [record] = _repository(aws).change_history(ENV)
    assert record.status == "succeeded"
    assert {(c.field, c.before, c.after) for c in record.changes} == {
        ("min_workers", before["MinWorkers"], 2),
        ("max_workers", before["MaxWorkers"], 6),
    }
    assert any("environment updated" in m["subject"] for m in inbox.messages())
    assert _repository(aws).environment_lock_holder(ENV) is None, "the lock is released at the end"


def test_two_requests_are_coalesced_into_one_update_and_the_superseded_requester_is_told(
    aws: LocalAws, inbox: Notifications
) -> None:
    # Given another flow holds the lock while two requests arrive (so neither can apply alone)
    repository = _repository(aws)
    holder = "arn:aws:states:us-east-1:123456789012:execution:off-hours:resume"
    repository.acquire_environment_lock(ENV, owner=holder, flow="off-hours", purpose="resume", lease_seconds=3600)
    first = aws.start_execution("environment-change", _sample("capacity-change"))
    _wait_until(lambda: len(repository.change_requests(ENV)) == 1)  # "later" means recorded later
    second = aws.start_execution(
        "environment-change",
        _sample("capacity-change", max_workers=8, reason="more room", requested_by={"flow": "worker-analysis"}),
    )
    _wait_until(lambda: len(repository.change_requests(ENV)) == 2)
    # When the lock is released
    repository.release_environment_lock(ENV, holder)
    # Then one update carries both, the later max_workers winning
    finals = sorted([_final_state(aws, first), _final_state(aws, second)])
    assert finals == ["Applied by another execution", "Environment changed"]
    assert len(_update_calls(aws)) == 1
    environment = _environment(aws)
    assert (environment["MinWorkers"], environment["MaxWorkers"]) == (2, 8)
    [note] = [m for m in inbox.messages() if "environment updated" in m["subject"]]
    assert "superseded for max_workers" in note["message"]
    assert "worker-analysis" in note["message"]


def test_a_request_while_the_environment_is_updating_waits_then_applies(aws: LocalAws) -> None:
    mwaa.configure(update_seconds=3000)
    aws.client("mwaa").update_environment(Name=ENV, Schedulers=3)  # someone else's update, from the console
    assert _environment(aws)["Status"] == "UPDATING"
    arn = aws.start_execution("environment-change", _sample("capacity-change"))
    assert _final_state(aws, arn) == "Environment changed"
    waits = [
        i.result
        for i in aws.lambdas.invocations
        if isinstance(i.result, dict) and i.result.get("state") == "wait" and "UPDATING" in i.result.get("reason", "")
    ]
    assert waits, "the flow waited for the running update instead of calling UpdateEnvironment"
    environment = wait_for_status(aws, ENV, {"AVAILABLE"})
    assert (environment["Schedulers"], environment["MinWorkers"]) == (3, 2)


def test_a_change_mwaa_would_refuse_is_refused_before_the_api(aws: LocalAws, inbox: Notifications) -> None:
    arn = aws.start_execution("environment-change", load_event("environment-change/refused-micro-schedulers.json"))
    assert _final_state(aws, arn) == "Change refused"
    assert _update_calls(aws) == []
    assert _environment(aws)["EnvironmentClass"] == "mw1.small"
    [note] = [m for m in inbox.messages() if "refused" in m["subject"]]
    assert "mw1.micro allows exactly 1 schedulers, not 2" in note["message"]


def test_an_unknown_field_is_refused_with_a_clear_error(aws: LocalAws, inbox: Notifications) -> None:
    arn = aws.start_execution("environment-change", _sample("capacity-change", subnet_ids=["subnet-1", "subnet-2"]))
    assert _final_state(aws, arn) == "Change refused"
    [note] = [m for m in inbox.messages() if "refused" in m["subject"]]
    assert "subnets cannot be changed after the environment was created" in note["message"]


def test_update_failed_restores_the_previous_artifact_and_reports_mwaa_s_error(
    aws: LocalAws, inbox: Notifications
) -> None:
    s3 = aws.client("s3")
    bucket = source_bucket_name(ENV)
    broken = s3.put_object(
        Bucket=bucket, Key="requirements.txt", Body=(FILES / "requirements_broken.txt").read_bytes()
    )["VersionId"]
    sample = _sample("artifact-update")
    sample["requirements"]["version"] = broken
    arn = aws.start_execution("environment-change", sample)
    assert _final_state(aws, arn) == "Environment change failed"
    environment = _environment(aws)
    assert environment["Status"] == "UPDATE_FAILED"
    code = environment["LastUpdate"]["Error"]["ErrorCode"]
    [note] = [m for m in inbox.messages() if "update failed" in m["subject"]]
    assert code in note["message"]
    assert "requirements removed (there was none before)" in note["message"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="requirements.txt").get("KeyCount", 0)
    assert listed == 0, "the broken requirements.txt is no longer the current object"
    [record] = _repository(aws).change_history(ENV)
    assert (record.status, record.error_code) == ("failed", code)


def test_a_lock_held_by_another_flow_is_waited_for_then_the_change_applies(aws: LocalAws) -> None:
    repository = _repository(aws)
    holder = "arn:aws:states:us-east-1:123456789012:execution:off-hours:tonight"
    repository.acquire_environment_lock(ENV, owner=holder, flow="off-hours", purpose="hibernate", lease_seconds=3600)
    arn = aws.start_execution("environment-change", _sample("capacity-change"))
    _wait_until(lambda: any(i.error_type == "EnvironmentLockedError" for i in aws.lambdas.invocations))
    assert _environment(aws)["MinWorkers"] == 1, "nothing changes while another flow holds the lock"
    repository.release_environment_lock(ENV, holder)  # the other flow is done
    assert _final_state(aws, arn) == "Environment changed"
    assert _environment(aws)["MinWorkers"] == 2


def test_a_lock_that_stays_held_times_out_naming_its_holder(aws: LocalAws, inbox: Notifications) -> None:
    repository = _repository(aws)
    holder = "arn:aws:states:us-east-1:123456789012:execution:off-hours:tonight"
    repository.acquire_environment_lock(ENV, owner=holder, flow="off-hours", purpose="hibernate", lease_seconds=86400)
    arn = aws.start_execution("environment-change", _sample("capacity-change"))
    assert _final_state(aws, arn) == "Environment lock busy"
    assert _update_calls(aws) == []
    [note] = [m for m in inbox.messages() if "not applied" in m["subject"]]
    assert "off-hours" in note["message"] and "hibernate" in note["message"] and holder in note["message"]
    still = repository.environment_lock_holder(ENV)
    assert still is not None and still.owner == holder, "the other flow's lock is never taken from it"
    assert repository.change_requests(ENV) == [], "the request was withdrawn: no later update may apply it"
    [withdrawn] = repository.change_requests(ENV, pending_only=False)
    assert withdrawn.outcome is not None and withdrawn.outcome.status == "failed"


def test_throttling_is_retried_and_the_change_still_applies(aws: LocalAws) -> None:
    aws.faults.inject("mwaa", "GetEnvironment", error_code="ThrottlingException", times=6)
    aws.faults.inject("mwaa", "UpdateEnvironment", error_code="ThrottlingException", times=5)
    arn = aws.start_execution("environment-change", _sample("capacity-change"))
    assert _final_state(aws, arn) == "Environment changed"
    assert (_environment(aws)["MinWorkers"], len(_update_calls(aws))) == (2, 1)


def test_a_configuration_change_keeps_the_other_options_and_records_no_value(aws: LocalAws) -> None:
    arn = aws.start_execution("environment-change", _sample("config-option-change"))
    assert _final_state(aws, arn) == "Environment changed"
    options = _environment(aws)["AirflowConfigurationOptions"]
    assert options["core.parallelism"] == "64" and options["celery.worker_autoscale"] == "10,10"
    assert "scheduler.min_file_process_interval" not in options
    [record] = _repository(aws).change_history(ENV)
    recorded = " ".join(str(c.after) for c in record.changes)
    assert "sha256:" in recorded and "64" not in recorded.replace("(2 chars)", "")


def test_a_request_for_values_already_in_effect_changes_nothing(aws: LocalAws) -> None:
    current = _environment(aws)
    arn = aws.start_execution(
        "environment-change",
        _sample("capacity-change", min_workers=current["MinWorkers"], max_workers=current["MaxWorkers"]),
    )
    assert _final_state(aws, arn) == "Nothing to change"
    assert _update_calls(aws) == []


def test_concurrent_executions_never_update_the_environment_twice_at_once(aws: LocalAws) -> None:
    arns: list[str] = []

    def start(n: int) -> None:
        arns.append(aws.start_execution("environment-change", _sample("capacity-change", max_workers=3 + n)))

    threads = [threading.Thread(target=start, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finals = [_final_state(aws, arn) for arn in arns]
    assert finals.count("Environment changed") >= 1
    assert set(finals) <= {"Environment changed", "Applied by another execution"}
    refused = [i for i in aws.lambdas.invocations if i.error_type == "EnvironmentBusyError"]
    assert not refused, "no execution ever called UpdateEnvironment while another update ran"
