"""A workload simulator for the MWAA emulator: task arrivals in, MWAA's CloudWatch metrics out, on virtual time.

Given a :class:`Workload` (DAG runs arriving over time, each with its tasks' duration, CPU and memory, optional
pools, per-DAG limits and incidents) and an emulated environment's configuration, :func:`simulate` plays MWAA's
Celery executor minute by minute and :func:`publish` writes what CloudWatch would hold into the local CloudWatch,
at the simulated minutes' timestamps, under the names the worker analysis reads (``capacity/gather.py``):

* ``AWS/MWAA`` {Environment}: QueuedTasks, RunningTasks, ApproximateAgeOfOldestTask;
* ``AWS/MWAA`` {Environment, Cluster=BaseWorker|AdditionalWorker|Scheduler}: CPUUtilization and
  MemoryUtilization, one statistic set per cluster and minute whose SampleCount is the containers up (that is
  how the analysis counts workers);
* ``AmazonMWAA`` {Environment, Function=Executor}: QueuedTasks, RunningTasks, OpenSlots;
  {Function=Scheduler}: SchedulerHeartbeat, TasksStarving; {Environment, Pool}: PoolOpenSlots,
  PoolRunningSlots, PoolQueuedSlots, PoolStarvingTasks. The scheduler publishes these: none while it is down.

:func:`simulate_workload` (exported as ``mwaa.simulate_workload``) does both for an environment of the emulator
and leaves Airflow's REST answers (pools with their slots in use, task instances, DAG runs) as the simulation
ends, so a gather right after reads a consistent picture.

The model, and where its figures come from:

* **Autoscaling** (docs/mwaa-facts.md § Autoscaling, MWAA user guide "How worker scaling works"): required
  workers = ceil((running + queued) / tasks per worker), bounded by [MinWorkers, MaxWorkers]. New workers are
  up :attr:`Autoscaling.scale_out_minutes` after MWAA sees the need: 3 minutes by default, an **assumption**
  (one minute of metric publication plus Fargate starting a container; AWS documents no figure). Extra
  workers are removed once the need has stayed lower for :attr:`Autoscaling.scale_in_minutes`: 5 by default,
  the upper end of the "two to five minutes" of the older user guide (the current one gives no figure, so it is
  a setting); a worker that still runs tasks is kept, as the guide says.
* **Tasks per worker**: ``celery.worker_autoscale`` (its maximum) else the class default; **parallelism**,
  **max_active_tasks_per_dag** and **max_active_runs_per_dag** from the options, else the defaults the analysis
  states (``capacity/configuration.py``). Parallelism applies per scheduler (x schedulers up), counting queued
  and running tasks, as Airflow's executor does; a pool counts its queued and running tasks against its slots.
* A task waits in ``scheduled`` while a limit holds it (a full pool makes it *starving*), then in ``queued``
  until a worker takes it. MWAA sets ``scheduler.task_queued_timeout`` to 1800 s: a task queued that long is
  failed by the scheduler (counted in :attr:`SimulationResult.failed`).
* **Worker resources** (docs/mwaa-facts.md § Environment classes: vCPU and GB per class). A worker's CPU and
  memory are its own baseline (:data:`WORKER_BASELINE_CPU`, :data:`WORKER_BASELINE_MEMORY`: assumptions) plus
  its tasks'. A worker whose CPU is saturated (100 % or more in demand) takes no new task and runs its tasks
  slower (in proportion); a task whose memory would not fit is not taken (on MWAA it would be killed and retried:
  the simplification keeps the same symptom, fewer tasks running than slots while memory sits near full).
* **Incidents**: ``workers_unhealthy`` (no worker takes a queued task; running ones finish) for the stranded
  pattern; ``scheduler_down`` (no heartbeat, no scheduling, no AmazonMWAA metrics; workers still drain the
  Celery queue), or with ``schedulers`` only that many of them stop.

Everything is deterministic: the same workload and configuration give the same metrics.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import boto3
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mwaa_control_plane.capacity.configuration import capacity_of
from mwaa_control_plane.clock import get_clock
from mwaa_cp_local.mwaa import models
from mwaa_cp_local.mwaa.airflow import (
    DEFAULT_POOL,
    DEFAULT_POOL_SLOTS,
    Pool,
    SimulatedLoad,
    SimulatedRun,
    SimulatedTask,
)

WORKLOADS = Path(__file__).resolve().parent / "workloads"
"""The workload files the demo and the tests use."""

# docs/mwaa-facts.md § Environment classes: worker vCPU and memory (GB).
WORKER_RESOURCES: dict[str, tuple[float, float]] = {
    "mw1.micro": (1.0, 3.0),
    "mw1.small": (1.0, 2.0),
    "mw1.medium": (2.0, 4.0),
    "mw1.large": (4.0, 8.0),
    "mw1.xlarge": (8.0, 24.0),
    "mw1.2xlarge": (16.0, 48.0),
}
WORKER_BASELINE_CPU = 0.05
"""An idle worker's own CPU (Celery, the Airflow worker, log shipping), as a share of its vCPU: an assumption."""
WORKER_BASELINE_MEMORY = 0.2
"""An idle worker's own memory, as a share of its memory: an assumption."""
SCHEDULER_BASELINE_CPU = 20.0
"""A scheduler's CPU (percent) with nothing to schedule: an assumption, as are the two figures below."""
SCHEDULER_CPU_PER_TASK = 0.5
"""Percent of scheduler CPU per task it queues in a minute."""
SCHEDULER_MEMORY = 35.0
HEARTBEATS_PER_MINUTE = 12
"""Airflow's ``scheduler_heartbeat_sec`` default of 5 s: twelve SchedulerHeartbeat counts a minute per scheduler."""
TASK_QUEUED_TIMEOUT_SECONDS = 1800
"""docs/mwaa-facts.md § Autoscaling: MWAA sets ``scheduler.task_queued_timeout`` to 1800 on every image."""
_PUT_BATCH = 1000
"""PutMetricData takes at most 1000 datums a request."""


# --------------------------------------------------------------------------------------------
# The workload file
# --------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Arrival(_Model):
    """A DAG run of ``tasks`` parallel tasks at ``at_minute``, and every ``every_minutes`` until ``until_minute``."""

    at_minute: Annotated[float, Field(ge=0)]
    dag_id: Annotated[str, Field(min_length=1)]
    tasks: Annotated[int, Field(ge=1)]
    duration_minutes: Annotated[float, Field(gt=0)]
    cpu: Annotated[float, Field(ge=0)] = 0.1
    """vCPU each task uses while it runs."""
    memory_gb: Annotated[float, Field(ge=0)] = 0.2
    """GB each task holds while it runs."""
    pool: Annotated[str, Field(min_length=1)] = DEFAULT_POOL
    every_minutes: Annotated[float, Field(gt=0)] | None = None
    until_minute: Annotated[float, Field(ge=0)] | None = None

    def times(self, minutes: int) -> Iterator[float]:
        """The minutes this arrival happens at within a window of ``minutes``."""
        at = self.at_minute
        last = minutes if self.until_minute is None else min(minutes, self.until_minute)
        while at < minutes and (at <= last):
            yield at
            if self.every_minutes is None:
                return
            at += self.every_minutes


class DagLimits(_Model):
    """A DAG's own limits (its ``max_active_tasks`` / ``max_active_runs`` arguments), over the environment's."""

    dag_id: Annotated[str, Field(min_length=1)]
    max_active_tasks: Annotated[int, Field(ge=1)] | None = None
    max_active_runs: Annotated[int, Field(ge=1)] | None = None


class Incident(_Model):
    """Something broken from ``from_minute`` to ``to_minute`` (None: the end of the window)."""

    kind: Literal["workers_unhealthy", "scheduler_down"]
    from_minute: Annotated[int, Field(ge=0)] = 0
    to_minute: Annotated[int, Field(ge=0)] | None = None
    schedulers: Annotated[int, Field(ge=1)] | None = None
    """scheduler_down only: how many schedulers stop (None: all of them)."""

    @model_validator(mode="after")
    def _coherent(self) -> Incident:
        if self.to_minute is not None and self.to_minute <= self.from_minute:
            raise ValueError("to_minute must be after from_minute")
        if self.schedulers is not None and self.kind != "scheduler_down":
            raise ValueError("schedulers applies to scheduler_down only")
        return self

    def active(self, minute: int) -> bool:
        return self.from_minute <= minute and (self.to_minute is None or minute < self.to_minute)


class Autoscaling(_Model):
    scale_out_minutes: Annotated[int, Field(ge=0, le=30)] = 3
    """Assumption (see the module docstring): from the need being visible to the new worker taking tasks."""
    scale_in_minutes: Annotated[int, Field(ge=0, le=60)] = 5
    """The older user guide's "two to five minutes" (upper end): the need must stay lower this long."""


class SuggestedEnvironment(_Model):
    """The environment the pattern was written for (CreateEnvironment arguments); the simulation reads the real one."""

    EnvironmentClass: Literal["mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge"]
    MinWorkers: Annotated[int, Field(ge=1)]
    MaxWorkers: Annotated[int, Field(ge=1)]
    Schedulers: Annotated[int, Field(ge=1, le=5)] | None = None
    AirflowConfigurationOptions: dict[str, str] = {}

    def create_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = self.model_dump(exclude_none=True)
        if not arguments["AirflowConfigurationOptions"]:
            del arguments["AirflowConfigurationOptions"]
        return arguments


class Workload(_Model):
    """What runs on an environment over a window of ``minutes`` (see docs in the module and the workload files)."""

    description: str | None = None
    minutes: Annotated[int, Field(ge=15, le=1440)]
    environment: SuggestedEnvironment | None = None
    pools: dict[str, Annotated[int, Field(ge=0)]] = {}
    """Pool name to slots (``default_pool`` too); pools an arrival names must be listed unless it is the default."""
    dags: list[DagLimits] = []
    arrivals: list[Arrival]
    incidents: list[Incident] = []
    autoscaling: Autoscaling = Autoscaling()

    @model_validator(mode="after")
    def _pools_known(self) -> Workload:
        unknown = sorted({a.pool for a in self.arrivals if a.pool != DEFAULT_POOL and a.pool not in self.pools})
        if unknown:
            raise ValueError(f"arrivals use pools that are not in 'pools': {', '.join(unknown)}")
        return self

    @classmethod
    def from_file(cls, path: str | Path) -> Workload:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def named(cls, name: str) -> Workload:
        """A workload of :data:`WORKLOADS` by file stem (``nightly-etl``)."""
        return cls.from_file(WORKLOADS / f"{name}.json")


class Configuration(_Model):
    """The environment's capacity as the simulation uses it (from GetEnvironment)."""

    environment_class: str
    min_workers: int
    max_workers: int
    schedulers: int
    tasks_per_worker: int
    parallelism: int | None
    """Per scheduler; None is unlimited."""
    max_active_tasks_per_dag: int | None
    max_active_runs_per_dag: int | None
    task_queued_timeout_seconds: float = TASK_QUEUED_TIMEOUT_SECONDS

    @classmethod
    def of(cls, environment: Mapping[str, Any]) -> Configuration:
        """From a GetEnvironment ``Environment`` (or the emulator's configuration, which has the same keys)."""
        options: Mapping[str, str] = environment.get("AirflowConfigurationOptions") or {}
        environment_class = environment.get("EnvironmentClass", "mw1.small")
        micro = environment_class == "mw1.micro"
        capacity = capacity_of(
            environment_class,
            min_workers=int(environment.get("MinWorkers", 1)),
            max_workers=int(environment.get("MaxWorkers", 1 if micro else 10)),
            schedulers=int(environment.get("Schedulers") or (1 if micro else 2)),
            options=options,
        )
        timeout = options.get("scheduler.task_queued_timeout")
        return cls(
            environment_class=environment_class,
            min_workers=capacity.min_workers,
            max_workers=capacity.max_workers,
            schedulers=capacity.schedulers,
            tasks_per_worker=capacity.per_worker,
            parallelism=capacity.parallelism.value,
            max_active_tasks_per_dag=capacity.max_active_tasks_per_dag.value,
            max_active_runs_per_dag=capacity.max_active_runs_per_dag.value,
            task_queued_timeout_seconds=float(timeout) if timeout else TASK_QUEUED_TIMEOUT_SECONDS,
        )


# --------------------------------------------------------------------------------------------
# The simulation
# --------------------------------------------------------------------------------------------

TaskState = Literal["scheduled", "queued", "running", "success", "failed"]


@dataclass
class _Task:
    dag_id: str
    run_id: str
    task_id: str
    pool: str
    duration: float
    cpu: float
    memory: float
    state: TaskState = "scheduled"
    queued_at: int | None = None
    started_at: int | None = None
    progress: float = 0.0


@dataclass
class _Run:
    dag_id: str
    run_id: str
    tasks: list[_Task]
    state: Literal["queued", "running", "success", "failed"] = "queued"


@dataclass
class _Worker:
    index: int
    tasks: list[_Task] = field(default_factory=list)


@dataclass(frozen=True)
class Minute:
    """What CloudWatch holds for one simulated minute."""

    queued: int
    running: int
    oldest_age_seconds: float
    scheduled: int
    starving: int
    open_slots: int | None
    workers: int
    base_cpu: tuple[float, ...]
    base_memory: tuple[float, ...]
    additional_cpu: tuple[float, ...]
    additional_memory: tuple[float, ...]
    schedulers_up: int
    scheduler_cpu: float
    scheduler_memory: float
    pools: Mapping[str, tuple[int, int, int, int]]
    """Pool name to (open slots, running, queued, starving)."""


@dataclass(frozen=True)
class SimulationResult:
    configuration: Configuration
    minutes: tuple[Minute, ...]
    load: SimulatedLoad
    """Airflow's task instances and DAG runs as the window ends (what the REST API answers afterwards)."""
    pool_slots: Mapping[str, int]
    failed: int
    """Tasks the scheduler failed after ``task_queued_timeout``."""
    completed: int
    start: datetime | None = None
    """The window published (set by :func:`simulate_workload`): gather over [start, end) to read it back."""
    end: datetime | None = None


def simulate(workload: Workload, configuration: Configuration) -> SimulationResult:
    """Play ``workload`` on an environment of ``configuration`` minute by minute (see the module docstring)."""
    simulation = _Simulation(workload, configuration)
    samples = tuple(simulation.step(minute) for minute in range(workload.minutes))
    return SimulationResult(
        configuration=configuration,
        minutes=samples,
        load=simulation.load(),
        pool_slots=simulation.pool_slots,
        failed=simulation.failed,
        completed=simulation.completed,
    )


class _Simulation:
    """The environment's state between minutes; :meth:`step` plays one minute in the order MWAA would."""

    def __init__(self, workload: Workload, configuration: Configuration) -> None:
        self.workload = workload
        self.configuration = configuration
        self.vcpu, self.memory_gb = WORKER_RESOURCES[configuration.environment_class]
        self.per_worker = configuration.tasks_per_worker
        self.limits = {dag.dag_id: dag for dag in workload.dags}
        self.pool_slots = {DEFAULT_POOL: DEFAULT_POOL_SLOTS, **workload.pools}
        self.arrivals = sorted(
            (at, index, arrival)
            for index, arrival in enumerate(workload.arrivals)
            for at in arrival.times(workload.minutes)
        )
        self.runs: list[_Run] = []
        self.tasks: list[_Task] = []
        """Tasks of started runs that have not ended."""
        self.workers = [_Worker(index) for index in range(configuration.min_workers)]
        self.next_worker = configuration.min_workers
        self.coming: list[int] = []
        """The minutes at which workers already asked for come up."""
        self.low_since: int | None = None
        self.failed = 0
        self.completed = 0

    # -- limits and resources -----------------------------------------------------------------

    def max_runs(self, dag_id: str) -> float:
        own = self.limits.get(dag_id)
        value = own.max_active_runs if own and own.max_active_runs else self.configuration.max_active_runs_per_dag
        return math.inf if value is None else value

    def max_tasks(self, dag_id: str) -> float:
        own = self.limits.get(dag_id)
        value = own.max_active_tasks if own and own.max_active_tasks else self.configuration.max_active_tasks_per_dag
        return math.inf if value is None else value

    def cpu_demand(self, worker: _Worker) -> float:
        return WORKER_BASELINE_CPU * self.vcpu + sum(task.cpu for task in worker.tasks)

    def memory_use(self, worker: _Worker) -> float:
        return WORKER_BASELINE_MEMORY * self.memory_gb + sum(task.memory for task in worker.tasks)

    # -- one minute ---------------------------------------------------------------------------

    def step(self, minute: int) -> Minute:
        incidents = [incident for incident in self.workload.incidents if incident.active(minute)]
        schedulers = self.configuration.schedulers
        stopped = sum(i.schedulers or schedulers for i in incidents if i.kind == "scheduler_down")
        schedulers_up = schedulers - min(schedulers, stopped)
        self.start_workers(minute)
        self.run_tasks()
        scheduled = 0
        if schedulers_up:
            self.start_runs(minute)
            self.fail_tasks_queued_too_long(minute)
            scheduled = self.schedule(minute, schedulers_up)
        if not any(incident.kind == "workers_unhealthy" for incident in incidents):
            self.pick_up(minute)
        self.autoscale(minute)
        return self.sample(minute, schedulers_up, scheduled)

    def start_workers(self, minute: int) -> None:
        """Workers asked for earlier come up."""
        while self.coming and self.coming[0] <= minute:
            self.coming.pop(0)
            self.workers.append(_Worker(self.next_worker))
            self.next_worker += 1

    def run_tasks(self) -> None:
        """Running tasks progress a minute (slower on a CPU-saturated worker); finished ones end, and their runs."""
        for worker in self.workers:
            demand = self.cpu_demand(worker)
            speed = min(1.0, self.vcpu / demand) if demand > 0 else 1.0
            for task in list(worker.tasks):
                task.progress += speed
                if task.progress >= task.duration - 1e-9:
                    task.state = "success"
                    worker.tasks.remove(task)
                    self.completed += 1
        for run in self.runs:
            if run.state == "running" and all(task.state in ("success", "failed") for task in run.tasks):
                run.state = "failed" if any(task.state == "failed" for task in run.tasks) else "success"
        self.tasks = [task for task in self.tasks if task.state not in ("success", "failed")]

    def start_runs(self, minute: int) -> None:
        """The scheduler creates the runs that arrived (while all schedulers are down they wait) and starts the
        queued ones whose DAG is below max_active_runs."""
        while self.arrivals and self.arrivals[0][0] <= minute:
            _, _, arrival = self.arrivals.pop(0)
            number = sum(1 for run in self.runs if run.dag_id == arrival.dag_id) + 1
            run_id = f"scheduled__{arrival.dag_id}_{number:04d}"
            tasks = [
                _Task(
                    arrival.dag_id,
                    run_id,
                    f"task_{i + 1:03d}",
                    arrival.pool,
                    arrival.duration_minutes,
                    arrival.cpu,
                    arrival.memory_gb,
                )
                for i in range(arrival.tasks)
            ]
            self.runs.append(_Run(arrival.dag_id, run_id, tasks))
        active: Counter[str] = Counter(run.dag_id for run in self.runs if run.state == "running")
        for run in self.runs:
            if run.state == "queued" and active[run.dag_id] < self.max_runs(run.dag_id):
                run.state = "running"
                active[run.dag_id] += 1
                self.tasks.extend(run.tasks)

    def fail_tasks_queued_too_long(self, minute: int) -> None:
        """scheduler.task_queued_timeout: the scheduler fails a task queued that long."""
        timeout = self.configuration.task_queued_timeout_seconds
        for task in self.tasks:
            if task.state == "queued" and task.queued_at is not None and (minute - task.queued_at) * 60 >= timeout:
                task.state = "failed"
                self.failed += 1

    def schedule(self, minute: int, schedulers_up: int) -> int:
        """Scheduled tasks go to the executor's queue within their pool, parallelism and their DAG's limit."""
        per_scheduler = self.configuration.parallelism
        parallelism = math.inf if per_scheduler is None else per_scheduler * schedulers_up
        active = [task for task in self.tasks if task.state in ("queued", "running")]
        in_executor = len(active)
        per_dag: Counter[str] = Counter(task.dag_id for task in active)
        per_pool: Counter[str] = Counter(task.pool for task in active)
        queued = 0
        for task in self.tasks:
            if task.state != "scheduled" or per_pool[task.pool] >= self.pool_slots[task.pool]:
                continue
            if in_executor >= parallelism or per_dag[task.dag_id] >= self.max_tasks(task.dag_id):
                continue
            task.state = "queued"
            task.queued_at = minute
            in_executor += 1
            per_dag[task.dag_id] += 1
            per_pool[task.pool] += 1
            queued += 1
        return queued

    def pick_up(self, minute: int) -> None:
        """Workers take queued tasks, oldest first, the least busy worker first: a worker takes one while it has
        a free slot and CPU to spare, if the task's memory fits."""
        for task in self.tasks:
            if task.state != "queued":
                continue
            taking = [w for w in self.workers if len(w.tasks) < self.per_worker and self.cpu_demand(w) < self.vcpu]
            if not taking:
                return
            fitting = [w for w in taking if self.memory_use(w) + task.memory <= self.memory_gb + 1e-9]
            if not fitting:
                continue
            worker = min(fitting, key=lambda w: (len(w.tasks), w.index))
            worker.tasks.append(task)
            task.state = "running"
            task.started_at = minute

    def autoscale(self, minute: int) -> None:
        """MWAA's worker autoscaling (see the module docstring for the delays)."""
        configuration, scaling = self.configuration, self.workload.autoscaling
        demand = sum(1 for task in self.tasks if task.state in ("queued", "running"))
        required = min(configuration.max_workers, max(configuration.min_workers, math.ceil(demand / self.per_worker)))
        asked = len(self.workers) + len(self.coming)
        if required > asked:
            self.coming.extend([minute + max(1, scaling.scale_out_minutes)] * (required - asked))
            self.low_since = None
        elif required < len(self.workers) and not self.coming:
            self.low_since = minute if self.low_since is None else self.low_since
            if minute - self.low_since >= scaling.scale_in_minutes:
                for worker in sorted(self.workers[configuration.min_workers :], key=lambda w: -w.index):
                    if len(self.workers) <= required:
                        break
                    if not worker.tasks:  # a worker still running tasks is kept
                        self.workers.remove(worker)
        else:
            self.low_since = None

    def sample(self, minute: int, schedulers_up: int, scheduled: int) -> Minute:
        """The minute as CloudWatch sees it."""
        running: Counter[str] = Counter(task.pool for task in self.tasks if task.state == "running")
        queued: Counter[str] = Counter(task.pool for task in self.tasks if task.state == "queued")
        # Starving: held only because its pool has no open slot (Airflow's scheduler.tasks.starving).
        starving: Counter[str] = Counter(
            task.pool
            for task in self.tasks
            if schedulers_up
            and task.state == "scheduled"
            and running[task.pool] + queued[task.pool] >= self.pool_slots[task.pool]
        )
        pools = {
            name: (slots - running[name] - queued[name], running[name], queued[name], starving[name])
            for name, slots in sorted(self.pool_slots.items())
        }
        oldest = min((t.queued_at for t in self.tasks if t.state == "queued" and t.queued_at is not None), default=None)
        parallelism = self.configuration.parallelism
        total_running, total_queued = running.total(), queued.total()
        base = self.workers[: self.configuration.min_workers]
        additional = self.workers[self.configuration.min_workers :]
        return Minute(
            queued=total_queued,
            running=total_running,
            oldest_age_seconds=0.0 if oldest is None else float((minute - oldest) * 60),
            scheduled=sum(1 for task in self.tasks if task.state == "scheduled"),
            starving=starving.total(),
            open_slots=None if parallelism is None else parallelism * schedulers_up - total_running - total_queued,
            workers=len(self.workers),
            base_cpu=tuple(self.cpu_percent(w) for w in base),
            base_memory=tuple(self.memory_percent(w) for w in base),
            additional_cpu=tuple(self.cpu_percent(w) for w in additional),
            additional_memory=tuple(self.memory_percent(w) for w in additional),
            schedulers_up=schedulers_up,
            scheduler_cpu=min(100.0, SCHEDULER_BASELINE_CPU + SCHEDULER_CPU_PER_TASK * scheduled),
            scheduler_memory=SCHEDULER_MEMORY,
            pools=pools,
        )

    def cpu_percent(self, worker: _Worker) -> float:
        return round(min(100.0, 100.0 * self.cpu_demand(worker) / self.vcpu), 1)

    def memory_percent(self, worker: _Worker) -> float:
        return round(min(100.0, 100.0 * self.memory_use(worker) / self.memory_gb), 1)

    def load(self) -> SimulatedLoad:
        """Airflow's task instances and DAG runs now (a queued run has no task instances with a state yet)."""
        return SimulatedLoad(
            tasks=tuple(
                SimulatedTask(task.dag_id, task.run_id, task.task_id, task.state, task.pool)
                for run in self.runs
                if run.state != "queued"
                for task in run.tasks
            ),
            runs=tuple(SimulatedRun(run.dag_id, run.run_id, run.state) for run in self.runs),
        )


# --------------------------------------------------------------------------------------------
# Publishing into the local CloudWatch
# --------------------------------------------------------------------------------------------


def _datum(name: str, dimensions: Mapping[str, str], at: datetime, value: float) -> dict[str, Any]:
    return {
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        "Timestamp": at,
        "Value": float(value),
    }


def _statistic_set(name: str, dimensions: Mapping[str, str], at: datetime, values: tuple[float, ...]) -> dict[str, Any]:
    """One datum per cluster and minute; its SampleCount is the containers that reported (how workers are counted)."""
    return {
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        "Timestamp": at,
        "StatisticValues": {
            "SampleCount": float(len(values)),
            "Sum": float(sum(values)),
            "Minimum": float(min(values)),
            "Maximum": float(max(values)),
        },
        "Unit": "Percent",
    }


def metric_data(environment: str, result: SimulationResult, start: datetime) -> dict[str, list[dict[str, Any]]]:
    """The PutMetricData datums of a simulation, by namespace, each at its minute's timestamp from ``start``."""
    env = {"Environment": environment}
    mwaa: list[dict[str, Any]] = []
    airflow: list[dict[str, Any]] = []
    for index, sample in enumerate(result.minutes):
        at = start + timedelta(minutes=index)
        mwaa.append(_datum("QueuedTasks", env, at, sample.queued))
        mwaa.append(_datum("RunningTasks", env, at, sample.running))
        mwaa.append(_datum("ApproximateAgeOfOldestTask", env, at, sample.oldest_age_seconds))
        for cluster, cpu, memory in (
            ("BaseWorker", sample.base_cpu, sample.base_memory),
            ("AdditionalWorker", sample.additional_cpu, sample.additional_memory),
        ):
            if cpu:  # no container, no sample: a minute without one means no additional worker
                dims = env | {"Cluster": cluster}
                mwaa.append(_statistic_set("CPUUtilization", dims, at, cpu))
                mwaa.append(_statistic_set("MemoryUtilization", dims, at, memory))
        if sample.schedulers_up:
            schedulers = env | {"Cluster": "Scheduler"}
            up = sample.schedulers_up
            mwaa.append(_statistic_set("CPUUtilization", schedulers, at, (sample.scheduler_cpu,) * up))
            mwaa.append(_statistic_set("MemoryUtilization", schedulers, at, (sample.scheduler_memory,) * up))
            # The scheduler runs the executor and publishes Airflow's StatsD metrics: none while it is down.
            executor = env | {"Function": "Executor"}
            airflow.append(_datum("QueuedTasks", executor, at, sample.queued))
            airflow.append(_datum("RunningTasks", executor, at, sample.running))
            if sample.open_slots is not None:
                airflow.append(_datum("OpenSlots", executor, at, sample.open_slots))
            scheduler = env | {"Function": "Scheduler"}
            airflow.append(_datum("SchedulerHeartbeat", scheduler, at, HEARTBEATS_PER_MINUTE * up))
            airflow.append(_datum("TasksStarving", scheduler, at, sample.starving))
            for pool, (open_slots, running, queued, starving) in sample.pools.items():
                dims = env | {"Pool": pool}
                airflow.append(_datum("PoolOpenSlots", dims, at, open_slots))
                airflow.append(_datum("PoolRunningSlots", dims, at, running))
                airflow.append(_datum("PoolQueuedSlots", dims, at, queued))
                airflow.append(_datum("PoolStarvingTasks", dims, at, starving))
    return {"AWS/MWAA": mwaa, "AmazonMWAA": airflow}


def publish(cloudwatch: Any, environment: str, result: SimulationResult, start: datetime) -> int:
    """PutMetricData every datum of the simulation (1000 a request); returns the datums written."""
    written = 0
    for namespace, data in metric_data(environment, result, start).items():
        for first in range(0, len(data), _PUT_BATCH):
            batch = data[first : first + _PUT_BATCH]
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch)
            written += len(batch)
    return written


# --------------------------------------------------------------------------------------------
# The emulator hook
# --------------------------------------------------------------------------------------------


class _Runtime(Protocol):
    region: str

    def client(self, service: str) -> Any: ...


def simulate_workload(
    aws_or_region: _Runtime | str,
    environment_name: str,
    workload: Workload | str | Path,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    account_id: str = "123456789012",
) -> SimulationResult:
    """Simulate ``workload`` on the emulated environment and publish its metrics for [start, end).

    ``aws_or_region`` is a :class:`~mwaa_cp_local.runtime.LocalAws` (its CloudWatch client is used) or a region
    (inside ``moto.mock_aws``). ``workload`` is a model, a file path or the stem of a file in :data:`WORKLOADS`.
    Without ``end`` the window ends at the current (virtual) minute; without ``start`` it lasts the workload's
    ``minutes``; with both, the workload is played over ``end - start`` minutes. Afterwards the environment's
    Airflow answers pools, task instances and DAG runs as the simulation left them (until the next call for
    that environment: the state lives on the environment's Airflow).
    """
    if not isinstance(workload, Workload):
        path = Path(workload)
        workload = Workload.from_file(path) if path.suffix == ".json" else Workload.named(str(workload))
    if end is None:
        end = (start + timedelta(minutes=workload.minutes)) if start else get_clock().now()
        end = end.replace(second=0, microsecond=0)
    if start is None:
        start = end - timedelta(minutes=workload.minutes)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    minutes = math.ceil((end - start).total_seconds() / 60)
    if minutes < 1:
        raise ValueError("the window must end after it starts")
    if minutes != workload.minutes:
        workload = workload.model_copy(update={"minutes": minutes})
    region = aws_or_region if isinstance(aws_or_region, str) else aws_or_region.region
    backend: models.MwaaBackend = models.mwaa_backends[account_id][region]
    now = get_clock().now()
    with backend.lock:
        environment = backend._environment(environment_name, now)  # the emulator's own backend
        configuration = Configuration.of(environment.config)
    result = simulate(workload, configuration)
    cloudwatch = (
        boto3.client("cloudwatch", region_name=region)
        if isinstance(aws_or_region, str)
        else aws_or_region.client("cloudwatch")
    )
    publish(cloudwatch, environment_name, result, start.astimezone(UTC))
    with backend.lock:
        airflow = environment.running_airflow(get_clock().now())
        if airflow is not None:
            for name, slots in result.pool_slots.items():
                pool = airflow.pools.get(name)
                if pool is None:
                    airflow.pools[name] = Pool(slots, "created by the workload simulator")
                elif name in workload.pools:
                    pool.slots = slots
            airflow.simulated = result.load
    return dataclasses.replace(result, start=start, end=end)


def summary(result: SimulationResult) -> dict[str, Any]:
    """Peak figures of a simulation (for the demo and test messages)."""
    minutes = result.minutes
    return {
        "peak_queued": max(m.queued for m in minutes),
        "peak_running": max(m.running for m in minutes),
        "peak_workers": max(m.workers for m in minutes),
        "peak_starving": max(m.starving for m in minutes),
        "completed": result.completed,
        "failed_queued_timeout": result.failed,
    }
