"""requirements.txt, .airflowignore and startup.sh rules."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from mwaa_control_plane.dags.validation import Severity, SourceFile, ValidationContext, validate_files
from mwaa_control_plane.dags.validation.airflowignore import Syntax, build_rules
from mwaa_control_plane.dags.validation.imports import modules_of_distribution
from mwaa_control_plane.dags.validation.models import normalize_path
from mwaa_control_plane.dags.validation.requirements import parse_requirements
from mwaa_control_plane.dags.validation.target import make_target, normalize_distribution

CONSTRAINT = "-c https://raw.githubusercontent.com/apache/airflow/constraints-2.10.3/constraints-3.11.txt\n"
TARGET = make_target("2.10.3", None)


def requirement_rules(text: str) -> list[str]:
    return [f.rule for f in parse_requirements(text, TARGET).findings]


def test_a_typical_requirements_file_is_clean() -> None:
    text = (
        CONSTRAINT
        + "# providers\napache-airflow-providers-snowflake==5.8.0  # pinned\n"
        + "apache-airflow-providers-amazon[aiobotocore]==9.0.0\n"
        + 'pyarrow==16.1.0 ; python_version >= "3.9"\n'
        + "requests==2.32.3 \\\n    --hash=sha256:abc\n"
        + "/usr/local/airflow/plugins/wheels/internal_lib-1.0-py3-none-any.whl\n"
        + "--extra-index-url https://pypi.example.com/simple\n"
    )
    parsed = parse_requirements(text, TARGET)

    assert parsed.findings == []
    assert "internal-lib" in parsed.distributions  # the normalized name packaging reads from the wheel
    assert not parsed.opaque


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("boto3=1.35.0", "requirements-invalid-line"),
        ("--no-such-option", "requirements-invalid-line"),
        ("pandas>=2", "requirements-unpinned"),
        ("pandas", "requirements-unpinned"),
        ("pandas==2.*", "requirements-unpinned"),
        ("apache-airflow==2.10.3", "requirements-airflow-listed"),
        ("Apache_Airflow[celery]==2.10.3", "requirements-airflow-listed"),
        # PEP 508 as packaging (and so pip) reads it: no legacy versions, no empty marker.
        ("pandas==2.1.4-custom", "requirements-invalid-line"),
        ("pandas==latest", "requirements-invalid-line"),
        ("pandas==2.1.4 ;", "requirements-invalid-line"),
        ("pandas (==2.1.4)", None),
        ('pandas==2.1.4 ; python_version >= "3.9" and sys_platform == "linux"', None),
        ("pandas===2.1.4", None),
        ("internal-lib @ https://example.com/internal_lib-1.0-py3-none-any.whl", None),
    ],
)
def test_requirement_lines(line: str, rule: str | None) -> None:
    assert requirement_rules(CONSTRAINT + line + "\n") == ([rule] if rule else [])


def test_every_distribution_import_is_found_by_its_normalized_name() -> None:
    data = resources.files("mwaa_control_plane.dags.validation").joinpath("data", "distribution_imports.json")
    raw: dict[str, list[str]] = json.loads(data.read_text("utf-8"))["distributions"]
    assert {"pdfminer.six", "ruamel.yaml"} <= raw.keys()  # spelled as on PyPI, not normalized

    for name, modules in raw.items():
        assert modules_of_distribution(normalize_distribution(name)) == tuple(modules), name
        assert modules_of_distribution(name) == tuple(modules), name


@pytest.mark.parametrize(
    "path",
    ["requirements.txt", "./requirements.txt", "/requirements.txt", "x/../requirements.txt", ".//requirements.txt"],
)
def test_odd_spellings_of_a_root_path_are_the_environment_file(path: str) -> None:
    report = validate_files([SourceFile(path=path, content=b"pandas\n")], ValidationContext())

    assert normalize_path(path) == "requirements.txt"
    assert SourceFile(path=path, content=b"").resolved_kind == "requirements"
    assert "requirements-unpinned" in {f.rule for f in report.files[0].findings}


def test_requirements_txt_in_a_subfolder_is_dags_content() -> None:
    assert SourceFile(path="x/requirements.txt", content=b"").resolved_kind == "dags"
    assert SourceFile(path="x/./requirements.txt", content=b"").resolved_kind == "dags"


def test_constraint_for_another_python_is_a_mismatch() -> None:
    text = "-c https://raw.githubusercontent.com/apache/airflow/constraints-2.10.3/constraints-3.12.txt\nx==1\n"
    assert requirement_rules(text) == ["requirements-constraint-mismatch"]


def test_local_constraint_file_is_accepted() -> None:
    assert requirement_rules('--constraint "/usr/local/airflow/dags/constraints-3.11-updated.txt"\nx==1\n') == []


def test_includes_make_requirements_opaque() -> None:
    assert parse_requirements(CONSTRAINT + "-r common.txt\n", TARGET).opaque


def _ignored(text: str, paths: list[str], syntax: Syntax = "regexp", nested: dict[str, str] | None = None) -> set[str]:
    files = [(".airflowignore", "", text)] + [(f"{k}/.airflowignore", k, v) for k, v in (nested or {}).items()]
    rules = build_rules(files, syntax, re2=syntax == "regexp")
    return {p for p in paths if rules.is_ignored(p)}


def test_regexp_patterns_search_the_relative_path() -> None:
    paths = ["etl.py", "scratch/x.py", "team/etl_old.py", "team/new.py"]
    assert _ignored("scratch\n_old\\.py$\n", paths) == {"scratch/x.py", "team/etl_old.py"}


def test_glob_patterns_without_slash_match_names_at_any_depth() -> None:
    paths = ["etl.py", "a/etl_test.py", "a/b/c_test.py", "tests/x.py", "docs/tests/y.py"]
    assert _ignored("*_test.py\ntests/\n", paths, "glob") == {
        "a/etl_test.py",
        "a/b/c_test.py",
        "tests/x.py",
        "docs/tests/y.py",
    }


def test_glob_patterns_with_slash_are_anchored_and_negation_reincludes() -> None:
    paths = ["tmp/a.py", "x/tmp/b.py", "lib/keep.py", "lib/drop.py"]
    assert _ignored("/tmp\nlib/*\n!lib/keep.py\n", paths, "glob") == {"tmp/a.py", "lib/drop.py"}


def test_nested_airflowignore_applies_below_its_folder_only() -> None:
    paths = ["old.py", "team/old.py"]
    assert _ignored("", paths, "glob", nested={"team": "old.py"}) == {"team/old.py"}


def test_glob_double_star() -> None:
    paths = ["a/generated/x.py", "generated/y.py", "a/b/generated/z.py", "a/gen.py"]
    assert _ignored("**/generated/**\n", paths, "glob") == {"a/generated/x.py", "generated/y.py", "a/b/generated/z.py"}


def test_a_glob_pattern_with_a_trailing_slash_ignores_folders_not_files_of_that_name() -> None:
    paths = ["build/x.py", "a/build/y.py", "build", "a/build"]
    assert _ignored("build/\n", paths, "glob") == {"build/x.py", "a/build/y.py"}


def test_glob_patterns_are_evaluated_in_order_so_a_later_negation_wins() -> None:
    paths = ["a.py", "keep.py", "team/keep.py"]
    assert _ignored("*.py\n!keep.py\n", paths, "glob") == {"a.py"}


def test_a_glob_folder_pattern_ending_in_double_star_slash_ignores_what_is_below_it() -> None:
    # pathspec's reading, as Airflow uses it: "foo/**/" matches foo/ and every path below it.
    assert _ignored("foo/**/\n", ["foo/x.py", "foo/bar/y.py", "food.py"], "glob") == {"foo/x.py", "foo/bar/y.py"}


def test_glob_lines_are_read_like_airflow_reads_them() -> None:
    # Leading spaces are dropped (Airflow's pathspec strips them), Windows line endings never reach
    # the pattern, "/" alone is a no-op, and an escaped trailing space is part of the name.
    text = "  lead.py\ncrlf.py\r\n/\ntrail\\ \n"
    paths = ["lead.py", "crlf.py", "other.py", "trail ", "trail"]
    assert _ignored(text, paths, "glob") == {"lead.py", "crlf.py", "trail "}


@pytest.mark.parametrize("pattern", ["!", "drafts\\", "x\\#not a comment"])
def test_a_glob_pattern_pathspec_rejects_is_reported(pattern: str) -> None:
    rules = build_rules([(".airflowignore", "", pattern + "\n")], "glob", re2=False)

    assert [f.rule for f in rules.findings[".airflowignore"]] == ["airflowignore-pattern-invalid"]


def test_airflowignore_from_context_is_used_and_its_problems_reported() -> None:
    dag = b'from airflow import DAG\nDAG("d", schedule=None, catchup=False)\n'
    report = validate_files(
        [SourceFile(path="scratch_dag.py", content=dag)],
        ValidationContext(airflowignore="scratch_\n(?<=x)y\n"),
    )

    by_path = {f.path: {x.rule for x in f.findings} for f in report.files}
    assert "dag-ignored" in by_path["scratch_dag.py"]
    assert by_path[".airflowignore"] == {"airflowignore-pattern-unsupported"}
    ignore_report = next(f for f in report.files if f.path == ".airflowignore")
    assert ignore_report.verdict == "pass"
    assert report.summary.warnings == sum(x.severity is Severity.WARNING for f in report.files for x in f.findings)


def test_lookaround_is_fine_on_airflow3_regexp_syntax() -> None:
    report = validate_files(
        [SourceFile(path=".airflowignore", content=b"(?<=x)y\n")],
        ValidationContext(airflow_version="3.0.6", dag_ignore_syntax="regexp"),
    )
    assert report.files[0].findings == []


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("export PYTHONPATH=/x\n", ["startup-protected-variable"]),
        ("export MWAA__CORE__STARTUP_SCRIPT_PATH=x\n", ["startup-protected-variable"]),
        ("AIRFLOW_HOME=/tmp; echo hi\n", ["startup-protected-variable"]),
        ("unset AWS_REGION\n", ["startup-protected-variable"]),
        ("export MY_VAR=1 && export JAVA_HOME=/usr/lib/jvm\n", []),
        ("PYTHONPATH=/x python -c 'print(1)'\n", []),
        ("# export PYTHONPATH=/x\n", []),
        ("sudo yum -y install libaio\n", []),
    ],
)
def test_startup_script_protected_variables(script: str, expected: list[str]) -> None:
    report = validate_files([SourceFile(path="startup.sh", content=script.encode())], ValidationContext())
    assert [f.rule for f in report.files[0].findings] == expected
