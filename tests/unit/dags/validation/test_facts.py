"""Imports checked against generated facts: provider modules and names, requirement closures, sources."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from mwaa_control_plane.dags.validation import Finding, SourceFile, ValidationContext, validate_files
from mwaa_control_plane.dags.validation.facts import available_versions, facts_for
from mwaa_control_plane.dags.validation.imports import ImportEnv
from mwaa_control_plane.dags.validation.target import make_target
from mwaa_control_plane.versions import release

DATA = Path(str(resources.files("mwaa_control_plane.dags.validation").joinpath("data")))
AMAZON_9 = "apache-airflow-providers-amazon 9.0.0"
# Airflow's safe mode parses only files that mention both words; others are not import-checked.
SAFE_MODE = '"""An Airflow DAG."""\n'


def check(source: str, airflow_version: str = "2.10.3", requirements: str | None = None) -> list[Finding]:
    report = validate_files(
        [SourceFile(path="dag.py", content=(SAFE_MODE + textwrap.dedent(source)).encode())],
        ValidationContext(airflow_version=airflow_version, requirements=requirements),
    )
    return report.files[0].findings


def errors(source: str, airflow_version: str = "2.10.3", requirements: str | None = None) -> list[Finding]:
    return [f for f in check(source, airflow_version, requirements) if f.rule.startswith(("import-", "airflow-"))]


def env(airflow_version: str = "2.10.3", *distributions: str) -> ImportEnv:
    return ImportEnv.build(
        make_target(airflow_version, None),
        distributions=distributions,
        opaque_requirements=False,
        local_modules=frozenset(),
    )


# -- provider modules and names, against the version MWAA pins ------------------------------------------


@pytest.mark.parametrize(
    ("statement", "replacement"),
    [
        (
            "from airflow.providers.amazon.aws.operators.emr_create_job_flow import EmrCreateJobFlowOperator",
            "airflow.providers.amazon.aws.operators.emr",
        ),
        (
            "from airflow.providers.amazon.aws.operators.sagemaker_training import SageMakerTrainingOperator",
            "airflow.providers.amazon.aws.operators.sagemaker",
        ),
        (
            "from airflow.providers.amazon.aws.operators.s3_copy_object import S3CopyObjectOperator",
            "airflow.providers.amazon.aws.operators.s3",
        ),
        ("import airflow.providers.amazon.aws.operators.s3_copy_object", "airflow.providers.amazon.aws.operators.s3"),
    ],
)
def test_a_provider_module_the_pinned_provider_lacks_is_unresolved_with_its_replacement(
    statement: str, replacement: str
) -> None:
    found = errors(statement + "\n")

    assert [f.rule for f in found] == ["import-unresolved"]
    assert AMAZON_9 in found[0].message
    assert found[0].message.endswith(f"use {replacement}")


def test_a_provider_module_that_exists_in_the_pinned_version_passes() -> None:
    assert errors("from airflow.providers.amazon.aws.operators.emr import EmrCreateJobFlowOperator\n") == []


@pytest.mark.parametrize(
    ("module", "name", "replacement"),
    [
        (
            "airflow.providers.amazon.aws.hooks.lambda_function",
            "AwsLambdaHook",
            "airflow.providers.amazon.aws.hooks.lambda_function.LambdaHook",
        ),
        (
            "airflow.providers.amazon.aws.operators.glue",
            "AwsGlueJobOperator",
            "airflow.providers.amazon.aws.operators.glue.GlueJobOperator",
        ),
        (
            "airflow.providers.amazon.aws.operators.glue_crawler",
            "AwsGlueCrawlerOperator",
            "airflow.providers.amazon.aws.operators.glue_crawler.GlueCrawlerOperator",
        ),
    ],
)
def test_a_provider_name_the_pinned_provider_lacks_is_removed_with_its_replacement(
    module: str, name: str, replacement: str
) -> None:
    notes = env().missing_names(module, [name])

    assert [rule for rule, _ in notes] == ["airflow-import-removed"]
    assert AMAZON_9 in notes[0][1]
    assert notes[0][1].endswith(f"use {replacement}")


def test_names_the_pinned_provider_defines_and_its_submodules_pass() -> None:
    imports = env()

    assert imports.missing_names("airflow.providers.amazon.aws.hooks.lambda_function", ["LambdaHook"]) == []
    assert imports.missing_names("airflow.providers.amazon.aws", ["hooks", "operators"]) == []


def test_a_name_with_no_known_home_is_unresolved_without_a_suggestion() -> None:
    notes = env().missing_names("airflow.providers.amazon.aws.operators.s3", ["NoSuchOperator"])

    assert notes == [
        (
            "import-unresolved",
            "'NoSuchOperator' is not in 'airflow.providers.amazon.aws.operators.s3' in "
            f"{AMAZON_9}, the version MWAA installs for Airflow 2.10.3",
        )
    ]


def test_a_provider_listed_in_requirements_is_not_judged_by_the_pinned_version() -> None:
    # The user may install another amazon provider version: its modules are not known offline.
    imports = env("2.10.3", "apache-airflow-providers-amazon")

    assert imports.missing_names("airflow.providers.amazon.aws.hooks.lambda_function", ["AwsLambdaHook"]) == []
    statement = "from airflow.providers.amazon.aws.operators.s3_copy_object import S3CopyObjectOperator\n"
    assert errors(statement, requirements="apache-airflow-providers-amazon==9.1.0\n") == []


@pytest.mark.parametrize(
    "statement",
    [
        "from airflow.providers.standard.operators.hitl import ApprovalOperator",
        "import airflow.providers.standard.triggers.hitl",
    ],
)
def test_a_provider_module_that_raises_at_import_on_this_airflow_is_unresolved_with_its_reason(statement: str) -> None:
    # The standard provider 1.6.0 (MWAA's pin for 3.0.6) ships the human-in-the-loop modules, which raise
    # AirflowOptionalProviderFeatureException at import unless Airflow is 3.1 or later.
    found = errors(statement + "\n", "3.0.6")

    assert [f.rule for f in found] == ["import-unresolved"]
    assert "apache-airflow-providers-standard 1.6.0" in found[0].message
    assert "raises AirflowOptionalProviderFeatureException at import on Airflow 3.0.6" in found[0].message
    assert found[0].message.endswith("Human in the loop functionality needs Airflow 3.1+.")


def test_a_version_without_facts_keeps_provider_imports_lenient() -> None:
    assert (
        errors("from airflow.providers.amazon.aws.operators.s3_copy_object import S3CopyObjectOperator\n", "2.9.2")
        == []
    )


def test_a_removed_provider_name_is_reported_when_a_dag_imports_it() -> None:
    found = errors("from airflow.providers.amazon.aws.hooks.lambda_function import AwsLambdaHook\n")

    assert [f.rule for f in found] == ["airflow-import-removed"]


# -- requirements resolve through what they install --------------------------------------------------


@pytest.mark.parametrize(
    ("requirement", "statement"),
    [
        ("scikit-learn==1.5.2", "import numpy"),
        ("scikit-learn==1.5.2", "import scipy.stats"),
        ("apache-airflow-providers-snowflake==5.8.0", "import pandas"),
        ("google-api-python-client==2.151.0", "import httplib2"),
        ("google-cloud-bigquery==3.20.1", "from google.cloud import exceptions"),
        ("google-cloud-bigquery==3.20.1", "from google.cloud import bigquery"),
        ("dag-factory==0.23.0", "import dagfactory"),
        ("snowflake-connector-python==3.12.3", "import snowflake.connector"),
    ],
)
def test_an_import_a_requirement_installs_with_its_dependencies_resolves(requirement: str, statement: str) -> None:
    assert errors(statement + "\n", requirements=requirement + "\n") == []


@pytest.mark.parametrize("statement", ["import numpy", "import httplib2", "import dagfactory"])
def test_the_same_imports_without_the_requirement_are_unresolved(statement: str) -> None:
    assert [f.rule for f in errors(statement + "\n")] == ["import-unresolved"]


def test_dag_factory_import_name_comes_from_its_wheel() -> None:
    facts = facts_for(release("2.10.3"), exact=True)

    assert facts is not None
    assert facts.import_names("dag-factory") == ("dagfactory",)
    assert facts.import_names("dag_factory") == ("dagfactory",)


def test_a_requirement_with_unknown_dependencies_turns_a_miss_into_a_note_naming_it() -> None:
    found = errors("import pandas\n", requirements="acme-internal-etl==1.0\n")

    assert [f.rule for f in found] == ["import-unverified"]
    assert "may come from acme-internal-etl" in found[0].message


def test_a_miss_suggests_only_a_distribution_that_exists() -> None:
    found = errors("import google.cloud.exceptions\n")

    assert [f.rule for f in found] == ["import-unresolved"]
    assert "google-cloud-core" in found[0].message
    assert "google-cloud-exceptions" not in found[0].message


def test_an_unknown_provider_is_not_named_as_a_distribution() -> None:
    found = errors("from airflow.providers.acme.hooks.acme import AcmeHook\n")

    assert [f.rule for f in found] == ["import-unresolved"]
    assert "apache-airflow-providers-acme" not in found[0].message


# -- Airflow 3.0.6: what MWAA's image installs ----------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "from airflow.providers.fab.auth_manager.fab_auth_manager import FabAuthManager",
        "import flask_appbuilder",
        "import sniffio",
        "import uc_micro",
    ],
)
def test_airflow_3_0_6_has_what_mwaa_installs(statement: str) -> None:
    assert errors(statement + "\n", "3.0.6") == []


@pytest.mark.parametrize("module", ["time_machine", "importlib_resources", "sniffio", "uc_micro"])
def test_airflow_2_10_3_has_what_its_dependencies_install(module: str) -> None:
    # pendulum 3.0.0 requires time-machine; pendulum 3.1.0 (Airflow 3.0.6) only for its tests.
    assert errors(f"import {module}\n", "2.10.3") == []


def test_pandas_is_not_preinstalled_on_either_version() -> None:
    for version in ("2.10.3", "3.0.6"):
        assert [f.rule for f in errors("import pandas\n", version)] == ["import-unresolved"]


# -- the data agrees with its recorded sources ---------------------------------------------------------


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text("utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def _raw(version: str) -> dict[str, Any]:
    return json.loads(gzip.decompress((DATA / "facts" / f"mwaa-{version}.json.gz").read_bytes()))


@pytest.mark.parametrize("version", ["2.10.3", "3.0.6"])
def test_facts_match_the_saved_constraints_file_they_name(version: str) -> None:
    raw = _raw(version)
    pins = _pins(DATA / raw["sources"]["constraints_file"])

    pinned_providers = {name: v for name, v in pins.items() if name.startswith("apache-airflow-providers-")}
    assert {p["distribution"]: p["version"] for p in raw["providers"].values()} == pinned_providers
    for name, entry in raw["distributions"].items():
        if name in pins and entry.get("wheel", True):
            assert entry["version"] == pins[name], name
    assert raw["airflow"] == version


def test_preinstalled_json_is_the_summary_of_the_facts() -> None:
    summary = json.loads((DATA / "preinstalled.json").read_text("utf-8"))
    for key, version in (("airflow2", "2.10.3"), ("airflow3", "3.0.6")):
        raw = _raw(version)
        modules = {m for name in raw["preinstalled"] for m in raw["distributions"][name]["imports"]}
        assert summary[key]["reference_version"] == version
        assert set(summary[key]["modules"]) == modules


def test_every_version_with_facts_has_its_constraints_file() -> None:
    assert {"{}.{}.{}".format(*v) for v in available_versions()} == {
        p.stem for p in (DATA / "constraints").glob("*.txt")
    }


def test_no_facts_file_is_read_until_a_provider_import_or_requirement_is_checked() -> None:
    script = textwrap.dedent(
        """
        from mwaa_control_plane.dags.validation import SourceFile, ValidationContext, validate_files
        from mwaa_control_plane.dags.validation import facts

        validate_files(
            [SourceFile(path="d.py", content=b"import json\\nfrom airflow import DAG\\n")],
            ValidationContext(airflow_version="2.10.3"),
        )
        print(facts._load.cache_info().currsize)
        """
    )
    path = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=path)

    assert done.stdout.strip() == "0"
