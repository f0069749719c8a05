"""What an MWAA environment costs a month as configured, what an off-hours schedule saves, and the Serverless yardstick.

Pure arithmetic over ``data/prices.json`` (list prices with their source and date, docs/mwaa-facts.md § Prices):
no AWS call. A price the data does not know is reported as unknown (``None``) together with every total that
needs it, never guessed. Amounts are ``Decimal`` USD: each line is rounded to the cent and totals are the sum
of the rounded lines, so a printed table adds up.

The base fee bills for as long as the environment exists (MWAA has no stop operation) and already includes
one worker, two schedulers and two web servers. Scaling down therefore saves only what runs beyond that, or
the difference to a smaller night class; only hibernating (deleting, then recreating) stops the base fee.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mwaa_control_plane.environments.change_request import EnvironmentClass
from mwaa_control_plane.environments.limits import CLASS_LIMITS
from mwaa_control_plane.errors import ConfigurationError, InvalidInputError

ENVIRONMENT_CLASSES: tuple[EnvironmentClass, ...] = (
    "mw1.micro",
    "mw1.small",
    "mw1.medium",
    "mw1.large",
    "mw1.xlarge",
    "mw1.2xlarge",
)
# docs/mwaa-facts.md: creation takes 20-30 minutes (we take 30) and deletion is undocumented (we assume 15):
# the hours an environment is still billed per hibernate cycle. An assumption: pass the measured value.
DEFAULT_RECREATE_HOURS_PER_CYCLE = Decimal("0.75")
# Below this share of the monthly cost a scale-down is called "little" in the notes.
LITTLE_SAVING_PERCENT = Decimal(10)

NonNegative = Annotated[Decimal, Field(ge=0)]
Count = Annotated[int, Field(ge=1)]
_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the price data -------------------------------------------------------------------------------------------


class Price(_Strict):
    """One list price: ``usd`` None means unknown (``note`` then says why)."""

    usd: NonNegative | None
    unit: Literal["hour", "GB-month", "task-hour"]
    region: str | None
    source: str
    as_of: date
    estimate: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _unknown_says_why(self) -> Self:
        if self.usd is None and not self.note:
            raise ValueError("an unknown price (usd null) needs a note saying why")
        return self


class Source(_Strict):
    title: Annotated[str, Field(min_length=1)]
    note: str | None = None


class BaseFeeIncludes(_Strict):
    workers: Count
    schedulers: Count
    webservers: Count
    source: str
    as_of: date


class ClassPrices(_Strict):
    environment: Price
    additional_worker: Price
    additional_scheduler: Price
    additional_webserver: Price

    @model_validator(mode="after")
    def _hourly_and_known_fee(self) -> Self:
        if any(p.unit != "hour" for p in (self.environment, self.additional_worker, self.additional_scheduler)):
            raise ValueError("class prices are per hour")
        if self.additional_webserver.unit != "hour":
            raise ValueError("class prices are per hour")
        if self.environment.usd is None:
            raise ValueError("the environment fee of a class must be known")
        return self


class PriceList(_Strict):
    """``data/prices.json``: every figure with its Region, source and date."""

    comment: str | None = Field(default=None, alias="_comment")
    currency: Literal["USD"]
    hours_per_month: Annotated[Decimal, Field(gt=0)]
    hours_per_month_note: str
    sources: dict[str, Source]
    base_fee_includes: BaseFeeIncludes
    classes: dict[EnvironmentClass, ClassPrices]
    metadata_storage: Price
    serverless_task: Price

    @model_validator(mode="after")
    def _complete_and_sourced(self) -> Self:
        missing = [name for name in ENVIRONMENT_CLASSES if name not in self.classes]
        if missing:
            raise ValueError(f"no prices for {', '.join(missing)}")
        figures = [self.base_fee_includes.source, self.metadata_storage.source, self.serverless_task.source]
        for prices in self.classes.values():
            figures += [p.source for p in (prices.environment, prices.additional_worker)]
            figures += [p.source for p in (prices.additional_scheduler, prices.additional_webserver)]
        unknown = sorted({name for name in figures if name not in self.sources})
        if unknown:
            raise ValueError(f"figures cite sources that are not listed: {', '.join(unknown)}")
        if self.metadata_storage.unit != "GB-month" or self.serverless_task.unit != "task-hour":
            raise ValueError("metadata_storage is per GB-month and serverless_task per task-hour")
        if self.metadata_storage.usd is None or self.serverless_task.usd is None:
            raise ValueError("the metadata storage and MWAA Serverless prices must be known")
        return self


def load_prices(path: Path | Traversable) -> PriceList:
    """Read and validate a prices file; a malformed one raises :class:`ConfigurationError` naming what is wrong."""
    try:
        return PriceList.model_validate(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, ValidationError) as error:
        # ValidationError is a ValueError, json's decode error too: one message for every way the data is wrong.
        raise ConfigurationError(f"prices file {path} is invalid: {error}") from error


@cache
def prices() -> PriceList:
    """The shipped price list, read and validated once per process (on first use, not at import)."""
    return load_prices(resources.files("mwaa_control_plane.environments").joinpath("data", "prices.json"))


# --- inputs ---------------------------------------------------------------------------------------------------


class EnvironmentCapacity(_Strict):
    """An environment as configured, under the change request's names (``limits.capacity_of`` gives them).

    Additional workers and web servers are billed while they run: by default the ones that always run
    (``min_workers - 1``; web servers above the two the base fee includes); pass observed averages when known.
    """

    environment_class: EnvironmentClass
    min_workers: Count = 1
    max_workers: Count = 1
    schedulers: Count = 2
    min_webservers: Count = 2
    max_webservers: Count = 2
    average_additional_workers: NonNegative | None = None
    average_webservers: NonNegative | None = None
    metadata_storage_gb: NonNegative = Decimal(0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_workers > self.max_workers:
            raise ValueError(f"min_workers ({self.min_workers}) is greater than max_workers ({self.max_workers})")
        if self.min_webservers > self.max_webservers:
            raise ValueError(
                f"min_webservers ({self.min_webservers}) is greater than max_webservers ({self.max_webservers})"
            )
        if self.average_additional_workers is not None and self.average_additional_workers > self.max_workers - 1:
            raise ValueError(f"average_additional_workers is above max_workers - 1 ({self.max_workers - 1})")
        if self.average_webservers is not None and self.average_webservers > self.max_webservers:
            raise ValueError(f"average_webservers is above max_webservers ({self.max_webservers})")
        return self


class OffHoursSchedule(_Strict):
    """How many hours a month the environment is off, and how.

    ``scale-down``: the class's minimum capacity (or ``night_class``, the only scale-down that lowers the base
    fee) during the off hours. ``hibernate``: deleted during the off hours, ``cycles_per_month`` times a month,
    each cycle still billing ``recreate_hours_per_cycle`` (deleting and creating take time).
    """

    mode: Literal["scale-down", "hibernate"]
    off_hours_per_month: NonNegative
    night_class: EnvironmentClass | None = None
    cycles_per_month: NonNegative | None = None
    recreate_hours_per_cycle: NonNegative = DEFAULT_RECREATE_HOURS_PER_CYCLE

    @model_validator(mode="after")
    def _mode_fields(self) -> Self:
        if self.mode == "hibernate" and self.cycles_per_month is None:
            raise ValueError("hibernate needs cycles_per_month (how many times a month the environment is deleted)")
        if self.mode == "hibernate" and self.night_class is not None:
            raise ValueError("night_class applies to scale-down only")
        return self


# --- results --------------------------------------------------------------------------------------------------


class CostLines(_Strict):
    """USD a month; ``None`` = unknown (a price the data does not have)."""

    base_fee: Decimal
    additional_workers: Decimal | None
    additional_schedulers: Decimal | None
    additional_webservers: Decimal | None
    metadata_storage: Decimal
    total: Decimal | None


class ServerlessEstimate(_Strict):
    """What the observed task-hours would cost on MWAA Serverless: an estimate, not a quote."""

    label: Literal["estimate"] = "estimate"
    task_hours_per_month: Decimal
    usd_per_task_hour: Decimal
    region: str | None
    monthly: Decimal
    note: str


class CostBreakdown(_Strict):
    environment_class: EnvironmentClass
    hours_per_month: Decimal
    as_configured: CostLines
    mode: Literal["scale-down", "hibernate"] | None = None
    off_hours_per_month: Decimal | None = None
    night_class: EnvironmentClass | None = None
    with_schedule: CostLines | None = None
    saving: Decimal | None = None
    saving_percent: Decimal | None = None
    unknown_prices: list[str] = []
    serverless: ServerlessEstimate | None = None
    notes: list[str] = []


# --- the model ------------------------------------------------------------------------------------------------


class _Hourly(BaseModel):
    """Per-hour cost of running in one shape; ``None`` where a needed price is unknown."""

    base_fee: Decimal
    additional_workers: Decimal | None
    additional_schedulers: Decimal | None
    additional_webservers: Decimal | None


def _line(count: Decimal, price: Price, what: str, unknown: dict[str, str]) -> Decimal | None:
    if count == 0:
        return Decimal(0)
    if price.usd is None:
        unknown[what] = price.note or "unknown"
        return None
    return count * price.usd


def _hourly(
    klass: EnvironmentClass, workers: Decimal, schedulers: Decimal, webservers: Decimal, unknown: dict[str, str]
) -> _Hourly:
    price = prices().classes[klass]
    fee = price.environment.usd
    assert fee is not None  # PriceList refuses an unknown environment fee
    on = f"on {klass}"
    return _Hourly(
        base_fee=fee,
        additional_workers=_line(workers, price.additional_worker, f"additional worker {on}", unknown),
        additional_schedulers=_line(schedulers, price.additional_scheduler, f"additional scheduler {on}", unknown),
        additional_webservers=_line(webservers, price.additional_webserver, f"additional web server {on}", unknown),
    )


def _minimum(klass: EnvironmentClass, unknown: dict[str, str]) -> _Hourly:
    """The class's minimum capacity (what scale-down asks for): counts at the class's lower bounds."""
    included = prices().base_fee_includes
    limits = CLASS_LIMITS[klass]
    return _hourly(
        klass,
        Decimal(0),
        Decimal(max(0, limits.schedulers[0] - included.schedulers)),
        Decimal(max(0, limits.webservers[0] - included.webservers)),
        unknown,
    )


def _times(value: Decimal | None, hours: Decimal) -> Decimal | None:
    return None if value is None else value * hours


def _plus(*values: Decimal | None) -> Decimal | None:
    return None if any(v is None for v in values) else sum((v for v in values if v is not None), Decimal(0))


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _lines(parts: list[tuple[_Hourly, Decimal]], storage: Decimal) -> CostLines:
    """Monthly lines from (per-hour shape, hours in that shape) pairs plus the month's storage."""

    def month(name: str) -> Decimal | None:
        return _cents(_plus(*(_times(getattr(hourly, name), hours) for hourly, hours in parts)))

    base_fee = month("base_fee")
    assert base_fee is not None
    workers, schedulers, webservers = (
        month("additional_workers"),
        month("additional_schedulers"),
        month("additional_webservers"),
    )
    stored = _cents(storage)
    assert stored is not None
    return CostLines(
        base_fee=base_fee,
        additional_workers=workers,
        additional_schedulers=schedulers,
        additional_webservers=webservers,
        metadata_storage=stored,
        total=_plus(base_fee, workers, schedulers, webservers, stored),
    )


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def serverless_estimate(task_hours_per_month: Decimal) -> ServerlessEstimate:
    """What ``task_hours_per_month`` (observed RunningTasks, summed over 30 days) would cost on MWAA Serverless."""
    price = prices().serverless_task
    assert price.usd is not None  # PriceList refuses an unknown one
    monthly = _cents(task_hours_per_month * price.usd)
    assert monthly is not None
    return ServerlessEstimate(
        task_hours_per_month=task_hours_per_month,
        usd_per_task_hour=price.usd,
        region=price.region,
        monthly=monthly,
        note=(
            f"An estimate: {_number(task_hours_per_month)} task-hours at about {_number(price.usd)} USD per task-hour "
            f"({price.region}, recorded {price.as_of}). MWAA Serverless runs YAML workflows on Airflow 3 only and has "
            "no environment fee: a yardstick for what this environment's work costs, not a quote."
        ),
    )


def monthly_cost(
    capacity: EnvironmentCapacity,
    schedule: OffHoursSchedule | None = None,
    *,
    task_hours_per_month: Decimal | None = None,
) -> CostBreakdown:
    """The environment's monthly cost as configured and, with ``schedule``, with its off hours applied.

    Raises :class:`InvalidInputError` for a schedule that cannot apply (more off hours than the month has,
    a night class that is not cheaper than the environment's class).
    """
    price_list = prices()
    hours = price_list.hours_per_month
    included = price_list.base_fee_includes
    klass = capacity.environment_class
    unknown: dict[str, str] = {}
    notes: list[str] = []

    workers = capacity.average_additional_workers
    if workers is None:
        workers = Decimal(capacity.min_workers - 1)
        if capacity.max_workers > capacity.min_workers:
            notes.append(
                f"Additional workers are billed while they run: {_number(workers)} assumed on average "
                "(MinWorkers - 1, which always run). Pass the observed average (the SampleCount of the "
                "AdditionalWorker CPUUtilization metric) for autoscaled workers."
            )
    webservers = capacity.average_webservers
    if webservers is None:
        webservers = Decimal(capacity.min_webservers)
    configured = _hourly(
        klass,
        workers,
        Decimal(max(0, capacity.schedulers - included.schedulers)),
        max(Decimal(0), webservers - included.webservers),
        unknown,
    )
    storage_price = price_list.metadata_storage.usd
    assert storage_price is not None  # PriceList refuses an unknown one
    storage = capacity.metadata_storage_gb * storage_price
    as_configured = _lines([(configured, hours)], storage)
    breakdown: dict[str, object] = {
        "environment_class": klass,
        "hours_per_month": hours,
        "as_configured": as_configured,
    }

    if schedule is not None:
        off = schedule.off_hours_per_month
        if off > hours:
            raise InvalidInputError(f"off_hours_per_month ({off}) is more than the {hours} hours of a month")
        on = hours - off
        if schedule.mode == "scale-down":
            night_class = schedule.night_class or klass
            night = _minimum(night_class, unknown)
            if schedule.night_class is not None and night.base_fee >= configured.base_fee:
                raise InvalidInputError(
                    f"night class {night_class} does not cost less than {klass}: it would not lower the base fee"
                )
            with_schedule = _lines([(configured, on), (night, off)], storage)
        else:
            assert schedule.cycles_per_month is not None
            billed_while_off = min(off, schedule.cycles_per_month * schedule.recreate_hours_per_cycle)
            deleted = off - billed_while_off
            existing = hours - deleted
            with_schedule = _lines([(configured, existing)], storage * existing / hours)
        saving = _plus(as_configured.total, None if with_schedule.total is None else -with_schedule.total)
        percent = None
        if saving is not None and as_configured.total:
            percent = (saving * 100 / as_configured.total).quantize(_TENTH, rounding=ROUND_HALF_UP)
        notes += _schedule_notes(schedule, as_configured, saving, percent)
        breakdown |= {
            "mode": schedule.mode,
            "off_hours_per_month": off,
            "night_class": schedule.night_class,
            "with_schedule": with_schedule,
            "saving": saving,
            "saving_percent": percent,
        }

    if unknown:
        for what, why in unknown.items():
            notes.append(
                f"The price of an {what} is unknown ({why}): the lines that need it, the totals and the saving "
                "are reported as unknown rather than guessed."
            )
    regions = sorted({region for region in _regions_used(klass, schedule) if region is not None})
    notes.append(f"List prices for {', '.join(regions)} (prices.json gives each figure's source and date).")
    if len(regions) > 1:
        notes.append("These figures come from different Regions: the comparison between them is approximate.")
    if task_hours_per_month is not None:
        breakdown["serverless"] = serverless_estimate(task_hours_per_month)
    return CostBreakdown.model_validate(breakdown | {"unknown_prices": list(unknown), "notes": notes})


def _regions_used(klass: EnvironmentClass, schedule: OffHoursSchedule | None) -> list[str | None]:
    classes = [klass] + ([schedule.night_class] if schedule is not None and schedule.night_class else [])
    return [prices().classes[name].environment.region for name in classes]


def _schedule_notes(
    schedule: OffHoursSchedule, as_configured: CostLines, saving: Decimal | None, percent: Decimal | None
) -> list[str]:
    included = prices().base_fee_includes
    contents = f"{included.workers} worker, {included.schedulers} schedulers and {included.webservers} web servers"
    if schedule.mode == "hibernate":
        assert schedule.cycles_per_month is not None
        billed = schedule.cycles_per_month * schedule.recreate_hours_per_cycle
        notes = [
            "Hibernate deletes the environment for the off hours, so the base fee stops too; each cycle is still "
            f"billed {_number(schedule.recreate_hours_per_cycle)} h while the environment is deleted and recreated "
            f"({_number(schedule.cycles_per_month.quantize(_TENTH))} cycles a month: "
            f"{_number(billed.quantize(_TENTH))} h). Creation takes 20-30 minutes and deletion is undocumented: "
            "pass your measured recreate time."
        ]
        if billed >= schedule.off_hours_per_month and schedule.off_hours_per_month > 0:
            notes.append("The off periods are shorter than the recreate time: hibernating saves nothing here.")
        return notes
    if schedule.night_class is not None:
        return [
            f"At night the environment runs as {schedule.night_class} at its minimum capacity: the only "
            "scale-down that lowers the base fee. Each class change is an environment update (10-30 minutes)."
        ]
    fee = as_configured.base_fee
    if saving is not None and saving == 0:
        return [
            f"Scale-down saves nothing here: the base fee ({fee} USD a month) already includes {contents}, which "
            "is all this environment runs at night, and it bills for as long as the environment exists. "
            "Hibernate, or name a smaller night class (mwaa-cp:off-hours-class), to save."
        ]
    if percent is not None and percent < LITTLE_SAVING_PERCENT:
        return [
            f"Scale-down saves little ({percent} %): only what runs beyond the {contents} the base fee includes "
            f"stops, and the base fee ({fee} USD a month) runs on. Hibernate, or name a smaller night class "
            "(mwaa-cp:off-hours-class), to save more."
        ]
    return [f"Scale-down stops what runs beyond the {contents} the base fee includes; the base fee ({fee} USD) stays."]
