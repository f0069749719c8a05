"""What to change for a diagnosed cause: an environment-change request (the one door), its monthly cost, or advice.

Each cause maps to one proposal, never more than the evidence supports:

- capacity_bound: MaxWorkers up to the workers the p95 demand needs (MWAA's formula: running + queued over tasks per
  worker), at least one more, never above the ceiling (``max_workers_ceiling``, by default the account's default
  quota of 25). mw1.micro has one fixed worker: it moves to mw1.small instead.
- cpu/memory_starvation: fewer tasks per worker (``celery.worker_autoscale``) so the starved resource would sit near
  :data:`TARGET_UTILISATION`, with MaxWorkers raised to keep the same slots (within the ceiling); a worker already at
  one task gets the next larger class with the same tasks per worker.
- concurrency_bound: raise the named limit (``core.parallelism`` to cover the slots at MaxWorkers,
  ``core.max_active_tasks_per_dag`` / ``core.max_active_runs_per_dag`` to what the held DAG asked for,
  ``celery.worker_autoscale`` towards the class default while CPU and memory stay near the target). A pool is an
  Airflow object, not environment configuration: it gets advice, not a change request; so does a DAG's own limit.
- over_provisioned: MinWorkers down to the peak need (at least 1); the saving is exact, those workers always bill.
- scheduler_unhealthy: one more scheduler when the schedulers' CPU is at 90 % or more; otherwise advice.
- stranded, healthy, inconclusive: no change.

Only a change of MinWorkers/MaxWorkers alone is ``auto_applicable`` (what ``mwaa-cp:remediation`` = ``auto`` may
apply); anything else waits for a person. Every request is checked with the environment-change flow's own
refusal rules (:func:`mwaa_control_plane.environments.limits.refusals`) before it is proposed.

Costs come from :mod:`mwaa_control_plane.environments.cost` (list prices as data): ``delta_monthly`` is the change
at minimum capacity (MinWorkers all month, what the environment bills at the least); ``delta_monthly_at_max`` is
the change if every worker up to MaxWorkers ran all month (the most it can add or save).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from mwaa_control_plane.capacity.configuration import CLASS_ORDER, CLASS_TASKS_PER_WORKER, Capacity
from mwaa_control_plane.capacity.diagnosis import Diagnosis
from mwaa_control_plane.capacity.rules import Finding, Number
from mwaa_control_plane.capacity.scenario import EnvironmentSnapshot, Scenario
from mwaa_control_plane.environments.change_request import (
    ChangeRequest,
    ConfigurationChange,
    EnvironmentClass,
    RequestedBy,
)
from mwaa_control_plane.environments.cost import EnvironmentCapacity, monthly_cost
from mwaa_control_plane.environments.limits import CLASS_LIMITS, DEFAULT_MAX_WORKERS_QUOTA, capacity_of, refusals

FLOW = "worker-analysis"
TARGET_UTILISATION = 70.0
"""Fewer tasks per worker aim the starved resource at 70 %: room for a task's peak without idling the worker."""
STARVED_SCHEDULER_PERCENT = 90.0
_REASON_LENGTH = 500


class CostDelta(BaseModel):
    """The monthly cost before and after the change, USD at list prices (None: a price the data does not know)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    before_monthly: Decimal | None
    after_monthly: Decimal | None
    delta_monthly: Decimal | None
    """After minus before at minimum capacity (MinWorkers running all month): negative is a saving."""
    delta_monthly_at_max: Decimal | None
    """After minus before if every worker up to MaxWorkers ran all month."""
    notes: list[str] = []


class Recommendation(BaseModel):
    """The proposal for the diagnosed cause: a change request (``change``), advice only, or nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["change", "advice", "none"]
    summary: str
    change: ChangeRequest | None = None
    auto_applicable: bool = False
    """Only MinWorkers/MaxWorkers change: what remediation ``auto`` may apply."""
    capped_by_ceiling: bool = False
    """The evidence asked for more workers than the ceiling allows: the change stops at the ceiling."""
    max_workers_ceiling: int
    cost: CostDelta | None = None
    advice: list[str] = []


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _money(value: Decimal | None) -> str:
    return "unknown" if value is None else f"{value:+.2f} USD"


def _cost_capacity(environment: EnvironmentSnapshot, changes: dict[str, Any], *, at_max: bool) -> EnvironmentCapacity:
    klass: EnvironmentClass = changes.get("environment_class") or environment.EnvironmentClass
    limits = CLASS_LIMITS[klass]
    current = capacity_of(environment.model_dump())
    merged: dict[str, Any] = {
        key: changes.get(key) if changes.get(key) is not None else current[key] for key in current
    }
    min_web = merged["min_webservers"] or limits.webservers[0]
    max_web = merged["max_webservers"] or max(min_web, limits.webservers[0])
    if changes.get("environment_class") is not None:
        # A class change comes with the counts the new class allows (the request sets them).
        min_web, max_web = max(min_web, limits.webservers[0]), max(max_web, limits.webservers[0])
    max_workers: int = merged["max_workers"]
    return EnvironmentCapacity(
        environment_class=klass,
        min_workers=merged["min_workers"],
        max_workers=max_workers,
        schedulers=merged["schedulers"] or environment.scheduler_count,
        min_webservers=min(min_web, limits.webservers[1]),
        max_webservers=min(max_web, limits.webservers[1]),
        average_additional_workers=Decimal(max_workers - 1) if at_max else None,
    )


def cost_delta(environment: EnvironmentSnapshot, changes: dict[str, Any]) -> CostDelta:
    """The monthly cost of the environment as it is and with ``changes`` (change-request field names) applied."""
    before = monthly_cost(_cost_capacity(environment, {}, at_max=False))
    after = monthly_cost(_cost_capacity(environment, changes, at_max=False))
    before_max = monthly_cost(_cost_capacity(environment, {}, at_max=True))
    after_max = monthly_cost(_cost_capacity(environment, changes, at_max=True))

    def minus(a: Decimal | None, b: Decimal | None) -> Decimal | None:
        return None if a is None or b is None else a - b

    notes = sorted({note for breakdown in (after, after_max) for note in breakdown.notes if "unknown" in note})
    return CostDelta(
        before_monthly=before.as_configured.total,
        after_monthly=after.as_configured.total,
        delta_monthly=minus(after.as_configured.total, before.as_configured.total),
        delta_monthly_at_max=minus(after_max.as_configured.total, before_max.as_configured.total),
        notes=notes,
    )


class _Proposal:
    """Builds the recommendation for one environment: the change request, its refusal check and its cost."""

    def __init__(self, scenario: Scenario, diagnosis: Diagnosis, *, ceiling: int, execution: str) -> None:
        self.environment = scenario.environment
        self.diagnosis = diagnosis
        self.capacity: Capacity = diagnosis.capacity
        self.ceiling = ceiling
        self.execution = execution
        self.finding: Finding = diagnosis.findings[0]

    @property
    def evidence(self) -> dict[str, Number]:
        return self.finding.evidence

    def number(self, key: str) -> float | None:
        value = self.evidence.get(key)
        return float(value) if isinstance(value, int | float) else None

    def none(self, summary: str, advice: list[str] | None = None) -> Recommendation:
        return Recommendation(
            action="advice" if advice else "none",
            summary=summary,
            advice=advice or [],
            max_workers_ceiling=self.ceiling,
        )

    def change(
        self,
        summary: str,
        fields: dict[str, Any],
        *,
        advice: list[str] | None = None,
        capped: bool = False,
    ) -> Recommendation:
        cause = self.diagnosis.cause + (f" ({self.diagnosis.limit})" if self.diagnosis.limit else "")
        reason = f"{FLOW}: {cause}. {summary}"
        if len(reason) > _REASON_LENGTH:
            reason = reason[: _REASON_LENGTH - 3] + "..."
        request = ChangeRequest(
            environment_name=self.environment.Name,
            reason=reason,
            requested_by=RequestedBy(flow=FLOW, execution=self.execution),
            **fields,
        )
        refused = refusals(
            request.model_dump(exclude_none=True),
            capacity_of(self.environment.model_dump()),
            max_workers_quota=self.ceiling,
        )
        if refused:
            return self.none(
                f"No change proposed, the environment-change flow would refuse it ({'; '.join(refused)}): {summary}",
                advice or [],
            )
        capacity_fields = {k: v for k, v in fields.items() if k != "airflow_configuration_options"}
        return Recommendation(
            action="change",
            summary=summary,
            change=request,
            auto_applicable=set(fields) <= {"min_workers", "max_workers"},
            capped_by_ceiling=capped,
            max_workers_ceiling=self.ceiling,
            cost=cost_delta(self.environment, capacity_fields),
            advice=advice or [],
        )

    def larger_class(self) -> EnvironmentClass | None:
        index = CLASS_ORDER.index(self.capacity.environment_class)
        return CLASS_ORDER[index + 1] if index + 1 < len(CLASS_ORDER) else None

    def class_change_fields(self, klass: EnvironmentClass) -> dict[str, Any]:
        """The counts a move to ``klass`` must come with (a class change is checked with the counts it leaves)."""
        limits = CLASS_LIMITS[klass]
        fields: dict[str, Any] = {"environment_class": klass}
        low, high = limits.schedulers
        if not low <= self.capacity.schedulers <= high:
            fields["schedulers"] = low
        web_low, web_high = limits.webservers
        for name, value in (
            ("min_webservers", self.environment.MinWebservers),
            ("max_webservers", self.environment.MaxWebservers),
        ):
            if value is None or not web_low <= value <= web_high:
                fields[name] = web_low
        return fields

    # --- per cause -------------------------------------------------------------------------------------------

    def capacity_bound(self) -> Recommendation:
        cap = self.capacity
        needed = int(self.number("required_workers") or cap.max_workers + 1)
        demand = self.number("p95_demand")
        if CLASS_LIMITS[cap.environment_class].workers is not None:
            klass = self.larger_class()
            assert klass is not None
            per_worker = (
                cap.per_worker
                if "celery.worker_autoscale" in self.environment.AirflowConfigurationOptions
                else CLASS_TASKS_PER_WORKER[klass]
            )
            wanted = max(2, math.ceil((demand or cap.max_slots + 1) / per_worker))
            target = min(wanted, self.ceiling)
            fields = self.class_change_fields(klass) | {"min_workers": 1, "max_workers": target}
            return self.change(
                f"{cap.environment_class} runs one fixed worker: move to {klass} with MaxWorkers {target} "
                f"({per_worker} tasks per worker) for the p95 demand of {_number(demand)} tasks.",
                fields,
                capped=wanted > self.ceiling,
            )
        target = max(cap.max_workers + 1, needed)
        capped = target > self.ceiling
        target = min(target, self.ceiling)
        advice = []
        total = cap.parallelism_total
        if total is not None and total < target * cap.per_worker:
            advice.append(
                f"core.parallelism x schedulers ({total}) is below the {target * cap.per_worker} slots of {target} "
                "workers: raise core.parallelism to at least "
                f"{math.ceil(target * cap.per_worker / cap.schedulers)} too."
            )
        if target <= cap.max_workers:
            return self.none(
                f"No change proposed: MaxWorkers is already at the ceiling of {self.ceiling} workers.",
                [
                    f"The p95 demand needs {needed} workers of {cap.per_worker} tasks. Raise the ceiling (and the "
                    "account's MaxWorkers quota), or move to a larger class for more tasks per worker.",
                    *advice,
                ],
            )
        summary = f"Raise MaxWorkers from {cap.max_workers} to {target}"
        summary += (
            f" (the ceiling; the p95 demand of {_number(demand)} tasks needs {needed})."
            if capped
            else f" for the p95 demand of {_number(demand)} tasks ({cap.per_worker} per worker)."
        )
        return self.change(summary, {"max_workers": target}, advice=advice, capped=capped)

    def starvation(self, resource: str) -> Recommendation:
        cap = self.capacity
        label = "CPU" if resource == "cpu" else "memory"
        utilisation = self.number(f"median_worker_{resource}_percent") or 100.0
        fewer = max(1, math.floor(cap.per_worker * TARGET_UTILISATION / utilisation))
        klass = self.larger_class()
        alternative: list[str] = []
        if klass is not None:
            pinned = {"environment_class": klass}
            delta = cost_delta(self.environment, self.class_change_fields(klass) | pinned)
            alternative.append(
                f"Alternatively move to {klass} keeping celery.worker_autoscale at {cap.per_worker},{cap.per_worker} "
                f"(about twice the {label} per task): {_money(delta.delta_monthly)} a month at minimum capacity, "
                f"{_money(delta.delta_monthly_at_max)} at MaxWorkers."
            )
        if fewer < cap.per_worker:
            wanted = math.ceil(cap.max_slots / fewer)
            target = min(wanted, self.ceiling)
            fields: dict[str, Any] = {
                "airflow_configuration_options": ConfigurationChange(
                    set={"celery.worker_autoscale": f"{fewer},{fewer}"}
                )
            }
            if target > cap.max_workers:
                fields["max_workers"] = target
            summary = (
                f"Run {fewer} tasks per worker instead of {cap.per_worker} (celery.worker_autoscale {fewer},{fewer}), "
                f"so worker {label} at {utilisation:g} % would sit near {TARGET_UTILISATION:g} %"
            )
            summary += f", and raise MaxWorkers to {target} to keep the slots." if target > cap.max_workers else "."
            return self.change(summary, fields, advice=alternative, capped=wanted > self.ceiling)
        if klass is None:
            return self.none(
                "No change proposed: workers already run one task each on the largest class "
                f"({cap.environment_class}).",
                [f"The tasks themselves need less {label}: split them, or move the heavy work out of the workers."],
            )
        fields = self.class_change_fields(klass) | {
            "airflow_configuration_options": ConfigurationChange(
                set={"celery.worker_autoscale": f"{cap.per_worker},{cap.per_worker}"}
            )
        }
        return self.change(
            f"Workers already run {cap.per_worker} task each: move to {klass} with celery.worker_autoscale kept at "
            f"{cap.per_worker},{cap.per_worker} for more {label} per task.",
            fields,
        )

    def concurrency_bound(self) -> Recommendation:
        cap = self.capacity
        limit = self.diagnosis.limit or ""
        if limit.startswith("pool:"):
            pool = limit.removeprefix("pool:")
            slots = self.number("pool_slots")
            starving = self.number("median_starving") or self.number("pool_scheduled")
            more = (
                f" from {slots:g} to at least {slots + math.ceil(starving):g}" if slots is not None and starving else ""
            )
            return self.none(
                f"Raise pool {pool}'s slots{more}: pools are Airflow objects, not environment configuration.",
                [
                    f"Set the pool in the Airflow UI (Admin > Pools), with `airflow pools set {pool} <slots> "
                    "<description>`, or through the REST API; or give its tasks another pool.",
                ],
            )
        if limit == "parallelism":
            current = cap.parallelism.value
            wanted = math.ceil(cap.max_slots / cap.schedulers)
            if current is not None and wanted > current:
                return self.change(
                    f"Raise core.parallelism from {current} to {wanted} per scheduler, so {cap.schedulers} schedulers "
                    f"cover the {cap.max_slots} slots at MaxWorkers.",
                    {"airflow_configuration_options": ConfigurationChange(set={"core.parallelism": str(wanted)})},
                )
            return self.none(
                "No change proposed: core.parallelism x schedulers already covers the slots at MaxWorkers.",
                [
                    f"The executor reported no open slot with core.parallelism {current} ({cap.parallelism.source}) x "
                    f"{cap.schedulers} schedulers for {cap.max_slots} slots: check the effective value "
                    "(`airflow config get-value core parallelism`) before changing it.",
                ],
            )
        if limit in ("max_active_tasks_per_dag", "max_active_runs_per_dag"):
            return self.dag_limit(limit)
        if limit == "worker_autoscale":
            resources = [
                self.number("median_worker_cpu_percent") or 0.0,
                self.number("median_worker_memory_percent") or 0.0,
            ]
            busiest = max(max(resources), 1.0)
            wanted = min(cap.class_tasks_per_worker, math.floor(cap.per_worker * TARGET_UTILISATION / busiest))
            if wanted > cap.per_worker:
                return self.change(
                    f"Raise celery.worker_autoscale from {cap.per_worker},{cap.per_worker} to {wanted},{wanted}: "
                    f"worker CPU and memory (at most {busiest:g} %) leave room for more tasks per worker.",
                    {
                        "airflow_configuration_options": ConfigurationChange(
                            set={"celery.worker_autoscale": f"{wanted},{wanted}"}
                        )
                    },
                )
        return self.none(f"No change proposed for the limit {limit}.")

    def dag_limit(self, limit: str) -> Recommendation:
        cap = self.capacity
        dag = str(self.evidence.get("dag_id"))
        current = int(self.number("limit") or 0)
        tasks = limit == "max_active_tasks_per_dag"
        extra = int((self.number("scheduled") if tasks else self.number("queued_runs")) or 0)
        setting = cap.max_active_tasks_per_dag if tasks else cap.max_active_runs_per_dag
        own_name = "max_active_tasks" if tasks else "max_active_runs"
        option = f"core.{limit}"
        wanted = current + extra
        if tasks:
            wanted = min(wanted, cap.max_slots)
        else:
            # Each run holds about as many tasks as the running ones do: only as many more runs as the slots take.
            per_run = max(1.0, (self.number("dag_running_tasks") or 0) / max(1.0, self.number("running_runs") or 1))
            free = cap.max_slots - (self.number("running_tasks") or self.number("dag_running_tasks") or 0)
            wanted = current + max(0, min(extra, math.floor(free / per_run)))
        own = setting.value != current
        advice = [f"Or raise {own_name} in DAG {dag} itself, which leaves the other DAGs' limit as it is."]
        if own or wanted <= current:
            return self.none(
                f"Raise {own_name} of DAG {dag} from {current} to {wanted}: the limit is the DAG's own.",
                [f"Set {own_name}={wanted} in the DAG's definition."],
            )
        return self.change(
            f"Raise {option} from {current} to {wanted}, so DAG {dag} can start what it held back.",
            {"airflow_configuration_options": ConfigurationChange(set={option: str(wanted)})},
            advice=advice,
        )

    def over_provisioned(self) -> Recommendation:
        cap = self.capacity
        need = int(self.number("peak_need_workers") or 1)
        target = max(1, need)
        return self.change(
            f"Lower MinWorkers from {cap.min_workers} to {target}: the peak demand of "
            f"{self.evidence.get('peak_demand')} tasks needs {need}; MaxWorkers {cap.max_workers} still covers a peak.",
            {"min_workers": target},
        )

    def scheduler_unhealthy(self) -> Recommendation:
        cap = self.capacity
        scheduler_cpu = self.number("median_scheduler_cpu_percent")
        advice = [
            "Read the scheduler's CloudWatch logs (the environment's -Scheduler log group) around the gap, and the "
            "Scheduler cluster's CPU and memory in AWS/MWAA.",
            "Long DAG parsing (AmazonMWAA TotalParseTime) and heavy top-level DAG code starve schedulers.",
        ]
        limits = CLASS_LIMITS[cap.environment_class].schedulers
        if scheduler_cpu is not None and scheduler_cpu >= STARVED_SCHEDULER_PERCENT and cap.schedulers < limits[1]:
            return self.change(
                f"Add a scheduler ({cap.schedulers} to {cap.schedulers + 1}): the schedulers' median CPU was "
                f"{scheduler_cpu:g} %.",
                {"schedulers": cap.schedulers + 1},
                advice=advice,
            )
        return self.none("No capacity change: the scheduler is unhealthy, more workers would not help.", advice)


def recommend(
    scenario: Scenario,
    diagnosis: Diagnosis,
    *,
    max_workers_ceiling: int = DEFAULT_MAX_WORKERS_QUOTA,
    execution: str = "",
) -> Recommendation:
    """The proposal for ``diagnosis`` (see the module docstring), within ``max_workers_ceiling`` workers."""
    proposal = _Proposal(scenario, diagnosis, ceiling=max_workers_ceiling, execution=execution)
    cause = diagnosis.cause
    if cause == "capacity_bound":
        return proposal.capacity_bound()
    if cause in ("cpu_starvation", "memory_starvation"):
        return proposal.starvation("cpu" if cause == "cpu_starvation" else "memory")
    if cause == "concurrency_bound":
        return proposal.concurrency_bound()
    if cause == "over_provisioned":
        return proposal.over_provisioned()
    if cause == "scheduler_unhealthy":
        return proposal.scheduler_unhealthy()
    if cause == "stranded":
        return proposal.none(
            "No capacity change: tasks are queued but nothing picks them up.",
            [
                "Check the workers: their CloudWatch logs (the environment's -Worker log group), the BaseWorker and "
                "AdditionalWorker CPU and memory, and whether tasks started and died.",
                "A task lost by its worker stays in the queue until SQS's 12-hour visibility timeout; MWAA's "
                "scheduler.task_queued_timeout (1800 s) fails tasks queued for 30 minutes.",
            ],
        )
    if cause == "inconclusive":
        return proposal.none("No change proposed: the data does not support one (see the findings).")
    return proposal.none("No change needed.")
