"""How a propagation reads to a person: a ``terraform plan``-like diff with masked values, and the summary.

Values never appear: a change shows the fingerprint (hash prefix and length) before and after.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from mwaa_control_plane.variables.plan import Change, EnvironmentPlan
from mwaa_control_plane.variables.propagation import ApplyResult, PropagationPlan

_SIGN = {"create": "+", "update": "~", "delete": "-"}


def render_change(change: Change) -> str:
    sign = _SIGN[change.action]
    kind = "variable" if change.kind == "variables" else "connection"
    why = ", ".join(change.reasons)
    parts = [f"  {sign} {kind} {change.key}"]
    if change.action == "create":
        parts.append(f"= {change.after}")
    elif change.action == "update":
        parts.append(f"{change.before or '(unknown)'} -> {change.after}")
    else:
        parts.append(f"(was {change.before})")
    if change.parameter_type:
        parts.append(f"[{change.parameter_type}{', ' + change.tier if change.tier == 'Advanced' else ''}]")
    if why:
        parts.append(f"({why})")
    if change.shared_with:
        parts.append(f"(same parameter as {change.shared_with}: written there)")
    return " ".join(parts)


def render_environment(plan: EnvironmentPlan) -> list[str]:
    lines = [f"{plan.environment} -> {plan.target}"]
    lines.extend(render_change(change) for change in plan.changes)
    lines.extend(f"  ! {p.kind or ''} {p.key or ''}: {p.problem}".replace("  !  : ", "  ! ") for p in plan.problems)
    lines.extend(f"  warning: {w}" for w in plan.warnings)
    writes = plan.writes
    tally = (
        f"  {sum(c.action == 'create' for c in writes)} to create, {sum(c.action == 'update' for c in writes)} to "
        f"update, {sum(c.action == 'delete' for c in writes)} to delete, {plan.unchanged} unchanged"
    )
    if plan.drift:
        tally += f", {len(plan.drift)} drifted"
    if plan.orphans:
        tally += f"; {plan.orphans} managed value(s) no longer in the source (deleted only with prune)"
    if plan.unmanaged:
        tally += f"; {plan.unmanaged} value(s) not written by the control plane (left alone)"
    lines.append(tally)
    return lines


def render_plan(plan: PropagationPlan) -> str:
    lines: list[str] = []
    for environment in plan.environments:
        lines.extend(render_environment(environment))
        lines.append("")
    for skipped in plan.skipped:
        lines.append(f"{skipped.name}: skipped ({skipped.reason})")
    for problem in plan.source_problems:
        lines.append(f"source: {problem.problem}")
    if not plan.environments and not plan.skipped:
        lines.append("No managed environments: tag one mwaa-cp:variables=on (or ssm, rest).")
    return "\n".join(lines).rstrip() + "\n"


class PropagationReport(BaseModel):
    """What an execution did, as stored and notified (masked)."""

    execution: str = ""
    mode: str
    origin: str
    plan: PropagationPlan
    applied: list[ApplyResult] = []
    text: str = ""
    notify: bool = False
    subject: str = ""


def plan_problem_count(plan: PropagationPlan) -> int:
    """The plan's problems, each once: a global source parameter's problem (or a conflict on a shared
    parameter) is listed in every environment it touches, with the same text."""
    texts = {p.problem for environment in plan.environments for p in environment.problems}
    return len(texts | {p.problem for p in plan.source_problems})


def summarize(
    plan: PropagationPlan, applied: Iterable[ApplyResult], *, execution: str = "", import_problems: int = 0
) -> PropagationReport:
    """The report and whether it is worth a notification (errors, drift, backend problems, or a person asked).

    ``import_problems``: keys of a variables file that could not be written to the source tree.
    """
    applied = list(applied)
    request = plan.request
    lines = [render_plan(plan).rstrip()]
    for result in applied:
        line = (
            f"{result.environment}: applied {result.created} created, {result.updated} updated, "
            f"{result.deleted} deleted"
        )
        if result.shared:
            line += f", {result.shared} shared"
        if result.failed_count:
            line += f"; {result.failed_count} failed"
        if result.throttles:
            line += f"; throttled {result.throttles} time(s), {result.throttled_seconds:.1f} s waited"
        if result.advanced_parameters:
            line += (
                f"; {result.advanced_parameters} Advanced parameter(s): about "
                f"{result.advanced_usd_month:.2f} USD a month"
            )
        if result.error:
            line += f"; the step failed: {result.error}"
        lines.append(line)
        lines.extend(f"  ! {p.problem}" for p in result.failed)
    failures = sum(r.failed_count for r in applied) + plan_problem_count(plan) + import_problems
    drift = sum(len(p.drift) for p in plan.environments)
    backend = any(m.problems for m in plan.managed)
    asked = request.origin in ("console", "variables-file")
    changed = any(r.created or r.updated or r.deleted for r in applied)
    notify = bool(failures or plan.source_problems or (drift and request.origin == "schedule") or (backend and asked))
    notify = notify or (asked and (changed or request.mode == "plan"))
    # Advanced parameters cost money: whichever run writes one says so (a file's own writes start runs too).
    notify = notify or any(r.advanced_parameters for r in applied)
    if failures:
        subject = f"MWAA control plane: variable propagation had {failures} error(s)"
    elif drift and not request.writes:
        subject = f"MWAA control plane: {drift} variable(s) drifted"
    else:
        subject = "MWAA control plane: variable propagation " + ("planned" if not request.writes else "applied")
    return PropagationReport(
        execution=execution,
        mode=request.mode,
        origin=request.origin,
        plan=plan,
        applied=applied,
        text="\n".join(lines).rstrip() + "\n",
        notify=notify,
        subject=subject[:100],
    )
