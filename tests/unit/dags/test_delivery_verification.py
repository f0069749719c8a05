"""verify_dag_file: one poll of Airflow after a sync, with a fake Airflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mwaa_control_plane.airflow.models import Dag, DagImportError
from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.dags.delivery import SyncOutcome, Verification, verify_dag_file
from mwaa_control_plane.dags.events import Action, ArtifactKind, DeliveryRequest

SYNCED_AT = datetime(2026, 1, 1, tzinfo=UTC)


class FakeAirflow:
    def __init__(self, dags: list[Dag], errors: list[DagImportError]) -> None:
        self.dags, self.errors = dags, errors

    def list_dags(self) -> list[Dag]:
        return self.dags

    def list_import_errors(self) -> list[DagImportError]:
        return self.errors


def _synced(relative: str, dag_ids: list[str]) -> SyncOutcome:
    request = DeliveryRequest(
        environment_name="dev",
        kind=ArtifactKind.DAG,
        action=Action.CREATED,
        staging_bucket="staging",
        key=f"dev/dags/{relative}",
        relative_path=relative,
        version_id="v1",
        sequencer="A" * 40,
    )
    verification = Verification(
        wait_seconds=330, deadline=(SYNCED_AT + timedelta(seconds=400)).isoformat(), synced_at=SYNCED_AT.isoformat()
    )
    return SyncOutcome(
        request=request,
        outcome="synced",
        mwaa_key=f"dags/{relative}",
        mwaa_version_id="m1",
        dag_ids=dag_ids,
        verification=verification,
    )


def _clock(after_seconds: float) -> ManualClock:
    return ManualClock(SYNCED_AT + timedelta(seconds=after_seconds))


def test_an_import_error_of_a_file_with_the_same_name_in_a_subfolder_is_not_this_files() -> None:
    airflow = FakeAirflow(
        dags=[Dag(dag_id="etl", fileloc="/usr/local/airflow/dags/etl.py")],
        errors=[
            DagImportError(
                filename="/usr/local/airflow/dags/team/etl.py",
                stack_trace="boom",
                timestamp=SYNCED_AT + timedelta(seconds=60),
            )
        ],
    )
    result = verify_dag_file(airflow, _clock(331), _synced("etl.py", ["etl"]))
    assert result.verification is not None
    assert result.verification.state == "registered"


def test_a_fresh_import_error_for_the_file_means_roll_back() -> None:
    airflow = FakeAirflow(
        dags=[],
        errors=[
            DagImportError(
                filename="/usr/local/airflow/dags/etl.py",
                stack_trace="ModuleNotFoundError: x",
                timestamp=SYNCED_AT + timedelta(seconds=60),
            )
        ],
    )
    result = verify_dag_file(airflow, _clock(331), _synced("etl.py", ["etl"]))
    assert result.verification is not None
    assert result.verification.state == "import_error"
    assert "ModuleNotFoundError" in result.verification.detail


def test_an_import_error_older_than_the_sync_belongs_to_the_previous_version() -> None:
    airflow = FakeAirflow(
        dags=[],
        errors=[
            DagImportError(
                filename="/usr/local/airflow/dags/etl.py", stack_trace="old", timestamp=SYNCED_AT - timedelta(hours=1)
            )
        ],
    )
    result = verify_dag_file(airflow, _clock(331), _synced("etl.py", ["etl"]))
    assert result.verification is not None
    assert result.verification.state == "pending"


def test_a_cli_path_relative_to_the_dags_folder_is_matched() -> None:
    airflow = FakeAirflow(dags=[Dag(dag_id="etl", fileloc="team/etl.py")], errors=[])
    result = verify_dag_file(airflow, _clock(331), _synced("team/etl.py", ["etl"]))
    assert result.verification is not None
    assert result.verification.state == "registered"


def test_verification_gives_up_after_its_deadline() -> None:
    airflow = FakeAirflow(dags=[], errors=[])
    result = verify_dag_file(airflow, _clock(401), _synced("etl.py", ["etl"]))
    assert result.verification is not None
    assert result.verification.state == "gave_up"
    assert "etl" in result.verification.detail
