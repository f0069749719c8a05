"""The worker-analysis flow's steps: read the trigger, gather, diagnose, report, and decide the remediation.

Each public function is one Lambda step of ``statemachines/worker_analysis.asl.json``; the handlers only parse,
wire and delegate. The analysis itself is :func:`~mwaa_control_plane.capacity.analyze`; this module adds what a
flow needs around it: an alarm event or a console input turned into an environment and a window, the scenario and
the report stored in the reports bucket, the notification text, and the remediation decision (tag
``mwaa-cp:remediation``, the ceiling, the cooldown).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mwaa_control_plane.errors import InvalidInputError, NotFoundError, translate_client_error
from mwaa_control_plane.payloads import EnvironmentName, Payload, validation_problems

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_mwaa import MWAAClient
    from mypy_boto3_s3 import S3Client

    from mwaa_control_plane.capacity.report import AnalysisReport
    from mwaa_control_plane.config import WorkerAnalysisSettings

REMEDIATION_TAG = "mwaa-cp:remediation"
RemediationMode = Literal["off", "recommend", "auto"]
DEFAULT_MODE: RemediationMode = "recommend"
ALARM_DETAIL_TYPE = "CloudWatch Alarm State Change"
# The fields an ``auto`` remediation may change (docs/worker-analysis.md § The flow).
CAPACITY_FIELDS = frozenset({"min_workers", "max_workers"})


# ---------------------------------------------------------------------------------------------- inputs


class ConsoleRequest(BaseModel):
    """``{"environment": NAME, "since_minutes": 120}`` from the console or ``aws stepfunctions start-execution``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: EnvironmentName
    since_minutes: Annotated[int, Field(ge=15, le=1440)] | None = None


class _AlarmState(BaseModel):
    value: str
    timestamp: str | None = None
    reason: str | None = None


class _AlarmDetail(BaseModel):
    alarmName: Annotated[str, Field(min_length=1)]
    state: _AlarmState


class AlarmEvent(BaseModel):
    """The part of EventBridge's ``CloudWatch Alarm State Change`` event the flow reads."""

    source: Literal["aws.cloudwatch"]
    detail_type: Annotated[Literal["CloudWatch Alarm State Change"], Field(alias="detail-type")]
    time: datetime
    detail: _AlarmDetail


class AnalysisRequest(Payload):
    """What "Read the request" hands on: analyse ``environment`` over [start, end), or end with ``status``."""

    status: Literal["analyse", "refused", "ignored", "unknown_environment"]
    message: str
    environment: str | None = None
    trigger: Literal["alarm", "console", "unknown"] = "unknown"
    alarm: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    remediation: RemediationMode = DEFAULT_MODE
    notes: list[str] = []


def alarm_name(prefix: str, environment: str, kind: str) -> str:
    """The reconciler's alarm names: ``<prefix><environment>/<kind>`` (MWAA names never hold a ``/``)."""
    return f"{prefix}{environment}/{kind}"


def environment_of_alarm(prefix: str, name: str) -> str | None:
    """The environment an alarm of the reconciler watches, or None for an alarm that is not the project's."""
    if not name.startswith(prefix):
        return None
    environment, slash, kind = name[len(prefix) :].partition("/")
    return environment if slash and environment and kind else None


def _mode(tags: dict[str, str]) -> tuple[RemediationMode, str]:
    value = (tags.get(REMEDIATION_TAG) or DEFAULT_MODE).strip().lower()
    if value in ("off", "recommend", "auto"):
        return value, ""  # type: ignore[return-value]
    return "off", f"The tag {REMEDIATION_TAG}={value!r} is not off, recommend or auto: nothing will be changed."


def read_request(event: Any, *, mwaa: MWAAClient, settings: WorkerAnalysisSettings, now: datetime) -> AnalysisRequest:
    """Turn an alarm event or a console input into an analysis request; never raises on a bad input."""
    if isinstance(event, dict) and "detail-type" in event:
        try:
            alarm = AlarmEvent.model_validate(event)
        except ValidationError as error:
            return AnalysisRequest(
                status="refused",
                trigger="alarm",
                message=f"The event is not a CloudWatch alarm state change: {validation_problems(error)}.",
            )
        name = alarm.detail.alarmName
        if alarm.detail.state.value != "ALARM":
            return AnalysisRequest(
                status="ignored",
                trigger="alarm",
                alarm=name,
                message=f"Alarm {name} is {alarm.detail.state.value}, not ALARM: nothing to analyse.",
            )
        environment = environment_of_alarm(settings.alarm_name_prefix, name)
        if environment is None:
            return AnalysisRequest(
                status="refused",
                trigger="alarm",
                alarm=name,
                message=f"Alarm {name} is not one of the control plane's (prefix {settings.alarm_name_prefix}).",
            )
        end = alarm.time
        minutes = settings.window_minutes
        trigger: Literal["alarm", "console"] = "alarm"
        alarm_name_ = name
    else:
        try:
            console = ConsoleRequest.model_validate(event)
        except ValidationError as error:
            return AnalysisRequest(
                status="refused",
                message=f'The input is neither an alarm event nor {{"environment": NAME, "since_minutes": N}}: '
                f"{validation_problems(error)}.",
            )
        environment, end, trigger, alarm_name_ = console.environment, now, "console", None
        minutes = console.since_minutes or settings.window_minutes
    found = _environment(mwaa, environment)
    if found is None or found.get("Status") in ("DELETING", "DELETED", "CREATE_FAILED"):
        state = "does not exist" if found is None else f"is {found.get('Status')}"
        return AnalysisRequest(
            status="unknown_environment",
            environment=environment,
            trigger=trigger,
            alarm=alarm_name_,
            message=f"Environment {environment} {state}: nothing to analyse. The alarms reconciler removes the "
            "alarms of environments that are gone.",
        )
    mode, note = _mode(dict(found.get("Tags") or {}))
    return AnalysisRequest(
        status="analyse",
        environment=environment,
        trigger=trigger,
        alarm=alarm_name_,
        start=end - timedelta(minutes=minutes),
        end=end,
        remediation=mode,
        message=f"Analysing {environment} over the {minutes} minutes up to {end.isoformat()}.",
        notes=[note] if note else [],
    )


def _environment(mwaa: MWAAClient, name: str) -> dict[str, Any] | None:
    try:
        return dict(mwaa.get_environment(Name=name)["Environment"])
    except ClientError as error:
        translated = translate_client_error(error, operation="GetEnvironment")
        if isinstance(translated, NotFoundError):
            return None
        raise translated from None


# ---------------------------------------------------------------------------------------------- storage


class RunKeys(Payload):
    """Where one run keeps its files in the reports bucket."""

    bucket: str
    prefix: str

    @property
    def scenario(self) -> str:
        return f"{self.prefix}scenario.json"

    @property
    def report(self) -> str:
        return f"{self.prefix}report.json"

    @property
    def markdown(self) -> str:
        return f"{self.prefix}report.md"

    @property
    def chart(self) -> str:
        return f"{self.prefix}chart.png"

    @property
    def chart_definition(self) -> str:
        return f"{self.prefix}chart.json"


def run_keys(settings: WorkerAnalysisSettings, environment: str, end: datetime, execution: str) -> RunKeys:
    stamp = end.strftime("%Y%m%dT%H%M%SZ")
    name = execution.rsplit(":", 1)[-1]
    return RunKeys(bucket=settings.reports_bucket, prefix=f"{settings.reports_prefix}{environment}/{stamp}-{name}/")


def _put(s3: S3Client, bucket: str, key: str, body: bytes, content_type: str) -> None:
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    except ClientError as error:
        raise translate_client_error(error, operation="PutObject") from None


def _get(s3: S3Client, bucket: str, key: str) -> bytes:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        raise translate_client_error(error, operation="GetObject") from None


# ---------------------------------------------------------------------------------------------- gather


class Gathered(Payload):
    keys: RunKeys
    metric_data_calls: int
    metrics_with_data: int
    notes: list[str]


def gather_step(
    request: AnalysisRequest,
    execution: str,
    *,
    mwaa: MWAAClient,
    airflow_mwaa: MWAAClient,
    cloudwatch: CloudWatchClient,
    s3: S3Client,
    settings: WorkerAnalysisSettings,
    clock: Any,
) -> Gathered:
    """Gather the scenario (capacity/gather.py) and store it; no metric data is not an error (the analysis says
    inconclusive)."""
    from mwaa_control_plane.airflow import AirflowClient
    from mwaa_control_plane.capacity.gather import gather

    if request.environment is None or request.start is None or request.end is None:
        raise InvalidInputError("only a request with the status 'analyse' is gathered")
    result = gather(
        request.environment,
        mwaa=mwaa,
        cloudwatch=cloudwatch,
        start=request.start,
        end=request.end,
        airflow=AirflowClient(airflow_mwaa, request.environment, clock=clock),
        description=f"worker-analysis {execution.rsplit(':', 1)[-1]}: {request.message}",
    )
    keys = run_keys(settings, request.environment, request.end, execution)
    _put(s3, keys.bucket, keys.scenario, result.scenario.to_json().encode(), "application/json")
    return Gathered(
        keys=keys,
        metric_data_calls=result.metric_data_calls,
        metrics_with_data=sum(1 for metric in result.scenario.metrics if metric.values),
        notes=list(result.scenario.notes),
    )


# ---------------------------------------------------------------------------------------------- diagnose


class Diagnosed(Payload):
    keys: RunKeys
    environment: str
    cause: str
    limit: str | None = None
    decided_by: str
    top_finding: str
    recommendation: str
    change: dict[str, Any] | None = None
    auto_applicable: bool = False
    delta_monthly: str | None = None


def diagnose_step(keys: RunKeys, execution: str, *, s3: S3Client, settings: WorkerAnalysisSettings) -> Diagnosed:
    """Analyse the stored scenario with the stack's ceiling; store the report as JSON."""
    from mwaa_control_plane.capacity import analyze, parse_scenario

    scenario = parse_scenario(_get(s3, keys.bucket, keys.scenario).decode())
    report = analyze(scenario, max_workers_ceiling=settings.max_workers_ceiling, execution=execution)
    _put(s3, keys.bucket, keys.report, report.to_json().encode(), "application/json")
    change = report.recommendation.change
    cost = report.recommendation.cost
    return Diagnosed(
        keys=keys,
        environment=report.environment,
        cause=report.cause,
        limit=report.limit,
        decided_by=report.decided_by,
        top_finding=report.top_finding.message,
        recommendation=report.recommendation.summary,
        change=change.model_dump(mode="json", exclude_none=True) if change else None,
        auto_applicable=report.recommendation.auto_applicable,
        delta_monthly=str(cost.delta_monthly) if cost and cost.delta_monthly is not None else None,
    )


# ---------------------------------------------------------------------------------------------- report


class Reported(Payload):
    subject: str
    message: str
    report_uri: str
    markdown_uri: str
    chart_uri: str | None = None
    chart_note: str


def chart_widget(report: AnalysisReport, region: str) -> dict[str, Any]:
    """A CloudWatch metric widget of queue against capacity over the report's window (GetMetricWidgetImage's
    input, and what ``aws cloudwatch get-metric-widget-image --metric-widget`` renders offline)."""
    env = report.environment
    slots = report.capacity.max_slots
    widget: dict[str, Any] = {
        "title": f"{env}: queued and running tasks against capacity",
        "region": region,
        "width": 900,
        "height": 400,
        "start": report.window.start.isoformat(),
        "end": report.window.end.isoformat(),
        "period": 60,
        "metrics": [
            ["AWS/MWAA", "QueuedTasks", "Environment", env, {"stat": "Maximum", "label": "queued"}],
            [".", "RunningTasks", ".", ".", {"stat": "Maximum", "label": "running"}],
            [
                "AWS/MWAA",
                "CPUUtilization",
                "Cluster",
                "AdditionalWorker",
                "Environment",
                env,
                {"stat": "SampleCount", "label": "additional workers", "yAxis": "right"},
            ],
        ],
    }
    widget["annotations"] = {"horizontal": [{"label": "slots at MaxWorkers", "value": slots}]}
    return widget


def render_chart(cloudwatch: CloudWatchClient, widget: dict[str, Any]) -> tuple[bytes | None, str]:
    """The PNG from GetMetricWidgetImage, or None and why: the report then carries the control plane's own drawing
    (a refused, throttled or missing call never fails a report for its picture)."""
    try:
        image = cloudwatch.get_metric_widget_image(MetricWidget=json.dumps(widget), OutputFormat="png")
    except ClientError as error:
        return None, f"CloudWatch did not render the chart ({translate_client_error(error)})"
    return bytes(image["MetricWidgetImage"]), "rendered by CloudWatch GetMetricWidgetImage"


def console_url(region: str, bucket: str, key: str) -> str:
    return f"https://{region}.console.aws.amazon.com/s3/object/{bucket}?region={region}&prefix={key}"


def report_step(
    keys: RunKeys, request: AnalysisRequest, *, s3: S3Client, cloudwatch: CloudWatchClient, region: str
) -> Reported:
    """The Markdown report and the chart next to the JSON, and the notification that links them."""
    from mwaa_control_plane.capacity import render_markdown
    from mwaa_control_plane.capacity.report import AnalysisReport

    report = AnalysisReport.model_validate_json(_get(s3, keys.bucket, keys.report))
    widget = chart_widget(report, region)
    _put(s3, keys.bucket, keys.chart_definition, json.dumps(widget, indent=2).encode(), "application/json")
    image, chart_note = render_chart(cloudwatch, widget)
    markdown = render_markdown(report) + "\n\n![queue against capacity](chart.png)\n"
    if image is None:
        from mwaa_control_plane.capacity.chart import LEGEND, render_chart_png
        from mwaa_control_plane.capacity.scenario import parse_scenario

        scenario = parse_scenario(_get(s3, keys.bucket, keys.scenario).decode())
        image = render_chart_png(scenario, report.capacity)
        chart_note += "; chart.png drawn by the control plane instead"
        markdown += f"\n_{chart_note}. {LEGEND}._\n"
    _put(s3, keys.bucket, keys.chart, image, "image/png")
    chart_uri: str | None = f"s3://{keys.bucket}/{keys.chart}"
    _put(s3, keys.bucket, keys.markdown, markdown.encode(), "text/markdown")
    trigger = f"alarm {request.alarm}" if request.alarm else "a console request"
    limit = f" ({report.limit})" if report.limit else ""
    report_uri = f"s3://{keys.bucket}/{keys.report}"
    lines = [
        f"Worker analysis of {report.environment} (started by {trigger}), window "
        f"{report.window.start.isoformat()} to {report.window.end.isoformat()}.",
        f"Cause: {report.cause}{limit}.",
        f"Top finding ({report.top_finding.rule}): {report.top_finding.message}",
        f"Recommendation: {report.recommendation.summary}",
        f"Report: {report_uri} ({console_url(region, keys.bucket, keys.markdown)})",
        f"Chart: {chart_uri} ({chart_note})",
        f"Remediation ({REMEDIATION_TAG}): {request.remediation}",
        *request.notes,
    ]
    return Reported(
        subject=f"MWAA worker analysis: {report.environment} is {report.cause}{limit}"[:100],
        message="\n".join(lines),
        report_uri=report_uri,
        markdown_uri=f"s3://{keys.bucket}/{keys.markdown}",
        chart_uri=chart_uri,
        chart_note=chart_note,
    )
