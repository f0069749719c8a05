"""An environment's off-hours settings, read from its ``mwaa-cp:*`` tags and the stack's defaults.

:func:`config_from_tags` never guesses: every tag that is present is checked, and all problems
come back together in one :class:`OffHoursTagError`, each naming the tag, its value and what is
wrong. An environment without ``mwaa-cp:off-hours`` is not managed, and then only
``mwaa-cp:protected`` is read (so the report can still say an environment is protected).
The tags of #9's later steps (night class, drain, connections and catchup policies) are read here
too, so one environment's tag problems are always reported together.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, PlainSerializer, field_validator, model_validator

from mwaa_control_plane.environments.change_request import EnvironmentClass
from mwaa_control_plane.environments.offhours.drain import TAG_DRAIN, DrainPolicy, parse_drain_policy
from mwaa_control_plane.environments.offhours.window import Window, parse_window, wall_to_utc
from mwaa_control_plane.errors import OffHoursTagError

TAG_OFF_HOURS = "mwaa-cp:off-hours"
TAG_WINDOW = "mwaa-cp:window"
TAG_TIMEZONE = "mwaa-cp:timezone"
TAG_HOLIDAYS = "mwaa-cp:holidays"
TAG_KEEP_AWAKE_UNTIL = "mwaa-cp:keep-awake-until"
TAG_PROTECTED = "mwaa-cp:protected"
TAG_OFF_HOURS_CLASS = "mwaa-cp:off-hours-class"
TAG_CONNECTIONS = "mwaa-cp:connections"
TAG_CATCHUP = "mwaa-cp:catchup"
# How the stack parameters behind StackDefaults are named in problems (template.yaml parameters).
PARAM_WINDOW = "stack parameter OffHoursDefaultWindow"
PARAM_TIMEZONE = "stack parameter OffHoursDefaultTimezone"
PARAM_HOLIDAYS = "stack parameter OffHoursHolidays"

Mode = Literal["scale-down", "hibernate"]
MODES: tuple[Mode, ...] = ("scale-down", "hibernate")
ConnectionsPolicy = Literal["refuse", "accept-loss"]
CONNECTIONS_POLICIES: tuple[ConnectionsPolicy, ...] = ("refuse", "accept-loss")
CatchupPolicy = Literal["keep-paused", "unpause"]
CATCHUP_POLICIES: tuple[CatchupPolicy, ...] = ("keep-paused", "unpause")
ENVIRONMENT_CLASSES: tuple[EnvironmentClass, ...] = (
    "mw1.micro",
    "mw1.small",
    "mw1.medium",
    "mw1.large",
    "mw1.xlarge",
    "mw1.2xlarge",
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$", re.ASCII)
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$", re.ASCII)


class TagProblem(BaseModel):
    """One tag (or stack parameter) whose value is wrong, and why."""

    model_config = ConfigDict(frozen=True)

    tag: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"{self.tag} = '{self.value}': {self.message}"


class StackDefaults(BaseModel):
    """What the stack sets for every environment: raw parameter values, checked by :func:`config_from_tags`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: str | None = None
    timezone: str = "UTC"
    holidays: tuple[str, ...] = ()
    production: bool = False
    """True when the control plane's own stage is prod: every environment is protected."""


class Protection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Literal["tag", "stage"]

    @property
    def reason(self) -> str:
        if self.source == "tag":
            return f"protected by the tag {TAG_PROTECTED}=true: never paused"
        return "protected: the control plane's stage is prod, so no environment is ever paused"


class Holiday(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    day: date
    source: Literal["tag", "stack"]


class OffHoursConfig(BaseModel):
    """Everything :func:`~.schedule.desired_state` needs about one environment; JSON round-trips."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Mode | None
    """None: the environment is not managed."""
    window: Annotated[Window, PlainSerializer(lambda w: w.text, return_type=str)] | None = None
    window_source: Literal["tag", "stack"] = "tag"
    timezone: str = "UTC"
    holidays: tuple[Holiday, ...] = ()
    keep_awake_until: datetime | None = None
    """An aware instant; a date-only tag is already resolved to the end of that day in ``timezone``."""
    protection: Protection | None = None
    night_class: EnvironmentClass | None = None
    """``mwaa-cp:off-hours-class``: the class to scale down to (scale-down only; used when smaller than the class)."""
    drain: DrainPolicy = DrainPolicy()
    """``mwaa-cp:drain``: what a hibernate does about running work."""
    connections: ConnectionsPolicy = "refuse"
    """``mwaa-cp:connections``: hibernate or not when secrets the REST API cannot give back would be lost."""
    catchup: CatchupPolicy = "keep-paused"
    """``mwaa-cp:catchup``: after a resume, keep ``catchup=True`` DAGs paused, or unpause them anyway."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return _zone_name(name)

    @field_validator("keep_awake_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("keep_awake_until must carry a UTC offset")
        return value

    @model_validator(mode="after")
    def _managed_has_window(self) -> OffHoursConfig:
        if self.mode is not None and self.window is None:
            raise ValueError("a managed environment needs a window")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def managed(self) -> bool:
        return self.mode is not None


def config_from_tags(tags: Mapping[str, str], stack: StackDefaults | None = None) -> OffHoursConfig:
    """Read one environment's off-hours settings from its tags; raise :class:`OffHoursTagError` on any problem."""
    stack = stack or StackDefaults()
    problems: list[TagProblem] = []

    def check[T](source: str, value: str, parse: Callable[[str], T]) -> T | None:
        try:
            return parse(value)
        except ValueError as exc:
            problems.append(TagProblem(tag=source, value=value, message=str(exc)))
            return None

    protection = Protection(source="stage") if stack.production else None
    if TAG_PROTECTED in tags and check(TAG_PROTECTED, tags[TAG_PROTECTED], _protected) and protection is None:
        protection = Protection(source="tag")

    mode = check(TAG_OFF_HOURS, tags[TAG_OFF_HOURS], _mode) if TAG_OFF_HOURS in tags else None
    if mode is None:
        if problems:
            raise OffHoursTagError(problems)
        return OffHoursConfig(mode=None, protection=protection)

    if TAG_WINDOW in tags:
        window, window_source = check(TAG_WINDOW, tags[TAG_WINDOW], parse_window), "tag"
    elif stack.window is not None:
        window, window_source = check(PARAM_WINDOW, stack.window, parse_window), "stack"
    else:
        window, window_source = None, "tag"
        problems.append(TagProblem(tag=TAG_WINDOW, value="", message="is missing and the stack sets no default window"))

    if TAG_TIMEZONE in tags:
        zone_name = check(TAG_TIMEZONE, tags[TAG_TIMEZONE], _zone_name)
    else:
        zone_name = check(PARAM_TIMEZONE, stack.timezone, _zone_name)

    holidays = [
        Holiday(day=day, source="stack") for text in stack.holidays for day in check(PARAM_HOLIDAYS, text, _dates) or ()
    ]
    if TAG_HOLIDAYS in tags:
        holidays += [Holiday(day=day, source="tag") for day in check(TAG_HOLIDAYS, tags[TAG_HOLIDAYS], _dates) or ()]

    keep_awake = None
    if TAG_KEEP_AWAKE_UNTIL in tags and zone_name is not None:
        zone = ZoneInfo(zone_name)
        keep_awake = check(TAG_KEEP_AWAKE_UNTIL, tags[TAG_KEEP_AWAKE_UNTIL], lambda v: _keep_awake_until(v, zone))

    night_class = None
    if TAG_OFF_HOURS_CLASS in tags:
        night_class = check(TAG_OFF_HOURS_CLASS, tags[TAG_OFF_HOURS_CLASS], _environment_class)
        if night_class is not None and mode == "hibernate":
            problems.append(
                TagProblem(
                    tag=TAG_OFF_HOURS_CLASS,
                    value=tags[TAG_OFF_HOURS_CLASS],
                    message=f"applies to scale-down only, and {TAG_OFF_HOURS}=hibernate: remove it",
                )
            )
    drain = check(TAG_DRAIN, tags[TAG_DRAIN], parse_drain_policy) if TAG_DRAIN in tags else DrainPolicy()
    connections: ConnectionsPolicy | None = "refuse"
    if TAG_CONNECTIONS in tags:
        connections = check(TAG_CONNECTIONS, tags[TAG_CONNECTIONS], lambda v: _choice(v, CONNECTIONS_POLICIES))
    catchup: CatchupPolicy | None = "keep-paused"
    if TAG_CATCHUP in tags:
        catchup = check(TAG_CATCHUP, tags[TAG_CATCHUP], lambda v: _choice(v, CATCHUP_POLICIES))

    if problems or window is None or zone_name is None or drain is None or connections is None or catchup is None:
        raise OffHoursTagError(problems)
    return OffHoursConfig(
        mode=mode,
        window=window,
        window_source=window_source,
        timezone=zone_name,
        holidays=tuple(_unique(holidays)),
        keep_awake_until=keep_awake,
        protection=protection,
        night_class=night_class,
        drain=drain,
        connections=connections,
        catchup=catchup,
    )


def _choice[C: str](value: str, choices: tuple[C, ...]) -> C:
    for choice in choices:
        if value.strip().lower() == choice:
            return choice
    raise ValueError(f"must be one of: {', '.join(choices)}")


def _environment_class(value: str) -> EnvironmentClass:
    return _choice(value, ENVIRONMENT_CLASSES)


def _unique(holidays: list[Holiday]) -> list[Holiday]:
    # A date in both lists is reported as the tag's: the environment's own setting is the more specific.
    by_day = {holiday.day: holiday for holiday in holidays}
    return sorted(by_day.values(), key=lambda holiday: holiday.day)


def _mode(value: str) -> Mode:
    for mode in MODES:
        if value.strip().lower() == mode:
            return mode
    raise ValueError(f"must be one of: {', '.join(MODES)} (remove the tag to leave the environment unmanaged)")


def _protected(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError("must be 'true' or 'false'")


def _zone_name(name: str) -> str:
    name = name.strip()
    if _ZONE_NAME.match(name):
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            return name
    raise ValueError(f"is not an IANA time zone{_zone_hint(name)}")


def _zone_hint(name: str) -> str:
    # Only on the error path: listing the zones reads the whole tz database.
    zones = sorted(available_timezones())
    exact = [zone for zone in zones if zone.lower() == name.lower()]
    close = exact or difflib.get_close_matches(name, zones, n=1)
    if close:
        return f": did you mean '{close[0]}'?"
    return ", such as Europe/Berlin, America/New_York or UTC"


def _dates(value: str) -> list[date]:
    if "," in value or ";" in value:
        hint = " ".join(re.split(r"[\s,;]+", value.strip()))
        raise ValueError(f"an AWS tag value cannot hold ',' or ';': separate dates with spaces, e.g. '{hint}'")
    days = []
    for token in value.split():
        if not _ISO_DATE.match(token):
            raise ValueError(f"'{token}' is not an ISO date such as 2026-12-24")
        try:
            days.append(date.fromisoformat(token))
        except ValueError:
            raise ValueError(f"'{token}' is not a date of the calendar") from None
    return days


def _keep_awake_until(value: str, zone: ZoneInfo) -> datetime:
    text = value.strip().upper()
    if _ISO_DATE.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{value}' is not a date of the calendar") from None
        # A date means "all of that day": until the next local midnight.
        return wall_to_utc(datetime.combine(day + timedelta(days=1), time()), zone)
    if not _ISO_DATETIME.match(text):
        raise ValueError("must be an ISO date (2026-03-01) or date-time with offset (2026-03-01T18:00+01:00)")
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{value}' is not a time of the calendar") from None
    if instant.utcoffset() is None:
        raise ValueError(f"has no UTC offset: add one, e.g. '{value}+01:00' or '{value}Z'")
    return instant.astimezone(UTC)
