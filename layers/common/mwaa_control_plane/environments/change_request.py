"""What a flow (or a person at the console) asks the environment-change flow to do (outcomes: change_records).

A :class:`ChangeRequest` names only the fields to change; every other field stays as the
environment has it. Subnets, the KMS key and endpoint management are in the schema only so
that asking for them is refused with a reason (MWAA fixes them at creation), not with
"extra inputs are not permitted".
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mwaa_control_plane.payloads import EnvironmentName

# UpdateEnvironment's ConfigKey and ConfigValue (botocore model, mwaa 2020-07-01).
ConfigKey = Annotated[str, Field(pattern=r"^[a-z]+([a-z0-9._]*[a-z0-9_]+)?$", min_length=1, max_length=64)]
ConfigValue = Annotated[str, Field(pattern=r"^[ -~]+$", min_length=1, max_length=65536)]
EnvironmentClass = Literal["mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge"]
ArtifactKind = Literal["requirements", "plugins", "startup"]
ARTIFACT_KINDS: tuple[ArtifactKind, ...] = ("requirements", "plugins", "startup")
CAPACITY_FIELDS = ("environment_class", "min_workers", "max_workers", "schedulers", "min_webservers", "max_webservers")


class Strict(BaseModel):
    """Base of the request and record models: exact fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ArtifactVersion(Strict):
    """An object version in the environment's source bucket (requirements.txt, plugins.zip, startup.sh)."""

    s3_path: Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[^/].*$")]
    version: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    modules: list[str] = []
    """plugins.zip only: the modules it makes importable, as the validator found them."""


class ConfigurationChange(Strict):
    """Airflow configuration options to add or change (``set``) and to remove (``remove``)."""

    set: dict[ConfigKey, ConfigValue] = {}
    remove: list[ConfigKey] = []

    @model_validator(mode="after")
    def _disjoint(self) -> ConfigurationChange:
        both = sorted(set(self.set) & set(self.remove))
        if both:
            raise ValueError(f"options both set and removed: {', '.join(both)}")
        if not self.set and not self.remove:
            raise ValueError("set or remove at least one option")
        return self


class AnnouncementRef(Strict):
    """An announced change (see ``StateRepository.announce_change``) that a request fulfils."""

    source: Annotated[str, Field(min_length=1, max_length=1024)]
    version_id: str | None = None


class RequestedBy(Strict):
    flow: Annotated[str, Field(min_length=1, max_length=64)] = "console"
    execution: Annotated[str, Field(max_length=2048)] = ""


class ChangeRequest(Strict):
    """The environment-change flow's input: the fields to change, why, and who asks."""

    environment_name: EnvironmentName
    requirements: ArtifactVersion | None = None
    plugins: ArtifactVersion | None = None
    startup: ArtifactVersion | None = None
    environment_class: EnvironmentClass | None = None
    min_workers: Annotated[int, Field(ge=1)] | None = None
    max_workers: Annotated[int, Field(ge=1)] | None = None
    schedulers: Annotated[int, Field(ge=1, le=5)] | None = None
    min_webservers: Annotated[int, Field(ge=1)] | None = None
    max_webservers: Annotated[int, Field(ge=1)] | None = None
    airflow_configuration_options: ConfigurationChange | None = None
    worker_replacement_strategy: Literal["FORCED", "GRACEFUL"] | None = None
    # Fixed at creation by MWAA: accepted by the schema only to be refused with the reason.
    subnet_ids: list[str] | None = None
    kms_key: str | None = None
    endpoint_management: str | None = None

    reason: Annotated[str, Field(min_length=1, max_length=500)]
    requested_by: RequestedBy = RequestedBy()
    restore_on_failure: bool = True
    """On UPDATE_FAILED, put the previous requirements/plugins/startup versions back in the source bucket."""
    settle_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    """Wait until the newest pending request is this old before applying, so a burst becomes one update."""
    fulfils: AnnouncementRef | None = None
    """The announcement this request fulfils; withdrawn once the request is recorded."""

    def without_values(self) -> ChangeRequest:
        """This request with its configuration values replaced by fingerprints (kept once it is resolved)."""
        options = self.airflow_configuration_options
        if options is None or not options.set:
            return self
        hidden = {key: fingerprint(value) or "" for key, value in options.set.items()}
        return self.model_copy(update={"airflow_configuration_options": options.model_copy(update={"set": hidden})})

    def requested_fields(self) -> dict[str, Any]:
        """Field name -> requested value, for every changeable field this request sets.

        Configuration options count one field per option (``airflow_configuration_options.<key>``;
        ``None`` means remove), so two requests that touch different options do not supersede each other.
        """
        fields: dict[str, Any] = {}
        for kind in ARTIFACT_KINDS:
            artifact = getattr(self, kind)
            if artifact is not None:
                fields[kind] = artifact
        for name in CAPACITY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                fields[name] = value
        options = self.airflow_configuration_options
        if options is not None:
            fields.update({f"airflow_configuration_options.{k}": v for k, v in options.set.items()})
            fields.update({f"airflow_configuration_options.{k}": None for k in options.remove})
        return fields


def fingerprint(value: str | None) -> str | None:
    """How a configuration value appears in records and payloads: a hash prefix and the length."""
    if value is None:
        return None
    return f"sha256:{hashlib.sha256(value.encode()).hexdigest()[:12]} ({len(value)} chars)"
