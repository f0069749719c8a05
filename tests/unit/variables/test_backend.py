"""An environment's SSM secrets backend from its configuration options, and the repair."""

from __future__ import annotations

import json

from mwaa_control_plane.variables.backend import (
    DEFAULT_CONNECTIONS_LOOKUP_PATTERN,
    SSM_BACKEND,
    backend_fix,
    inspect_backend,
)


def options(kwargs: object, **more: str) -> dict[str, str]:
    return {"secrets.backend": SSM_BACKEND, "secrets.backend_kwargs": json.dumps(kwargs), **more}


def codes(found: dict[str, str], version: str = "2.10.3") -> list[str]:
    return [p.code for p in inspect_backend(found, version).problems]


def test_no_backend_is_not_configured_and_not_a_problem() -> None:
    backend = inspect_backend({}, "2.10.3")
    assert not backend.configured
    assert backend.problems == []


def test_kwargs_without_the_backend_are_reported() -> None:
    assert codes({"secrets.backend_kwargs": "{}"}) == ["kwargs-without-backend"]


def test_the_backend_alone_uses_its_default_prefixes_and_mwaas_pattern() -> None:
    backend = inspect_backend({"secrets.backend": SSM_BACKEND}, "2.10.3")
    assert (backend.variables_prefix, backend.connections_prefix) == ("/airflow/variables", "/airflow/connections")
    assert backend.problems == []


def test_prefixes_get_a_leading_slash_and_lose_a_trailing_one() -> None:
    backend = inspect_backend(
        options({"variables_prefix": "airflow/dev/variables/", "connections_lookup_pattern": "x"}), "2.10.3"
    )
    assert backend.variables_prefix == "/airflow/dev/variables"
    assert backend.parameter_name("variables", "k") == "/airflow/dev/variables/k"


def test_a_null_prefix_turns_the_lookup_off() -> None:
    backend = inspect_backend(options({"variables_prefix": None, "connections_lookup_pattern": "x"}), "2.10.3")
    assert backend.variables_prefix is None
    assert backend.hides("variables", "anything")
    assert [p.code for p in backend.problems] == ["variables-lookup-off"]


def test_own_kwargs_without_a_connections_pattern_lose_mwaas_default() -> None:
    assert codes(options({"variables_prefix": "/a"})) == ["default-connections-pattern-lost"]


def test_kwargs_that_are_not_json_are_reported_with_where() -> None:
    found = inspect_backend({"secrets.backend": SSM_BACKEND, "secrets.backend_kwargs": "{'a': 1}"}, "2.10.3")
    assert [p.code for p in found.problems] == ["kwargs-not-json"]
    assert "character" in found.problems[0].message


def test_misspelt_kwargs_are_named() -> None:
    found = codes(options({"variable_prefix": "/a", "connections_lookup_pattern": "x"}))
    assert found == ["kwargs-unknown"]


def test_a_lookup_pattern_hides_keys_it_does_not_match_case_insensitively() -> None:
    backend = inspect_backend(
        options(
            {"variables_lookup_pattern": "^etl_", "connections_lookup_pattern": DEFAULT_CONNECTIONS_LOOKUP_PATTERN}
        ),
        "2.10.3",
    )
    assert not backend.hides("variables", "ETL_bucket")
    assert backend.hides("variables", "data_bucket")
    assert backend.hides("connections", "aws_default")
    assert not backend.hides("connections", "warehouse")


def test_an_invalid_pattern_is_reported() -> None:
    assert "variables-pattern-invalid" in codes(
        options({"variables_lookup_pattern": "(", "connections_lookup_pattern": "x"})
    )


def test_airflow_3_needs_the_same_worker_kwargs() -> None:
    kwargs = {"variables_prefix": "/a", "connections_lookup_pattern": "x"}
    assert codes(options(kwargs), "3.0.6") == ["worker-kwargs-missing"]
    assert codes(
        options(kwargs, **{"workers.secrets_backend_kwargs": json.dumps({"variables_prefix": "/b"})}), "3.0.6"
    ) == ["worker-kwargs-differ"]
    assert codes(options(kwargs, **{"workers.secrets_backend_kwargs": json.dumps(kwargs)}), "3.0.6") == []
    assert codes(options(kwargs), "2.10.3") == []


def test_the_fix_keeps_prefixes_restores_the_pattern_and_copies_kwargs_to_workers() -> None:
    found = options({"variables_prefix": "/airflow/dev/variables", "variables_lookup_pattern": "("})
    fix = backend_fix(found, "3.0.6")
    kwargs = json.loads(fix["secrets.backend_kwargs"])
    assert kwargs == {
        "variables_prefix": "/airflow/dev/variables",
        "connections_prefix": "/airflow/connections",
        "connections_lookup_pattern": DEFAULT_CONNECTIONS_LOOKUP_PATTERN,
    }
    assert fix["workers.secrets_backend_kwargs"] == fix["secrets.backend_kwargs"]
    assert "secrets.backend" not in fix  # already right: only what changes
    assert inspect_backend({**found, **fix}, "3.0.6").problems == []
    assert backend_fix({**found, **fix}, "3.0.6") == {}


def test_the_fix_of_an_environment_without_a_backend_sets_it() -> None:
    fix = backend_fix({}, "2.10.3")
    assert fix["secrets.backend"] == SSM_BACKEND
    assert inspect_backend(fix, "2.10.3").problems == []
