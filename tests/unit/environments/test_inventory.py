"""The account's environments at a glance."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mwaa_control_plane.environments.inventory import EnvironmentSummary, list_environment_summaries
from mwaa_control_plane.errors import AccessDeniedError

from .fakes import FakeMwaa

AVAILABLE = {
    "Status": "AVAILABLE",
    "AirflowVersion": "2.10.3",
    "EnvironmentClass": "mw1.small",
    "MinWorkers": 1,
    "MaxWorkers": 10,
    "Schedulers": 2,
    "LastUpdate": {"Status": "SUCCESS", "CreatedAt": "2026-11-20T10:00:00Z"},
}


def test_every_environment_is_summarised_from_get_environment() -> None:
    mwaa = FakeMwaa({"dev-analytics": AVAILABLE})

    assert list_environment_summaries(mwaa) == [  # type: ignore[arg-type]
        EnvironmentSummary(
            name="dev-analytics",
            status="AVAILABLE",
            airflow_version="2.10.3",
            environment_class="mw1.small",
            min_workers=1,
            max_workers=10,
            schedulers=2,
            last_update="SUCCESS",
        )
    ]


def test_environments_are_sorted_by_name_across_pages() -> None:
    mwaa = FakeMwaa(
        dict.fromkeys(("prod", "dev", "staging", "analytics"), AVAILABLE),
        pages=[["prod", "dev"], ["staging"], ["analytics"]],
    )

    summaries = list_environment_summaries(mwaa)  # type: ignore[arg-type]

    assert [s.name for s in summaries] == ["analytics", "dev", "prod", "staging"]


def test_an_account_without_environments_has_an_empty_inventory() -> None:
    assert list_environment_summaries(FakeMwaa({}, pages=[[]])) == []  # type: ignore[arg-type]


def test_an_environment_deleted_between_list_and_get_is_left_out() -> None:
    # ListEnvironments still names "old", GetEnvironment no longer finds it.
    mwaa = FakeMwaa({"dev": AVAILABLE, "prod": AVAILABLE}, pages=[["dev", "old", "prod"]])

    summaries = list_environment_summaries(mwaa)  # type: ignore[arg-type]

    assert [s.name for s in summaries] == ["dev", "prod"]
    assert "old" in mwaa.described


def test_any_other_error_of_get_environment_is_raised() -> None:
    mwaa = FakeMwaa({"dev": AVAILABLE})
    mwaa.errors["dev"] = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetEnvironment")

    with pytest.raises(AccessDeniedError, match="access denied"):
        list_environment_summaries(mwaa)  # type: ignore[arg-type]


def test_a_failed_last_update_shows_its_error_code() -> None:
    failed = {
        **AVAILABLE,
        "LastUpdate": {
            "Status": "FAILED",
            "Error": {"ErrorCode": "INCORRECT_CONFIGURATION", "ErrorMessage": "requirements.txt failed"},
        },
    }

    (summary,) = list_environment_summaries(FakeMwaa({"dev": failed}))  # type: ignore[arg-type]

    assert summary.last_update == "FAILED (INCORRECT_CONFIGURATION)"


def test_an_environment_being_created_has_no_last_update_nor_version_details() -> None:
    (summary,) = list_environment_summaries(FakeMwaa({"dev": {"Status": "CREATING"}}))  # type: ignore[arg-type]

    assert summary == EnvironmentSummary(name="dev", status="CREATING")


def test_an_environment_without_a_status_is_unknown() -> None:
    (summary,) = list_environment_summaries(FakeMwaa({"dev": {}}))  # type: ignore[arg-type]

    assert summary.status == "UNKNOWN"
