"""Airflow's own example DAGs, from the released wheels, through the validator's public API.

Airflow's CI imports every one of them on its own version, so an error finding on them is a
false positive of the validator (listed in full when it happens). Checked on the next major, the
Airflow 2 examples that use APIs Airflow 3 removed must fail with exactly the rule for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from mwaa_control_plane.dags.validation import Report, Severity, SourceFile, validate_files
from mwaa_control_plane.dags.validation.sources import load_paths
from scripts.generate_signatures import (
    REFERENCES,
    DownloadError,
    IndexUnreachableError,
    Reference,
    fetch_wheel,
    generate,
    path_for,
)
from tests.realworld.conftest import AIRFLOW2_EXAMPLES, EXAMPLES, STANDARD_EXAMPLES, Examples

pytestmark = pytest.mark.realworld
# The standard provider's human-in-the-loop example needs Airflow 3.1; MWAA's 3.0.6 cannot import it.
HITL_ON_3_0 = ("example_hitl_operator.py", "import-unresolved")


def validate(folder: Path, airflow_version: str) -> Report:
    loaded = load_paths([folder])
    return validate_files(loaded.files, loaded.context(airflow_version=airflow_version))


def errors(report: Report) -> list[tuple[str, str, str]]:
    return sorted(
        (file.path, f.rule, f.message) for file in report.files for f in file.findings if f.severity is Severity.ERROR
    )


@pytest.mark.parametrize("examples", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_dags_pass_on_their_own_airflow_version(
    examples: Examples, example_folder: Callable[[Examples], Path]
) -> None:
    report = validate(example_folder(examples), examples.airflow_version)

    # The one example that really fails on this version (the test below): Airflow's CI imports it on 3.1.
    found = [e for e in errors(report) if (examples, e[0], e[1]) != (STANDARD_EXAMPLES, *HITL_ON_3_0)]
    assert found == [], f"{len(found)} error findings on {examples.name}:\n" + "\n".join(
        f"{path}: [{rule}] {message}" for path, rule, message in found
    )
    # Not vacuous: the folder really held the examples, and the validator found their DAGs.
    assert report.summary.files >= 20
    assert sum(1 for file in report.files if file.path.endswith(".py")) >= 18


@pytest.mark.parametrize("examples", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_a_misspelt_operator_argument_in_a_real_example_is_an_error(
    examples: Examples, example_folder: Callable[[Examples], Path]
) -> None:
    # The zero-error run above only means something if the signatures are really applied to these
    # files: the same folder, one BashOperator keyword misspelt in memory, must fail on that file.
    loaded = load_paths([example_folder(examples)])
    target = next(f for f in loaded.files if f.path.endswith(".py") and b"bash_command=" in f.content)
    files = [
        SourceFile(path=f.path, content=f.content.replace(b"bash_command=", b"bash_comand=", 1)) if f is target else f
        for f in loaded.files
    ]

    report = validate_files(files, loaded.context(airflow_version=examples.airflow_version))

    assert [(path, rule) for path, rule, message in errors(report) if "bash_comand" in message] == [
        (target.path, "airflow-argument-removed")
    ]


def test_airflow2_examples_fail_on_airflow3_exactly_where_they_use_removed_apis(
    example_folder: Callable[[Examples], Path],
) -> None:
    report = validate(example_folder(AIRFLOW2_EXAMPLES), "3.0.6")

    assert {(path, rule) for path, rule, _ in errors(report)} == {
        # SubDagOperator is gone from Airflow 3.
        ("example_subdag_operator.py", "airflow-import-removed"),
        # context["execution_date"] is gone from the Airflow 3 task context.
        ("example_branch_python_dop_operator_3.py", "airflow-context-removed"),
    }


def test_the_human_in_the_loop_example_is_an_import_error_on_airflow_3_0(
    example_folder: Callable[[Examples], Path],
) -> None:
    # With the standard provider MWAA pins for 3.0.6 (1.6.0), operators.hitl exists but raises
    # AirflowOptionalProviderFeatureException ("needs Airflow 3.1+") when imported.
    report = validate(example_folder(STANDARD_EXAMPLES), "3.0.6")

    hitl = [(rule, message) for path, rule, message in errors(report) if path == HITL_ON_3_0[0]]
    assert [rule for rule, _ in hitl] == [HITL_ON_3_0[1]], hitl
    assert "airflow.providers.standard.operators.hitl" in hitl[0][1]
    assert "needs Airflow 3.1+" in hitl[0][1]


@pytest.mark.parametrize("reference", REFERENCES, ids=[r.airflow_version for r in REFERENCES])
def test_shipped_signatures_match_the_released_wheels(reference: Reference, released: Callable[[str], Path]) -> None:
    wheels = [released(spec) for spec in reference.wheels]

    shipped = json.loads(path_for(reference).read_text(encoding="utf-8"))

    assert shipped == generate(reference, wheels), "stale: run python scripts/generate_signatures.py"


def test_a_pin_that_does_not_exist_fails_instead_of_skipping(tmp_path: Path, released: Callable[[str], Path]) -> None:
    released("apache-airflow-providers-standard==1.6.0")  # skips here when the index is unreachable

    with pytest.raises(DownloadError, match=r"==0\.0\.0"):
        fetch_wheel("apache-airflow-providers-standard==0.0.0", tmp_path)


def test_an_unreachable_index_is_reported_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pip with its configuration files ignored and only a closed local port as index: no network needed.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    for name in ("PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(IndexUnreachableError):
        fetch_wheel("apache-airflow-providers-standard==1.6.0", tmp_path)
