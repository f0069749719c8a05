"""Names SSM and Airflow accept, sensitive keys, sizes, the source tree's layout and the variables file."""

from __future__ import annotations

import pytest

from mwaa_control_plane.errors import InvalidInputError
from mwaa_control_plane.variables.files import parse_variables_file
from mwaa_control_plane.variables.names import (
    fingerprint,
    is_sensitive,
    key_problem,
    name_problem,
    sensitive_names,
    tier_for,
)
from mwaa_control_plane.variables.source import (
    SourceNameError,
    SourceProblem,
    SourceRef,
    SourceTree,
    SourceValue,
    connection_problem,
    parse_source_name,
)


@pytest.mark.parametrize("key", ["data_bucket", "a.b-c_1", "X" * 250])
def test_keys_airflow_and_ssm_both_accept(key: str) -> None:
    assert key_problem(key, kind="variables") is None


@pytest.mark.parametrize(
    ("key", "why"),
    [("", "empty"), ("a b", "characters"), ("ü", "characters"), ("a/b", "characters"), ("X" * 251, "250")],
)
def test_keys_refused_say_why(key: str, why: str) -> None:
    problem = key_problem(key, kind="connections")
    assert problem is not None and why in problem


def test_parameter_names_ssm_refuses() -> None:
    assert name_problem("/airflow/variables/x") is None
    assert "aws or ssm" in (name_problem("/aws/x") or "")
    assert "levels" in (name_problem("/" + "/".join("a" * 16)) or "")
    assert "1011" in (name_problem("/a/" + "b" * 1000) or "")


def test_sensitive_names_are_a_lowercase_substring_match_plus_the_environments_own() -> None:
    assert is_sensitive("PARTNER_API_KEY")
    assert is_sensitive("db_password_old")
    assert not is_sensitive("data_bucket")
    names = sensitive_names({"core.sensitive_var_conn_names": "proxy, Cookie"})
    assert is_sensitive("session_cookie", names)
    assert not is_sensitive("session_cookie")


def test_the_tier_is_advanced_only_when_the_value_needs_it() -> None:
    assert tier_for("x" * 4096) == "Standard"
    assert tier_for("é" * 2049) == "Advanced"  # bytes, not characters
    assert tier_for("x" * 8193) is None


def test_a_fingerprint_never_contains_the_value() -> None:
    shown = fingerprint("hunter2")
    assert "hunter2" not in shown and shown.endswith("(7 chars)")


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        ("/mwaa-cp/variables/global/x", SourceRef("variables", None, "x")),
        ("/mwaa-cp/connections/env/dev-1/warehouse", SourceRef("connections", "dev-1", "warehouse")),
    ],
)
def test_source_names_follow_the_layout(name: str, ref: SourceRef) -> None:
    assert parse_source_name(name) == ref


@pytest.mark.parametrize(
    "name",
    [
        "/mwaa-cp/variables/x",
        "/mwaa-cp/pools/global/x",
        "/mwaa-cp/variables/env/dev",
        "/mwaa-cp/variables/global/a/b",
        "/mwaa-cp/variables/env/1bad/x",  # not an MWAA environment name
    ],
)
def test_source_names_outside_the_layout_are_refused(name: str) -> None:
    with pytest.raises(SourceNameError):
        parse_source_name(name)


def test_an_environment_value_overrides_the_global_one() -> None:
    def value(environment: str | None, text: str) -> SourceValue:
        return SourceValue(SourceRef("variables", environment, "k"), f"/{environment}", text, secure=False)

    tree = SourceTree(values=[value("dev", "dev"), value(None, "global"), value("prod", "prod")])
    assert tree.desired("variables", "dev")["k"].value == "dev"
    assert tree.desired("variables", "staging")["k"].value == "global"
    assert tree.desired("connections", "dev") == {}


def test_a_broken_override_blocks_its_key_instead_of_falling_back_to_the_global_value() -> None:
    name = "/mwaa-cp/connections/global/k"
    good_global = SourceValue(SourceRef("connections", None, "k"), name, "x://g", secure=True)
    broken_dev = SourceProblem("/mwaa-cp/connections/env/dev/k", "not a URI", "connections", "k", environment="dev")
    tree = SourceTree(values=[good_global], problems=[broken_dev])

    assert tree.desired("connections", "dev") == {}
    assert tree.blocked("connections", "dev") == {"k"}
    assert tree.desired("connections", "staging")["k"].value == "x://g"
    assert tree.blocked("connections", "staging") == set()


def test_a_broken_global_value_blocks_only_environments_without_their_own() -> None:
    broken = SourceProblem("/mwaa-cp/variables/global/k", "too large", "variables", "k")
    own = SourceValue(SourceRef("variables", "dev", "k"), "/mwaa-cp/variables/env/dev/k", "mine", secure=False)
    tree = SourceTree(values=[own], problems=[broken])

    assert tree.desired("variables", "dev")["k"].value == "mine"
    assert tree.blocked("variables", "staging") == {"k"}


def test_a_source_value_never_shows_in_its_repr() -> None:
    assert "hunter2" not in repr(SourceValue(SourceRef("variables", None, "k"), "/n", "hunter2", secure=True))


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("postgresql://u:p@h:5432/db", True),
        ('{"conn_type": "http", "host": "h"}', True),
        ('{"host": "h"}', False),
        ("{not json", False),
        ("just-a-host", False),
        ("aws://", True),
        ("postgresql://etl:p%2Fw%23@h:5432/db", True),
        ("postgresql://etl:ab/cd#1@h:5432/db", False),  # "/" in the password: Airflow reads port "ab"
        ("postgresql://u:p@h:99999/db", False),
    ],
)
def test_connections_are_uris_or_json_with_a_conn_type(value: str, ok: bool) -> None:
    assert (connection_problem(value) is None) is ok


def test_a_variables_file_yields_entries_and_per_key_problems() -> None:
    body = b"""
variables:
  global:
    a: "1"
    n: 2
    j: {value: {x: 1}, secret: true}
    "bad key": x
  env:
    dev: {a: dev}
connections:
  global:
    c: {conn_type: http, host: h}
"""
    entries, problems = parse_variables_file("variables/f.yaml", body)
    found = {(e.name, value, e.secret) for e, value in entries}
    assert found == {
        ("/mwaa-cp/variables/global/a", "1", False),
        ("/mwaa-cp/variables/global/n", "2", False),
        ("/mwaa-cp/variables/global/j", '{"x":1}', True),
        ("/mwaa-cp/variables/env/dev/a", "dev", False),
        ("/mwaa-cp/connections/global/c", '{"conn_type":"http","host":"h"}', True),
    }
    assert len(problems) == 1 and "bad key" in problems[0]


@pytest.mark.parametrize(
    ("key", "body", "why"),
    [
        ("variables/f.json", b"{", "not valid JSON"),
        ("variables/f.yaml", b"- a\n- b\n", "mapping"),
        ("variables/f.yaml", b"pools: {}\n", "unknown top-level"),
        ("variables/f.yaml", b"variables: {global: [1]}\n", "must map"),
        ("variables/f.yaml", b"variables: {env: {'9bad': {}}}\n", "environment name"),
        ("variables/f.yaml", b"\xff\xfe", "UTF-8"),
    ],
)
def test_a_malformed_variables_file_is_refused_as_a_whole(key: str, body: bytes, why: str) -> None:
    with pytest.raises(InvalidInputError, match=why):
        parse_variables_file(key, body)
