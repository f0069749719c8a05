"""What GetEnvironment says about the environment itself: Airflow version support, last update, secrets backend."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from mwaa_control_plane.environments.doctor.models import Check, failed, passed, warned
from mwaa_control_plane.versions import InvalidVersion, release

if TYPE_CHECKING:
    from mwaa_control_plane.environments.doctor.facts import EnvironmentFacts
    from mwaa_control_plane.variables.backend import SecretsBackend

# End of MWAA support per Airflow version (docs/doctor.md, from MWAA's version support page). Data, not logic.
END_OF_SUPPORT: dict[str, date] = {
    "2.4.3": date(2025, 12, 30),
    "2.5.1": date(2025, 12, 30),
    "2.6.3": date(2025, 12, 30),
}
# The versions the newest botocore model accepts for CreateEnvironment / UpdateEnvironment.
ACCEPTED_VERSIONS = ("2.7.2", "2.8.1", "2.9.2", "2.10.1", "2.10.3", "2.11.0", "3.0.6")
# How long before a known end of support the row warns.
WARN_BEFORE = timedelta(days=90)
# Backend problems that lose nothing, a warning rather than a failure: MWAA's default pattern lost (costs calls and
# time), or another secrets backend the user chose (Secrets Manager, Vault: doctor checks only the SSM backend).
_WARNING_PROBLEMS = frozenset({"default-connections-pattern-lost", "other-backend"})


def _upgrade_fix(facts: EnvironmentFacts) -> str:
    return (
        f"upgrade in place: aws mwaa update-environment --name {facts.name} --airflow-version {ACCEPTED_VERSIONS[-2]} "
        "(or another supported version; test the DAGs with mwaa-cp validate first)"
    )


def _oldest_accepted() -> str:
    return min(ACCEPTED_VERSIONS, key=release)


def _older_than_every_accepted(version: str) -> bool:
    try:
        return release(version) < release(_oldest_accepted())
    except InvalidVersion:  # not a version number: the row warns that MWAA does not accept it
        return False


def version_check(facts: EnvironmentFacts, now: datetime) -> Check:
    title = "Airflow version is still supported"
    check_id = "airflow-version-supported"
    version = facts.airflow_version
    ends = END_OF_SUPPORT.get(version)
    today = now.date()
    if ends is not None and today >= ends:
        return failed(check_id, title, f"Airflow {version}: MWAA support ended {ends.isoformat()}", _upgrade_fix(facts))
    if ends is not None and today >= ends - WARN_BEFORE:
        return warned(
            check_id,
            title,
            f"Airflow {version}: MWAA support ends {ends.isoformat()} ({(ends - today).days} days)",
            _upgrade_fix(facts),
        )
    if version in ACCEPTED_VERSIONS:
        return passed(check_id, title, f"Airflow {version}: supported, no end of support announced")
    if ends is None and _older_than_every_accepted(version):
        # Older than the oldest version MWAA still accepts, and no end date known: its support ended, on a date
        # this table does not have (worse than a version whose support ended on a known day, which fails too).
        return failed(
            check_id,
            title,
            f"Airflow {version}: no longer supported by MWAA (older than {_oldest_accepted()}, the oldest version "
            "MWAA accepts); a recreate (hibernate, disaster recovery) would be refused",
            _upgrade_fix(facts),
        )
    return warned(
        check_id,
        title,
        f"Airflow {version}: not one of the versions MWAA accepts for new environments ({', '.join(ACCEPTED_VERSIONS)})"
        "; a recreate (hibernate, disaster recovery) would be refused",
        _upgrade_fix(facts),
    )


def last_update_check(facts: EnvironmentFacts) -> Check:
    title = "Last update succeeded"
    check_id = "last-update"
    update = facts.last_update
    status = update.get("Status")
    if status != "FAILED":
        return passed(check_id, title, f"LastUpdate.Status {status or 'none (never updated)'}")
    error = update.get("Error") or {}
    code = error.get("ErrorCode", "?")
    message = error.get("ErrorMessage", "")
    return failed(
        check_id,
        title,
        f"LastUpdate.Status FAILED: {code}: {message}".strip(),
        "fix what the error names, then apply the change again through the environment-change flow; "
        f"the environment runs its previous configuration until then (status {facts.status})",
    )


def secrets_backend_check(backend: SecretsBackend) -> Check:
    title = "Secrets backend kwargs are consistent"
    check_id = "secrets-backend"
    if not backend.problems:
        if not backend.configured:
            return passed(check_id, title, "no SSM secrets backend configured")
        return passed(
            check_id,
            title,
            f"SSM backend: variables {backend.variables_prefix or 'off'}, connections "
            f"{backend.connections_prefix or 'off'}",
        )
    detail = "; ".join(f"{p.code}: {p.message}" for p in backend.problems)
    fix = "; ".join(p.fix for p in backend.problems)
    if all(p.code in _WARNING_PROBLEMS for p in backend.problems):
        return warned(check_id, title, detail, fix)
    return failed(check_id, title, detail, fix)
