"""What an S3 event on the staging bucket asks the control plane to deliver.

Staging layout, one prefix per environment::

    <environment>/dags/<path>        DAG files, helper modules, .airflowignore (synced file by file)
    <environment>/requirements.txt   \
    <environment>/plugins.zip         } applied with UpdateEnvironment and a new object version
    <environment>/startup.sh         /
    <environment>/.mwaa-cp.toml      the validator's configuration; read by each validation, never delivered
    reports/...                      written by the control plane; never delivered
    variables/...                    variables files, for variable-propagation; never delivered

Both shapes are accepted, each validated by its Powertools parser model:
EventBridge (``S3EventNotificationEventBridgeModel``: ``detail-type`` Object Created/Deleted,
keys as is) and classic S3 notifications (``S3Model``: ``Records[]``, URL-encoded keys). Keys
that could escape the environment's folder (``..``, absolute paths, backslashes, control
characters) are rejected, never normalised into something else.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import unquote_plus

from pydantic import Field, ValidationError

from mwaa_control_plane.errors import InvalidInputError
from mwaa_control_plane.payloads import ENVIRONMENT_NAME, EnvironmentName, Payload, validation_problems

REPORTS_PREFIX = "reports/"
VARIABLES_PREFIX = "variables/"
VALIDATOR_SETTINGS_FILE = ".mwaa-cp.toml"
# S3 sequencers are hex of varying length; right-padded to this width they compare as strings.
SEQUENCER_WIDTH = 40


class ArtifactKind(StrEnum):
    DAG = "dag"
    REQUIREMENTS = "requirements"
    PLUGINS = "plugins"
    STARTUP = "startup"


ARTIFACT_FILES = {
    "requirements.txt": ArtifactKind.REQUIREMENTS,
    "plugins.zip": ArtifactKind.PLUGINS,
    "startup.sh": ArtifactKind.STARTUP,
}


class Action(StrEnum):
    CREATED = "created"
    DELETED = "deleted"


class DeliveryRequest(Payload):
    """One object version to deliver (or one deletion to propagate) to one environment."""

    environment_name: EnvironmentName
    kind: ArtifactKind
    action: Action
    staging_bucket: Annotated[str, Field(min_length=3)]
    key: Annotated[str, Field(min_length=1)]
    relative_path: Annotated[str, Field(min_length=1)]
    """Path below ``dags/`` for DAG-folder files, the file name for artifacts."""
    version_id: str | None = None
    sequencer: Annotated[str, Field(pattern=r"^[0-9A-F]+$")]
    size: int | None = None
    etag: str | None = None
    event_id: str = ""


class DeliveryDecision(Payload):
    """The first step's answer: deliver ``request``, skip it (with a reason), or reject it (notify)."""

    decision: Literal["deliver", "skip", "reject"]
    reason: str = ""
    request: DeliveryRequest | None = None
    key: str = ""
    environment_name: str = ""


def normalise_sequencer(sequencer: str) -> str:
    """Right-pad with zeros so that two sequencers of the same key compare as strings (S3's rule)."""
    value = sequencer.strip().upper()
    if not re.fullmatch(r"[0-9A-F]{1,40}", value):
        raise InvalidInputError(f"S3 sequencer {sequencer!r} is not a hexadecimal string")
    return value.ljust(SEQUENCER_WIDTH, "0")


def _unsafe_key_reason(key: str) -> str | None:
    if key.startswith("/"):
        return "absolute path"
    if "\\" in key:
        return "backslash in key"
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in key):
        return "control or format character in key"
    segments = key.split("/")
    if any(s in (".", "..") for s in segments):
        return "'.' or '..' path segment"
    if any(s == "" for s in segments[:-1]):
        return "empty path segment ('//')"
    if len(key.encode("utf-8")) > 1024:
        return "key longer than 1024 bytes"
    return None


def _object(value: Any, where: str) -> dict[str, Any]:
    """A nested JSON object of the event; absent counts as empty, anything else is malformed."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError(f"malformed S3 event: {where} is not an object")
    return value


@dataclass(frozen=True, slots=True)
class _Fields:
    """What either S3 event shape says about one object."""

    bucket: str
    key: str
    version_id: str | None
    sequencer: str | None
    size: int | None
    etag: str | None
    action: Action
    event_id: str


_NO_KEY = "the S3 event names no bucket or no object key"


def _malformed(exc: ValidationError, *where: tuple[str | int, ...]) -> InvalidInputError:
    """The model's problems (never the values); said first when the bucket name or the key is missing."""

    def about(loc: tuple[str | int, ...], kind: str, place: tuple[str | int, ...]) -> bool:
        # The field itself, or an object on its way that is absent or not an object.
        absent = kind == "missing" or kind.endswith("_type")
        return loc[: len(place)] == place or (absent and loc == place[: len(loc)])

    problems = validation_problems(exc)
    if any(about(tuple(error["loc"]), error["type"], place) for error in exc.errors() for place in where):
        return InvalidInputError(f"{_NO_KEY} ({problems})")
    return InvalidInputError(f"malformed S3 event: {problems}")


def _eventbridge_fields(event: dict[str, Any]) -> _Fields:
    kind = event.get("detail-type")
    if kind not in ("Object Created", "Object Deleted"):
        raise InvalidInputError(f"unsupported S3 event detail-type {kind!r}")
    # Imported here: only the step that reads S3 events needs the models (a cold-start cost elsewhere).
    from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel

    try:
        parsed = S3EventNotificationEventBridgeModel.model_validate(event)
    except ValidationError as exc:
        raise _malformed(exc, ("detail", "object", "key"), ("detail", "bucket", "name")) from None
    obj = parsed.detail.object
    return _Fields(
        bucket=parsed.detail.bucket.name,
        key=obj.key,
        version_id=obj.version_id,
        sequencer=obj.sequencer,
        size=None if obj.size is None else int(obj.size),
        etag=obj.etag or None,
        action=Action.CREATED if kind == "Object Created" else Action.DELETED,
        event_id=parsed.id,
    )


def _notification_fields(event: dict[str, Any], records: list[Any]) -> _Fields:
    if len(records) != 1:
        raise InvalidInputError(f"a classic S3 notification must carry exactly one record, got {len(records)}")
    record = _object(records[0], "Records[0]")
    name = record.get("eventName")
    if not isinstance(name, str) or not name.startswith(("ObjectCreated:", "ObjectRemoved:")):
        raise InvalidInputError(f"unsupported S3 eventName {name!r}")
    # S3RecordModel's own validator reads s3.object before the fields are validated, and raises
    # AttributeError rather than a validation error when it is missing: make sure it is an object first.
    if not _object(_object(record.get("s3"), "Records[0].s3").get("object"), "Records[0].s3.object"):
        raise InvalidInputError(_NO_KEY)
    from aws_lambda_powertools.utilities.parser.models import S3Model

    try:
        parsed = S3Model.model_validate(event).Records[0]
    except ValidationError as exc:
        raise _malformed(exc, ("Records", 0, "s3", "object", "key"), ("Records", 0, "s3", "bucket", "name")) from None
    obj = parsed.s3.object
    if obj is None:  # checked above; narrows the type
        raise InvalidInputError(_NO_KEY)
    return _Fields(
        bucket=parsed.s3.bucket.name,
        key=unquote_plus(obj.key),
        version_id=obj.versionId,
        sequencer=obj.sequencer,
        size=None if obj.size is None else int(obj.size),
        etag=obj.eTag,
        action=Action.CREATED if name.startswith("ObjectCreated:") else Action.DELETED,
        event_id=parsed.responseElements.x_amz_request_id,
    )


def _raw_fields(event: Any) -> _Fields:
    """Bucket, key, version, sequencer and action out of either S3 event shape."""
    if not isinstance(event, dict):
        raise InvalidInputError("the input is not an S3 event object")
    if event.get("source") == "aws.s3" and "detail" in event:
        return _eventbridge_fields(event)
    records = event.get("Records")
    if isinstance(records, list):
        return _notification_fields(event, records)
    raise InvalidInputError("not an S3 event: expected an EventBridge 'aws.s3' event or a notification with Records[]")


def read_delivery_event(event: Any, *, staging_bucket: str) -> DeliveryDecision:
    """Classify an S3 event on the staging bucket. Malformed events raise InvalidInputError."""
    fields = _raw_fields(event)
    bucket, key = fields.bucket, fields.key
    if not bucket or not key:
        raise InvalidInputError(_NO_KEY)
    if not fields.sequencer:
        raise InvalidInputError(f"the S3 event for {key!r} carries no sequencer")
    sequencer = normalise_sequencer(fields.sequencer)
    if bucket != staging_bucket:
        return DeliveryDecision(decision="skip", reason=f"bucket {bucket} is not the staging bucket", key=key)
    if key.startswith(REPORTS_PREFIX):
        return DeliveryDecision(decision="skip", reason="validation reports are not delivered", key=key)
    if key.startswith(VARIABLES_PREFIX):
        return DeliveryDecision(
            decision="skip", reason="variables files go to variable-propagation, never to a DAG folder", key=key
        )
    if key.endswith("/"):
        return DeliveryDecision(decision="skip", reason="folder placeholder", key=key)
    unsafe = _unsafe_key_reason(key)
    environment, _, rest = key.partition("/")
    if unsafe:
        return DeliveryDecision(
            decision="reject",
            reason=f"unsafe object key: {unsafe}",
            key=key,
            environment_name=environment if ENVIRONMENT_NAME.match(environment) else "",
        )
    if not ENVIRONMENT_NAME.match(environment) or not rest:
        return DeliveryDecision(
            decision="reject",
            reason="key must start with a valid MWAA environment name: <environment>/dags/... or "
            "<environment>/requirements.txt|plugins.zip|startup.sh",
            key=key,
        )
    if rest == VALIDATOR_SETTINGS_FILE:
        return DeliveryDecision(
            decision="skip",
            reason="the validator's configuration: read by every validation of this environment, never delivered",
            key=key,
            environment_name=environment,
        )
    if rest.startswith("dags/") and len(rest) > len("dags/"):
        kind, relative = ArtifactKind.DAG, rest.removeprefix("dags/")
    elif rest in ARTIFACT_FILES:
        kind, relative = ARTIFACT_FILES[rest], rest
    else:
        return DeliveryDecision(
            decision="reject",
            reason=f"{rest!r} is not a DAG-folder path or a known artifact",
            key=key,
            environment_name=environment,
        )
    if fields.action is Action.CREATED and not fields.version_id:
        return DeliveryDecision(
            decision="reject",
            reason="the event has no version-id: the staging bucket must be versioned",
            key=key,
            environment_name=environment,
        )
    try:
        request = DeliveryRequest(
            environment_name=environment,
            kind=kind,
            action=fields.action,
            staging_bucket=bucket,
            key=key,
            relative_path=relative,
            version_id=fields.version_id,
            sequencer=sequencer,
            size=fields.size,
            etag=fields.etag,
            event_id=fields.event_id,
        )
    except ValidationError as exc:
        raise InvalidInputError(f"malformed S3 event for {key!r}: {exc.errors(include_url=False)[0]['msg']}") from None
    return DeliveryDecision(decision="deliver", request=request, key=key, environment_name=environment)
