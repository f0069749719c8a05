"""Off-hours cost control: which managed environments should be awake, scaled down or hibernated, and when.

``window`` is the tag grammar of the off-hours window, ``tags`` reads an environment's
``mwaa-cp:*`` tags into an :class:`OffHoursConfig`, and ``schedule`` decides from it, in the
environment's own time zone; those three are pure and load with the package. The rest is the
flow's domain, loaded on first use (so ``mwaa-cp cost`` does not pay for the Airflow client):
``plan`` (the action per environment), ``capacity`` (scale-down/up requests), ``drain``,
``snapshot`` (create arguments, the encrypted store), ``airflow_state`` (capture, restore),
``catchup`` (the guard), ``records`` (the state kept between ticks). The rules are in
``docs/off-hours.md``.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mwaa_control_plane.environments.offhours.schedule import (
    Decision,
    desired_state,
    lead_time,
    next_transition,
    resume_at,
)
from mwaa_control_plane.environments.offhours.tags import (
    OffHoursConfig,
    StackDefaults,
    TagProblem,
    config_from_tags,
)
from mwaa_control_plane.environments.offhours.window import Window, WindowSyntaxError, parse_window
from mwaa_control_plane.errors import OffHoursTagError

if TYPE_CHECKING:
    from mwaa_control_plane.environments.offhours.airflow_state import (
        AirflowState,
        RestoreReport,
        SecretAtRisk,
        capture,
        check_secrets,
        restore,
    )
    from mwaa_control_plane.environments.offhours.capacity import (
        Capacity,
        minimum_capacity,
        scale_down_request,
        scale_up_request,
    )
    from mwaa_control_plane.environments.offhours.catchup import (
        CatchupDecision,
        dags_to_unpause,
        guard,
        runs_on_unpause,
    )
    from mwaa_control_plane.environments.offhours.drain import (
        DrainDecision,
        DrainPolicy,
        DrainStatus,
        decide,
        drain_status,
    )
    from mwaa_control_plane.environments.offhours.plan import (
        ObservedEnvironment,
        PlannedAction,
        plan,
        plan_console_action,
        plan_environment,
    )
    from mwaa_control_plane.environments.offhours.records import OffHoursRecord
    from mwaa_control_plane.environments.offhours.snapshot import (
        EnvironmentSnapshot,
        SnapshotRef,
        SnapshotStore,
        create_arguments_for_resume,
        create_arguments_from,
    )

_LAZY = {
    "airflow_state": ("AirflowState", "RestoreReport", "SecretAtRisk", "capture", "check_secrets", "restore"),
    "capacity": ("Capacity", "minimum_capacity", "scale_down_request", "scale_up_request"),
    "catchup": ("CatchupDecision", "dags_to_unpause", "guard", "runs_on_unpause"),
    "drain": ("DrainDecision", "DrainPolicy", "DrainStatus", "decide", "drain_status"),
    "plan": ("ObservedEnvironment", "PlannedAction", "plan", "plan_console_action", "plan_environment"),
    "records": ("OffHoursRecord",),
    "snapshot": (
        "EnvironmentSnapshot",
        "SnapshotRef",
        "SnapshotStore",
        "create_arguments_for_resume",
        "create_arguments_from",
    ),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = [
    "AirflowState",
    "Capacity",
    "CatchupDecision",
    "Decision",
    "DrainDecision",
    "DrainPolicy",
    "DrainStatus",
    "EnvironmentSnapshot",
    "ObservedEnvironment",
    "OffHoursConfig",
    "OffHoursRecord",
    "OffHoursTagError",
    "PlannedAction",
    "RestoreReport",
    "SecretAtRisk",
    "SnapshotRef",
    "SnapshotStore",
    "StackDefaults",
    "TagProblem",
    "Window",
    "WindowSyntaxError",
    "capture",
    "check_secrets",
    "config_from_tags",
    "create_arguments_for_resume",
    "create_arguments_from",
    "dags_to_unpause",
    "decide",
    "desired_state",
    "drain_status",
    "guard",
    "lead_time",
    "minimum_capacity",
    "next_transition",
    "parse_window",
    "plan",
    "plan_console_action",
    "plan_environment",
    "restore",
    "resume_at",
    "runs_on_unpause",
    "scale_down_request",
    "scale_up_request",
]
