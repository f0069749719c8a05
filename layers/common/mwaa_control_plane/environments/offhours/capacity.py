"""Scale-down and scale-up: what an environment runs, the least its class allows, and the change requests between.

Scale-down asks the environment-change flow for the class's minimum (``limits.CLASS_LIMITS``:
one worker, the fewest schedulers and web servers; mw1.micro's counts are fixed), with the
GRACEFUL worker replacement so running tasks may finish, and, when ``mwaa-cp:off-hours-class``
names a smaller class, that class for the night: the only scale-down that lowers the base fee.
Scale-up restores exactly the capacity recorded before the scale-down. Both return None when
there is nothing to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, model_validator

from mwaa_control_plane.environments.change_request import (
    CAPACITY_FIELDS,
    ChangeRequest,
    EnvironmentClass,
    RequestedBy,
    Strict,
)
from mwaa_control_plane.environments.limits import CLASS_LIMITS
from mwaa_control_plane.errors import InvalidInputError

FLOW = "off-hours"
# Smallest first: a night class is used only when it is lower in this order than the environment's class.
CLASS_ORDER: tuple[EnvironmentClass, ...] = (
    "mw1.micro",
    "mw1.small",
    "mw1.medium",
    "mw1.large",
    "mw1.xlarge",
    "mw1.2xlarge",
)
Count = Annotated[int, Field(ge=1)]


class Capacity(Strict):
    """An environment's class and counts, under the change request's names; what scale-down records."""

    environment_class: EnvironmentClass
    min_workers: Count
    max_workers: Count
    schedulers: Count
    min_webservers: Count
    max_webservers: Count

    @model_validator(mode="after")
    def _ordered(self) -> Capacity:
        if self.min_workers > self.max_workers:
            raise ValueError(f"min_workers ({self.min_workers}) is greater than max_workers ({self.max_workers})")
        if self.min_webservers > self.max_webservers:
            raise ValueError(
                f"min_webservers ({self.min_webservers}) is greater than max_webservers ({self.max_webservers})"
            )
        return self

    @classmethod
    def from_environment(cls, environment: Mapping[str, Any]) -> Capacity:
        """From GetEnvironment's ``Environment``; InvalidInputError naming what is missing.

        Web server counts are absent on environments created before MWAA had them: the class's
        fixed count (mw1.micro) or MWAA's old fixed two stand in, as the environment really runs.
        """
        klass = environment.get("EnvironmentClass")
        if klass not in CLASS_ORDER:
            raise InvalidInputError(f"environment {environment.get('Name')!r} has no known EnvironmentClass: {klass!r}")
        limits = CLASS_LIMITS[klass]
        webservers_default = limits.webservers[0] if limits.webservers[0] == limits.webservers[1] else 2
        values = {
            "environment_class": klass,
            "min_workers": environment.get("MinWorkers"),
            "max_workers": environment.get("MaxWorkers"),
            "schedulers": environment.get("Schedulers"),
            "min_webservers": environment.get("MinWebservers") or webservers_default,
            "max_webservers": environment.get("MaxWebservers") or webservers_default,
        }
        missing = [name for name, value in values.items() if value is None]
        if missing:
            raise InvalidInputError(
                f"environment {environment.get('Name')!r}: GetEnvironment did not report {', '.join(missing)}"
            )
        return cls.model_validate(values)

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CAPACITY_FIELDS}

    def describe(self) -> str:
        return (
            f"{self.environment_class}, workers {self.min_workers}-{self.max_workers}, {self.schedulers} schedulers,"
            f" web servers {self.min_webservers}-{self.max_webservers}"
        )


def night_class_for(current: EnvironmentClass, night_class: EnvironmentClass | None) -> EnvironmentClass:
    """The class for the night: ``night_class`` when it is smaller than ``current``, else ``current``."""
    if night_class is not None and CLASS_ORDER.index(night_class) < CLASS_ORDER.index(current):
        return night_class
    return current


def minimum_capacity(environment_class: EnvironmentClass) -> Capacity:
    """The least ``environment_class`` allows: one worker, the fewest schedulers and web servers."""
    limits = CLASS_LIMITS[environment_class]
    workers = limits.workers[0] if limits.workers else 1
    return Capacity(
        environment_class=environment_class,
        min_workers=workers,
        max_workers=workers,
        schedulers=limits.schedulers[0],
        min_webservers=limits.webservers[0],
        max_webservers=limits.webservers[0],
    )


def scale_down_target(current: Capacity, night_class: EnvironmentClass | None = None) -> Capacity:
    """The capacity scale-down asks for: the minimum of the night class (if smaller) or of the current class."""
    return minimum_capacity(night_class_for(current.environment_class, night_class))


def changed_fields(current: Capacity, target: Capacity) -> dict[str, Any]:
    """The fields to request so that ``current`` becomes ``target``; every count when the class changes
    (the environment-change flow checks a class change against the counts it comes with)."""
    if current.environment_class != target.environment_class:
        return target.fields()
    return {name: value for name, value in target.fields().items() if getattr(current, name) != value}


def scale_down_request(
    environment_name: str,
    current: Capacity,
    *,
    night_class: EnvironmentClass | None = None,
    detail: str = "",
    execution: str = "",
) -> ChangeRequest | None:
    """The environment-change request that scales ``current`` down; None when it is already at that minimum.

    ``detail`` (e.g. the off-hours decision) is appended to the reason; ``execution`` names the
    requesting execution. A night class that is not smaller than the current class is ignored,
    and the reason says so.
    """
    target = scale_down_target(current, night_class)
    fields = changed_fields(current, target)
    if not fields:
        return None
    reason = f"off-hours scale-down to the minimum of {target.environment_class}"
    if night_class is not None and target.environment_class != night_class:
        reason += f" (night class {night_class} ignored: not smaller than {current.environment_class})"
    return _request(environment_name, fields, reason, detail, execution)


def scale_up_request(
    environment_name: str,
    current: Capacity,
    recorded: Capacity,
    *,
    detail: str = "",
    execution: str = "",
) -> ChangeRequest | None:
    """The environment-change request that restores exactly ``recorded``; None when ``current`` already is it."""
    fields = changed_fields(current, recorded)
    if not fields:
        return None
    return _request(
        environment_name, fields, f"off-hours scale-up to the recorded {recorded.describe()}", detail, execution
    )


def _request(environment_name: str, fields: dict[str, Any], reason: str, detail: str, execution: str) -> ChangeRequest:
    text = f"{reason}: {detail}" if detail else reason
    return ChangeRequest.model_validate(
        {
            "environment_name": environment_name,
            **fields,
            "worker_replacement_strategy": "GRACEFUL",
            "reason": text[:500],
            "requested_by": RequestedBy(flow=FLOW, execution=execution),
        }
    )
