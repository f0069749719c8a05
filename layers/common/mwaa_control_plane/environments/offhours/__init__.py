"""Off-hours cost control: which managed environments should be awake, scaled down or hibernated, and when.

``window`` is the tag grammar of the off-hours window, ``tags`` reads an environment's
``mwaa-cp:*`` tags into an :class:`OffHoursConfig`, and ``schedule`` decides from it, in the
environment's own time zone. Pure: no AWS calls. The rules are in ``docs/off-hours.md``.
"""

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

__all__ = [
    "Decision",
    "OffHoursConfig",
    "OffHoursTagError",
    "StackDefaults",
    "TagProblem",
    "Window",
    "WindowSyntaxError",
    "config_from_tags",
    "desired_state",
    "lead_time",
    "next_transition",
    "parse_window",
    "resume_at",
]
