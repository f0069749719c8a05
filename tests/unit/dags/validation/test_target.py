"""The target environment: an Airflow version read by the project's one version parser, and its Python."""

from __future__ import annotations

import pytest

from mwaa_control_plane.dags.validation import ValidationContext
from mwaa_control_plane.dags.validation.target import make_target


@pytest.mark.parametrize(
    ("text", "airflow", "python"),
    [
        ("2.10.3", (2, 10, 3), (3, 11)),
        ("2.10.3rc1", (2, 10, 3), (3, 11)),
        ("2.9.2+amzn.1", (2, 9, 2), (3, 11)),
        ("2.11", (2, 11, 0), (3, 12)),
        ("3.1.0rc1", (3, 1, 0), (3, 12)),
    ],
)
def test_an_airflow_version_with_any_pep_440_suffix_selects_its_rules_and_python(
    text: str, airflow: tuple[int, int, int], python: tuple[int, int]
) -> None:
    target = make_target(text, None)

    assert (target.airflow, target.python) == (airflow, python)


def test_an_explicit_python_version_wins() -> None:
    assert make_target("2.10.3", "3.12").python == (3, 12)


@pytest.mark.parametrize("text", ["2.10.3rc1", "2.9.2+amzn.1", " 3.0.6 "])
def test_the_validation_context_accepts_pep_440_versions(text: str) -> None:
    assert ValidationContext(airflow_version=text).airflow_version == text.strip()


@pytest.mark.parametrize("text", ["latest", "", "2.x", "3.0.6-amzn"])
def test_the_validation_context_refuses_what_is_not_a_version(text: str) -> None:
    with pytest.raises(ValueError, match="airflow_version"):
        ValidationContext(airflow_version=text)
