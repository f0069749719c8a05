"""The variable-propagation flow's steps: read what started it, plan every managed environment, apply one.

What starts it (each becomes a :class:`PropagationRequest`):

- the console input ``{"mode": "plan"|"apply", "environment": NAME or null, "prune": bool}``
  (and ``"fix_backend": true`` to repair backend configuration through environment-change);
- a ``Parameter Store Change`` event under ``/mwaa-cp/``: an apply scoped to that key;
- the daily schedule ``{"mode": "reconcile"}``: a full plan that reports drift and repairs it
  when the stack is configured to (``repair_drift``);
- a variables file pushed to the staging bucket (``variables/*.yaml|yml|json``): imported into
  the source tree, then applied.

Every step recomputes the diff from the source and the target, so duplicate and out-of-order
events converge on the same state, and a step that runs again writes nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from mwaa_control_plane.errors import ControlPlaneError, InvalidInputError, ThrottledError
from mwaa_control_plane.payloads import EnvironmentName, validation_problems
from mwaa_control_plane.variables.names import ADVANCED_PARAMETER_USD_MONTH
from mwaa_control_plane.variables.plan import (
    Change,
    EnvironmentPlan,
    KeyProblem,
    ManagedEnvironment,
    SkippedEnvironment,
    diff_target,
    kinds_for,
    managed_environments,
    merge_plans,
    rest_reachable,
    share_parameters,
    source_problems,
    write_description,
)
from mwaa_control_plane.variables.source import (
    SOURCE_ROOT,
    Kind,
    SourceNameError,
    SourceTree,
    parse_source_name,
    read_source,
    read_source_keys,
)
from mwaa_control_plane.variables.targets import Pacer, RestTarget, SsmTarget, Target

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_ssm import SSMClient

    from mwaa_control_plane.airflow.client import AirflowClient
    from mwaa_control_plane.clock import Clock

Mode = Literal["plan", "apply", "reconcile"]
Origin = Literal["console", "parameter-change", "schedule", "variables-file"]
# Listed in reports and step payloads; the full lists go to the stored report.
MAX_LISTED = 50


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyScope(Strict):
    """One source key a Parameter Store Change event names (environment None: its global parameter)."""

    kind: Kind
    key: str
    environment: EnvironmentName | None = None


class VariablesFile(Strict):
    bucket: str
    key: str
    version_id: str | None = None


class PropagationRequest(Strict):
    """What one execution does: normalised from the console input, an event or the schedule."""

    mode: Mode = "plan"
    environment: EnvironmentName | None = None
    prune: bool = False
    fix_backend: bool = False
    repair_drift: bool = False
    origin: Origin = "console"
    scope: KeyScope | None = None
    file: VariablesFile | None = None
    skip: str | None = None
    """Set when the event asks for nothing (a parameter outside the source tree): the flow ends there."""

    @property
    def writes(self) -> bool:
        return self.mode == "apply" or (self.mode == "reconcile" and self.repair_drift)


class ConsoleInput(Strict):
    """The console input: exactly the fields the issue fixes, plus ``fix_backend`` (strict: "yes" is not a bool)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    mode: Literal["plan", "apply", "reconcile"]
    environment: EnvironmentName | None = None
    prune: bool = False
    fix_backend: bool = False

    @model_validator(mode="after")
    def _fix_needs_apply(self) -> ConsoleInput:
        if self.fix_backend and self.mode != "apply":
            raise ValueError('fix_backend changes environments: use it with "mode": "apply"')
        if self.prune and self.mode == "reconcile":
            raise ValueError('the reconcile never deletes: prune with "mode": "apply"')
        return self


def read_request(event: Any, *, repair_drift: bool, staging_bucket: str = "") -> PropagationRequest:
    """The request an input or event makes; InvalidInputError says what is wrong with a malformed one."""
    if not isinstance(event, dict):
        raise InvalidInputError("the input must be a JSON object")
    if event.get("source") == "aws.ssm" or event.get("detail-type") == "Parameter Store Change":
        return _parameter_change(event)
    if event.get("source") == "aws.s3" or "detail-type" in event:
        return _variables_file(event, staging_bucket)
    if event.get("mode") == "reconcile":
        console = _console(event)
        return PropagationRequest(
            mode="reconcile", environment=console.environment, prune=False, repair_drift=repair_drift, origin="schedule"
        )
    console = _console(event)
    return PropagationRequest(
        mode=console.mode, environment=console.environment, prune=console.prune, fix_backend=console.fix_backend
    )


def _console(event: dict[str, Any]) -> ConsoleInput:
    try:
        return ConsoleInput.model_validate(event)
    except ValidationError as exc:
        raise InvalidInputError(
            'invalid input (expected {"mode": "plan"|"apply", "environment": NAME or null, "prune": bool}): '
            + validation_problems(exc)
        ) from None


def _parameter_change(event: dict[str, Any]) -> PropagationRequest:
    detail = event.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("name"), str) or not detail["name"]:
        raise InvalidInputError("Parameter Store Change event without detail.name")
    name = detail["name"]
    if not name.startswith("/"):
        name = "/" + name
    if not name.startswith(SOURCE_ROOT + "/"):
        return PropagationRequest(mode="apply", origin="parameter-change", skip=f"{name} is not under {SOURCE_ROOT}/")
    operation = str(detail.get("operation", ""))
    if operation not in ("Create", "Update", "Delete"):
        return PropagationRequest(
            mode="apply", origin="parameter-change", skip=f"{operation or 'an unnamed operation'} changes no value"
        )
    try:
        ref = parse_source_name(name)
    except SourceNameError as exc:
        raise InvalidInputError(f"source parameter outside the layout: {exc}") from None
    scope = KeyScope(kind=ref.kind, key=ref.key, environment=ref.environment)
    return PropagationRequest(mode="apply", environment=ref.environment, origin="parameter-change", scope=scope)


def _variables_file(event: dict[str, Any], staging_bucket: str) -> PropagationRequest:
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidInputError("S3 event without detail")
    bucket = (detail.get("bucket") or {}).get("name")
    obj = detail.get("object") or {}
    key = obj.get("key")
    if not isinstance(bucket, str) or not isinstance(key, str):
        raise InvalidInputError("S3 event without detail.bucket.name and detail.object.key")
    if staging_bucket and bucket != staging_bucket:
        return PropagationRequest(
            mode="apply", origin="variables-file", skip=f"bucket {bucket} is not the staging bucket"
        )
    if event.get("detail-type") != "Object Created":
        return PropagationRequest(
            mode="apply", origin="variables-file", skip="a deleted variables file changes nothing (the tree stays)"
        )
    return PropagationRequest(
        mode="apply",
        origin="variables-file",
        file=VariablesFile(bucket=bucket, key=key, version_id=obj.get("version-id")),
    )


# ---------------------------------------------------------------------------------------- plan


class EnvironmentSummary(BaseModel):
    """One environment's plan as the state machine carries it: counts and flags, no values."""

    environment: str
    target: str
    creates: int = 0
    updates: int = 0
    deletes: int = 0
    drift: int = 0
    problems: int = 0
    orphans: int = 0
    backend_problems: list[str] = []
    backend_fix: dict[str, str] = {}
    needs_apply: bool = False
    skipped: str | None = None


class PropagationPlan(BaseModel):
    """Every environment's plan (masked), what was skipped and why."""

    request: PropagationRequest
    environments: list[EnvironmentPlan] = []
    managed: list[ManagedEnvironment] = []
    skipped: list[SkippedEnvironment] = []
    source_problems: list[KeyProblem] = []
    calls: dict[str, int] = {}

    def summaries(self) -> list[EnvironmentSummary]:
        by_name = {m.name: m for m in self.managed}
        result = []
        for plan in self.environments:
            managed = by_name[plan.environment]
            writes = plan.writes
            wants_fix = self.request.fix_backend and bool(managed.backend_fix)
            result.append(
                EnvironmentSummary(
                    environment=plan.environment,
                    target=plan.target,
                    creates=sum(c.action == "create" for c in writes),
                    updates=sum(c.action == "update" for c in writes),
                    deletes=sum(c.action == "delete" for c in writes),
                    drift=len(plan.drift),
                    problems=len(plan.problems),
                    orphans=plan.orphans,
                    backend_problems=[p.code for p in managed.problems],
                    backend_fix=managed.backend_fix if wants_fix else {},
                    needs_apply=self.request.writes and (bool(writes) or wants_fix),
                )
            )
        result.extend(EnvironmentSummary(environment=s.name, target="-", skipped=s.reason) for s in self.skipped)
        return result


@dataclass(frozen=True, slots=True)
class Connections:
    """The collaborators the steps need; ``airflow`` makes the REST client of one environment."""

    mwaa: MWAAClient
    ssm: SSMClient
    airflow: Callable[[str], AirflowClient]
    clock: Clock
    kms_key_id: str
    write_rate: float


def _targets(
    environment: ManagedEnvironment, connections: Connections, pacer: Pacer, reads: Pacer | None = None
) -> dict[Kind, Target]:
    kinds, _ = kinds_for(environment)
    targets: dict[Kind, Target] = {}
    for kind in kinds:
        if environment.target == "rest":
            targets[kind] = RestTarget(connections.airflow(environment.name), pacer, reads=reads)
        else:
            prefix = environment.prefix(kind)
            assert prefix is not None
            targets[kind] = SsmTarget(
                connections.ssm, pacer, kind=kind, prefix=prefix, kms_key_id=connections.kms_key_id, reads=reads
            )
    return targets


def _read_pacer(connections: Connections) -> Pacer:
    """Reads go at ten times the write rate (at least 10/s): Parameter Store's read quota is far above its write one."""
    return Pacer(connections.clock, rate_per_second=max(connections.write_rate * 10, 10.0))


def _read_tree(connections: Connections, request: PropagationRequest, names: list[str]) -> SourceTree:
    if request.scope is not None:
        return read_source_keys(connections.ssm, request.scope.kind, request.scope.key, names)
    return read_source(connections.ssm)


def _scope_keys(request: PropagationRequest) -> dict[Kind, list[str]] | None:
    if request.scope is None:
        return None
    return {request.scope.kind: [request.scope.key]}


def plan_environment(
    environment: ManagedEnvironment,
    tree: SourceTree,
    targets: Mapping[Kind, Target],
    *,
    prune: bool,
    scope: Mapping[Kind, list[str]] | None,
) -> EnvironmentPlan:
    """One environment's changes over the kinds it takes (reads the target, never writes)."""
    kinds, notes = kinds_for(environment)
    plans = []
    for kind in kinds:
        if scope is not None and kind not in scope:
            continue
        keys = None if scope is None else scope[kind]
        plans.append(
            diff_target(
                environment,
                kind,
                targets[kind],
                tree.desired(kind, environment.name),
                targets[kind].read(keys),
                prune=prune,
                keys=keys,
                blocked=tree.blocked(kind, environment.name),
            )
        )
    label = ", ".join(sorted({t.label for t in targets.values()})) or environment.target
    merged = merge_plans(environment.name, label, plans)
    if environment.mode == "on" and not environment.backend.configured and environment.backend.backend:
        notes.insert(
            0,
            f"secrets backend {environment.backend.backend}: variables go to the metadata database through the REST "
            "API, where Airflow looks after that backend (lost if the environment is hibernated or recreated)",
        )
    elif environment.mode == "on" and not environment.backend.configured:
        notes.insert(
            0,
            "no SSM secrets backend: variables go to the metadata database through the REST API (lost if the "
            'environment is hibernated or recreated); --fix-backend / "fix_backend": true sets the backend',
        )
    warnings = [*notes, *(f"{p.code}: {p.message} (fix: {p.fix})" for p in environment.problems), *merged.warnings]
    problems = [*source_problems(tree, environment.name), *merged.problems]
    if scope is not None:
        wanted = {(kind, key) for kind, keys in scope.items() for key in keys}
        problems = [p for p in problems if (p.kind, p.key) in wanted or p.key is None]
    return merged.model_copy(update={"warnings": warnings, "problems": problems})


def plan_propagation(connections: Connections, request: PropagationRequest) -> PropagationPlan:
    """Plan every managed environment the request covers; reads only."""
    inventory = managed_environments(connections.mwaa, request.environment)
    pacer = _read_pacer(connections)
    skipped = list(inventory.skipped)
    reachable = []
    for environment in inventory.managed:
        if environment.target == "rest" and not rest_reachable(environment):
            skipped.append(
                SkippedEnvironment(
                    name=environment.name,
                    reason=f"{environment.status}: its Airflow REST API does not answer; the next run catches up",
                )
            )
        else:
            reachable.append(environment)
    tree = _read_tree(connections, request, [e.name for e in reachable])
    plans = [
        plan_environment(
            environment,
            tree,
            _targets(environment, connections, pacer),
            prune=request.prune,
            scope=_scope_keys(request),
        )
        for environment in reachable
    ]
    return PropagationPlan(
        request=request,
        environments=share_parameters(plans),
        managed=reachable,
        skipped=skipped,
        source_problems=[
            KeyProblem(environment=None, kind=p.kind, key=p.key, problem=f"{p.name}: {p.problem}")
            for p in tree.problems
            if "/env/" not in p.name
        ],
        calls=dict(pacer.calls),
    )


# ---------------------------------------------------------------------------------------- apply


class ApplyResult(BaseModel):
    """What one apply step wrote to one environment: counts, per-key errors, calls and waits."""

    environment: str
    done: bool = True
    created: int = 0
    updated: int = 0
    deleted: int = 0
    shared: int = 0
    failed: list[KeyProblem] = []
    failed_count: int = 0
    calls: dict[str, int] = {}
    paced_seconds: float = 0.0
    throttled_seconds: float = 0.0
    throttles: int = 0
    advanced_parameters: int = 0
    advanced_usd_month: float = 0.0
    error: str | None = None
    """The step failed as a whole (after its retries): nothing more was written to this environment."""


_TYPE_CHANGE_CODES = frozenset({"HierarchyTypeMismatchException", "UnsupportedParameterType"})


def _write(change: Change, target: Target, value: str) -> None:
    assert change.parameter_type is not None or change.target == "rest"
    parameter_type = change.parameter_type or "String"
    tier = change.tier or "Standard"
    description = write_description(change)
    try:
        target.put(change.key, value, parameter_type=parameter_type, tier=tier, description=description)
    except ClientError as exc:
        if "type" not in change.reasons or exc.response.get("Error", {}).get("Code") not in _TYPE_CHANGE_CODES:
            raise
        # SSM may refuse to change a parameter's type in place: replace it.
        target.delete(change.key)
        target.put(change.key, value, parameter_type=parameter_type, tier=tier, description=description)


def _problem(change: Change, exc: Exception) -> KeyProblem:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        text = f"{change.action} {change.name}: {error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    elif isinstance(exc, ThrottledError):
        text = f"{change.action} {change.name}: throttled, not written this run ({exc})"
    else:
        text = f"{change.action} {change.name}: {exc}"
    return KeyProblem(environment=change.environment, kind=change.kind, key=change.key, problem=text)


def apply_environment(
    connections: Connections,
    request: PropagationRequest,
    environment_name: str,
    *,
    budget_seconds: float,
) -> ApplyResult:
    """Write one environment's diff (recomputed now), until done or ``budget_seconds`` of clock time pass.

    A failing key is reported and the others still go; what was written stays written.
    ``done`` is False only when the budget ran out after some progress: the flow calls again.
    """
    # One listing serves both this environment and the others that may share its prefixes.
    inventory = managed_environments(connections.mwaa)
    environment = next((m for m in inventory.managed if m.name == environment_name), None)
    if environment is None:
        skipped = [s.reason for s in inventory.skipped if s.name == environment_name]
        if not skipped:
            skipped = [s.reason for s in managed_environments(connections.mwaa, environment_name).skipped]
        raise InvalidInputError(f"{environment_name}: {skipped[0] if skipped else 'not managed'}")
    pacer = Pacer(connections.clock, rate_per_second=connections.write_rate)
    reads = _read_pacer(connections)
    targets = _targets(environment, connections, pacer, reads)
    tree = _read_tree(connections, request, [environment.name])
    plan = plan_environment(environment, tree, targets, prune=request.prune, scope=_scope_keys(request))
    # Other environments may read the same prefixes: leave their parameters to their owners, refuse conflicts.
    plan = _without_shared(connections, request, plan, environment, inventory.managed)
    started: datetime = connections.clock.now()
    result = ApplyResult(environment=environment.name)
    counts = {"create": 0, "update": 0, "delete": 0}
    failed: list[KeyProblem] = []  # writes that failed; the plan's own problems are reported with the plan
    progress = False
    done = True
    for change in plan.writes:
        if (connections.clock.now() - started).total_seconds() >= budget_seconds and progress:
            done = False
            break
        target = targets[change.kind]
        try:
            if change.action == "delete":
                target.delete(change.key)
            else:
                value = tree.desired(change.kind, environment.name)[change.key].value
                _write(change, target, value)
        except (ClientError, ControlPlaneError) as exc:
            failed.append(_problem(change, exc))
            continue
        counts[change.action] += 1
        progress = True
    advanced = sum(1 for c in plan.writes if c.tier == "Advanced" and c.action != "delete")
    calls = dict(reads.calls)
    for operation, count in pacer.calls.items():
        calls[operation] = calls.get(operation, 0) + count
    return result.model_copy(
        update={
            "done": done,
            "created": counts["create"],
            "updated": counts["update"],
            "deleted": counts["delete"],
            "shared": sum(1 for c in plan.changes if c.shared_with is not None),
            "failed": failed[:MAX_LISTED],
            "failed_count": len(failed),
            "calls": calls,
            "paced_seconds": round(pacer.paced_seconds + reads.paced_seconds, 3),
            "throttled_seconds": round(pacer.throttled_seconds + reads.throttled_seconds, 3),
            "throttles": pacer.throttles + reads.throttles,
            "advanced_parameters": advanced,
            "advanced_usd_month": round(advanced * ADVANCED_PARAMETER_USD_MONTH, 2),
        }
    )


def _without_shared(
    connections: Connections,
    request: PropagationRequest,
    plan: EnvironmentPlan,
    environment: ManagedEnvironment,
    managed: list[ManagedEnvironment],
) -> EnvironmentPlan:
    """``plan`` without the writes another managed environment with the same prefixes owns (or conflicts on)."""
    if environment.target != "ssm":
        return plan
    others = [
        m
        for m in managed
        if m.name != environment.name
        and m.target == "ssm"
        and {m.variables_prefix, m.connections_prefix} & {environment.variables_prefix, environment.connections_prefix}
    ]
    if not others:
        return plan
    pacer = _read_pacer(connections)
    tree = _read_tree(connections, request, [environment.name, *(o.name for o in others)])
    scope = _scope_keys(request)
    other_plans = [
        plan_environment(o, tree, _targets(o, connections, pacer), prune=request.prune, scope=scope) for o in others
    ]
    return next(p for p in share_parameters([plan, *other_plans]) if p.environment == environment.name)
