"""CloudWatch Logs: every log type on, and each log group kept for a set time rather than forever."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from mwaa_control_plane.environments.doctor.facts import LOG_TYPES
from mwaa_control_plane.environments.doctor.models import Check, failed, passed, warned
from mwaa_control_plane.errors import translate_client_error

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

    from mwaa_control_plane.environments.doctor.facts import EnvironmentFacts

# The retention the fix proposes (any value is a pass; this one keeps a month of history for troubleshooting).
SUGGESTED_RETENTION_DAYS = 30


def logging_check(facts: EnvironmentFacts) -> Check:
    title = "All five log types are enabled"
    off = [t for t, on in facts.logging.items() if not on]
    if not off:
        return passed("logging-enabled", title, ", ".join(LOG_TYPES))
    # Quoted: unquoted, the shell's brace expansion splits {Enabled=true,LogLevel=INFO} into two words.
    settings = ",".join(f"{t}={{Enabled=true,LogLevel=INFO}}" for t in off)
    return failed(
        "logging-enabled",
        title,
        f"disabled: {', '.join(off)}; without them a DAG that does not show, a task that does not run or an "
        "environment that does not start leaves no trace",
        f"aws mwaa update-environment --name {facts.name} --logging-configuration '{settings}'",
    )


def retention_check(logs: CloudWatchLogsClient, facts: EnvironmentFacts) -> Check:
    title = "Log groups have a retention"
    check_id = "log-retention"
    enabled = [t for t, on in facts.logging.items() if on]
    if not enabled:
        return passed(check_id, title, "no log type is enabled: no log group to keep")
    retention: dict[str, int | None] = {}
    try:
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=f"airflow-{facts.name}-"):
            for group in page["logGroups"]:
                retention[group["logGroupName"]] = group.get("retentionInDays")
    except ClientError as exc:
        raise translate_client_error(exc, operation="DescribeLogGroups") from exc
    groups = [facts.log_group(t) for t in enabled]
    absent = [g for g in groups if g not in retention]
    forever = [g for g in groups if g in retention and not retention[g]]
    kept = ", ".join(f"{g} {retention[g]} d" for g in groups if retention.get(g))
    if not absent and not forever:
        return passed(check_id, title, kept)
    # One row names every group to fix: a group kept forever fails, one not created yet only warns.
    found: list[str] = []
    fixes: list[str] = []
    if forever:
        found.append(
            f"never expire: {', '.join(forever)}; CloudWatch Logs bills every GB stored for as long as it is kept"
        )
        fixes.extend(_put_retention(g) for g in forever)
    if absent:
        found.append(f"not created yet: {', '.join(absent)}")
        fixes.extend(f"aws logs create-log-group --log-group-name {g} && {_put_retention(g)}" for g in absent)
    if kept:
        found.append(f"retention set: {kept}")
    verdict = failed if forever else warned
    return verdict(check_id, title, "; ".join(found), " && ".join(fixes))


def _put_retention(group: str) -> str:
    return f"aws logs put-retention-policy --log-group-name {group} --retention-in-days {SUGGESTED_RETENTION_DAYS}"
