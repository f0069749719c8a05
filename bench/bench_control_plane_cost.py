"""The control plane's own monthly AWS bill for a reference month, from usage counted in the local runtime.

    python bench/bench_control_plane_cost.py [--pushes 9] [--changes 3] [--time-scale 0.001]

The issue's reference month: 3 dev environments hibernated nightly, 2,000 DAG pushes, 50 alarms; target under
2 USD. The bench runs each unit of work a few times in the local runtime with a usage meter
(``mwaa_cp_local.usage``) and extrapolates per unit:

- a DAG push: a DAG file put into the staging bucket, validated, synced and verified by ``dag-delivery``;
- an environment change: ``events/environment-change/capacity-change.json`` applied by ``environment-change``
  (the issue's month names none: ``--changes-per-month``, 20 by default, is an assumption);
- an ``environment-health`` run, fired by its schedule over the 3 environments, as often as the schedule's
  expression fires in a month;
- an off-hours cycle (a hibernate and a resume) and an off-hours reconcile tick that finds nothing to do, when the
  ``off-hours`` state machine is in template.yaml; else a "not measured yet" line. Nightly cycles per environment
  come from ``environments/offhours/monthly.py`` (window ``20:00-07:00``), ticks from the schedule's expression;
- an alarm: one ``worker-analysis`` run from the sample alarm event (``events/worker-analysis/``) on an environment
  the emulator's workload simulator has loaded (``nightly-etl``, capacity-bound, as the flow tests), with
  ``mwaa-cp:remediation`` = ``off``: gather, diagnose, report, notify (a change it leads to is an environment change,
  priced on that line). GetMetricData is billed per metric requested: the metrics are the queries in the run's stored
  ``scenario.json`` (the gather step writes every query, empty ones too);
- an alarms reconciler run, as often as its schedule fires, with one opted-in environment whose alarms are in sync.

The alarms the reconciler puts are billed per environment tagged ``mwaa-cp:analysis`` = ``on`` (CloudWatch bills
every metric of a metric-math alarm), counted from what the reconciler created in the local runtime: a separate line,
not in the reference month's total (the issue's month names 50 alarms, not opted-in environments).

Counted per unit: Step Functions state transitions, Lambda invocations and GB-seconds (the template's memory times
the handler's CPU time in this process: moto answers its AWS calls in-process and there is no network wait, so
real durations are longer: the report shows the line at 10x too), DynamoDB request units, SNS publishes, S3 and
KMS requests, CloudWatch calls, MWAA calls (not billed), and the S3 object events the staging bucket sends to
EventBridge. Derived: CloudWatch Logs ingestion (measured log bytes plus about 600 bytes of Lambda's own records
per invocation), X-Ray traces (one per execution, an upper bound), KMS requests S3 and SNS make to encrypt with
KMS (one per request, an upper bound). Fixed a month: customer managed KMS keys and CloudWatch alarms of the stack.

Prices: bench/control_plane_prices.json (us-east-1, each figure with its source and date). The free tier is NOT
subtracted. Exit code 1 if a flow does not succeed (the measurement would be wrong), else 0; the target's verdict
is printed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for folder in ("local", "cli", "layers/common"):
    sys.path.insert(0, str(REPO / folder))

from mwaa_control_plane.environments.offhours.monthly import monthly_off_hours  # noqa: E402
from mwaa_control_plane.environments.offhours.tags import config_from_tags  # noqa: E402
from mwaa_cp_local import mwaa  # noqa: E402
from mwaa_cp_local.runtime import TERMINAL_STATUSES, LocalAws  # noqa: E402
from mwaa_cp_local.seed import create_environment, wait_for_status  # noqa: E402
from mwaa_cp_local.usage import Usage, UsageMeter  # noqa: E402

PRICES = Path(__file__).with_name("control_plane_prices.json")
TARGET_USD = Decimal("2.00")
ENVIRONMENTS = ("dev-analytics", "dev-ml", "dev-reporting")
DAG_TEMPLATE = REPO / "examples" / "dags" / "good" / "hello_mwaa.py"
CAPACITY_CHANGE = REPO / "events" / "environment-change" / "capacity-change.json"
NIGHTLY = "20:00-07:00"
# Four whole weeks from a Monday: a month's figures without calendar edge effects (as bench_cost.py).
REFERENCE_MONTH = date(2027, 2, 1)
HOURS_PER_MONTH = Decimal(730)
DAG_PUSHES_PER_MONTH = Decimal(2000)
ALARMS_PER_MONTH = 50
ANALYSED = "dev-etl"  # the environment the alarm unit analyses (created after the other units: health counts 3)
ALARM_EVENT = REPO / "events" / "worker-analysis" / "alarm-queue-backlog.json"
# The off-hours reconciler's default schedule in the design (template parameter OffHoursScheduleExpression).
DESIGN_TICKS = "rate(15 minutes)"
# Lambda's own START/END/REPORT records in JSON log format, per invocation: an assumption, not measured.
PLATFORM_LOG_BYTES = 600
_S3_TIER_1 = re.compile(r"^(Put|Copy|Post|List|CreateMultipartUpload|UploadPart|CompleteMultipartUpload)")
_S3_FREE = frozenset({"DeleteObject", "DeleteObjects"})

warnings.filterwarnings("ignore", message="No application metrics to publish")


# ------------------------------------------------------------------------------------------------ prices


@dataclass(frozen=True)
class Price:
    usd: Decimal
    per: Decimal
    unit: str
    source: str
    as_of: str

    def of(self, quantity: Decimal) -> Decimal:
        return quantity * self.usd / self.per

    @property
    def text(self) -> str:
        per = "" if self.per == 1 else f" per {self.per:,.0f}"
        return f"{self.usd:f} USD{per} {self.unit}"


def load_prices(path: Path = PRICES) -> dict[str, Price]:
    data = json.loads(path.read_text("utf-8"))
    prices = {
        key: Price(Decimal(p["usd"]), Decimal(p["per"]), p["unit"], p["source"], p["as_of"])
        for key, p in data["prices"].items()
    }
    unknown = sorted({p.source for p in prices.values()} - set(data["sources"]))
    if unknown:
        raise ValueError(f"{path}: prices cite unlisted sources {unknown}")
    return prices


# ------------------------------------------------------------------------------------------------ schedules

_MONTHS = {name: n for n, name in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN"), 1)} | {
    name: n for n, name in enumerate(("JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 7)
}
_DAYS = {name: n for n, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}


def _cron_field(text: str, low: int, high: int, names: dict[str, int]) -> set[int] | None:
    """The values an AWS cron field allows (None: any); L, W and # are not supported here."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.upper().split(","):
        if any(mark in part for mark in "LW#"):
            raise ValueError(f"cron field {text!r}: L, W and # are not supported by this bench")
        span, _, step = part.partition("/")
        if span == "*":
            first, last = low, high
        else:
            start, _, end = span.partition("-")
            first = names.get(start) or int(start)
            last = (names.get(end) or int(end)) if end else (high if step else first)
        values.update(range(first, last + 1, int(step or 1)))
    return values


def invocations_per_month(expression: str) -> Decimal:
    """How often an EventBridge Scheduler expression fires in a 730-hour month (rate, or cron over four weeks)."""
    rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if rate:
        minutes = int(rate[1]) * {"m": 1, "h": 60, "d": 1440}[rate[2][0]]
        return HOURS_PER_MONTH * 60 / minutes
    cron = re.fullmatch(r"cron\((.+)\)", expression.strip())
    if not cron:
        return Decimal(0)  # at(...): once, not a monthly cost
    minute, hour, day, month, weekday, _year = cron[1].split()
    fields = (
        _cron_field(minute, 0, 59, {}),
        _cron_field(hour, 0, 23, {}),
        _cron_field(day, 1, 31, {}),
        _cron_field(month, 1, 12, _MONTHS),
        _cron_field(weekday, 1, 7, _DAYS),
    )
    start = datetime.combine(REFERENCE_MONTH, datetime.min.time(), UTC)
    fired = 0
    for step in range(28 * 24 * 60):
        at = start + timedelta(minutes=step)
        actual = (at.minute, at.hour, at.day, at.month, at.isoweekday() % 7 + 1)
        fired += all(allowed is None or value in allowed for allowed, value in zip(fields, actual, strict=True))
    return Decimal(fired) * HOURS_PER_MONTH / Decimal(28 * 24)


# ------------------------------------------------------------------------------------------------ the stack


@dataclass
class StackFacts:
    """What the provisioned stack is made of, as far as its bill goes."""

    architectures: dict[str, str]
    kms_buckets: set[str]
    eventbridge_buckets: set[str]
    encrypted_topic: bool
    kms_keys: int
    alarms: int
    email_subscriptions: int
    schedules: dict[str, tuple[str, str]]
    """Schedule name -> (expression, the flow it starts)."""


def stack_facts(aws: LocalAws) -> StackFacts:
    stack = aws.stack
    lambda_ = aws.client("lambda")
    architectures = {
        r.ref: lambda_.get_function(FunctionName=r.ref)["Configuration"].get("Architectures", ["x86_64"])[0]
        for r in stack.of_type("AWS::Lambda::Function").values()
    }
    s3 = aws.client("s3")
    kms_buckets, eventbridge_buckets = set(), set()
    for resource in stack.of_type("AWS::S3::Bucket").values():
        try:
            rules = s3.get_bucket_encryption(Bucket=resource.ref)["ServerSideEncryptionConfiguration"]["Rules"]
        except s3.exceptions.ClientError:
            rules = []
        if any(r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms" for r in rules):
            kms_buckets.add(resource.ref)
        if "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=resource.ref):
            eventbridge_buckets.add(resource.ref)
    sns = aws.client("sns")
    topics = [sns.get_topic_attributes(TopicArn=r.ref)["Attributes"] for r in stack.of_type("AWS::SNS::Topic").values()]
    by_arn = {aws.state_machine_arn(flow): flow for flow in aws.flows()}
    scheduler = aws.client("scheduler")
    schedules = {}
    for resource in stack.of_type("AWS::Scheduler::Schedule").values():
        found = scheduler.get_schedule(Name=resource.ref)
        schedules[resource.ref] = (found["ScheduleExpression"], by_arn.get(found["Target"]["Arn"], "?"))
    return StackFacts(
        architectures=architectures,
        kms_buckets=kms_buckets,
        eventbridge_buckets=eventbridge_buckets or {stack.ref("StagingBucket")},
        encrypted_topic=any(t.get("KmsMasterKeyId") for t in topics),
        kms_keys=len(stack.of_type("AWS::KMS::Key")),
        alarms=len(stack.of_type("AWS::CloudWatch::Alarm")),
        email_subscriptions=len(stack.of_type("AWS::SNS::Subscription")),
        schedules=schedules,
    )


# ------------------------------------------------------------------------------------------------ lines


@dataclass(frozen=True)
class Reading:
    """What one measurement counted: the meter's reading, the stack, and the S3 object events sent to EventBridge."""

    usage: Usage
    facts: StackFacts
    s3_events: int
    metrics_requested: int = 0
    """GetMetricData metrics requested (billed per metric, not per call): the meter counts calls only."""


@dataclass(frozen=True)
class Line:
    label: str
    price: str
    quantity: Callable[[Reading], Decimal]


def _s3(reading: Reading, tier_1: bool) -> Decimal:
    calls = reading.usage.calls_of("s3")
    return Decimal(sum(n for op, n in calls.items() if op not in _S3_FREE and bool(_S3_TIER_1.match(op)) == tier_1))


def _gb_seconds(reading: Reading, architecture: str) -> Decimal:
    functions = reading.usage.functions.items()
    arch = reading.facts.architectures
    return sum((f.gb_seconds for name, f in functions if arch.get(name) == architecture), Decimal(0))


def _invocations(reading: Reading) -> Decimal:
    return Decimal(sum(f.invocations for f in reading.usage.functions.values()))


def _publishes(reading: Reading) -> int:
    return reading.usage.calls_of("sns").get("Publish", 0)


def _kms_requests(reading: Reading) -> Decimal:
    usage, facts = reading.usage, reading.facts
    direct = sum(usage.calls_of("kms").values())
    by_s3 = sum(n for bucket, n in usage.s3_requests_by_bucket.items() if bucket in facts.kms_buckets)
    by_sns = _publishes(reading) if facts.encrypted_topic else 0
    return Decimal(direct + by_s3 + by_sns)


def _cloudwatch(reading: Reading, metric_data: bool) -> Decimal:
    calls = reading.usage.calls_of("cloudwatch")
    return Decimal(sum(n for op, n in calls.items() if (op == "GetMetricData") == metric_data))


def _log_gb(reading: Reading) -> Decimal:
    functions = reading.usage.functions.values()
    return Decimal(sum(f.log_bytes + PLATFORM_LOG_BYTES * f.invocations for f in functions)) / Decimal(10**9)


def _executions(reading: Reading) -> int:
    return sum(reading.usage.executions.values())


def _status_events(reading: Reading) -> Decimal:
    """Step Functions sends one when an execution starts and one when it ends."""
    return Decimal(2 * _executions(reading))


def _mwaa_calls(reading: Reading) -> Decimal:
    return Decimal(sum(reading.usage.calls_of("mwaa").values()))


LINES = (
    Line("Step Functions state transitions", "sfn_state_transition", lambda r: Decimal(r.usage.transitions)),
    Line("Lambda requests", "lambda_request", _invocations),
    Line("Lambda duration arm64 (GB-s)", "lambda_gb_second_arm64", lambda r: _gb_seconds(r, "arm64")),
    Line("Lambda duration x86_64 (GB-s)", "lambda_gb_second_x86_64", lambda r: _gb_seconds(r, "x86_64")),
    Line("DynamoDB write request units", "dynamodb_write_request_unit", lambda r: r.usage.dynamodb_write_units),
    Line("DynamoDB read request units", "dynamodb_read_request_unit", lambda r: r.usage.dynamodb_read_units),
    Line(
        "EventBridge: S3 object events (opt-in data)", "eventbridge_opt_in_data_event", lambda r: Decimal(r.s3_events)
    ),
    Line("EventBridge: execution status events", "eventbridge_aws_service_event", _status_events),
    Line("SNS publishes", "sns_publish", lambda r: Decimal(_publishes(r))),
    Line("SNS email deliveries", "sns_email_delivery", lambda r: Decimal(_publishes(r) * r.facts.email_subscriptions)),
    Line("S3 PUT, COPY, POST, LIST requests", "s3_put_copy_post_list_request", lambda r: _s3(r, True)),
    Line("S3 GET and other requests", "s3_get_and_other_request", lambda r: _s3(r, False)),
    Line("KMS requests (S3, SNS encryption: upper bound)", "kms_request", _kms_requests),
    Line(
        "CloudWatch GetMetricData metrics requested",
        "cloudwatch_metric_requested",
        lambda r: Decimal(r.metrics_requested),
    ),
    Line("CloudWatch API requests", "cloudwatch_api_request", lambda r: _cloudwatch(r, False)),
    Line("CloudWatch Logs ingestion (GB)", "cloudwatch_logs_ingested_gb", _log_gb),
    Line("X-Ray traces (one per execution)", "xray_trace", lambda r: Decimal(_executions(r))),
    Line(
        "MWAA API requests (not billed)", "mwaa_api_request", lambda r: Decimal(sum(r.usage.calls_of("mwaa").values()))
    ),
)


# ------------------------------------------------------------------------------------------------ workloads


@dataclass
class Unit:
    """One kind of work: measured per unit, then counted ``per_month`` times."""

    name: str
    per_month: Decimal
    why: str
    measured_units: int = 0
    quantities: dict[str, Decimal] = field(default_factory=dict)
    """Per unit, by line label."""
    not_measured: str | None = None
    metric_data_calls: Decimal = Decimal(0)
    """GetMetricData calls per unit (not billed as calls: per metric requested)."""


def wait_until_idle(aws: LocalAws, timeout: float) -> None:
    """Every execution of every flow has ended (a flow may start another one after its own end)."""
    deadline = time.monotonic() + timeout
    while True:
        aws.events.drain(timeout=max(0.1, deadline - time.monotonic()))
        running = [e for flow in aws.flows() for e in aws.executions(flow) if e["status"] not in TERMINAL_STATUSES]
        if not running:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(running)} executions still running")
        time.sleep(0.1)


def object_events(aws: LocalAws, buckets: set[str]) -> int:
    """Object versions and delete markers in ``buckets``: each was an S3 event to EventBridge."""
    total = 0
    for bucket in buckets:
        for page in aws.client("s3").get_paginator("list_object_versions").paginate(Bucket=bucket):
            total += len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
    return total


class Measurement:
    def __init__(self, aws: LocalAws, meter: UsageMeter, facts: StackFacts, timeout: float) -> None:
        self.aws, self.meter, self.facts, self.timeout = aws, meter, facts, timeout
        self.failures: list[str] = []

    def measure(
        self, unit: Unit, units: int, work: Callable[[], None], metrics_requested: Callable[[], int] | None = None
    ) -> None:
        """Run ``work`` (``units`` units of ``unit``) alone and keep its usage per unit; ``metrics_requested`` says
        how many GetMetricData metrics the work requested (the meter counts calls)."""
        wait_until_idle(self.aws, self.timeout)
        before = {flow: {e["executionArn"] for e in self.aws.executions(flow)} for flow in self.aws.flows()}
        events_before = object_events(self.aws, self.facts.eventbridge_buckets)
        self.meter.reset()
        work()
        wait_until_idle(self.aws, self.timeout)
        reading = self.meter.reading()
        events = object_events(self.aws, self.facts.eventbridge_buckets) - events_before
        failed = [
            f"{flow} execution {execution['name']} ended {execution['status']}"
            for flow in self.aws.flows()
            for execution in self.aws.executions(flow)
            if execution["executionArn"] not in before[flow] and execution["status"] != "SUCCEEDED"
        ]
        if failed:
            # Its usage is a failure path's, not the unit's: kept out of the total, and the bench fails.
            unit.not_measured = f"its run failed: {failed[0]}" + (f" (+{len(failed) - 1} more)" if failed[1:] else "")
            self.failures += [f"{unit.name}: {failure}" for failure in failed]
            return
        calls = _cloudwatch(Reading(reading, self.facts, events), True)
        if calls and metrics_requested is None:
            unit.not_measured = f"{calls} GetMetricData calls whose metrics this bench cannot count"
            self.failures.append(f"{unit.name}: {unit.not_measured}")
            return
        unit.measured_units = units
        unit.metric_data_calls = calls / units
        counted = Reading(reading, self.facts, events, metrics_requested() if metrics_requested else 0)
        unit.quantities = {line.label: line.quantity(counted) / units for line in LINES}

    def run(self, flow: str, payload: dict[str, Any]) -> None:
        arn = self.aws.start_execution(flow, payload)
        self.aws.wait_for_execution(arn, timeout=self.timeout)

    def fire(self, flow: str) -> None:
        [name] = [name for name, (_, target) in self.facts.schedules.items() if target == flow]
        count = len(self.aws.executions(flow))
        self.aws.fire(name)
        self.aws.wait_for_executions(flow, count + 1, timeout=self.timeout)


def _alarm_metrics(alarm: dict[str, Any]) -> int:
    """The metrics CloudWatch bills for one alarm: each metric of a metric-math alarm, else the one it watches."""
    return sum(1 for query in alarm.get("Metrics", []) if "MetricStat" in query) or 1


def measure_alarm(
    aws: LocalAws, measurement: Measurement, alarm: Unit, reconcile: Unit, timeout: float
) -> list[dict[str, Any]] | None:
    """Opt ``ANALYSED`` in, reconcile (its alarms are the per-environment line), measure a reconciler run in sync and
    one worker-analysis run from an alarm event against the simulator; the environment's alarms (None: no flow)."""
    if "worker-analysis" not in aws.flows() or "AlarmsReconcileSchedule" not in aws.stack.resources:
        for unit in (alarm, reconcile):
            unit.not_measured = "no worker-analysis flow or alarms reconciler in template.yaml"
        return None
    tags = {"mwaa-cp:analysis": "on", "mwaa-cp:remediation": "off"}
    create_environment(aws, ANALYSED, tags=tags, MinWorkers=1, MaxWorkers=5)

    def reconcile_now() -> None:
        aws.fire("AlarmsReconcileSchedule")
        aws.events.drain(timeout=timeout)

    reconcile_now()  # creates the alarms and the dashboard: a one-off, not what runs every hour
    found = aws.client("cloudwatch").describe_alarms()["MetricAlarms"]
    created = [a for a in found if f"/worker-analysis/{ANALYSED}/" in a["AlarmName"]]
    if not created:
        measurement.failures.append(f"the alarms reconciler created no alarm for {ANALYSED}")
        reconcile.not_measured = alarm.not_measured = "the alarms reconciler created no alarm"
        return []
    measurement.measure(reconcile, 1, reconcile_now)

    [backlog] = [a for a in created if a["AlarmName"].endswith("/queue-backlog")]
    now = aws.clock.now() if aws.clock else datetime.now(UTC)
    event = json.loads(ALARM_EVENT.read_text("utf-8"))
    event["time"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["resources"] = [backlog["AlarmArn"]]
    event["detail"]["alarmName"] = backlog["AlarmName"]
    mwaa.simulate_workload(aws, ANALYSED, "nightly-etl", end=now.replace(second=0, microsecond=0))
    outputs: list[dict[str, Any]] = []

    def analyse() -> None:
        arn = aws.start_execution("worker-analysis", event)
        outputs.append(json.loads(aws.wait_for_execution(arn, timeout=timeout).get("output") or "{}"))

    def metrics_requested() -> int:
        """The queries of the run's scenario.json: the gather step writes every query it sent, empty ones too."""
        keys = outputs[-1]["gathered"]["keys"]
        scenario = (
            aws.client("s3").get_object(Bucket=keys["bucket"], Key=f"{keys['prefix']}scenario.json")["Body"].read()
        )
        return len(json.loads(scenario)["metrics"])

    measurement.measure(alarm, 1, analyse, metrics_requested)
    cause = outputs[-1].get("diagnosis", {}).get("cause") if outputs else None
    if not alarm.not_measured and cause != "capacity_bound":
        measurement.failures.append(f"alarm: the analysis said {cause}, not capacity_bound (the simulated cause)")
    return created


def print_alarm_lines(
    dashboards: int,
    alarm: Unit,
    created: list[dict[str, Any]] | None,
    price_of: dict[str, Price],
    prices: dict[str, Price],
) -> None:
    """What one alarm's analysis costs, and what opting an environment in costs a month (not in the total)."""
    if not alarm.not_measured:
        per_alarm = sum((price_of[label].of(q) for label, q in alarm.quantities.items()), Decimal(0))
        metrics = alarm.quantities["CloudWatch GetMetricData metrics requested"]
        widget = prices["cloudwatch_metric_requested"].of(Decimal(3))
        print(
            f"Per alarm (one worker-analysis run, measured): {_quantity(alarm.metric_data_calls)} GetMetricData "
            f"call(s), {_quantity(metrics)} metrics requested "
            f"({_usd(prices['cloudwatch_metric_requested'].of(metrics), '0.000001')} USD); the analysis's own cost "
            f"{_usd(per_alarm, '0.000001')} USD per alarm, {_usd(per_alarm * ALARMS_PER_MONTH, '0.0001')} USD for the "
            f"month's {ALARMS_PER_MONTH} alarms (in the total). On AWS the chart is one GetMetricWidgetImage of 3 "
            f"metrics more ({_usd(widget, '0.000001')} USD; moto has none: drawn offline, not counted)."
        )
    if created:
        metrics = Decimal(sum(_alarm_metrics(a) for a in created))
        price = prices["cloudwatch_alarm_month"]
        dashboard = prices["cloudwatch_dashboard_month"]
        print(
            f"Per environment with mwaa-cp:analysis=on: {len(created)} alarms reading {metrics} metrics = "
            f"{metrics} alarm-months at {price.usd} USD (CloudWatch bills each metric of a metric-math alarm): "
            f"{_usd(price.of(metrics), '0.01')} USD a month; and {dashboards} dashboard "
            f"({_usd(dashboard.of(Decimal(dashboards)), '0.01')} USD a month beyond the account's first 3 free). "
            "Not in the total: the issue's reference month names 50 alarms, not opted-in environments."
        )


def morning_zone(now: datetime) -> str:
    """An IANA zone where it is about 08:00 at ``now``: the nightly window (20:00-07:00) is 12 virtual hours away,
    so the reconcile tick finds nothing to do (virtual time runs 1/time-scale times faster than the bench)."""
    offset = (8 - now.hour) % 24
    offset -= 24 if offset > 14 else 0  # the Etc/GMT zones run from UTC-12 to UTC+14
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def nightly_cycles() -> Decimal:
    config = config_from_tags({"mwaa-cp:off-hours": "hibernate", "mwaa-cp:window": NIGHTLY})
    return monthly_off_hours(config, REFERENCE_MONTH).cycles_per_month


def schedule_runs(facts: StackFacts, flow: str) -> tuple[Decimal, str]:
    for expression, target in facts.schedules.values():
        if target == flow:
            return invocations_per_month(expression), f"its schedule, {expression}"
    return Decimal(0), "no schedule starts it"


# ------------------------------------------------------------------------------------------------ report


def _quantity(value: Decimal) -> str:
    if value == 0:
        return "0"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3f}".rstrip("0").rstrip(".") if value >= Decimal("0.001") else f"{value:.2e}"


def _usd(value: Decimal, places: str = "0.0001") -> str:
    return f"{value.quantize(Decimal(places), rounding=ROUND_HALF_UP)}"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = [row[0].ljust(widths[0]), *(str(c).rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
        print("  ".join(cells).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=9, help="DAG pushes measured (default 9, 3 per environment)")
    parser.add_argument("--changes", type=int, default=3, help="environment changes measured (default 3)")
    parser.add_argument(
        "--changes-per-month", type=int, default=20, help="environment changes in the reference month (assumed)"
    )
    parser.add_argument("--time-scale", type=float, default=0.001, help="real seconds per virtual second")
    parser.add_argument("--timeout", type=float, default=600.0, help="real seconds each measurement may take")
    parser.add_argument("--template", type=Path, default=REPO / "template.yaml", help="the stack to measure")
    args = parser.parse_args()
    if args.pushes < 1 or args.changes < 1:
        parser.error("--pushes and --changes must be at least 1")
    prices = load_prices()
    started = time.perf_counter()

    meter = UsageMeter()
    with LocalAws(template=args.template.resolve(), time_scale=args.time_scale, meter=meter) as aws:
        mwaa.configure(create_seconds=60)  # creating the environments is not what is measured
        zone = morning_zone(aws.clock.now() if aws.clock else datetime.now(UTC))
        for name in ENVIRONMENTS:
            tags = {"mwaa-cp:off-hours": "hibernate", "mwaa-cp:window": NIGHTLY, "mwaa-cp:timezone": zone}
            create_environment(aws, name, tags=tags)
        facts = stack_facts(aws)
        measurement = Measurement(aws, meter, facts, args.timeout)
        cycles = nightly_cycles()
        health_runs, health_why = schedule_runs(facts, "environment-health")
        ticks, ticks_why = schedule_runs(facts, "off-hours")
        if not ticks:
            ticks = invocations_per_month(DESIGN_TICKS)
            ticks_why = f"no schedule in template.yaml yet: the design's default, {DESIGN_TICKS}"
        units = [
            Unit("DAG push", DAG_PUSHES_PER_MONTH, "the issue's reference month"),
            Unit(
                "environment change",
                Decimal(args.changes_per_month),
                "assumed (--changes-per-month): the issue's month names none",
            ),
            Unit("environment-health run (3 environments)", health_runs, health_why),
            Unit(
                "off-hours hibernate + resume",
                len(ENVIRONMENTS) * cycles,
                f"{len(ENVIRONMENTS)} environments x {cycles:.1f} nights ({NIGHTLY} every night, monthly.py)",
            ),
            Unit("off-hours reconcile tick, nothing to do", ticks, ticks_why),
            Unit("alarm", Decimal(ALARMS_PER_MONTH), "the issue's reference month"),
        ]
        reconcile_runs, reconcile_why = Decimal(0), "no AlarmsReconcileSchedule in template.yaml"
        if "AlarmsReconcileSchedule" in aws.stack.resources:
            expression = facts.schedules[aws.stack.ref("AlarmsReconcileSchedule")][0]
            reconcile_runs, reconcile_why = invocations_per_month(expression), f"its schedule, {expression}"
        reconcile = Unit("alarms reconciler run (1 opted-in environment, in sync)", reconcile_runs, reconcile_why)
        units.append(reconcile)
        push, change, health, cycle, tick, alarm, _ = units

        if "off-hours" in aws.flows():
            measurement.measure(tick, 1, lambda: measurement.fire("off-hours"))

            def hibernate_and_resume() -> None:
                for action in ("hibernate", "resume"):
                    measurement.run("off-hours", {"action": action, "environment": ENVIRONMENTS[0], "dry_run": False})
                wait_for_status(aws, ENVIRONMENTS[0], {"AVAILABLE"}, timeout=args.timeout)

            measurement.measure(cycle, 1, hibernate_and_resume)
        else:
            for unit in (cycle, tick):
                unit.not_measured = "no off-hours state machine in template.yaml yet"
        measurement.measure(health, 1, lambda: measurement.fire("environment-health"))

        sample = json.loads(CAPACITY_CHANGE.read_text("utf-8"))

        def changes() -> None:
            for n in range(args.changes):
                bigger = (n // len(ENVIRONMENTS)) % 2 == 0
                request = {**sample, "environment_name": ENVIRONMENTS[n % len(ENVIRONMENTS)]}
                request |= {"min_workers": 2, "max_workers": 6} if bigger else {"min_workers": 1, "max_workers": 5}
                measurement.run("environment-change", request)

        measurement.measure(change, args.changes, changes)

        def pushes() -> None:
            staging, template = aws.stack.ref("StagingBucket"), DAG_TEMPLATE.read_text("utf-8")
            count = len(aws.executions("dag-delivery"))
            for n in range(args.pushes):
                body = template.replace('"hello_mwaa"', f'"cost_dag_{n}"').encode()
                key = f"{ENVIRONMENTS[n % len(ENVIRONMENTS)]}/dags/cost/cost_dag_{n}.py"
                aws.client("s3").put_object(Bucket=staging, Key=key, Body=body)
            aws.wait_for_executions("dag-delivery", count + args.pushes, timeout=args.timeout)

        measurement.measure(push, args.pushes, pushes)
        alarm_metrics = measure_alarm(aws, measurement, alarm, reconcile, args.timeout)
        aws_dashboards = len(
            aws.client("cloudwatch").list_dashboards(
                DashboardNamePrefix=f"{aws.stack.name}-worker-analysis-{ANALYSED}"
            )["DashboardEntries"]
        )
        failures = measurement.failures
    wall = time.perf_counter() - started

    # Fixed a month, whatever the work: the stack's keys, alarms and schedules.
    fixed = {
        "EventBridge Scheduler invocations": sum(
            (invocations_per_month(e) for e, _ in facts.schedules.values()), Decimal(0)
        ),
        "KMS customer managed keys (key-months)": Decimal(facts.kms_keys),
        "CloudWatch alarms of the stack (alarm-months)": Decimal(facts.alarms),
    }
    price_of = {line.label: prices[line.price] for line in LINES} | {
        "EventBridge Scheduler invocations": prices["scheduler_invocation"],
        "KMS customer managed keys (key-months)": prices["kms_customer_managed_key_month"],
        "CloudWatch alarms of the stack (alarm-months)": prices["cloudwatch_alarm_month"],
    }
    month: dict[str, Decimal] = {line.label: Decimal(0) for line in LINES}
    for unit in units:
        for label, quantity in unit.quantities.items():
            month[label] += quantity * unit.per_month

    print(
        "The control plane's own AWS bill for a reference month, from usage counted in the local runtime "
        f"(time scale {args.time_scale}, {wall:.0f} s)"
    )
    print(
        f"Prices: {PRICES.relative_to(REPO)} (us-east-1, each figure's source and date). "
        "The free tier is NOT subtracted."
    )
    print()
    print("Measured per unit, and how many units the reference month has:")
    rows = []
    for unit in units:
        if unit.not_measured:
            rows.append(
                [unit.name, "-", "-", "-", "-", f"{unit.per_month:,.1f}", f"not measured yet: {unit.not_measured}"]
            )
            continue
        per_unit_usd = sum((price_of[label].of(q) for label, q in unit.quantities.items()), Decimal(0))
        rows.append(
            [
                f"{unit.name} (x{unit.measured_units})",
                _quantity(unit.quantities["Step Functions state transitions"]),
                _quantity(unit.quantities["Lambda requests"]),
                _quantity(
                    unit.quantities["Lambda duration arm64 (GB-s)"] + unit.quantities["Lambda duration x86_64 (GB-s)"]
                ),
                _usd(per_unit_usd, "0.000001"),
                f"{unit.per_month:,.1f}",
                unit.why,
            ]
        )
    print_table(["unit", "transitions", "invocations", "GB-s", "USD", "a month", "why that many"], rows)
    print()

    rows = []
    total = Decimal(0)
    for label, quantity in [*month.items(), *fixed.items()]:
        cost = price_of[label].of(quantity)
        total += cost
        rows.append([label, _quantity(quantity), price_of[label].text, _usd(cost)])
    rows.append(["total", "", "", _usd(total, "0.01")])
    print_table(["line", "a month", "price", "USD a month"], rows)
    print()
    print_alarm_lines(aws_dashboards, alarm, alarm_metrics, price_of, prices)
    duration = month["Lambda duration arm64 (GB-s)"] + month["Lambda duration x86_64 (GB-s)"]
    at_ten = prices["lambda_gb_second_arm64"].of(duration * 9)
    not_measured = [unit for unit in units if unit.not_measured]
    verdict = "met" if total < TARGET_USD else "NOT met"
    scope = " by what is measured" if not_measured else ""
    print(f"Target: under {TARGET_USD} USD a month: {verdict}{scope} ({_usd(total, '0.01')} USD).")
    if not_measured:
        print(f"Not in the total (not measured yet): {', '.join(unit.name for unit in not_measured)}.")
        if tick.not_measured and tick.per_month and total < TARGET_USD:
            left = TARGET_USD - total
            per_tick = left / tick.per_month / prices["sfn_state_transition"].of(Decimal(1))
            print(
                f"Left for them: {_usd(left, '0.01')} USD a month, e.g. {per_tick:.1f} state transitions per "
                f"reconcile tick ({tick.per_month:,.0f} ticks a month) if the ticks spent all of it."
            )
    print(
        f"Lambda durations are the handlers' CPU time in this process ({_quantity(duration)} GB-s a month); at 10x "
        f"that (network waits on AWS) the total would be {_usd(total + at_ten, '0.01')} USD."
    )
    print(
        "Not counted: storage (a few KB in DynamoDB and in S3 reports and snapshots), Lambda's INIT phase of cold "
        "starts, requests retried by the SDK."
    )
    if failures:
        for failure in failures:
            print(f"FAILED: {failure}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
