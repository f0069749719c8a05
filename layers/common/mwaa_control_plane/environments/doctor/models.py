"""The rows ``mwaa-cp doctor`` prints and the daily health report carries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, computed_field

from mwaa_control_plane.payloads import Payload

Status = Literal["pass", "warn", "fail"]
CheckId = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]


class Check(Payload):
    """One preflight check: a stable kebab-case id, what was found (with evidence) and the fix a person can act on."""

    id: CheckId
    title: str
    status: Status
    detail: str
    fix: str = ""
    """Empty when the check passed: there is nothing to do."""


class DoctorReport(Payload):
    """Every check of one environment, in the order they ran."""

    environment_name: str
    checks: list[Check]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def failed(self) -> bool:
        return any(check.status == "fail" for check in self.checks)

    @property
    def failing(self) -> list[Check]:
        return [check for check in self.checks if check.status == "fail"]

    @property
    def exit_code(self) -> int:
        """0 when nothing failed (warnings do not fail), else 1."""
        return 1 if self.failed else 0

    def check(self, check_id: str) -> Check:
        """The row with ``check_id``; KeyError when the report has none."""
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)


def passed(check_id: str, title: str, detail: str) -> Check:
    return Check(id=check_id, title=title, status="pass", detail=detail)


def warned(check_id: str, title: str, detail: str, fix: str) -> Check:
    return Check(id=check_id, title=title, status="warn", detail=detail, fix=fix)


def failed(check_id: str, title: str, detail: str, fix: str) -> Check:
    return Check(id=check_id, title=title, status="fail", detail=detail, fix=fix)
