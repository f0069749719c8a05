"""The scenario file: one environment's configuration, its CloudWatch metrics over a window, and what Airflow said.

The same model is what the live gather step builds and what ``mwaa-cp analyze --scenario FILE`` reads, so a case
recorded on AWS replays offline with the same diagnosis. The schema is the one issue #10 fixed (documented, with
every decision below, in docs/worker-analysis.md); it has no version field, so it only ever grows optional fields.

Decisions:

- Strict about types: a count is a JSON integer (not ``"2"``, ``2.0`` or ``true``), a metric value a JSON number,
  a timestamp an ISO 8601 string with its offset (``Z``). A malformed file is refused with every problem named by
  its place in the file (``metrics[3].values[7]: ...``), never analysed.
- Unknown keys are refused everywhere except in ``environment``, which is a subset of a GetEnvironment answer:
  there the other GetEnvironment fields (``Arn``, ``Status``, ``NetworkConfiguration``, ...) are ignored, so a
  pasted answer works, while a typo anywhere else (``"metric": [...]``) is an error instead of silently missing
  data.
- Tolerant about what is missing: any metric, and the whole ``airflow`` block, may be absent; the diagnosis then
  says which data it lacked. A metric present with no datapoints means "queried, CloudWatch had nothing" (for
  SchedulerHeartbeat and the worker SampleCount that is itself information); an absent metric means "not gathered".
- Configuration values are data the analysis needs, so only the options it reads are kept (``CAPACITY_OPTIONS``);
  a live gather never writes any other option into a file, since options may hold secrets.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mwaa_control_plane.capacity.configuration import Capacity, capacity_of, check_options
from mwaa_control_plane.environments.change_request import EnvironmentClass
from mwaa_control_plane.errors import InvalidInputError
from mwaa_control_plane.payloads import EnvironmentName

# The Airflow configuration options the analysis reads; a gathered scenario keeps only these.
CAPACITY_OPTIONS = (
    "celery.worker_autoscale",
    "core.parallelism",
    "core.max_active_tasks_per_dag",
    "core.dag_concurrency",  # the Airflow < 2.2 name of max_active_tasks_per_dag
    "core.max_active_runs_per_dag",
)
# CloudWatch accepts 1, 5, 10 and 30 s (high resolution) or any multiple of 60 s as a period.
_SUB_MINUTE_PERIODS = (1, 5, 10, 30)

Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class EnvironmentSnapshot(BaseModel):
    """The part of a GetEnvironment answer the analysis reads (other GetEnvironment keys are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    Name: EnvironmentName
    EnvironmentClass: EnvironmentClass
    MinWorkers: Positive
    MaxWorkers: Positive
    Schedulers: Positive | None = None
    """None: the class's default (2; mw1.micro runs 1)."""
    MinWebservers: Positive | None = None
    MaxWebservers: Positive | None = None
    AirflowVersion: str | None = None
    Status: str | None = None
    AirflowConfigurationOptions: dict[str, str] = {}

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.MinWorkers > self.MaxWorkers:
            raise ValueError(f"MinWorkers ({self.MinWorkers}) is greater than MaxWorkers ({self.MaxWorkers})")
        check_options(self.AirflowConfigurationOptions)
        return self

    @property
    def scheduler_count(self) -> int:
        if self.Schedulers is not None:
            return self.Schedulers
        return 1 if self.EnvironmentClass == "mw1.micro" else 2

    def capacity(self) -> Capacity:
        """The configured capacity, defaults named (:mod:`mwaa_control_plane.capacity.configuration`)."""
        return capacity_of(
            self.EnvironmentClass,
            min_workers=self.MinWorkers,
            max_workers=self.MaxWorkers,
            schedulers=self.scheduler_count,
            options=self.AirflowConfigurationOptions,
        )


class Window(_Strict):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end.isoformat()}) is not after start ({self.start.isoformat()})")
        return self

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


class Metric(_Strict):
    """One GetMetricData result: a metric (namespace, name, dimensions), a statistic and period, its datapoints."""

    namespace: Annotated[str, Field(min_length=1, max_length=255)]
    name: Annotated[str, Field(min_length=1, max_length=255)]
    dimensions: dict[str, str] = {}
    stat: Annotated[str, Field(min_length=1, max_length=64)]
    period: Positive
    timestamps: list[AwareDatetime] = []
    values: list[float] = []

    @field_validator("period")
    @classmethod
    def _cloudwatch_period(cls, period: int) -> int:
        if period not in _SUB_MINUTE_PERIODS and period % 60:
            raise ValueError(f"{period} is not a CloudWatch period (1, 5, 10, 30 or a multiple of 60 seconds)")
        return period

    @field_validator("values")
    @classmethod
    def _finite(cls, values: list[float]) -> list[float]:
        for index, value in enumerate(values):
            if not math.isfinite(value):
                raise ValueError(f"values[{index}] is not a finite number")
        return values

    @model_validator(mode="after")
    def _paired(self) -> Self:
        if len(self.timestamps) != len(self.values):
            raise ValueError(f"{len(self.timestamps)} timestamps but {len(self.values)} values: they go in pairs")
        seen: set[datetime] = set()
        for index, timestamp in enumerate(self.timestamps):
            if timestamp in seen:
                raise ValueError(f"timestamps[{index}] ({timestamp.isoformat()}) appears twice")
            seen.add(timestamp)
        return self

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...], str, int]:
        return (self.namespace, self.name, tuple(sorted(self.dimensions.items())), self.stat, self.period)

    def label(self) -> str:
        dims = ", ".join(f"{k}={v}" for k, v in sorted(self.dimensions.items()))
        return f"{self.namespace} {self.name} ({dims}) {self.stat}/{self.period}s"


class PoolSnapshot(_Strict):
    """A pool as Airflow reported it when the data was gathered; ``slots`` -1 means unlimited (Airflow 3)."""

    name: Annotated[str, Field(min_length=1)]
    slots: Annotated[int, Field(ge=-1)]
    running: Count = 0
    queued: Count = 0
    scheduled: Count | None = None
    """Tasks of the pool held in ``scheduled`` (an extension of the issue's schema; None: not known)."""


class DagSnapshot(_Strict):
    """One DAG's task and run counts when the data was gathered (an extension of the issue's schema)."""

    dag_id: Annotated[str, Field(min_length=1)]
    running: Count = 0
    queued: Count = 0
    scheduled: Count = 0
    running_runs: Count = 0
    queued_runs: Count = 0
    max_active_tasks: Positive | None = None
    """The DAG's own ``max_active_tasks`` when known; None: the environment's ``core.max_active_tasks_per_dag``."""
    max_active_runs: Positive | None = None
    """The DAG's own ``max_active_runs`` when known; None: the environment's ``core.max_active_runs_per_dag``."""


class AirflowSnapshot(_Strict):
    """What Airflow's REST API said when the data was gathered (task-instance counts, pools, DAGs)."""

    pools: list[PoolSnapshot] = []
    running_tasks: Count | None = None
    queued_tasks: Count | None = None
    scheduled_tasks: Count | None = None
    """Task instances in ``scheduled`` (an extension of the issue's schema): held back by a limit or a pool."""
    dags: list[DagSnapshot] = []

    @model_validator(mode="after")
    def _unique(self) -> Self:
        for what, names in (("pools", [p.name for p in self.pools]), ("dags", [d.dag_id for d in self.dags])):
            doubled = sorted({name for name in names if names.count(name) > 1})
            if doubled:
                raise ValueError(f"{what} listed twice: {', '.join(doubled)}")
        return self


class Scenario(_Strict):
    """An environment, a window, the metrics over it and (optionally) Airflow's counts: the analysis's whole input."""

    description: str | None = None
    """Free text for people (what was happening); ignored by the analysis."""
    environment: EnvironmentSnapshot
    window: Window
    metrics: list[Metric] = []
    airflow: AirflowSnapshot | None = None
    notes: list[str] = []
    """What the gathering could not get (an Airflow call that failed, ...); reported with the diagnosis."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        seen: dict[tuple[Any, ...], int] = {}
        for index, metric in enumerate(self.metrics):
            named = metric.dimensions.get("Environment")
            if named is not None and named != self.environment.Name:
                raise ValueError(
                    f"metrics[{index}] is about environment {named!r}, not {self.environment.Name!r} "
                    "(its Environment dimension)"
                )
            if metric.key in seen:
                raise ValueError(f"metrics[{index}] repeats metrics[{seen[metric.key]}] ({metric.label()})")
            seen[metric.key] = index
        return self

    def to_json(self) -> str:
        """The scenario as a file: the same JSON ``load_scenario`` reads."""
        return self.model_dump_json(indent=2, exclude_none=True) + "\n"


def _where(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith(("function-", "constrained-")) or part in ("json-or-python[json=...]",):
            continue
        else:
            text += f".{part}" if text else part
    return text or "(file)"


def scenario_problems(error: ValidationError) -> list[str]:
    """Each problem as ``place: what is wrong`` (``metrics[3].values[7]: Input should be a valid number``)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{_where(item['loc'])}: {message}")
    return problems


def parse_scenario(text: str, *, source: str = "the input") -> Scenario:
    """A scenario from JSON text; InvalidInputError naming every problem (field and place) when it is malformed."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"{source}: not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{source}: a scenario is a JSON object, not {type(data).__name__}")
    try:
        # Validated from the JSON text, so strict mode applies JSON's types (ISO strings are timestamps).
        return Scenario.model_validate_json(text)
    except ValidationError as error:
        problems = scenario_problems(error)
        raise InvalidInputError(f"{source} is not a valid scenario: " + "; ".join(problems)) from None


def load_scenario(path: Path) -> Scenario:
    """Read a scenario file; InvalidInputError for a missing, unreadable or malformed one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"scenario {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"scenario {path}: cannot be read ({error})") from None
    return parse_scenario(text, source=f"scenario {path}")
