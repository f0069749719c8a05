"""Variable propagation at the issue's size: 1,000 variables to 3 environments, then the same apply again (a no-op).

    python bench/bench_variables.py [--variables 1000] [--environments 3] [--loop-budget 120]

Three environments tagged ``mwaa-cp:variables`` = ``on``, each with the SSM secrets backend under its own prefixes
(``/airflow/<env>/variables``), in the local runtime with a usage meter (``mwaa_cp_local.usage``). The bench writes
``--variables`` values into ``/mwaa-cp/variables/global/`` (one in twenty named ``..._api_key``: SecureString in the
targets) with the stack's ``VariablesParameterChangeRule`` disabled: the rule starts one execution per changed
parameter, so 1,000 puts would start 1,000 scoped executions, and the bench measures one full apply. (A variables
file would not avoid that: importing it writes the same 1,000 source parameters, and each one is a Parameter Store
Change event the rule matches.) The rule is enabled again before anything is measured.

Then it starts the console input ``{"mode": "apply", "environment": null, "prune": false}`` and prints, from the
usage meter and the stored report (``ApplyResult.calls``): the stack's API calls by operation; the virtual time the
writes took (SSM calls paced at the stack's VariablesWriteRate, 3 a second: the paced waits are the whole of it,
since the local runtime spends no virtual time on computing); how many "Write the changes to the target" steps ran
(each one stops after VARIABLES_APPLY_BUDGET_SECONDS, 600 s, and the flow loops); and the cost. The same input again
must make no write call. A third run checks the budget loop: ``--loop-budget`` seconds per step (set in the functions'
environment, as a stack would), an override of every value for one environment; its steps must be more than one.

Prices: Step Functions, Lambda (arm64), S3 and KMS from bench/control_plane_prices.json. SSM Parameter Store is free
at this size: Standard parameters cost nothing to store and standard throughput costs nothing per API call (Advanced
parameters, 0.05 USD a parameter a month, are written only for values over 4 KB; higher throughput, which the stack
does not turn on, bills every call). KMS: the SSM-managed key aws/ssm has no monthly fee; each SecureString write is
counted as one KMS request and each SecureString read as one (an upper bound). Exit 1 when an execution fails, the
no-op run writes, or the loop check does not loop.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for folder in ("local", "cli", "layers/common"):
    sys.path.insert(0, str(REPO / folder))

from bench_control_plane_cost import load_prices  # noqa: E402

from mwaa_cp_local import mwaa  # noqa: E402
from mwaa_cp_local.runtime import LocalAws  # noqa: E402
from mwaa_cp_local.seed import create_environment  # noqa: E402
from mwaa_cp_local.usage import Usage, UsageMeter  # noqa: E402

FLOW = "variable-propagation"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
NAMES = ("dev-analytics", "staging-analytics", "prod-analytics", "dev-ml", "staging-ml")
APPLY_ALL = {"mode": "apply", "environment": None, "prune": False}
WRITE_STEP = "Write the changes to the target"
WRITES = frozenset({"PutParameter", "DeleteParameter", "DeleteParameters"})
SECRET_EVERY = 20

warnings.filterwarnings("ignore", message="No application metrics to publish")


@dataclass(frozen=True)
class Run:
    label: str
    status: str
    real_seconds: float
    usage: Usage
    report: dict[str, Any]
    steps: dict[str, int]
    """Apply steps per environment ("Write the changes to the target" entered)."""

    @property
    def applied(self) -> list[dict[str, Any]]:
        return list(self.report.get("applied", []))

    @property
    def ssm_calls(self) -> Counter[str]:
        return Counter(self.usage.calls_of("ssm"))

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.ssm_calls.items() if op in WRITES)

    @property
    def virtual_seconds(self) -> float:
        return sum(float(a.get("paced_seconds", 0)) + float(a.get("throttled_seconds", 0)) for a in self.applied)


def backend_options(name: str) -> dict[str, str]:
    kwargs = {
        "variables_prefix": f"/airflow/{name}/variables",
        "connections_prefix": f"/airflow/{name}/connections",
        "connections_lookup_pattern": "^(?!aws_default$).*",
    }
    return {"secrets.backend": SSM_BACKEND, "secrets.backend_kwargs": json.dumps(kwargs)}


def key_of(index: int) -> str:
    return f"bench_{index:04d}_api_key" if index % SECRET_EVERY == 0 else f"bench_{index:04d}"


def write_source(aws: LocalAws, count: int, *, environment: str | None = None, suffix: str = "") -> float:
    """Put ``count`` source values with the change rule off (one full apply, not ``count`` scoped ones)."""
    events = aws.client("events")
    rule = f"{aws.stack_name}-variables-parameter-change"
    ssm = aws.client("ssm")
    scope = "global" if environment is None else f"env/{environment}"
    started = time.perf_counter()
    events.disable_rule(Name=rule)
    try:
        for index in range(count):
            ssm.put_parameter(
                Name=f"/mwaa-cp/variables/{scope}/{key_of(index)}",
                Value=f"value-{index}-{'x' * 40}{suffix}",
                Type="String",
                Overwrite=True,
            )
        aws.events.drain(timeout=60)  # every change event is matched (against no rule) before the rule is back
    finally:
        events.enable_rule(Name=rule)
    return time.perf_counter() - started


def steps_per_environment(aws: LocalAws, arn: str, environments: list[str]) -> dict[str, int]:
    """How often each Map item entered the apply step (items follow the plan's to_apply order)."""
    counts: Counter[int] = Counter()
    item = -1
    for event in aws.history(arn):
        kind = str(event["type"])
        if kind == "MapIterationStarted":
            item = int(event.get("mapIterationStartedEventDetails", {}).get("index", item + 1))
        elif kind == "TaskStateEntered" and event["stateEnteredEventDetails"]["name"] == WRITE_STEP:
            counts[item] += 1
    return {environments[i] if 0 <= i < len(environments) else f"item {i}": n for i, n in sorted(counts.items())}


def stored_report(aws: LocalAws, arn: str) -> dict[str, Any]:
    s3 = aws.client("s3")
    bucket = aws.stack.ref("StagingBucket")
    name = arn.rsplit(":", 1)[-1]
    key = f"reports/variable-propagation/{name}/report.json"
    return dict(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))


def measure(aws: LocalAws, meter: UsageMeter, label: str) -> Run:
    meter.reset()
    started = time.perf_counter()
    arn = aws.start_execution(FLOW, APPLY_ALL)
    description = aws.wait_for_execution(arn, timeout=900)
    real = time.perf_counter() - started
    aws.events.drain(timeout=30)
    usage = meter.reading()
    report = stored_report(aws, arn) if description["status"] == "SUCCEEDED" else {}
    order = [a["environment"] for a in report.get("applied", [])]
    return Run(label, description["status"], real, usage, report, steps_per_environment(aws, arn, order))


# ------------------------------------------------------------------------------------------------ cost


def cost(run: Run, prices: dict[str, Any]) -> dict[str, Decimal]:
    usage = run.usage
    functions = usage.functions.values()
    invocations = Decimal(sum(f.invocations for f in functions))
    gb_seconds = sum((f.gb_seconds for f in functions), Decimal(0))
    s3 = Counter(usage.calls_of("s3"))
    tier_1 = sum(n for op, n in s3.items() if op.startswith(("Put", "Copy", "List")))
    tier_2 = sum(n for op, n in s3.items() if op.startswith("Get") or op.startswith("Head"))
    # The bench's share of SecureString keys: each write one Encrypt, each value read with decryption one Decrypt.
    ssm = Counter(usage.calls_of("ssm"))
    values_read = ssm.get("GetParametersByPath", 0) * 10 + ssm.get("GetParameters", 0) * 10
    secure = Decimal(ssm.get("PutParameter", 0) + values_read) / SECRET_EVERY
    return {
        "Step Functions transitions": prices["sfn_state_transition"].of(Decimal(usage.transitions)),
        "Lambda requests": prices["lambda_request"].of(invocations),
        "Lambda duration (arm64)": prices["lambda_gb_second_arm64"].of(gb_seconds),
        "S3 (plan and report)": prices["s3_put_copy_post_list_request"].of(Decimal(tier_1))
        + prices["s3_get_and_other_request"].of(Decimal(tier_2)),
        "SNS publish": prices["sns_publish"].of(Decimal(usage.calls_of("sns").get("Publish", 0))),
        "KMS (SecureString, upper bound)": prices["kms_request"].of(secure),
        "SSM (Standard, standard throughput)": Decimal(0),
    }


def usd(value: Decimal) -> str:
    return f"{value:.6f}"


# ------------------------------------------------------------------------------------------------ printing


def print_runs(runs: list[Run], prices: dict[str, Any], write_rate: float, budget: float) -> None:
    width = 40
    header = f"{'':<{width}}" + "".join(f"{r.label:>24}" for r in runs)
    print(header)
    print("-" * len(header))

    def row(name: str, values: list[str]) -> None:
        print(f"{name:<{width}}" + "".join(f"{v:>24}" for v in values))

    row("execution", [r.status for r in runs])
    row("real time (s)", [f"{r.real_seconds:.1f}" for r in runs])
    row("virtual time of the writes (s)", [f"{r.virtual_seconds:.1f}" for r in runs])
    row("state transitions", [str(r.usage.transitions) for r in runs])
    row("Lambda invocations", [str(sum(f.invocations for f in r.usage.functions.values())) for r in runs])
    row("apply steps (all environments)", [str(sum(r.steps.values())) for r in runs])
    row(
        "created / updated / deleted",
        ["/".join(str(sum(a.get(k, 0) for a in r.applied)) for k in ("created", "updated", "deleted")) for r in runs],
    )
    row("per-key errors", [str(sum(a.get("failed_count", 0) for a in r.applied)) for r in runs])
    operations = sorted({op for r in runs for op in r.ssm_calls})
    for operation in operations:
        row(f"ssm:{operation}", [str(r.ssm_calls.get(operation, 0)) for r in runs])
    others = sorted({c for r in runs for c in r.usage.calls if not c.startswith("ssm:")})
    for call in others:
        row(call, [str(r.usage.calls.get(call, 0)) for r in runs])
    row("SSM write calls", [str(r.writes) for r in runs])
    costs = [cost(r, prices) for r in runs]
    for line in costs[0]:
        row(f"USD {line}", [usd(c[line]) for c in costs])
    row("USD total", [usd(sum(c.values(), Decimal(0))) for c in costs])
    print()
    for run in runs:
        if run.steps:
            steps = ", ".join(f"{env} {n}" for env, n in run.steps.items())
            print(f"{run.label}: apply steps per environment: {steps}")
    first = runs[0]
    per_step = write_rate * budget
    total = "exceed" if first.virtual_seconds > budget else "are within"
    each = first.virtual_seconds / max(1, len(first.applied))
    print(
        f"Pacing: {write_rate:g} SSM writes a second in an apply step (reads go at ten times that), {budget:g} s "
        f"a step: about {per_step:.0f} writes before the flow loops. The first apply's {first.virtual_seconds:.0f} s "
        f"of writes {total} one step's budget in total; the Map writes one environment at a time (MaxConcurrency "
        f"1: the quota is per account and Region), each with its own loop, and {each:.0f} s each "
        f"{'fit in one step' if each <= budget else 'take several steps'}; the loop check shows a step handing over "
        "to the next."
    )
    print(
        "SSM: Standard parameters and standard throughput are free; the API calls above cost nothing. "
        "Lambda duration is the handlers' CPU time in this process (moto answers in-process): on AWS each apply "
        "step also bills its paced waits, up to the budget."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variables", type=int, default=1000)
    parser.add_argument("--environments", type=int, default=3, choices=range(1, len(NAMES) + 1))
    parser.add_argument("--loop-budget", type=float, default=120.0, help="Seconds a step in the loop check (0: skip).")
    parser.add_argument("--time-scale", type=float, default=0.001)
    args = parser.parse_args(argv)
    prices = load_prices()
    meter = UsageMeter()
    environments = list(NAMES[: args.environments])
    print(
        f"variable propagation: {args.variables} variables to {len(environments)} environments "
        f"({', '.join(environments)}), SSM backend, per-environment prefixes"
    )
    ok = True
    with LocalAws(meter=meter, time_scale=args.time_scale) as aws:
        mwaa.configure(create_seconds=60)
        for name in environments:
            create_environment(
                aws, name, tags={"mwaa-cp:variables": "on"}, AirflowConfigurationOptions=backend_options(name)
            )
        seconds = write_source(aws, args.variables)
        print(
            f"source tree: {args.variables} parameters put in {seconds:.1f} s with {aws.stack_name}-variables-"
            "parameter-change disabled (no execution started), then enabled again\n"
        )
        write_rate = float(aws.stack.parameters.get("VariablesWriteRate", 3))
        budget = 600.0
        runs = [measure(aws, meter, "apply"), measure(aws, meter, "apply again (no-op)")]
        if args.loop_budget > 0:
            aws.lambdas.base_environment["VARIABLES_APPLY_BUDGET_SECONDS"] = f"{args.loop_budget:g}"
            write_source(aws, args.variables, environment=environments[0], suffix="-override")
            runs.append(measure(aws, meter, f"loop check ({args.loop_budget:g} s)"))
        print_runs(runs, prices, write_rate, budget)

    first, second = runs[0], runs[1]
    expected = args.variables * len(environments)
    if any(r.status != "SUCCEEDED" for r in runs):
        print("FAIL: an execution did not succeed")
        ok = False
    if sum(a.get("created", 0) for a in first.applied) != expected:
        print(f"FAIL: the first apply did not create {expected} values")
        ok = False
    if second.writes:
        print(f"FAIL: the no-op apply made {second.writes} write call(s)")
        ok = False
    if args.loop_budget > 0 and sum(runs[2].steps.values()) < 2:
        print("FAIL: the loop check wrote in one step: the budget did not split the apply")
        ok = False
    print("\n" + ("all checks passed" if ok else "checks FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
