"""Variables files: a value is the text the file wrote, and importing never downgrades a secret.

The import runs against moto with the local runtime's Parameter Store checks (``install_ssm``), so
SSM refuses a String <-> SecureString overwrite here as it does in AWS (moto alone accepts it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from mwaa_control_plane.clock import ManualClock
from mwaa_control_plane.variables.files import ImportResult, import_entries, parse_variables_file
from mwaa_control_plane.variables.targets import Pacer
from mwaa_cp_local.faults import FaultInjector
from tests.unit.local_ssm import local_ssm

REGION = "us-east-1"
GLOBAL = "/mwaa-cp/variables/global"


@pytest.fixture
def injector() -> Iterator[FaultInjector]:
    with local_ssm(REGION) as injector:
        yield injector


@pytest.fixture
def ssm(injector: FaultInjector) -> Any:
    return boto3.client("ssm", region_name=REGION, config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture
def kms_key(ssm: Any) -> str:
    key_id: str = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]
    return key_id


def values_of(key: str, body: str) -> dict[str, str]:
    entries, problems = parse_variables_file(key, body.encode())
    assert problems == []
    return {entry.key: value for entry, value in entries}


def import_file(
    ssm: Any, clock: ManualClock, body: str, *, key: str = "variables/f.yaml", kms: str = ""
) -> ImportResult:
    entries, problems = parse_variables_file(key, body.encode())
    pacer = Pacer(clock, rate_per_second=100)
    result = import_entries(ssm, pacer, entries, kms_key_id=kms or "alias/aws/ssm", file=key)
    return result.model_copy(update={"problems": [*problems, *result.problems]})


def stored(ssm: Any, name: str) -> dict[str, Any]:
    parameter: dict[str, Any] = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    return parameter


def key_id_of(ssm: Any, name: str) -> str | None:
    found = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])
    key_id: str | None = found["Parameters"][0].get("KeyId")
    return key_id


# ------------------------------------------------------------------------------------------ YAML values are text


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("yes", "yes"),
        ("No", "No"),
        ("on", "on"),
        ("true", "true"),
        ("1.10", "1.10"),
        ("01234", "01234"),
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("12:30", "12:30"),
        ("1e3", "1e3"),
        (".inf", ".inf"),
        ("2024-01-01", "2024-01-01"),
        ("2024-01-01 10:00:00", "2024-01-01 10:00:00"),
        ("2024-13-45", "2024-13-45"),
        ('"1.10"', "1.10"),
        ("'yes'", "yes"),
        ("!!str 1.10", "1.10"),
    ],
)
def test_a_yaml_scalar_value_is_the_text_the_file_wrote(written: str, value: str) -> None:
    assert values_of("variables/f.yaml", f"variables:\n  global:\n    v: {written}\n") == {"v": value}


def test_the_value_of_an_object_entry_is_the_text_written_too() -> None:
    body = "variables:\n  global:\n    app_version: {value: 1.10}\n    start_date: {value: 2024-01-01, secret: false}\n"

    assert values_of("variables/f.yaml", body) == {"app_version": "1.10", "start_date": "2024-01-01"}


@pytest.mark.parametrize("written", ["", "~", "null"])
def test_an_empty_or_null_yaml_value_is_no_value(written: str) -> None:
    entries, problems = parse_variables_file("variables/f.yaml", f"variables:\n  global:\n    v: {written}\n".encode())

    assert entries == []
    assert problems == ["variables.global.v: no value"]


def test_a_key_yaml_would_type_keeps_its_text() -> None:
    assert values_of("variables/f.yaml", "variables:\n  global:\n    yes: a\n    1.10: b\n") == {
        "yes": "a",
        "1.10": "b",
    }


def test_empty_sections_and_scopes_are_still_nothing_to_import() -> None:
    assert values_of("variables/f.yaml", "variables:\n  global:\n  env:\n    dev-analytics:\nconnections:\n") == {}


# ------------------------------------------------------------------------------------------ the secret marker


@pytest.mark.parametrize(("marker", "secret"), [("true", True), ("True", True), ("false", False), ("no", False)])
def test_the_secret_marker_is_a_yaml_boolean(marker: str, secret: bool) -> None:
    body = f"variables:\n  global:\n    flag: {{value: yes, secret: {marker}}}\n"

    entries, problems = parse_variables_file("variables/f.yaml", body.encode())

    assert problems == []
    assert [(entry.secret, value) for entry, value in entries] == [(secret, "yes")]


@pytest.mark.parametrize("marker", ['"false"', "1", "[true]"])
def test_a_secret_marker_that_is_not_a_boolean_is_a_per_key_problem(marker: str) -> None:
    body = f"variables:\n  global:\n    flag: {{value: x, secret: {marker}}}\n    other: y\n"

    entries, problems = parse_variables_file("variables/f.yaml", body.encode())

    assert [entry.key for entry, _ in entries] == ["other"]
    assert problems == ["variables.global.flag: secret is true or false"]


# ------------------------------------------------------------------------------------------ object and list values


def test_object_and_list_values_are_still_stored_as_their_json_text() -> None:
    body = """
variables:
  global:
    retry_policy: {value: {max: 3, backoff: 1.5, jitter: true, none: null}}
    regions: [eu-west-1, 2]
connections:
  global:
    warehouse: {conn_type: postgres, host: h, port: 5432}
"""
    assert values_of("variables/f.yaml", body) == {
        "retry_policy": '{"max":3,"backoff":1.5,"jitter":true,"none":null}',
        "regions": '["eu-west-1",2]',
        "warehouse": '{"conn_type":"postgres","host":"h","port":5432}',
    }


def test_a_date_inside_an_object_value_is_its_text_and_keys_are_as_written() -> None:
    body = "variables:\n  global:\n    window: {value: {start: 2024-01-01, on: 1, 1.10: x}}\n"

    assert values_of("variables/f.yaml", body) == {"window": '{"start":"2024-01-01","on":1,"1.10":"x"}'}


# ------------------------------------------------------------------------------------------ JSON files


def test_a_json_file_keeps_json_semantics_and_the_numbers_written() -> None:
    body = '{"variables": {"global": {"n": 2, "f": 1.10, "b": true, "s": "yes", "o": {"value": {"x": 1.50}}}}}'

    assert values_of("variables/f.json", body) == {"n": "2", "f": "1.10", "b": "true", "s": "yes", "o": '{"x":1.5}'}


def test_a_json_secret_marker_is_a_json_boolean() -> None:
    body = '{"variables": {"global": {"a": {"value": "x", "secret": true}, "b": {"value": "y", "secret": "true"}}}}'

    entries, problems = parse_variables_file("variables/f.json", body.encode())

    assert [(entry.key, entry.secret) for entry, _ in entries] == [("a", True)]
    assert problems == ["variables.global.b: secret is true or false"]


# ------------------------------------------------------------------------------------------ nothing crashes the file


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("!!binary aGVsbG8=", "no text or JSON form"),
        ("!!set {a, b}", "no text or JSON form"),
        ("{value: [.nan]}", "no text or JSON form"),
        ("{value: [.inf]}", "no text or JSON form"),
    ],
)
def test_a_value_with_no_text_form_is_a_per_key_problem_and_the_rest_imports(written: str, why: str) -> None:
    body = f"variables:\n  global:\n    odd: {written}\n    data_bucket: analytics-data\n"

    entries, problems = parse_variables_file("variables/f.yaml", body.encode())

    assert [(entry.key, value) for entry, value in entries] == [("data_bucket", "analytics-data")]
    assert len(problems) == 1 and problems[0].startswith("variables.global.odd:") and why in problems[0]


def test_aliases_that_multiply_a_value_are_refused_by_size_without_expanding_it() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]"
        for previous, name in zip("abcdefg", "bcdefgh", strict=True)
    ]
    body = "variables:\n  global:\n" + "".join(f"    {line}\n" for line in lines) + "    ok: fine\n"

    entries, problems = parse_variables_file("variables/f.yaml", body.encode())

    assert {entry.key for entry, _ in entries} == {"a", "b", "c", "ok"}
    assert all("over 8192 bytes" in problem for problem in problems) and len(problems) == 5


def test_a_value_nested_too_deeply_is_a_per_key_problem() -> None:
    body = "variables: {global: {deep: {value: " + "[" * 100 + "]" * 100 + "}, ok: fine}}\n"

    entries, problems = parse_variables_file("variables/f.yaml", body.encode())

    assert [entry.key for entry, _ in entries] == ["ok"]
    assert problems == ["variables.global.deep: value is nested more than 64 levels deep"]


def test_the_bug_report_file_imports_every_key_as_written(ssm: Any, clock: ManualClock) -> None:
    body = """
variables:
  global:
    feature_enabled: yes
    app_version: 1.10
    zip_code: 01234
    start_date: 2024-01-01
"""
    result = import_file(ssm, clock, body)

    assert (result.written, result.problems) == (4, [])
    assert {name: stored(ssm, f"{GLOBAL}/{name}")["Value"] for name in ("feature_enabled", "app_version")} == {
        "feature_enabled": "yes",
        "app_version": "1.10",
    }
    assert stored(ssm, f"{GLOBAL}/zip_code")["Value"] == "01234"
    assert stored(ssm, f"{GLOBAL}/start_date")["Value"] == "2024-01-01"


# ------------------------------------------------------------------------------------------ secrets stay secrets


def test_a_file_never_downgrades_an_existing_secure_string(ssm: Any, clock: ManualClock, kms_key: str) -> None:
    ssm.put_parameter(Name=f"{GLOBAL}/partner_key_v2", Value="old", Type="SecureString", KeyId=kms_key)

    result = import_file(ssm, clock, "variables:\n  global:\n    partner_key_v2: new\n", kms=kms_key)

    assert (result.written, result.problems) == (1, [])
    parameter = stored(ssm, f"{GLOBAL}/partner_key_v2")
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", "new")
    assert key_id_of(ssm, f"{GLOBAL}/partner_key_v2") == kms_key
    assert result.calls == {"GetParameters": 1, "PutParameter": 1}


def test_an_unchanged_secure_string_is_left_alone_without_a_write(ssm: Any, clock: ManualClock) -> None:
    ssm.put_parameter(Name=f"{GLOBAL}/partner_key_v2", Value="same", Type="SecureString")

    result = import_file(ssm, clock, "variables:\n  global:\n    partner_key_v2: same\n")

    assert (result.written, result.unchanged, result.problems) == (0, 1, [])
    assert result.calls == {"GetParameters": 1}


def test_existing_types_come_from_the_batched_reads_only(ssm: Any, clock: ManualClock) -> None:
    for index in range(12):
        ssm.put_parameter(Name=f"{GLOBAL}/key_{index}", Value="old", Type="SecureString")
    body = "variables:\n  global:\n" + "".join(f"    key_{index}: new\n" for index in range(12))

    result = import_file(ssm, clock, body)

    assert (result.written, result.problems) == (12, [])
    assert result.calls == {"GetParameters": 2, "PutParameter": 12}
    assert {stored(ssm, f"{GLOBAL}/key_{index}")["Type"] for index in range(12)} == {"SecureString"}


def test_a_refused_write_is_a_per_key_problem_and_the_rest_is_written(ssm: Any, clock: ManualClock) -> None:
    # SSM does not turn a String into a SecureString in place: that key is reported, not silently skipped.
    ssm.put_parameter(Name=f"{GLOBAL}/plain", Value="old", Type="String")
    body = "variables:\n  global:\n    plain: {value: new, secret: true}\n    data_bucket: analytics-data\n"

    result = import_file(ssm, clock, body)

    assert result.written == 1
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"{GLOBAL}/plain: HierarchyTypeMismatchException")
    assert stored(ssm, f"{GLOBAL}/plain")["Value"] == "old"
    assert stored(ssm, f"{GLOBAL}/data_bucket")["Value"] == "analytics-data"


def test_a_key_that_stays_throttled_is_a_per_key_problem(ssm: Any, clock: ManualClock, injector: FaultInjector) -> None:
    injector.inject("ssm", "PutParameter", times=8)

    result = import_file(ssm, clock, "variables:\n  global:\n    first: a\n    second: b\n")

    assert result.written == 1
    assert len(result.problems) == 1 and "throttled, not written this run" in result.problems[0]
    assert stored(ssm, f"{GLOBAL}/second")["Value"] == "b"
