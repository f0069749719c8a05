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


def test_an_empty_prefix_is_not_off_airflow_reads_the_root_and_the_repair_sets_the_default() -> None:
    found = options({"variables_prefix": "", "connections_lookup_pattern": "^(?!aws_default$).*"})

    backend = inspect_backend(found, "2.10.3")

    assert [p.code for p in backend.problems] == ["variables-prefix-empty"]
    assert "root of Parameter Store" in backend.problems[0].message
    assert backend.variables_prefix is None  # nothing is written to /<key>
    fixed = json.loads(backend_fix(found, "2.10.3")["secrets.backend_kwargs"])
    assert fixed["variables_prefix"] == "/airflow/variables"


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


def test_a_misspelt_kwarg_is_named_with_the_key_it_seems_to_mean() -> None:
    found = inspect_backend(options({"variable_prefix": "/a", "connections_lookup_pattern": "x"}), "2.10.3")
    assert "variable_prefix (did you mean variables_prefix?)" in found.problems[0].message


def test_kwargs_the_aws_connection_reads_are_not_reported() -> None:
    kwargs = {
        "connections_lookup_pattern": "x",
        "region_name": "eu-west-1",
        "profile_name": "default",
        "role_arn": "arn:aws:iam::123456789012:role/airflow-secrets",
        "assume_role_kwargs": {"ExternalId": "abc"},
        "endpoint_url": "https://ssm.eu-west-1.amazonaws.com",
        "config_kwargs": {"retries": {"max_attempts": 5}},
        "api_version": "2014-11-06",
        "use_ssl": True,
    }
    assert codes(options(kwargs)) == []


def test_another_backend_is_reported_by_its_class_and_is_not_ssm() -> None:
    other = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
    found = inspect_backend(
        {"secrets.backend": other, "secrets.backend_kwargs": json.dumps({"variables_prefix": "airflow/variables"})},
        "2.10.3",
    )
    assert not found.configured
    assert found.backend == other
    assert [p.code for p in found.problems] == ["other-backend"]
    assert other in found.problems[0].message
    assert "never replaces" in found.problems[0].fix


def test_another_backend_without_kwargs_is_reported_too() -> None:
    assert codes({"secrets.backend": "my_company.secrets.VaultBackend"}) == ["other-backend"]


def test_a_blank_backend_counts_as_no_backend() -> None:
    assert codes({"secrets.backend": "  ", "secrets.backend_kwargs": "{}"}) == ["kwargs-without-backend"]


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


def test_the_fix_keeps_the_kwargs_that_go_to_the_aws_connection() -> None:
    user = {"variables_prefix": "/airflow/dev/variables", "region_name": "eu-west-1", "role_arn": "arn:r"}
    found = options({**user, "variables_lookup_pattern": "("})
    fix = backend_fix(found, "3.0.6")
    assert json.loads(fix["secrets.backend_kwargs"]) == {
        **user,
        "connections_prefix": "/airflow/connections",
        "connections_lookup_pattern": DEFAULT_CONNECTIONS_LOOKUP_PATTERN,
    }
    assert fix["workers.secrets_backend_kwargs"] == fix["secrets.backend_kwargs"]
    assert inspect_backend({**found, **fix}, "3.0.6").problems == []


def test_the_fix_keeps_a_misspelt_key_which_stays_reported() -> None:
    found = options({"variable_prefix": "/airflow/dev/variables", "surprise": 1})
    fix = backend_fix(found, "2.10.3")
    assert json.loads(fix["secrets.backend_kwargs"]) == {
        "variable_prefix": "/airflow/dev/variables",
        "surprise": 1,
        "connections_prefix": "/airflow/connections",
        "connections_lookup_pattern": DEFAULT_CONNECTIONS_LOOKUP_PATTERN,
    }  # no variables_prefix written against the misspelt one: the default stays in effect, as before
    assert codes({**found, **fix}) == ["kwargs-unknown"]
    assert backend_fix({**found, **fix}, "2.10.3") == {}


def test_unknown_kwargs_alone_ask_for_no_environment_update() -> None:
    assert backend_fix(options({"variable_prefix": "/a", "connections_lookup_pattern": "x"}), "2.10.3") == {}


def test_the_fix_does_not_rewrite_kwargs_that_only_differ_in_formatting() -> None:
    kwargs = {"variables_prefix": "/a", "connections_prefix": "/c", "connections_lookup_pattern": "x", "use_ssl": 1}
    found = {"secrets.backend": SSM_BACKEND, "secrets.backend_kwargs": json.dumps(kwargs, indent=2)}
    fix = backend_fix(found, "3.0.6")
    assert list(fix) == ["workers.secrets_backend_kwargs"]
    assert json.loads(fix["workers.secrets_backend_kwargs"]) == kwargs


def test_the_fix_keeps_an_explicit_null_connections_pattern() -> None:
    found = options({"variables_prefix": None, "connections_lookup_pattern": None})
    fix = backend_fix(found, "2.10.3")
    assert json.loads(fix["secrets.backend_kwargs"]) == {
        "variables_prefix": "/airflow/variables",
        "connections_lookup_pattern": None,
        "connections_prefix": "/airflow/connections",
    }


def test_the_fix_of_kwargs_without_a_backend_sets_it_and_keeps_the_kwargs() -> None:
    user = {"variables_prefix": "/airflow/dev/variables", "connections_lookup_pattern": "x", "region_name": "eu-west-1"}
    found = {"secrets.backend_kwargs": json.dumps(user)}
    fix = backend_fix(found, "2.10.3")
    assert fix["secrets.backend"] == SSM_BACKEND
    assert json.loads(fix["secrets.backend_kwargs"]) == {**user, "connections_prefix": "/airflow/connections"}


def test_on_airflow_3_the_fix_starts_from_the_worker_kwargs_when_they_alone_are_set() -> None:
    workers = {"variables_prefix": "/airflow/dev/variables", "connections_lookup_pattern": "x", "region_name": "r"}
    found = {"secrets.backend": SSM_BACKEND, "workers.secrets_backend_kwargs": json.dumps(workers)}
    fix = backend_fix(found, "3.0.6")
    assert json.loads(fix["secrets.backend_kwargs"]) == {**workers, "connections_prefix": "/airflow/connections"}
    assert fix["workers.secrets_backend_kwargs"] == fix["secrets.backend_kwargs"]


def test_the_fix_never_replaces_another_backend() -> None:
    other = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
    with_kwargs = {"secrets.backend": other, "secrets.backend_kwargs": json.dumps({"variables_prefix": "v"})}
    assert backend_fix(with_kwargs, "2.10.3") == {}
    assert backend_fix({"secrets.backend": other}, "3.0.6") == {}
