"""A small in-memory MWAA client (ListEnvironments + GetEnvironment) and an Airflow reader."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from mwaa_control_plane.airflow.models import Dag, DagImportError


def not_found(name: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ResourceNotFoundException", "Message": f"Environment {name} not found"}},
        "GetEnvironment",
    )


class _Paginator:
    def __init__(self, pages: list[list[str]]) -> None:
        self.pages = pages

    def paginate(self, **_: Any) -> Iterator[dict[str, Any]]:
        for page in self.pages:
            yield {"Environments": list(page)}


class FakeMwaa:
    """Environments by name; ``pages`` is what ListEnvironments returns, page by page."""

    def __init__(self, environments: dict[str, dict[str, Any]], pages: list[list[str]] | None = None) -> None:
        self.environments = environments
        self.pages = pages if pages is not None else [list(environments)]
        self.errors: dict[str, ClientError] = {}
        self.described: list[str] = []

    def get_paginator(self, operation: str) -> _Paginator:
        assert operation == "list_environments"
        return _Paginator(self.pages)

    def get_environment(self, *, Name: str) -> dict[str, Any]:
        self.described.append(Name)
        if Name in self.errors:
            raise self.errors[Name]
        if Name not in self.environments:
            raise not_found(Name)
        return {"Environment": {"Name": Name, **self.environments[Name]}}


class FakeAirflow:
    def __init__(self, dags: list[Dag] | None = None, import_errors: list[DagImportError] | None = None) -> None:
        self.dags = dags or []
        self.import_errors = import_errors or []
        self.calls: list[str] = []

    def list_dags(self) -> list[Dag]:
        self.calls.append("list_dags")
        return self.dags

    def list_import_errors(self) -> list[DagImportError]:
        self.calls.append("list_import_errors")
        return self.import_errors
