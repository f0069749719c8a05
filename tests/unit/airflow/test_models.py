from __future__ import annotations

import pytest

from mwaa_control_plane.airflow import Variable, interface_for, parse_airflow_version
from mwaa_control_plane.errors import UnsupportedAirflowVersionError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.4.3", (2, 4, 3)),
        ("2.10.3", (2, 10, 3)),
        ("3.0.6", (3, 0, 6)),
        ("2.11", (2, 11, 0)),
        ("3.1.0rc1", (3, 1, 0)),
        ("2.9.2+amzn.1", (2, 9, 2)),
        (" 2.2.2 ", (2, 2, 2)),
    ],
)
def test_airflow_versions_parse_into_comparable_int_tuples(text: str, expected: tuple[int, int, int]) -> None:
    assert parse_airflow_version(text) == expected


def test_versions_compare_numerically_not_as_text() -> None:
    assert parse_airflow_version("2.10.1") > parse_airflow_version("2.4.3")


def test_a_version_without_digits_is_unsupported() -> None:
    with pytest.raises(UnsupportedAirflowVersionError, match="latest"):
        parse_airflow_version("latest")


@pytest.mark.parametrize(
    ("version", "interface"),
    [
        ((2, 0, 2), "cli"),
        ((2, 4, 2), "cli"),
        ((2, 4, 3), "rest-v1"),
        ((2, 11, 0), "rest-v1"),
        ((3, 0, 6), "rest-v2"),
        ((3, 3, 1), "rest-v2"),
    ],
)
def test_the_airflow_version_decides_the_interface(version: tuple[int, int, int], interface: str) -> None:
    assert interface_for(version) == interface


def test_airflow_1_is_unsupported() -> None:
    with pytest.raises(UnsupportedAirflowVersionError, match=r"1\.10\.12"):
        interface_for((1, 10, 12))


def test_a_variable_never_shows_its_value_when_printed() -> None:
    variable = Variable(key="db_password", value="hunter2", description="prod")
    assert "hunter2" not in repr(variable)
    assert "hunter2" not in str(variable)
    assert variable.value == "hunter2"
