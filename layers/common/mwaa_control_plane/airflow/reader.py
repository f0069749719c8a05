"""What flows need to read from Airflow; AirflowClient implements it, tests pass fakes."""

from __future__ import annotations

from typing import Protocol

from mwaa_control_plane.airflow.models import Dag, DagImportError


class AirflowReader(Protocol):
    def list_dags(self) -> list[Dag]: ...

    def list_import_errors(self) -> list[DagImportError]: ...
