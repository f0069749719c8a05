"""Reading S3 events on the staging bucket: what to deliver, skip or reject."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mwaa_control_plane.dags.events import (
    SEQUENCER_WIDTH,
    Action,
    ArtifactKind,
    normalise_sequencer,
    read_delivery_event,
)
from mwaa_control_plane.errors import InvalidInputError
from tests.conftest import load_event

STAGING = "mwaa-control-plane-stagingbucket-d813bebe567a"


def object_created(key: str, /, **object_fields: Any) -> dict[str, Any]:
    """An EventBridge "Object Created" event, as S3 sends it, for ``key`` on the staging bucket."""
    event = load_event("dag-delivery/dag-created.json")
    event["detail"]["object"]["key"] = key
    event["detail"]["object"].update(object_fields)
    return event


def object_deleted(key: str, /, **object_fields: Any) -> dict[str, Any]:
    event = load_event("dag-delivery/dag-deleted.json")
    event["detail"]["object"]["key"] = key
    event["detail"]["object"].update(object_fields)
    return event


def classic(key: str, event_name: str = "ObjectCreated:Put") -> dict[str, Any]:
    """A classic S3 notification; ``key`` is given URL-encoded, as S3 sends it."""
    event = load_event("dag-delivery/classic-notification.json")
    record = event["Records"][0]
    record["eventName"] = event_name
    record["s3"]["object"]["key"] = key
    return event


def read(event: Any):
    return read_delivery_event(event, staging_bucket=STAGING)


# --------------------------------------------------------------------------- EventBridge shape


def test_an_eventbridge_object_created_event_for_a_dag_is_delivered() -> None:
    decision = read(load_event("dag-delivery/dag-created.json"))

    assert decision.decision == "deliver"
    assert decision.environment_name == "dev-analytics"
    request = decision.request
    assert request is not None
    assert (request.kind, request.action) == (ArtifactKind.DAG, Action.CREATED)
    assert request.staging_bucket == STAGING
    assert request.key == "dev-analytics/dags/good_dag.py"
    assert request.relative_path == "good_dag.py"
    assert request.version_id == "REPLACE-WITH-THE-UPLOADED-VERSION-ID"
    assert request.size == 268
    assert request.etag == "b1946ac92492d2347c6235b4d2611184"
    assert request.event_id == "6a7e8feb-b491-4cf7-a9f1-bf3703467718"


def test_the_sequencer_of_a_delivered_event_is_normalised() -> None:
    request = read(load_event("dag-delivery/dag-created.json")).request

    assert request is not None
    assert request.sequencer == "00617F08299329D189".ljust(SEQUENCER_WIDTH, "0")


def test_an_eventbridge_object_deleted_event_is_delivered_as_a_deletion() -> None:
    decision = read(load_event("dag-delivery/dag-deleted.json"))

    assert decision.decision == "deliver"
    assert decision.request is not None
    assert decision.request.action is Action.DELETED
    assert decision.request.version_id == "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF"
    assert decision.request.size is None


def test_a_deletion_without_a_version_id_is_still_delivered() -> None:
    event = object_deleted("dev-analytics/dags/old.py")
    del event["detail"]["object"]["version-id"]

    decision = read(event)

    assert decision.decision == "deliver"
    assert decision.request is not None
    assert decision.request.version_id is None


def test_a_created_event_without_a_version_id_is_rejected_because_the_bucket_must_be_versioned() -> None:
    event = object_created("dev-analytics/dags/new.py")
    del event["detail"]["object"]["version-id"]

    decision = read(event)

    assert decision.decision == "reject"
    assert "versioned" in decision.reason
    assert decision.environment_name == "dev-analytics"


# --------------------------------------------------------------------------- classic notification shape


def test_a_classic_notification_is_read_with_its_plus_encoded_spaces_decoded() -> None:
    decision = read(load_event("dag-delivery/classic-notification.json"))

    assert decision.decision == "deliver"
    request = decision.request
    assert request is not None
    assert request.key == "dev-analytics/dags/my first dag.py"
    assert request.relative_path == "my first dag.py"
    assert request.version_id == "REPLACE-WITH-THE-UPLOADED-VERSION-ID"
    assert request.etag == "b1946ac92492d2347c6235b4d2611184"
    assert request.event_id == "C3D13FE58DE4C810"
    assert request.action is Action.CREATED


def test_percent_encoded_characters_of_a_classic_key_are_decoded() -> None:
    decision = read(classic("dev-analytics/dags/caf%C3%A9%2Bbar.py"))

    assert decision.request is not None
    assert decision.request.relative_path == "café+bar.py"


def test_a_classic_object_removed_notification_is_a_deletion() -> None:
    decision = read(classic("dev-analytics/dags/old.py", event_name="ObjectRemoved:DeleteMarkerCreated"))

    assert decision.request is not None
    assert decision.request.action is Action.DELETED


# --------------------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("key", "kind", "relative_path"),
    [
        ("dev-analytics/dags/good_dag.py", ArtifactKind.DAG, "good_dag.py"),
        ("dev-analytics/dags/team/etl/load.py", ArtifactKind.DAG, "team/etl/load.py"),
        ("dev-analytics/dags/.airflowignore", ArtifactKind.DAG, ".airflowignore"),
        ("dev-analytics/requirements.txt", ArtifactKind.REQUIREMENTS, "requirements.txt"),
        ("dev-analytics/plugins.zip", ArtifactKind.PLUGINS, "plugins.zip"),
        ("dev-analytics/startup.sh", ArtifactKind.STARTUP, "startup.sh"),
    ],
)
def test_a_key_is_classified_by_its_place_below_the_environment_prefix(
    key: str, kind: ArtifactKind, relative_path: str
) -> None:
    request = read(object_created(key)).request

    assert request is not None
    assert (request.kind, request.relative_path) == (kind, relative_path)


@pytest.mark.parametrize(
    "key",
    [
        "dev-analytics/dags/données clients/rapport été.py",
        "dev-analytics/dags/日本語のDAG.py",
        "dev-analytics/dags/with space.py",
    ],
)
def test_unicode_and_spaces_in_a_key_are_accepted(key: str) -> None:
    decision = read(object_created(key))

    assert decision.decision == "deliver"
    assert decision.request is not None
    assert decision.request.key == key


# --------------------------------------------------------------------------- skips


def test_an_event_from_another_bucket_is_skipped() -> None:
    event = object_created("dev-analytics/dags/good_dag.py")
    event["detail"]["bucket"]["name"] = "someone-elses-bucket"

    decision = read(event)

    assert decision.decision == "skip"
    assert "someone-elses-bucket" in decision.reason
    assert decision.request is None


def test_a_validation_report_is_skipped() -> None:
    decision = read(object_created("reports/dev-analytics/2026-11-23/good_dag.json"))

    assert decision.decision == "skip"
    assert "report" in decision.reason


def test_a_folder_placeholder_is_skipped() -> None:
    decision = read(object_created("dev-analytics/dags/team/"))

    assert decision.decision == "skip"
    assert decision.reason == "folder placeholder"


# --------------------------------------------------------------------------- rejects


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("dev-analytics/dags/../../prod-analytics/dags/evil.py", "'..'"),
        ("dev-analytics/./dags/x.py", "'.'"),
        ("/dev-analytics/dags/x.py", "absolute path"),
        ("dev-analytics/dags\\x.py", "backslash"),
        ("dev-analytics/dags/x\x07.py", "control"),
        ("dev-analytics/dags/x.py\n", "control"),
        ("dev-analytics/dags/\u202eyp.txt", "format character"),
        ("dev-analytics//dags/x.py", "empty path segment"),
        ("dev-analytics/dags//x.py", "empty path segment"),
        ("dev-analytics/dags/" + "a" * 1020 + ".py", "1024 bytes"),
    ],
)
def test_an_unsafe_key_is_rejected_with_the_reason(key: str, reason: str) -> None:
    decision = read(object_created(key))

    assert decision.decision == "reject"
    assert "unsafe object key" in decision.reason
    assert reason in decision.reason
    assert decision.request is None


def test_the_sample_unsafe_key_event_is_rejected_and_names_its_environment() -> None:
    decision = read(load_event("dag-delivery/unsafe-key.json"))

    assert decision.decision == "reject"
    assert decision.environment_name == "dev-analytics"


@pytest.mark.parametrize(
    "key",
    ["1dev/dags/x.py", "dev analytics/dags/x.py", "dev.analytics/dags/x.py", "a" * 81 + "/dags/x.py", "dev-analytics"],
)
def test_a_key_without_a_valid_environment_prefix_is_rejected(key: str) -> None:
    decision = read(object_created(key))

    assert decision.decision == "reject"
    assert "valid MWAA environment name" in decision.reason
    assert decision.environment_name == ""


@pytest.mark.parametrize("key", ["dev-analytics/foo.txt", "dev-analytics/dags", "dev-analytics/plugins/p.py"])
def test_a_key_that_is_neither_in_the_dag_folder_nor_a_known_artifact_is_rejected(key: str) -> None:
    decision = read(object_created(key))

    assert decision.decision == "reject"
    assert "not a DAG-folder path or a known artifact" in decision.reason
    assert decision.environment_name == "dev-analytics"


def test_a_rejected_key_never_names_an_invalid_environment() -> None:
    decision = read(object_created("dev\n/dags/x.py"))

    assert decision.decision == "reject"
    assert decision.environment_name == ""


# --------------------------------------------------------------------------- malformed input


def _without(event: dict[str, Any], *path: str | int) -> dict[str, Any]:
    event = copy.deepcopy(event)
    node = event
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return event


def _two_records() -> dict[str, Any]:
    event = load_event("dag-delivery/classic-notification.json")
    event["Records"].append(copy.deepcopy(event["Records"][0]))
    return event


@pytest.mark.parametrize(
    ("event", "message"),
    [
        pytest.param(["not", "a", "dict"], "not an S3 event object", id="a list"),
        pytest.param("dev-analytics/dags/x.py", "not an S3 event object", id="a string"),
        pytest.param(None, "not an S3 event object", id="None"),
        pytest.param({"hello": "world"}, "expected an EventBridge 'aws.s3' event", id="neither shape"),
        pytest.param(load_event("dag-delivery/malformed.json"), "no object key", id="sample without key"),
        pytest.param(
            _without(object_created("dev-analytics/dags/x.py"), "detail", "bucket"), "no bucket", id="no bucket"
        ),
        pytest.param(
            _without(object_created("dev-analytics/dags/x.py"), "detail", "object", "sequencer"),
            "carries no sequencer",
            id="no sequencer",
        ),
        pytest.param(object_created("dev-analytics/dags/x.py", sequencer=""), "no sequencer", id="empty sequencer"),
        pytest.param(
            object_created("dev-analytics/dags/x.py", sequencer="00617F08-2993"),
            "not a hexadecimal string",
            id="non-hex sequencer",
        ),
        pytest.param(
            object_created("dev-analytics/dags/x.py", sequencer="A" * 41),
            "not a hexadecimal string",
            id="sequencer over 40 digits",
        ),
        pytest.param(object_created("dev-analytics/dags/x.py", key=""), "no object key", id="empty key"),
        pytest.param(object_created("dev-analytics/dags/x.py", key=42), "no object key", id="key not a string"),
        pytest.param(
            {**object_created("x"), "detail-type": "Object Restore Completed"},
            "unsupported S3 event detail-type",
            id="other detail-type",
        ),
        pytest.param(_two_records(), "exactly one record, got 2", id="classic with two records"),
        pytest.param({"Records": []}, "exactly one record, got 0", id="classic with no record"),
        pytest.param(
            classic("dev-analytics/dags/x.py", event_name="ObjectRestore:Post"),
            "unsupported S3 eventName",
            id="other eventName",
        ),
        # What Powertools' models require of the envelope, named without the values.
        pytest.param(
            _without(object_created("dev-analytics/dags/x.py"), "account"),
            "malformed S3 event: account: Field required",
            id="eventbridge event without account",
        ),
        pytest.param(
            _without(object_created("dev-analytics/dags/x.py"), "detail", "object", "key"),
            "no object key (detail.object.key: Field required)",
            id="eventbridge event without key",
        ),
        pytest.param(
            _without(classic("dev-analytics/dags/x.py"), "Records", 0, "s3", "object"),
            "no object key",
            id="classic record without object",
        ),
        pytest.param(
            _without(classic("dev-analytics/dags/x.py"), "Records", 0, "s3", "object", "eTag"),
            "malformed S3 event: Records.0: Value error, Size and eTag fields are required",
            id="classic creation without eTag",
        ),
    ],
)
def test_a_malformed_event_raises_invalid_input_saying_what_is_wrong(event: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        read(event)


def test_a_malformed_event_on_another_bucket_is_still_an_error() -> None:
    event = _without(object_created("dev-analytics/dags/x.py"), "detail", "object", "sequencer")
    event["detail"]["bucket"]["name"] = "someone-elses-bucket"

    with pytest.raises(InvalidInputError, match="sequencer"):
        read(event)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"source": "aws.s3", "detail-type": "Object Created", "detail": None}, id="null detail"),
        pytest.param(
            {
                "source": "aws.s3",
                "detail-type": "Object Created",
                "detail": {"bucket": {"name": STAGING}, "object": "k"},
            },
            id="object is a string",
        ),
        pytest.param({"Records": ["dev-analytics/dags/x.py"]}, id="record is a string"),
    ],
)
def test_a_malformed_nested_structure_raises_invalid_input(event: Any) -> None:
    with pytest.raises(InvalidInputError):
        read(event)


# --------------------------------------------------------------------------- sequencers


def test_a_sequencer_is_right_padded_with_zeros_to_forty_characters() -> None:
    assert normalise_sequencer("00617F08299329D189") == "00617F08299329D189" + "0" * 22


def test_a_lowercase_sequencer_is_upper_cased() -> None:
    assert normalise_sequencer("00617f0a") == "00617F0A".ljust(SEQUENCER_WIDTH, "0")


@pytest.mark.parametrize("sequencer", ["", "   ", "0x1F", "G1", "A" * 41])
def test_a_sequencer_that_is_not_1_to_40_hex_digits_is_refused(sequencer: str) -> None:
    with pytest.raises(InvalidInputError, match="sequencer"):
        normalise_sequencer(sequencer)


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


_HEX = st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=20)


@given(first=_HEX, second=_HEX)
def test_normalised_sequencers_compare_like_their_right_zero_padded_values(first: str, second: str) -> None:
    # S3's rule: right-pad the shorter sequencer with zeros, then the larger value is the later event.
    width = max(len(first), len(second))
    expected = _sign(int(first.ljust(width, "0"), 16) - int(second.ljust(width, "0"), 16))

    a, b = normalise_sequencer(first), normalise_sequencer(second)

    assert _sign((a > b) - (a < b)) == expected


def test_the_validator_configuration_is_skipped_not_rejected() -> None:
    event = load_event("dag-delivery/dag-created.json")
    event["detail"]["object"]["key"] = "dev-analytics/.mwaa-cp.toml"
    decision = read_delivery_event(event, staging_bucket=event["detail"]["bucket"]["name"])
    assert (decision.decision, decision.environment_name) == ("skip", "dev-analytics")
    assert "configuration" in decision.reason


def test_the_event_reader_and_the_validator_name_the_same_configuration_file() -> None:
    # Two constants on purpose: the event reader must not load the validator at cold start.
    from mwaa_control_plane.dags.events import VALIDATOR_SETTINGS_FILE
    from mwaa_control_plane.dags.validation.models import SETTINGS_FILE_NAME

    assert VALIDATOR_SETTINGS_FILE == SETTINGS_FILE_NAME
