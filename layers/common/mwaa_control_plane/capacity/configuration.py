"""The capacity an environment is configured for: tasks per worker, slots, and Airflow's concurrency limits.

Every figure carries where it comes from (``source``), because a default the environment does not set is an
assumption the report must show. The defaults, and why:

- tasks per worker: ``celery.worker_autoscale`` (its maximum) when set, else the class's default
  (docs/mwaa-facts.md § Environment classes: 3, 5, 10, 20, 40, 80). MWAA ignores ``celery.worker_concurrency``,
  and changing the class does not change an explicit ``celery.worker_autoscale``.
- ``core.parallelism``: 10000 per scheduler, the value MWAA's user guide lists as its override of Airflow's 32
  ("Performance tuning for Apache Airflow on Amazon MWAA"). Not in docs/mwaa-facts.md: **unconfirmed** for
  recent images. The rules never name parallelism from this default alone: they need the executor's OpenSlots at
  0 or the running count at the limit, so a wrong default can only make the rule miss (inconclusive), never accuse.
  Airflow applies it per scheduler: the environment's limit is parallelism x schedulers; 0 means unlimited.
- ``core.max_active_tasks_per_dag`` (``core.dag_concurrency`` before Airflow 2.2): 10000, the same page's MWAA
  override of Airflow's 16; **unconfirmed** likewise, and only ever compared with a DAG's own running count.
- ``core.max_active_runs_per_dag``: 16, Airflow's default, which the page does not list as overridden.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from mwaa_control_plane.environments.change_request import EnvironmentClass
from mwaa_control_plane.errors import InvalidInputError

# docs/mwaa-facts.md § Environment classes: tasks per worker (the default celery.worker_autoscale).
CLASS_TASKS_PER_WORKER: dict[str, int] = {
    "mw1.micro": 3,
    "mw1.small": 5,
    "mw1.medium": 10,
    "mw1.large": 20,
    "mw1.xlarge": 40,
    "mw1.2xlarge": 80,
}
CLASS_ORDER: tuple[EnvironmentClass, ...] = (
    "mw1.micro",
    "mw1.small",
    "mw1.medium",
    "mw1.large",
    "mw1.xlarge",
    "mw1.2xlarge",
)
_TUNING_PAGE = "MWAA user guide, Performance tuning (MWAA's override; unconfirmed for recent images)"
DEFAULT_PARALLELISM = 10000
DEFAULT_MAX_ACTIVE_TASKS_PER_DAG = 10000
DEFAULT_MAX_ACTIVE_RUNS_PER_DAG = 16
_AIRFLOW_DEFAULT = "Airflow's default (MWAA does not override it)"


class Setting(BaseModel):
    """A limit and where it comes from; ``value`` None means unlimited."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Annotated[int, Field(ge=1)] | None
    source: str


class Capacity(BaseModel):
    """The environment's configured capacity, every assumed default named in its ``source``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment_class: EnvironmentClass
    min_workers: int
    max_workers: int
    schedulers: int
    tasks_per_worker: Setting
    class_tasks_per_worker: int
    """What the class runs per worker by default (celery.worker_autoscale unset)."""
    parallelism: Setting
    """Per scheduler, as Airflow applies it."""
    max_active_tasks_per_dag: Setting
    max_active_runs_per_dag: Setting

    @property
    def per_worker(self) -> int:
        value = self.tasks_per_worker.value
        assert value is not None  # tasks per worker is never unlimited
        return value

    @property
    def max_slots(self) -> int:
        """Task slots with every worker up: MaxWorkers x tasks per worker."""
        return self.max_workers * self.per_worker

    @property
    def parallelism_total(self) -> int | None:
        """The environment's parallelism: per-scheduler parallelism x schedulers (None: unlimited)."""
        value = self.parallelism.value
        return None if value is None else value * self.schedulers


def worker_autoscale(text: str) -> int:
    """The maximum of a ``celery.worker_autoscale`` value (``"max,min"``); ValueError when it is not that."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        raise ValueError(f"celery.worker_autoscale {text!r} is not 'max,min' (two whole numbers)")
    high, low = int(parts[0]), int(parts[1])
    if high < 1 or low > high:
        raise ValueError(f"celery.worker_autoscale {text!r}: the maximum must be at least 1 and not below the minimum")
    return high


def _whole(name: str, text: str) -> int:
    stripped = text.strip()
    if not stripped.isdigit():
        raise ValueError(f"{name} {text!r} is not a whole number")
    return int(stripped)


def check_options(options: Mapping[str, str]) -> None:
    """ValueError naming the first capacity option whose value cannot be read (the scenario refuses the file)."""
    if "celery.worker_autoscale" in options:
        worker_autoscale(options["celery.worker_autoscale"])
    for name in ("core.parallelism", "core.max_active_tasks_per_dag", "core.dag_concurrency"):
        if name in options:
            _whole(name, options[name])
    if "core.max_active_runs_per_dag" in options:
        _whole("core.max_active_runs_per_dag", options["core.max_active_runs_per_dag"])


def _limit(options: Mapping[str, str], names: tuple[str, ...], default: int, default_source: str) -> Setting:
    for name in names:
        if name in options:
            value = _whole(name, options[name])
            # Airflow reads 0 as "no limit" for parallelism; for the per-DAG limits 0 would block everything,
            # which the scheduler refuses at start, so it is read as unlimited too rather than as a zero limit.
            return Setting(value=value or None, source=f"configured ({name})")
    return Setting(value=default, source=default_source)


def capacity_of(
    environment_class: EnvironmentClass,
    *,
    min_workers: int,
    max_workers: int,
    schedulers: int,
    options: Mapping[str, str],
) -> Capacity:
    """The configured capacity of an environment; InvalidInputError for a capacity option that cannot be read."""
    default_per_worker = CLASS_TASKS_PER_WORKER[environment_class]
    try:
        if "celery.worker_autoscale" in options:
            per_worker = Setting(
                value=worker_autoscale(options["celery.worker_autoscale"]),
                source="configured (celery.worker_autoscale)",
            )
        else:
            per_worker = Setting(value=default_per_worker, source=f"{environment_class} default (docs/mwaa-facts.md)")
        parallelism = _limit(options, ("core.parallelism",), DEFAULT_PARALLELISM, _TUNING_PAGE)
        tasks_per_dag = _limit(
            options,
            ("core.max_active_tasks_per_dag", "core.dag_concurrency"),
            DEFAULT_MAX_ACTIVE_TASKS_PER_DAG,
            _TUNING_PAGE,
        )
        runs_per_dag = _limit(
            options, ("core.max_active_runs_per_dag",), DEFAULT_MAX_ACTIVE_RUNS_PER_DAG, _AIRFLOW_DEFAULT
        )
    except ValueError as error:
        raise InvalidInputError(str(error)) from None
    return Capacity(
        environment_class=environment_class,
        min_workers=min_workers,
        max_workers=max_workers,
        schedulers=schedulers,
        tasks_per_worker=per_worker,
        class_tasks_per_worker=default_per_worker,
        parallelism=parallelism,
        max_active_tasks_per_dag=tasks_per_dag,
        max_active_runs_per_dag=runs_per_dag,
    )
