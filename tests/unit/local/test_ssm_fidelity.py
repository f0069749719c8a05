"""SSM Parameter Store in the local runtime answers as SSM does where the variable propagation relies on it.

Each test pins one behaviour, either moto's own (checked so a moto change cannot slip by) or one
that :mod:`mwaa_cp_local.ssm` adds because moto accepted what SSM refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from mwaa_cp_local.faults import FaultInjector
from tests.unit.local_ssm import local_ssm

REGION = "us-east-1"
NO_RETRIES = Config(retries={"total_max_attempts": 1})


@pytest.fixture
def injector() -> Iterator[FaultInjector]:
    with local_ssm(REGION) as injector:
        yield injector


@pytest.fixture
def ssm(injector: FaultInjector) -> Any:
    return boto3.client("ssm", region_name=REGION, config=NO_RETRIES)


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response


def code_of(call: Any) -> str:
    return str(error_of(call)["Error"]["Code"])


def put(ssm: Any, name: str, value: str = "v", **kwargs: Any) -> dict[str, Any]:
    answer: dict[str, Any] = ssm.put_parameter(Name=name, Value=value, Type=kwargs.pop("Type", "String"), **kwargs)
    return answer


# ------------------------------------------------------------------------------------------ sizes and tiers


def test_a_standard_value_over_4_kb_is_refused(ssm: Any) -> None:
    assert code_of(lambda: put(ssm, "/mwaa-cp/variables/global/big", "x" * 4097)) == "ValidationException"
    assert code_of(lambda: ssm.get_parameter(Name="/mwaa-cp/variables/global/big")) == "ParameterNotFound"


def test_a_standard_value_of_exactly_4_kb_is_accepted(ssm: Any) -> None:
    assert put(ssm, "/mwaa-cp/variables/global/edge", "x" * 4096)["Tier"] == "Standard"


def test_the_limit_counts_bytes_not_characters(ssm: Any) -> None:
    assert code_of(lambda: put(ssm, "/mwaa-cp/variables/global/utf8", "é" * 2049)) == "ValidationException"


def test_an_advanced_value_may_reach_8_kb_but_not_more(ssm: Any) -> None:
    assert put(ssm, "/mwaa-cp/variables/global/adv", "x" * 8192, Tier="Advanced")["Tier"] == "Advanced"
    assert code_of(lambda: put(ssm, "/mwaa-cp/variables/global/adv2", "x" * 8193, Tier="Advanced")) == (
        "ValidationException"
    )


def test_intelligent_tiering_stores_the_tier_it_picks(ssm: Any) -> None:
    small = put(ssm, "/mwaa-cp/variables/global/small", "x", Tier="Intelligent-Tiering")
    large = put(ssm, "/mwaa-cp/variables/global/large", "x" * 5000, Tier="Intelligent-Tiering")

    assert (small["Tier"], large["Tier"]) == ("Standard", "Advanced")


def test_an_advanced_parameter_cannot_be_downgraded_to_standard(ssm: Any) -> None:
    put(ssm, "/mwaa-cp/variables/global/adv", "x" * 5000, Tier="Advanced")

    assert code_of(lambda: put(ssm, "/mwaa-cp/variables/global/adv", "y", Tier="Standard", Overwrite=True)) == (
        "ValidationException"
    )


def test_overwriting_an_advanced_parameter_without_a_tier_keeps_it_advanced(ssm: Any) -> None:
    put(ssm, "/mwaa-cp/variables/global/adv", "x" * 5000, Tier="Advanced")

    assert put(ssm, "/mwaa-cp/variables/global/adv", "y" * 6000, Overwrite=True)["Tier"] == "Advanced"


# ------------------------------------------------------------------------------------------ names


@pytest.mark.parametrize("name", ["/mwaa-cp/variables/global/has space", "/mwaa-cp/variables/global/a$b", "/x/é"])
def test_a_name_with_a_character_ssm_refuses_is_a_validation_error(ssm: Any, name: str) -> None:
    assert code_of(lambda: put(ssm, name)) == "ValidationException"


def test_a_path_name_must_start_with_a_slash(ssm: Any) -> None:
    assert code_of(lambda: put(ssm, "mwaa-cp/variables/x")) == "ValidationException"


@pytest.mark.parametrize("name", ["/ssm/x", "ssm-x", "aws-x"])
def test_names_prefixed_with_aws_or_ssm_are_refused(ssm: Any, name: str) -> None:
    assert code_of(lambda: put(ssm, name)) == "ValidationException"


def test_a_path_under_aws_is_reserved(ssm: Any) -> None:
    assert code_of(lambda: put(ssm, "/aws/x")) == "AccessDeniedException"


def test_fifteen_levels_are_allowed_and_sixteen_are_not(ssm: Any) -> None:
    fifteen = "/" + "/".join(f"l{i}" for i in range(15))
    sixteen = fifteen + "/l15"

    assert put(ssm, fifteen)["Version"] == 1
    assert code_of(lambda: put(ssm, sixteen)) == "HierarchyLevelLimitExceededException"


def test_a_name_longer_than_1011_characters_is_refused(ssm: Any) -> None:
    assert code_of(lambda: put(ssm, "/a/" + "n" * 1009)) == "ValidationException"


# ------------------------------------------------------------------------------------------ types


def test_a_string_cannot_become_a_secure_string_by_overwrite(ssm: Any) -> None:
    put(ssm, "/mwaa-cp/variables/global/api_key", "v")

    response = error_of(lambda: put(ssm, "/mwaa-cp/variables/global/api_key", "v", Type="SecureString", Overwrite=True))

    assert response["Error"]["Code"] == "HierarchyTypeMismatchException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_secure_string_cannot_become_a_string_by_overwrite(ssm: Any) -> None:
    put(ssm, "/mwaa-cp/variables/global/api_key", "v", Type="SecureString")

    assert code_of(lambda: put(ssm, "/mwaa-cp/variables/global/api_key", "v", Overwrite=True)) == (
        "HierarchyTypeMismatchException"
    )


def test_an_overwrite_without_a_type_keeps_the_type(ssm: Any) -> None:
    put(ssm, "/mwaa-cp/variables/global/api_key", "v", Type="SecureString")
    ssm.put_parameter(Name="/mwaa-cp/variables/global/api_key", Value="w", Overwrite=True)

    parameter = ssm.get_parameter(Name="/mwaa-cp/variables/global/api_key", WithDecryption=True)["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", "w")


def test_overwriting_without_overwrite_is_parameter_already_exists(ssm: Any) -> None:
    put(ssm, "/mwaa-cp/variables/global/x")
    assert code_of(lambda: put(ssm, "/mwaa-cp/variables/global/x")) == "ParameterAlreadyExists"


# ------------------------------------------------------------------------------------------ reads


def test_describe_parameters_by_path_returns_description_tier_type_and_key_id(ssm: Any) -> None:
    put(ssm, "/mwaa-cp/variables/global/plain", Description="plain one")
    put(ssm, "/mwaa-cp/variables/env/dev/token", "t", Type="SecureString", KeyId="alias/mwaa-cp")
    put(ssm, "/elsewhere/x")

    found = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": ["/mwaa-cp/variables"]}]
    )["Parameters"]

    by_name = {p["Name"]: p for p in found}
    assert set(by_name) == {"/mwaa-cp/variables/global/plain", "/mwaa-cp/variables/env/dev/token"}
    assert {k: by_name["/mwaa-cp/variables/global/plain"].get(k) for k in ("Description", "Tier", "Type")} == {
        "Description": "plain one",
        "Tier": "Standard",
        "Type": "String",
    }
    assert by_name["/mwaa-cp/variables/env/dev/token"]["KeyId"] == "alias/mwaa-cp"


def test_a_secure_string_without_a_key_uses_the_aws_managed_key(ssm: Any) -> None:
    put(ssm, "/mwaa-cp/variables/global/token", "t", Type="SecureString")

    found = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/mwaa-cp/variables/global/token"]}])

    assert found["Parameters"][0]["KeyId"] == "alias/aws/ssm"


def test_get_parameters_by_path_is_recursive_decrypted_and_paged_by_ten(ssm: Any) -> None:
    for index in range(12):
        put(ssm, f"/mwaa-cp/variables/env/dev/k{index:02}", f"secret-{index}", Type="SecureString")
    put(ssm, "/mwaa-cp/variables/global/g", "plain")

    pages = list(
        ssm.get_paginator("get_parameters_by_path").paginate(
            Path="/mwaa-cp/variables", Recursive=True, WithDecryption=True
        )
    )

    values = {p["Name"]: p["Value"] for page in pages for p in page["Parameters"]}
    assert max(len(page["Parameters"]) for page in pages) == 10
    assert len(values) == 13
    assert values["/mwaa-cp/variables/env/dev/k11"] == "secret-11"
    assert code_of(lambda: ssm.get_parameters_by_path(Path="/mwaa-cp", MaxResults=11)) == "ValidationException"


def test_get_parameters_by_path_without_recursive_stays_on_one_level(ssm: Any) -> None:
    put(ssm, "/mwaa-cp/variables/global/g")
    put(ssm, "/mwaa-cp/variables/global/deeper/d")

    names = [p["Name"] for p in ssm.get_parameters_by_path(Path="/mwaa-cp/variables/global")["Parameters"]]

    assert names == ["/mwaa-cp/variables/global/g"]


def test_a_failed_label_call_leaves_listing_intact(ssm: Any) -> None:
    # moto's defaultdict kept an empty entry for the missing name, and every later listing raised IndexError.
    put(ssm, "/mwaa-cp/variables/global/x")
    assert code_of(lambda: ssm.label_parameter_version(Name="/mwaa-cp/variables/global/missing", Labels=["l"])) == (
        "ParameterNotFound"
    )

    listed = ssm.get_parameters_by_path(Path="/mwaa-cp", Recursive=True)["Parameters"]

    assert [p["Name"] for p in listed] == ["/mwaa-cp/variables/global/x"]
    assert len(ssm.describe_parameters()["Parameters"]) == 1


# ------------------------------------------------------------------------------------------ deletes


def test_delete_parameters_reports_deleted_and_invalid_names(ssm: Any) -> None:
    put(ssm, "/mwaa-cp/variables/global/a")

    answer = ssm.delete_parameters(Names=["/mwaa-cp/variables/global/a", "/mwaa-cp/variables/global/never"])

    assert answer["DeletedParameters"] == ["/mwaa-cp/variables/global/a"]
    assert answer["InvalidParameters"] == ["/mwaa-cp/variables/global/never"]


def test_delete_parameters_takes_at_most_ten_names(ssm: Any) -> None:
    names = [f"/mwaa-cp/variables/global/k{i}" for i in range(11)]
    for name in names:
        put(ssm, name)

    assert code_of(lambda: ssm.delete_parameters(Names=names)) == "ValidationException"
    assert ssm.delete_parameters(Names=names[:10])["DeletedParameters"] == names[:10]


# ------------------------------------------------------------------------------------------ throttling


@pytest.mark.parametrize("operation", ["PutParameter", "GetParametersByPath", "DeleteParameters"])
def test_throttling_arrives_as_botocore_raises_it_for_exactly_n_calls(
    injector: FaultInjector, ssm: Any, operation: str
) -> None:
    put(ssm, "/mwaa-cp/variables/global/x")
    calls = {
        "PutParameter": lambda: put(ssm, "/mwaa-cp/variables/global/y"),
        "GetParametersByPath": lambda: ssm.get_parameters_by_path(Path="/mwaa-cp", Recursive=True),
        "DeleteParameters": lambda: ssm.delete_parameters(Names=["/mwaa-cp/variables/global/x"]),
    }
    fault = injector.inject("ssm", operation, times=5)

    responses = [error_of(calls[operation]) for _ in range(5)]
    calls[operation]()

    assert {(r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) for r in responses} == {
        ("ThrottlingException", 400)
    }
    assert fault.injected == 5


def test_a_throttled_put_writes_nothing(injector: FaultInjector, ssm: Any) -> None:
    injector.inject("ssm", "PutParameter", times=1)

    error_of(lambda: put(ssm, "/mwaa-cp/variables/global/y"))

    assert code_of(lambda: ssm.get_parameter(Name="/mwaa-cp/variables/global/y")) == "ParameterNotFound"
