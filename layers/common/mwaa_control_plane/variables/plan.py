"""Which environments are managed, where each one's values go, and the diff between source and target.

An environment is managed when its ``mwaa-cp:variables`` tag is ``on`` (the target follows its
configuration: the SSM backend's prefixes when it has the backend, else the REST API),
``ssm`` or ``rest`` (the target forced). A plan never writes; it names every create, update
and delete with masked values, the drift (a managed value changed by hand), the keys it
cannot propagate and why, and what is wrong with the environment's backend configuration.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from mwaa_control_plane.environments.inventory import listed_names
from mwaa_control_plane.errors import NotFoundError, translate_client_error
from mwaa_control_plane.statuses import USABLE_STATES
from mwaa_control_plane.variables.backend import (
    DEFAULT_CONNECTIONS_PREFIX,
    DEFAULT_VARIABLES_PREFIX,
    BackendProblem,
    SecretsBackend,
    backend_fix,
    inspect_backend,
)
from mwaa_control_plane.variables.names import (
    ParameterType,
    Tier,
    fingerprint,
    is_sensitive,
    name_problem,
    sensitive_names,
    tier_for,
)
from mwaa_control_plane.variables.source import KINDS, Kind, SourceTree, SourceValue
from mwaa_control_plane.variables.targets import Target, TargetValue, mark

if TYPE_CHECKING:
    from mypy_boto3_mwaa import MWAAClient

TAG = "mwaa-cp:variables"
TAG_VALUES = ("on", "ssm", "rest")
TargetKind = Literal["ssm", "rest"]
Action = Literal["create", "update", "delete"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ManagedEnvironment(Frozen):
    """A managed environment and where its values go (never a configuration value beyond the backend's)."""

    name: str
    status: str
    airflow_version: str
    mode: str
    """The tag's value: on, ssm or rest."""
    target: TargetKind
    backend: SecretsBackend
    variables_prefix: str | None = None
    """SSM targets: where variables go (None: not propagated, see problems)."""
    connections_prefix: str | None = None
    sensitive_names: list[str] = []
    backend_fix: dict[str, str] = {}
    """The configuration options that would repair the backend (applied only on request)."""
    problems: list[BackendProblem] = []

    def prefix(self, kind: Kind) -> str | None:
        return self.variables_prefix if kind == "variables" else self.connections_prefix


class SkippedEnvironment(Frozen):
    name: str
    reason: str
    misconfigured: bool = False
    """Skipped because of the user's own setting (a tag value not understood), not a passing state."""


class Change(Frozen):
    """One write the plan makes: masked, never the value."""

    environment: str
    kind: Kind
    key: str
    target: str
    name: str
    action: Action
    reasons: list[str] = []
    """Why: new, source-changed, drift (changed by hand), type, tier, adopt, pruned."""
    before: str | None = None
    after: str | None = None
    parameter_type: ParameterType | None = None
    tier: Tier | None = None
    source: str | None = None
    shared_with: str | None = None
    """Another environment reads the same parameter: written once, by that environment's plan."""


class KeyProblem(Frozen):
    environment: str | None
    kind: Kind | None
    key: str | None
    problem: str


class Want(Frozen):
    """What one environment wants in one SSM target parameter: ``value`` is its type and fingerprint, or
    ``blocked`` (its source parameter cannot be used, so the target must stay as it is)."""

    kind: Kind
    key: str
    value: str


class EnvironmentPlan(Frozen):
    environment: str
    target: str
    changes: list[Change] = []
    problems: list[KeyProblem] = []
    warnings: list[str] = []
    unchanged: int = 0
    orphans: int = 0
    """Managed values the source no longer has; deleted only with prune."""
    unmanaged: int = 0
    """Values in the target the control plane did not write; never touched."""
    wants: dict[str, Want] = Field(default={}, exclude=True)
    """SSM target parameter -> what this environment wants in it, changed or not: environments sharing a
    prefix are compared on it. Kept out of reports and payloads."""

    @property
    def writes(self) -> list[Change]:
        return [c for c in self.changes if c.shared_with is None]

    @property
    def drift(self) -> list[Change]:
        return [c for c in self.changes if "drift" in c.reasons]


# ---------------------------------------------------------------------------------------- environments


def managed_environment(name: str, environment: Mapping[str, Any]) -> ManagedEnvironment | SkippedEnvironment | None:
    """Where ``environment``'s values go (None: not managed; Skipped: managed but not usable now)."""
    tags = environment.get("Tags") or {}
    mode = tags.get(TAG)
    if mode is None:
        return None
    mode = mode.strip().lower()
    if mode not in TAG_VALUES:
        return SkippedEnvironment(
            name=name,
            reason=f"tag {TAG}={tags.get(TAG)!r} is not one of {', '.join(TAG_VALUES)}",
            misconfigured=True,
        )
    options = dict(environment.get("AirflowConfigurationOptions") or {})
    version = str(environment.get("AirflowVersion") or "2.10.3")
    backend = inspect_backend(options, version)
    problems = list(backend.problems)
    if mode == "rest":
        target: TargetKind = "rest"
    elif mode == "ssm":
        target = "ssm"
        if not backend.configured and backend.backend:
            problems.append(
                BackendProblem(
                    code="forced-ssm-without-backend",
                    message=f"{TAG}=ssm but the environment's secrets backend is {backend.backend}: Airflow does "
                    "not read the values written to SSM",
                    fix="the control plane never replaces a backend you configured: switch it to the SSM backend "
                    "yourself, or tag the environment mwaa-cp:variables=rest",
                )
            )
        elif not backend.configured:
            problems.append(
                BackendProblem(
                    code="forced-ssm-without-backend",
                    message=f"{TAG}=ssm but the environment has no SSM secrets backend: Airflow does not read the "
                    "values written to SSM",
                    fix="set the backend (mwaa-cp vars apply --fix-backend, or the console input with "
                    '"fix_backend": true) or tag the environment mwaa-cp:variables=rest',
                )
            )
    else:
        target = "ssm" if backend.configured else "rest"
    if target == "ssm":
        variables_prefix = backend.variables_prefix if backend.configured else DEFAULT_VARIABLES_PREFIX
        connections_prefix = backend.connections_prefix if backend.configured else DEFAULT_CONNECTIONS_PREFIX
    else:
        variables_prefix = connections_prefix = None
    return ManagedEnvironment(
        name=name,
        status=str(environment.get("Status", "UNKNOWN")),
        airflow_version=version,
        mode=mode,
        target=target,
        backend=backend,
        variables_prefix=variables_prefix,
        connections_prefix=connections_prefix,
        sensitive_names=sorted(sensitive_names(options)),
        backend_fix=backend_fix(options, version),
        problems=problems,
    )


@dataclass(slots=True)
class Inventory:
    managed: list[ManagedEnvironment] = field(default_factory=list)
    skipped: list[SkippedEnvironment] = field(default_factory=list)


def managed_environments(mwaa: MWAAClient, only: str | None = None) -> Inventory:
    """Every managed environment (or ``only``); NotFoundError when ``only`` does not exist or is not managed."""
    names = [only] if only is not None else listed_names(mwaa)
    inventory = Inventory()
    for name in names:
        try:
            environment = mwaa.get_environment(Name=name)["Environment"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                if only is not None:
                    raise NotFoundError(f"environment {name} does not exist") from None
                continue
            raise translate_client_error(exc, operation="GetEnvironment") from exc
        found = managed_environment(name, environment)
        if found is None:
            if only is not None:
                raise NotFoundError(f"environment {name} is not managed: tag it {TAG}=on|ssm|rest")
            continue
        if isinstance(found, SkippedEnvironment):
            inventory.skipped.append(found)
        else:
            inventory.managed.append(found)
    return inventory


def rest_reachable(environment: ManagedEnvironment) -> bool:
    return environment.status in USABLE_STATES


# ---------------------------------------------------------------------------------------- diff


def wanted_type(kind: Kind, value: SourceValue, names: Iterable[str]) -> ParameterType:
    """SecureString for every connection, values marked secret in the source, and sensitive keys."""
    if kind == "connections" or value.secure or is_sensitive(value.ref.key, names):
        return "SecureString"
    return "String"


def diff_target(
    environment: ManagedEnvironment,
    kind: Kind,
    target: Target,
    desired: Mapping[str, SourceValue],
    current: Mapping[str, TargetValue],
    *,
    prune: bool,
    keys: Iterable[str] | None = None,
    blocked: Collection[str] = (),
) -> EnvironmentPlan:
    """The changes that make ``target`` hold ``desired`` (only ``keys`` when given).

    ``blocked`` keys (a source parameter that cannot be used) are left as the target has them.
    """
    scope = None if keys is None else set(keys)
    changes: list[Change] = []
    problems: list[KeyProblem] = []
    warnings: list[str] = []
    wants: dict[str, Want] = {}
    unchanged = orphans = unmanaged = 0
    ssm = target.label != "rest"
    for key in blocked:
        if ssm and (scope is None or key in scope) and name_problem(target.name_of(key)) is None:
            wants[target.name_of(key)] = Want(kind=kind, key=key, value="blocked")
    for key in sorted(desired):
        if scope is not None and key not in scope:
            continue
        value = desired[key]
        name = target.name_of(key)
        problem = name_problem(name) if target.label.startswith("ssm:") else None
        if problem is not None:
            problems.append(KeyProblem(environment=environment.name, kind=kind, key=key, problem=f"{name}: {problem}"))
            continue
        if environment.target == "ssm" and environment.backend.configured and environment.backend.hides(kind, key):
            warnings.append(f"{kind} key {key} is written but the environment's lookup pattern hides it from Airflow")
        parameter_type: ParameterType = wanted_type(kind, value, environment.sensitive_names)
        if not ssm and value.secure and not is_sensitive(key, environment.sensitive_names):
            warnings.append(
                f"{kind} key {key} is secret in the source (SecureString) but goes to the metadata database, where "
                "Airflow shows it in clear to anyone who can read variables: its name is not one Airflow masks "
                "(add it to core.sensitive_var_conn_names, or configure the SSM secrets backend)"
            )
        tier = tier_for(value.value) or "Advanced"
        have = current.get(key)
        after = fingerprint(value.value)
        if ssm:
            wants[name] = Want(kind=kind, key=key, value=f"{parameter_type} {after}")
        if have is None:
            action: Action = "create"
            reasons = ["new"] + (["advanced-tier"] if tier == "Advanced" and ssm else [])
            before = None
        else:
            action = "update"
            if have.tier == "Advanced":
                tier = "Advanced"  # SSM cannot turn an Advanced parameter back into a Standard one
            reasons = _update_reasons(have, value, after, parameter_type if ssm else None)
            if parameter_type == "SecureString" and _other_key(have.key_id, target.kms_key_id):
                reasons.append("kms-key")
            before = fingerprint(have.value) if have.value is not None else (have.marked and have.marked.fingerprint)
            if not reasons:
                unchanged += 1
                continue
        changes.append(
            Change(
                environment=environment.name,
                kind=kind,
                key=key,
                target=target.label,
                name=name,
                action=action,
                reasons=reasons,
                before=before,
                after=after,
                parameter_type=parameter_type if ssm else None,
                tier=tier if ssm else None,
                source=value.name,
            )
        )
    for key in sorted(current):
        if key in desired or key in blocked or (scope is not None and key not in scope):
            continue
        have = current[key]
        if have.marked is None:
            unmanaged += 1
            continue
        if not prune:
            orphans += 1
            continue
        changes.append(
            Change(
                environment=environment.name,
                kind=kind,
                key=key,
                target=target.label,
                name=target.name_of(key),
                action="delete",
                reasons=["pruned"],
                before=have.marked.fingerprint,
                source=have.marked.source,
            )
        )
    return EnvironmentPlan(
        environment=environment.name,
        target=target.label,
        changes=changes,
        problems=problems,
        warnings=warnings,
        unchanged=unchanged,
        orphans=orphans,
        unmanaged=unmanaged,
        wants=wants,
    )


def _update_reasons(
    have: TargetValue, value: SourceValue, after: str, parameter_type: ParameterType | None
) -> list[str]:
    """Why an existing target value must be written again (empty: it is what the source wants).

    The mark holds the fingerprint of what the control plane wrote: a target that no longer matches
    its mark was changed by hand (drift); a mark that no longer matches the source is a source change.
    """
    reasons: list[str] = []
    marked = have.marked
    if marked is None:
        reasons.append("adopt")
    if have.value is not None and have.value != value.value:
        if marked is not None and marked.fingerprint == after:
            reasons.append("drift")
        elif marked is not None and fingerprint(have.value) != marked.fingerprint:
            reasons.extend(["source-changed", "drift"])
        else:
            reasons.append("source-changed")
    elif have.value is None and marked is not None and marked.fingerprint != after:
        reasons.append("source-changed")
    if marked is not None and marked.source != value.name and have.value == value.value:
        reasons.append("source-moved")
    if parameter_type is not None and have.parameter_type != parameter_type:
        reasons.append("type")
    return reasons


def _kms_key(key: str) -> tuple[str, str] | None:
    """("alias", name) or ("key", id) from a key id, key ARN, alias name or alias ARN; None if unsure."""
    if ":alias/" in key or key.startswith("alias/"):
        return "alias", key.rpartition("alias/")[2]
    if ":key/" in key or key.startswith("key/"):
        return "key", key.rpartition("key/")[2]
    return ("key", key) if key and "/" not in key and ":" not in key else None


def _other_key(stored: str | None, configured: str | None) -> bool:
    """Whether a SecureString was surely written with another key than the one configured now.

    SSM may name the same key by id, ARN or alias: only a difference that holds however it is named
    counts (two ids, two aliases, or the AWS managed ``aws/ssm`` against a customer key id).
    """
    if not stored or not configured:
        return False
    a, b = _kms_key(stored), _kms_key(configured)
    if a is None or b is None or a == b:
        return False
    if a[0] == b[0]:
        return True
    return ("alias", "aws/ssm") in (a, b)


def merge_plans(environment: str, target: str, plans: Iterable[EnvironmentPlan]) -> EnvironmentPlan:
    merged = EnvironmentPlan(environment=environment, target=target)
    changes: list[Change] = []
    problems: list[KeyProblem] = []
    warnings: list[str] = []
    wants: dict[str, Want] = {}
    counts = {"unchanged": 0, "orphans": 0, "unmanaged": 0}
    for plan in plans:
        changes.extend(plan.changes)
        problems.extend(plan.problems)
        warnings.extend(plan.warnings)
        wants.update(plan.wants)
        for name in counts:
            counts[name] += getattr(plan, name)
    update = {"changes": changes, "problems": problems, "warnings": warnings, "wants": wants, **counts}
    return merged.model_copy(update=update)


def share_parameters(plans: list[EnvironmentPlan]) -> list[EnvironmentPlan]:
    """Environments whose prefixes are the same read the same parameters: write each once, refuse conflicts.

    Compared on what each environment wants in a parameter, changed or not: a value already in place
    for one environment conflicts with another environment's different value just as two pending
    writes do. Two environments that want different values in one parameter would overwrite each other
    on every run; neither is written, and both plans say why (give them per-environment prefixes).
    A parameter another environment still wants is never pruned.
    """
    wanted: dict[str, dict[str, str]] = {}
    for plan in plans:
        for name, want in plan.wants.items():
            wanted.setdefault(name, {})[plan.environment] = want.value
    conflicted = {
        name: f"{name} is read by {', '.join(sorted(by_env))} with different values: give them per-environment prefixes"
        for name, by_env in wanted.items()
        if len(by_env) > 1 and len(set(by_env.values())) > 1
    }
    by_name: dict[str, list[Change]] = {}
    for plan in plans:
        for change in plan.changes:
            if change.target.startswith("ssm:") and change.action != "delete":
                by_name.setdefault(change.name, []).append(change)
    owner = {name: min(c.environment for c in changes) for name, changes in by_name.items() if len(changes) > 1}
    result = []
    for plan in plans:
        kept: list[Change] = []
        problems = list(plan.problems)
        problems += [
            KeyProblem(environment=plan.environment, kind=want.kind, key=want.key, problem=conflicted[name])
            for name, want in sorted(plan.wants.items())
            if name in conflicted
        ]
        for change in plan.changes:
            if change.name in conflicted:
                continue
            if change.action == "delete" and set(wanted.get(change.name, {})) - {plan.environment}:
                continue  # another environment reads this parameter and still wants it
            if change.name in owner and owner[change.name] != plan.environment:
                kept.append(change.model_copy(update={"shared_with": owner[change.name]}))
            else:
                kept.append(change)
        result.append(plan.model_copy(update={"changes": kept, "problems": problems}))
    return result


def source_problems(tree: SourceTree, environment: str) -> list[KeyProblem]:
    return [
        KeyProblem(environment=environment, kind=p.kind, key=p.key, problem=f"{p.name}: {p.problem}")
        for p in tree.problems_for(environment)
    ]


def kinds_for(environment: ManagedEnvironment) -> tuple[list[Kind], list[str]]:
    """The kinds propagated to ``environment`` and, for the others, why not."""
    kinds: list[Kind] = []
    notes: list[str] = []
    for kind in KINDS:
        if environment.target == "rest":
            if kind == "connections":
                notes.append(
                    "connections are not propagated to a REST-API target: the API never returns passwords, so they "
                    "could not be compared (configure the SSM secrets backend)"
                )
                continue
        elif environment.prefix(kind) is None:
            notes.append(f"{kind} are not propagated: the environment's backend has {kind}_prefix turned off")
            continue
        kinds.append(kind)
    return kinds, notes


def write_description(change: Change) -> str:
    """What the target's description says about a value the control plane writes."""
    assert change.source is not None
    assert change.after is not None
    return mark(change.source, change.after)
