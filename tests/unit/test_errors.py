"""translate_client_error: the one adapter from AWS error codes to the classes the state machines retry or catch."""

from __future__ import annotations

import pytest

from mwaa_control_plane.errors import (
    AccessDeniedError,
    AwsRequestError,
    ConfigurationError,
    NotFoundError,
    RetryableError,
    ServiceUnavailableError,
    ThrottledError,
    translate_client_error,
)
from tests.unit.aws import client_error


@pytest.mark.parametrize(
    "code",
    ["ThrottlingException", "ProvisionedThroughputExceededException", "TooManyRequestsException", "SlowDown"],
)
def test_a_throttling_code_becomes_a_retryable_throttled_error(code: str) -> None:
    error = translate_client_error(client_error(code))

    assert isinstance(error, ThrottledError)
    assert isinstance(error, RetryableError)


@pytest.mark.parametrize("code", ["InternalServerException", "ServiceUnavailable", "RequestTimeout"])
def test_an_unavailable_code_becomes_service_unavailable(code: str) -> None:
    assert isinstance(translate_client_error(client_error(code, status=400)), ServiceUnavailableError)


def test_any_5xx_answer_becomes_service_unavailable_whatever_its_code() -> None:
    assert isinstance(translate_client_error(client_error("SomethingNew", status=502)), ServiceUnavailableError)


def test_a_5xx_answer_without_a_code_names_the_http_status() -> None:
    error = translate_client_error(client_error("", status=503, operation="HeadObject"))

    assert str(error) == "HeadObject: 503"


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404"])
def test_a_missing_resource_key_or_version_becomes_not_found(code: str) -> None:
    assert isinstance(translate_client_error(client_error(code, status=404)), NotFoundError)


def test_not_found_carries_aws_message() -> None:
    error = translate_client_error(client_error("ResourceNotFoundException", "Environment dev not found"))

    assert "Environment dev not found" in str(error)


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"])
def test_access_denied_becomes_a_configuration_error_pointing_at_the_role(code: str) -> None:
    error = translate_client_error(client_error(code, "not authorized to perform airflow:UpdateEnvironment"))

    assert isinstance(error, AccessDeniedError)
    assert isinstance(error, ConfigurationError)
    assert "IAM role" in str(error)


def test_access_denied_is_not_retryable() -> None:
    assert not isinstance(translate_client_error(client_error("AccessDenied")), RetryableError)


def test_any_other_code_becomes_aws_request_error_carrying_the_code() -> None:
    error = translate_client_error(client_error("ValidationException", "MaxWorkers must be at least MinWorkers"))

    assert type(error) is AwsRequestError
    assert error.code == "ValidationException"
    assert "MaxWorkers must be at least MinWorkers" in str(error)


def test_the_message_names_the_operation_given() -> None:
    error = translate_client_error(client_error("ThrottlingException"), operation="DynamoDB PutItem")

    assert str(error).startswith("DynamoDB PutItem: ")


def test_without_an_operation_the_message_names_the_api_call() -> None:
    error = translate_client_error(client_error("ThrottlingException", operation="UpdateEnvironment"))

    assert str(error).startswith("UpdateEnvironment: ")
