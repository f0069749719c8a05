"""Suppressions: `# mwaa-cp: ignore` comments, `ignore-file`, `.mwaa-cp.toml`, and what they may not suppress."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mwaa_control_plane.dags.validation import RULES, Finding, Report, Severity, SourceFile, validate_files
from mwaa_control_plane.dags.validation.models import SettingsFile, ValidationContext
from mwaa_control_plane.dags.validation.settings_file import find_settings_file, load_settings_file
from mwaa_control_plane.errors import InvalidInputError

HEAD = """\
from datetime import datetime

from airflow import DAG
from airflow.models import Variable
from airflow.operators.empty import EmptyOperator
"""
# Line 7: a top-level Variable.get (warning). Line 9: a literal API key (error).
BODY = """
bucket = Variable.get("bucket"){comment7}

api_key = "sandbox-demo-key"{comment9}
with DAG("team_etl", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    EmptyOperator(task_id="start")
"""


def _dag(comment7: str = "", comment9: str = "", head: str = "") -> bytes:
    return (head + HEAD + BODY.format(comment7=comment7, comment9=comment9)).encode()


def _run(content: bytes, config: str | None = None, path: str = "team_etl.py", **context: object) -> Report:
    settings = SettingsFile(content=config.encode()) if config is not None else None
    return validate_files(
        [SourceFile(path=path, content=content)], ValidationContext(settings_file=settings, **context)
    )


def _findings(report: Report, path: str = "team_etl.py") -> list[Finding]:
    return next(f for f in report.files if f.path == path).findings


def _by_rule(report: Report, path: str = "team_etl.py") -> dict[str, Finding]:
    return {f.rule: f for f in _findings(report, path)}


def test_without_suppressions_the_literal_key_fails_the_file() -> None:
    report = _run(_dag())

    assert not report.ok
    assert {"top-level-variable", "credential-literal"} <= set(_by_rule(report))


# -- inline ------------------------------------------------------------------------------------


def test_an_inline_comment_suppresses_its_rule_on_its_line_and_the_file_passes() -> None:
    report = _run(_dag(comment9="  # mwaa-cp: ignore[credential-literal] sandbox key, public"))

    key = _by_rule(report)["credential-literal"]
    assert (key.suppressed, key.suppression, key.line) == (True, "inline", 9)
    assert report.ok and report.summary.errors == 0 and report.summary.suppressed == 1
    assert _by_rule(report)["top-level-variable"].suppressed is False


def test_an_inline_comment_names_several_rules_separated_by_commas() -> None:
    comment = "  # mwaa-cp: ignore[top-level-client , top-level-variable]"
    report = _run(_dag(comment7=comment))

    assert _by_rule(report)["top-level-variable"].suppression == "inline"
    assert not any(f.rule == "suppression-refused" for f in _findings(report))


def test_a_bare_ignore_suppresses_every_suppressible_rule_on_its_line_only() -> None:
    report = _run(_dag(comment7="  # mwaa-cp: ignore"))

    assert _by_rule(report)["top-level-variable"].suppressed
    assert not _by_rule(report)["credential-literal"].suppressed
    assert not report.ok


def test_an_inline_comment_for_another_rule_suppresses_nothing() -> None:
    report = _run(_dag(comment9="  # mwaa-cp: ignore[top-level-variable]"))

    assert not _by_rule(report)["credential-literal"].suppressed
    assert not _by_rule(report)["top-level-variable"].suppressed


def test_a_directive_inside_a_string_is_not_a_comment() -> None:
    content = _dag().replace(b'"sandbox-demo-key"', b'"key#mwaa-cp:ignore"')

    assert not _by_rule(_run(content))["credential-literal"].suppressed


def test_comments_in_requirements_txt_suppress_too() -> None:
    requirements = (
        b"-c https://raw.githubusercontent.com/apache/airflow/constraints-2.10.3/constraints-3.11.txt\n"
        b"boto3>=1.34  # mwaa-cp: ignore[requirements-unpinned] tracked by the constraints file\n"
        b"pyyaml>=6.0\n"
    )
    report = validate_files([SourceFile(path="requirements.txt", content=requirements)], ValidationContext())

    unpinned = [f for f in report.files[0].findings if f.rule == "requirements-unpinned"]
    assert [(f.line, f.suppressed) for f in unpinned] == [(2, True), (3, False)]


# -- file level --------------------------------------------------------------------------------


def test_ignore_file_in_the_leading_comment_block_covers_the_whole_file() -> None:
    head = "#!/usr/bin/env python\n# Team ETL.\n#   mwaa-cp: ignore-file[credential-literal, top-level-variable]\n"
    report = _run(_dag(head=head))

    assert {f.rule: f.suppression for f in _findings(report) if f.suppressed} == {
        "credential-literal": "file",
        "top-level-variable": "file",
    }
    assert report.ok


def test_a_bare_ignore_file_covers_every_suppressible_rule() -> None:
    report = _run(_dag(head="# mwaa-cp: ignore-file\n"))

    assert all(f.suppressed for f in _findings(report))
    assert report.summary.errors == report.summary.warnings == report.summary.infos == 0


def test_ignore_file_after_the_first_statement_is_refused_not_applied() -> None:
    # The docstring is the first statement: the comment after it is out of the leading block.
    head = '"""Team ETL."""\n# mwaa-cp: ignore-file[credential-literal]\n'
    report = _run(_dag(head=head))

    assert not _by_rule(report)["credential-literal"].suppressed
    refused = _by_rule(report)["suppression-refused"]
    assert refused.line == 2 and "leading comment block" in refused.message
    assert refused.severity is Severity.INFO


# -- configuration -----------------------------------------------------------------------------


def test_the_config_disables_a_rule_everywhere_and_marks_it_config() -> None:
    report = _run(_dag(), config='[rules]\ndisable = ["credential-literal"]\n')

    key = _by_rule(report)["credential-literal"]
    assert (key.suppressed, key.suppression) == (True, "config")
    assert report.ok
    assert [f.path for f in report.files] == ["team_etl.py"], "a valid config with nothing to say gets no report"


def test_a_comment_wins_over_the_config_as_the_suppression_source() -> None:
    report = _run(
        _dag(comment9="  # mwaa-cp: ignore[credential-literal]"), config='[rules]\ndisable = ["credential-literal"]\n'
    )

    assert _by_rule(report)["credential-literal"].suppression == "inline"


def test_the_config_changes_a_severity_and_the_counts_follow() -> None:
    report = _run(_dag(), config='[rules.severity]\n"top-level-variable" = "error"\n"dag-catchup-missing" = "info"\n')

    assert _by_rule(report)["top-level-variable"].severity is Severity.ERROR
    assert report.summary.errors == 2  # the literal key and the raised Variable.get


def test_a_lowered_severity_takes_a_file_from_fail_to_pass() -> None:
    report = _run(_dag(), config='[rules.severity]\n"credential-literal" = "warning"\n')

    assert _by_rule(report)["credential-literal"].severity is Severity.WARNING
    assert report.ok


def test_extra_modules_are_importable() -> None:
    content = HEAD.encode() + b"import company_lib\nfrom vendor.sdk import client\nimport unknown_lib\n"
    config = '[imports]\nextra_modules = ["company_lib", "vendor.sdk"]\n'

    unresolved = [f.message for f in _findings(_run(content, config)) if f.rule == "import-unresolved"]

    assert len(unresolved) == 1 and "unknown_lib" in unresolved[0]


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule_id", [r.id for r in RULES.values() if not r.suppressible and r.id not in ("suppression-refused",)]
)
def test_an_unsuppressible_rule_named_in_a_comment_is_refused_with_its_reason(rule_id: str) -> None:
    report = _run(_dag(comment7=f"  # mwaa-cp: ignore[{rule_id}]"))

    refused = _by_rule(report)["suppression-refused"]
    assert refused.line == 7 and refused.message == f"'{rule_id}' cannot be suppressed: {RULES[rule_id].refusal}"


def test_a_syntax_error_stays_an_error_whatever_the_comment_says() -> None:
    content = b"# mwaa-cp: ignore-file[syntax-error]\nfrom airflow import DAG\ndef broken(:  # mwaa-cp: ignore\n"
    report = _run(content, config='[rules]\ndisable = ["syntax-error"]\n')

    found = _findings(report)
    [syntax] = [f for f in found if f.rule == "syntax-error"]
    assert not syntax.suppressed and not report.ok
    refusals = sorted(f.line for f in found if f.rule == "suppression-refused")
    assert refusals == [1, 3], "the named rule at line 1, the bare ignore that met it at line 3"
    config_report = next(f for f in report.files if f.path == ".mwaa-cp.toml")
    assert [f.rule for f in config_report.findings] == ["suppression-refused"]
    assert config_report.verdict == "pass"


def test_the_config_cannot_lower_an_unsuppressible_rule_but_may_raise_a_suppressible_one() -> None:
    content = HEAD.encode() + b"import pandas\n"
    config = '[rules.severity]\n"import-unresolved" = "info"\n"top-level-heavy-import" = "error"\n'
    report = _run(content, config)

    by_rule = _by_rule(report)
    assert by_rule["import-unresolved"].severity is Severity.ERROR
    assert by_rule["top-level-heavy-import"].severity is Severity.ERROR
    [refusal] = next(f for f in report.files if f.path == ".mwaa-cp.toml").findings
    assert "cannot be lowered to info" in refusal.message and "extra_modules" in refusal.message


def test_an_unknown_rule_or_a_malformed_directive_in_a_comment_is_said() -> None:
    report = _run(_dag(comment7="  # mwaa-cp: ignore[top-level-varaible]", comment9="  # mwaa-cp: ignroe"))

    refusals = {f.line: f.message for f in _findings(report) if f.rule == "suppression-refused"}
    assert "'top-level-varaible' is not a rule id" in refusals[7]
    assert "not understood" in refusals[9]
    assert not report.ok


# -- a broken configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ("[rules\n", "not valid TOML"),
        ('[rules]\ndisabled = ["top-level-variable"]\n', "unknown key [rules] 'disabled'"),
        ('[rule]\ndisable = ["top-level-variable"]\n', "unknown key 'rule'"),
        ('[rules]\ndisable = ["top-level-varaible"]\n', "did you mean 'top-level-variable'?"),
        ('[rules.severity]\n"dag-catchup-missing" = "fatal"\n', "[rules.severity] 'dag-catchup-missing'"),
        ('[imports]\nextra_modules = ["vendor-sdk"]\n', "'vendor-sdk' is not a module name"),
        ('[rules]\ndisable = "top-level-variable"\n', "should be an array of strings"),
    ],
)
def test_a_broken_config_fails_the_run_with_config_invalid(config: str, said: str) -> None:
    report = _run(_dag(comment9="  # mwaa-cp: ignore[credential-literal]"), config)

    config_report = next(f for f in report.files if f.path == ".mwaa-cp.toml")
    [problem] = config_report.findings
    assert problem.rule == "config-invalid" and said in problem.message
    assert config_report.verdict == "fail" and not report.ok
    # Nothing the broken file asked is applied; comments still are.
    assert _by_rule(report)["credential-literal"].suppression == "inline"


def test_a_toml_syntax_error_names_its_line() -> None:
    report = _run(_dag(), config="[rules]\ndisable = [top-level-variable]\n")

    [problem] = next(f for f in report.files if f.path == ".mwaa-cp.toml").findings
    assert problem.line == 2


def test_an_empty_config_is_the_defaults() -> None:
    assert _run(_dag(), config="").to_dict() == _run(_dag()).to_dict()


# -- finding and loading the file ---------------------------------------------------------------


def test_the_config_is_found_in_the_dags_folder_or_a_parent_up_to_the_git_root(tmp_path: Path) -> None:
    repository = tmp_path / "repo"
    dags = repository / "environments" / "dev" / "dags"
    dags.mkdir(parents=True)
    (repository / ".git").mkdir()
    (tmp_path / ".mwaa-cp.toml").write_text("[rules]\n")  # above the repository: never used

    assert find_settings_file(dags) is None
    (repository / ".mwaa-cp.toml").write_text("[rules]\n")
    assert find_settings_file(dags / "etl.py") == repository / ".mwaa-cp.toml"
    (dags.parent / ".mwaa-cp.toml").write_text("[rules]\n")
    assert find_settings_file(dags) == dags.parent / ".mwaa-cp.toml"


def test_outside_a_git_repository_only_the_dags_folder_itself_is_searched(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (tmp_path / ".mwaa-cp.toml").write_text("[rules]\n")

    assert find_settings_file(dags) is None
    (dags / ".mwaa-cp.toml").write_text("[rules]\n")
    assert find_settings_file(dags) == dags / ".mwaa-cp.toml"


def test_load_settings_file_reads_bytes_and_refuses_what_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / ".mwaa-cp.toml"
    path.write_bytes(b"[rules]\n")

    assert load_settings_file(path).content == b"[rules]\n"
    with pytest.raises(InvalidInputError, match="cannot read"):
        load_settings_file(tmp_path / "missing.toml")


def test_tomllib_is_imported_only_when_there_is_a_config_file() -> None:
    script = textwrap.dedent(
        """
        import sys
        from mwaa_control_plane.dags.validation import SourceFile, ValidationContext, validate_files
        from mwaa_control_plane.dags.validation.models import SettingsFile
        files = [SourceFile(path="d.py", content=b"import airflow\\n")]
        validate_files(files, ValidationContext())
        before = "tomllib" in sys.modules
        validate_files(files, ValidationContext(settings_file=SettingsFile(content=b"[rules]\\n")))
        print(before, "tomllib" in sys.modules)
        """
    )
    answer = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)

    assert answer.stdout.split() == ["False", "True"]
