"""The diff between the source and a target, the request an input makes, and pacing under throttling."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from botocore.exceptions import ClientError

from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.errors import InvalidInputError, ThrottledError
from mwaa_control_plane.variables.names import fingerprint
from mwaa_control_plane.variables.plan import EnvironmentPlan, diff_target, managed_environment, share_parameters
from mwaa_control_plane.variables.propagation import read_request
from mwaa_control_plane.variables.source import SourceRef, SourceValue
from mwaa_control_plane.variables.targets import Pacer, TargetValue, mark, read_mark
from tests.conftest import load_event

BACKEND = {
    "secrets.backend": "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend",
    "secrets.backend_kwargs": '{"variables_prefix": "/airflow/dev/variables", "connections_lookup_pattern": "x"}',
}


def environment(tags: dict[str, str] | None = None, options: dict[str, str] | None = None) -> object:
    return managed_environment(
        "dev",
        {
            "Status": "AVAILABLE",
            "AirflowVersion": "2.10.3",
            "Tags": {"mwaa-cp:variables": "on"} if tags is None else tags,
            "AirflowConfigurationOptions": BACKEND if options is None else options,
        },
    )


class FakeTarget:
    kind = "variables"
    label = "ssm:/airflow/dev/variables"
    kms_key_id: str | None = "alias/aws/ssm"

    def name_of(self, key: str) -> str:
        return f"/airflow/dev/variables/{key}"

    def read(self, keys: Iterable[str] | None) -> dict[str, TargetValue]:
        raise AssertionError("diff_target gets what was read")


def source(key: str, value: str, *, secure: bool = False) -> SourceValue:
    return SourceValue(SourceRef("variables", None, key), f"/mwaa-cp/variables/global/{key}", value, secure=secure)


def written(key: str, value: str, *, source_value: str | None = None, tier: str = "Standard") -> TargetValue:
    written = fingerprint(value if source_value is None else source_value)
    marked = read_mark(mark(f"/mwaa-cp/variables/global/{key}", written))
    return TargetValue(key=key, value=value, parameter_type="String", tier=tier, marked=marked)  # type: ignore[arg-type]


def diff(desired: dict[str, SourceValue], current: dict[str, TargetValue], *, prune: bool = False) -> EnvironmentPlan:
    managed = environment()
    return diff_target(managed, "variables", FakeTarget(), desired, current, prune=prune)  # type: ignore[arg-type]


def reasons(plan: EnvironmentPlan) -> dict[str, tuple[str, list[str]]]:
    return {c.key: (c.action, c.reasons) for c in plan.changes}


def test_the_tag_decides_the_target() -> None:
    assert environment().target == "ssm"  # type: ignore[attr-defined]
    assert environment(options={}).target == "rest"  # type: ignore[attr-defined]
    forced = environment(tags={"mwaa-cp:variables": "ssm"}, options={})
    assert forced.target == "ssm"  # type: ignore[attr-defined]
    assert forced.variables_prefix == "/airflow/variables"  # type: ignore[attr-defined]
    assert [p.code for p in forced.problems] == ["forced-ssm-without-backend"]  # type: ignore[attr-defined]
    assert environment(tags={}) is None
    assert "not one of" in environment(tags={"mwaa-cp:variables": "yes"}).reason  # type: ignore[attr-defined]


def test_new_changed_unchanged_and_secret_values() -> None:
    plan = diff(
        {
            "new": source("new", "1"),
            "same": source("same", "2"),
            "moved": source("moved", "3"),
            "api_token": source("api_token", "t"),
        },
        {"same": written("same", "2"), "moved": written("moved", "old")},
    )
    assert reasons(plan) == {
        "new": ("create", ["new"]),
        "moved": ("update", ["source-changed"]),
        "api_token": ("create", ["new"]),
    }
    assert plan.unchanged == 1
    token = next(c for c in plan.changes if c.key == "api_token")
    assert token.parameter_type == "SecureString"
    assert "t" not in (token.after or "").split()


def test_a_hand_edit_is_drift_and_a_hand_edit_plus_a_source_change_is_both() -> None:
    plan = diff(
        {"a": source("a", "1"), "b": source("b", "new")},
        {"a": written("a", "by hand", source_value="1"), "b": written("b", "by hand", source_value="old")},
    )
    assert reasons(plan) == {"a": ("update", ["drift"]), "b": ("update", ["source-changed", "drift"])}
    assert [c.key for c in plan.drift] == ["a", "b"]


def test_a_value_not_written_by_the_control_plane_is_adopted_and_never_pruned() -> None:
    unmarked = TargetValue(key="a", value="1", parameter_type="String", tier="Standard", marked=None)
    stray = TargetValue(key="stray", value="x", parameter_type="String", tier="Standard", marked=None)
    plan = diff({"a": source("a", "1")}, {"a": unmarked, "stray": stray}, prune=True)
    assert reasons(plan) == {"a": ("update", ["adopt"])}
    assert plan.unmanaged == 1


def test_prune_deletes_only_managed_values_the_source_no_longer_has() -> None:
    current = {"gone": written("gone", "1")}
    assert reasons(diff({}, current)) == {}
    assert diff({}, current).orphans == 1
    assert reasons(diff({}, current, prune=True)) == {"gone": ("delete", ["pruned"])}


def test_a_type_change_and_an_advanced_parameter_stays_advanced() -> None:
    plan = diff(
        {"secret_x": source("secret_x", "1"), "small": source("small", "tiny")},
        {"secret_x": written("secret_x", "1"), "small": written("small", "big", tier="Advanced")},
    )
    assert reasons(plan)["secret_x"] == ("update", ["type"])
    small = next(c for c in plan.changes if c.key == "small")
    assert small.tier == "Advanced"


def test_environments_sharing_a_prefix_write_once_and_refuse_conflicts() -> None:
    def plan_of(name: str, value: str) -> EnvironmentPlan:
        one = diff({"k": source("k", value)}, {})
        return one.model_copy(
            update={"environment": name, "changes": [c.model_copy(update={"environment": name}) for c in one.changes]}
        )

    same = share_parameters([plan_of("a", "1"), plan_of("b", "1")])
    assert [c.shared_with for p in same for c in p.changes] == [None, "a"]
    conflict = share_parameters([plan_of("a", "1"), plan_of("b", "2")])
    assert all(not p.changes and "per-environment prefixes" in p.problems[0].problem for p in conflict)


def _as(name: str, plan: EnvironmentPlan) -> EnvironmentPlan:
    changes = [c.model_copy(update={"environment": name}) for c in plan.changes]
    return plan.model_copy(update={"environment": name, "changes": changes})


def test_a_value_already_in_place_for_one_environment_conflicts_with_anothers_different_value() -> None:
    # "a" has its value in the shared parameter already (no change); "b" wants another one.
    a = _as("a", diff({"k": source("k", "1")}, {"k": written("k", "1")}))
    b = _as("b", diff({"k": source("k", "2")}, {"k": written("k", "1")}))
    assert a.changes == [] and len(b.changes) == 1

    shared = share_parameters([a, b])

    assert all(not p.changes for p in shared)
    assert [len(p.problems) for p in shared] == [1, 1]
    assert all("per-environment prefixes" in p.problems[0].problem for p in shared)


def test_prune_never_deletes_a_shared_parameter_another_environment_still_wants() -> None:
    only_a = _as("a", diff({}, {"k": written("k", "1")}, prune=True))  # a's source no longer has k
    b = _as("b", diff({"k": source("k", "1")}, {"k": written("k", "1")}, prune=True))
    assert [c.action for c in only_a.changes] == ["delete"]

    shared = share_parameters([only_a, b])

    assert [p.changes for p in shared] == [[], []]
    assert [p.problems for p in shared] == [[], []]


def test_a_blocked_key_is_neither_written_nor_pruned_and_keeps_a_shared_parameter_as_it_is() -> None:
    managed = environment()
    blocked = diff_target(
        managed,  # type: ignore[arg-type]
        "variables",
        FakeTarget(),  # type: ignore[arg-type]
        {},
        {"k": written("k", "1")},
        prune=True,
        blocked={"k"},
    )
    assert blocked.changes == [] and blocked.orphans == 0
    other = _as("b", diff({"k": source("k", "2")}, {"k": written("k", "1")}))

    shared = share_parameters([blocked, other])

    assert all(not p.changes for p in shared)  # b may not replace what the blocked environment reads


class FakeRestTarget(FakeTarget):
    label = "rest"
    kms_key_id = None

    def name_of(self, key: str) -> str:
        return key


def test_a_secret_source_value_that_airflow_would_show_in_clear_on_a_rest_target_is_warned_about() -> None:
    managed = environment(options={})
    desired = {"flag": source("flag", "x", secure=True), "api_token": source("api_token", "y", secure=True)}

    plan = diff_target(managed, "variables", FakeRestTarget(), desired, {}, prune=False)  # type: ignore[arg-type]

    assert [c.key for c in plan.changes] == ["api_token", "flag"]
    assert len(plan.warnings) == 1 and "key flag is secret in the source" in plan.warnings[0]


def test_another_secrets_backend_is_never_offered_the_ssm_repair() -> None:
    other = {"secrets.backend": "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"}
    forced = environment(tags={"mwaa-cp:variables": "ssm"}, options=other)

    [problem] = [p for p in forced.problems if p.code == "forced-ssm-without-backend"]  # type: ignore[attr-defined]
    assert "SecretsManagerBackend" in problem.message and "--fix-backend" not in problem.fix


KEY_ID = "0b7c8f4e-5d1a-4e8b-9c3f-2a6d7e9f1b4c"
KEY_ARN = f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}"


@pytest.mark.parametrize(
    ("stored", "configured", "rewritten"),
    [
        ("alias/aws/ssm", KEY_ARN, True),  # a customer key configured after the AWS managed one
        (KEY_ARN, "alias/aws/ssm", True),
        (KEY_ID, KEY_ARN, False),  # the same key, named two ways
        ("alias/team", "arn:aws:kms:us-east-1:123456789012:alias/team", False),
        ("alias/team", KEY_ARN, False),  # an alias may point at that key: not known without KMS
        ("alias/aws/ssm", "alias/aws/ssm", False),
        ("arn:aws:kms:us-east-1:123456789012:key/other", KEY_ARN, True),
    ],
)
def test_a_secret_written_with_another_kms_key_is_written_again(stored: str, configured: str, rewritten: bool) -> None:
    have = written("api_token", "v")
    have = TargetValue(
        key="api_token", value="v", parameter_type="SecureString", tier="Standard", key_id=stored, marked=have.marked
    )
    target = FakeTarget()
    target.kms_key_id = configured
    plan = diff_target(
        environment(),  # type: ignore[arg-type]
        "variables",
        target,  # type: ignore[arg-type]
        {"api_token": source("api_token", "v")},
        {"api_token": have},
        prune=False,
    )

    assert reasons(plan) == ({"api_token": ("update", ["kms-key"])} if rewritten else {})


def test_requests_from_each_trigger() -> None:
    console = read_request(load_event("variable-propagation/apply-prune.json"), repair_drift=False)
    assert (console.mode, console.prune, console.origin) == ("apply", True, "console")
    change = read_request(load_event("variable-propagation/parameter-change.json"), repair_drift=False)
    assert change.scope is not None and (change.scope.kind, change.scope.key) == ("variables", "data_bucket")
    schedule = read_request({"mode": "reconcile", "environment": None, "prune": False}, repair_drift=True)
    assert (schedule.origin, schedule.writes) == ("schedule", True)
    assert not read_request({"mode": "reconcile"}, repair_drift=False).writes
    with pytest.raises(InvalidInputError, match="mode"):
        read_request(load_event("variable-propagation/malformed.json"), repair_drift=False)
    with pytest.raises(InvalidInputError, match="fix_backend"):
        read_request({"mode": "plan", "fix_backend": True}, repair_drift=False)
    with pytest.raises(InvalidInputError, match="reconcile never deletes"):
        read_request({"mode": "reconcile", "prune": True}, repair_drift=False)
    label = load_event("variable-propagation/parameter-change.json")
    label["detail"]["operation"] = "LabelParameterVersion"
    assert read_request(label, repair_drift=False).skip
    bad_environment = load_event("variable-propagation/parameter-change.json")
    bad_environment["detail"]["name"] = "/mwaa-cp/variables/env/1bad/x"
    with pytest.raises(InvalidInputError, match="not an MWAA environment name"):
        read_request(bad_environment, repair_drift=False)


def throttled() -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutParameter")


def test_the_pacer_paces_backs_off_and_resumes_the_same_call() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, rate_per_second=2, random=lambda: 1.0)
    answers: list[object] = [throttled(), throttled(), "ok"]

    def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    assert pacer.call("PutParameter", call) == "ok"
    assert pacer.calls == {"PutParameter": 3}
    assert pacer.throttles == 2
    assert pacer.throttled_seconds == pytest.approx(1.0 + 2.0)


def test_the_pacer_gives_up_after_its_attempts() -> None:
    pacer = Pacer(ManualClock(), rate_per_second=100, max_throttled_attempts=3, random=lambda: 0.0)

    def call() -> None:
        raise throttled()

    with pytest.raises(ThrottledError, match="3 attempts"):
        pacer.call("PutParameter", call)
