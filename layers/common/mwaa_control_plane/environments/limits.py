"""What MWAA refuses in an environment's configuration, checked before the API is called.

The numbers are data (``CLASS_LIMITS``), from docs/mwaa-facts.md § Environment classes and the
botocore model of UpdateEnvironment. Where a limit is not confirmed the check is permissive:
refusing a value MWAA accepts would block users, while a value MWAA refuses still gets MWAA's
own ValidationException, reported by the flow.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from mwaa_control_plane.environments.change_request import CAPACITY_FIELDS


class ClassLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    schedulers: tuple[int, int]
    webservers: tuple[int, int]
    workers: tuple[int, int] | None = None
    """Fixed worker counts (mw1.micro: one worker, no autoscaling); None: 1 to the account's quota."""


_STANDARD = ClassLimits(schedulers=(2, 5), webservers=(2, 5))
CLASS_LIMITS: dict[str, ClassLimits] = {
    # mw1.micro: worker and scheduler share one container; one web server; no worker autoscaling.
    "mw1.micro": ClassLimits(schedulers=(1, 1), webservers=(1, 1), workers=(1, 1)),
    "mw1.small": _STANDARD,
    "mw1.medium": _STANDARD,
    "mw1.large": _STANDARD,
    "mw1.xlarge": _STANDARD,
    "mw1.2xlarge": _STANDARD,
}
# The default service quota for MaxWorkers; accounts can raise it (the flow's setting MAX_WORKERS_QUOTA).
DEFAULT_MAX_WORKERS_QUOTA = 25
FIXED_AT_CREATION = {
    "subnet_ids": "subnets",
    "kms_key": "the KMS key",
    "endpoint_management": "endpoint management",
}
_FIELDS = {
    "schedulers": ("schedulers",),
    "webservers": ("min_webservers", "max_webservers"),
    "workers": ("min_workers", "max_workers"),
}
_HINT = {
    "schedulers": "schedulers",
    "webservers": "min_webservers and max_webservers",
    "workers": "min_workers and max_workers",
}


def capacity_of(environment: dict[str, Any]) -> dict[str, Any]:
    """The capacity fields of a GetEnvironment answer, under the change request's names."""
    return {
        "environment_class": environment.get("EnvironmentClass"),
        "min_workers": environment.get("MinWorkers"),
        "max_workers": environment.get("MaxWorkers"),
        "schedulers": environment.get("Schedulers"),
        "min_webservers": environment.get("MinWebservers"),
        "max_webservers": environment.get("MaxWebservers"),
    }


def refusals(requested: dict[str, Any], current: dict[str, Any], *, max_workers_quota: int) -> list[str]:
    """Why MWAA would refuse ``requested`` applied on top of ``current`` (both capacity dicts); empty when fine.

    The result is checked as a whole: a class change must come with counts the new class allows.
    """
    problems = [
        f"{label} cannot be changed after the environment was created (MWAA fixes it at creation)"
        for name, label in FIXED_AT_CREATION.items()
        if requested.get(name) is not None
    ]
    result = {
        name: requested[name] if requested.get(name) is not None else current.get(name) for name in CAPACITY_FIELDS
    }
    klass = result["environment_class"]
    limits = CLASS_LIMITS.get(str(klass))
    if limits is None:
        if klass is not None:
            problems.append(f"unknown environment class {klass}")
        return problems

    class_changes = requested.get("environment_class") is not None

    def check(label: str, bounds: tuple[int, int], *values: int | None) -> None:
        # Judge only what the request touches (a class change touches every count): an environment that is
        # already outside a limit, e.g. above a quota raised since, must still take a requirements update.
        if not class_changes and not any(requested.get(name) is not None for name in _FIELDS[label]):
            return
        low, high = bounds
        for value in values:
            if value is not None and not low <= value <= high:
                allowed = f"exactly {low}" if low == high else f"{low} to {high}"
                problems.append(f"{klass} allows {allowed} {label}, not {value}; request {_HINT[label]} accordingly")
                return

    check("schedulers", limits.schedulers, result["schedulers"])
    check("webservers", limits.webservers, result["min_webservers"], result["max_webservers"])
    check("workers", limits.workers or (1, max_workers_quota), result["min_workers"], result["max_workers"])
    for low_name, high_name in (("min_workers", "max_workers"), ("min_webservers", "max_webservers")):
        if requested.get(low_name) is None and requested.get(high_name) is None:
            continue
        low, high = result[low_name], result[high_name]
        if low is not None and high is not None and low > high:
            problems.append(f"{low_name} ({low}) is greater than {high_name} ({high})")
    return problems


def looks_redacted(value: str) -> bool:
    """A configuration value that GetEnvironment might have masked: never write such a value back."""
    stripped = value.strip()
    return bool(stripped) and (set(stripped) <= {"*"} or stripped.upper() in {"REDACTED", "<REDACTED>", "SENSITIVE"})
