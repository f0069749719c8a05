"""Operator arguments judged by the real signatures of the target Airflow (data/signatures/).

An argument is an error only where Airflow raises (a keyword no ``__init__`` of the operator's
chain takes reaches BaseOperator: ``AirflowException`` on Airflow 2, ``TypeError`` on Airflow 3),
a warning where Airflow warns and drops it, and nothing where it is simply accepted. The DAGs
below are small patterns written for these tests.
"""

from __future__ import annotations

import textwrap

import pytest

from mwaa_control_plane.dags.validation import Finding, Severity, SourceFile, ValidationContext, validate_files
from mwaa_control_plane.dags.validation.python_rules import signatures_for
from mwaa_control_plane.dags.validation.target import airflow_changes, make_target

AIRFLOW2 = """\
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import BranchPythonOperator, PythonOperator
from airflow.operators.trigger_dagrun import TriggerDagRunOperator

"""
AIRFLOW3 = """\
from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG

"""


def argument_findings(body: str, airflow_version: str, head: str | None = None) -> list[Finding]:
    """The argument findings of one DAG file whose ``with DAG`` block holds ``body``."""
    if head is None:
        head = AIRFLOW3 if airflow_version.startswith("3") else AIRFLOW2
    source = (
        head
        + "def pick():\n    return 'a'\n\n\n"
        + 'with DAG("args", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):\n'
        + textwrap.indent(textwrap.dedent(body), "    ")
    )
    report = validate_files(
        [SourceFile(path="dag.py", content=source.encode())], ValidationContext(airflow_version=airflow_version)
    )
    return [f for f in report.files[0].findings if f.rule.startswith("airflow-argument-")]


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


# -- Airflow 2.10.3: provide_context is deprecated, dropped by the Python operators only ----------------


@pytest.mark.parametrize("operator", ["PythonOperator", "BranchPythonOperator"])
def test_provide_context_true_is_a_warning_on_airflow2_python_operators(operator: str) -> None:
    found = only(argument_findings(f'{operator}(task_id="t", python_callable=pick, provide_context=True)\n', "2.10.3"))

    assert (found.rule, found.severity) == ("airflow-argument-deprecated", Severity.WARNING)
    assert "PythonOperator drops it with a deprecation warning" in found.message


def test_provide_context_false_is_an_error_on_airflow2_because_only_a_true_value_is_dropped() -> None:
    # PythonOperator pops it under `if kwargs.get("provide_context")`: False goes on to BaseOperator.
    found = only(
        argument_findings('PythonOperator(task_id="t", python_callable=pick, provide_context=False)\n', "2.10.3")
    )

    assert (found.rule, found.severity) == ("airflow-argument-removed", Severity.ERROR)
    assert "only when it is true" in found.message
    assert "AirflowException" in found.message


def test_provide_context_from_a_variable_is_only_a_warning_on_airflow2() -> None:
    body = 'PythonOperator(task_id="t", python_callable=pick, provide_context=FLAG)\n'
    found = only(argument_findings(body, "2.10.3", head=AIRFLOW2 + "FLAG = bool(1)\n"))

    assert found.rule == "airflow-argument-deprecated"


def test_provide_context_on_an_operator_that_does_not_drop_it_is_an_error_on_airflow2() -> None:
    found = only(argument_findings('BashOperator(task_id="t", bash_command="true", provide_context=True)\n', "2.10.3"))

    assert found.rule == "airflow-argument-removed"
    assert "BashOperator" in found.message
    assert "[operators] allow_illegal_arguments" in found.message


def test_provide_context_through_the_airflow1_import_path_is_a_warning_on_airflow2() -> None:
    head = AIRFLOW2 + "from airflow.operators.python_operator import PythonOperator as OldPython\n"
    body = 'OldPython(task_id="t", python_callable=pick, provide_context=True)\n'

    assert [f.rule for f in argument_findings(body, "2.10.3", head=head)] == ["airflow-argument-deprecated"]


def test_provide_context_in_partial_is_an_error_on_airflow2_because_partial_drops_nothing() -> None:
    body = 'PythonOperator.partial(task_id="t", python_callable=pick, provide_context=True).expand(op_args=[[1]])\n'

    found = only(argument_findings(body, "2.10.3"))

    assert found.rule == "airflow-argument-removed"
    assert "partial() raises TypeError" in found.message


def test_a_misspelt_argument_is_an_error_on_airflow2() -> None:
    found = only(argument_findings('BashOperator(task_id="t", bash_comand="true")\n', "2.10.3"))

    assert found.rule == "airflow-argument-removed"
    assert "'bash_comand' is not accepted by BashOperator on Airflow 2.10.3" in found.message


def test_arguments_every_operator_takes_are_accepted_on_both_majors() -> None:
    body = (
        'BashOperator(task_id="t", bash_command="true", retries=2, pool="p", doc_md="x", '
        'env={"A": "1"}, append_env=True, do_xcom_push=False)\n'
        'PythonOperator(task_id="p", python_callable=pick, op_kwargs={}, templates_dict={}, owner="me")\n'
    )

    assert argument_findings(body, "2.10.3") == []
    assert argument_findings(body, "3.0.6") == []


@pytest.mark.parametrize(
    ("version", "rule"), [("2.10.3", "airflow-argument-deprecated"), ("3.0.6", "airflow-argument-removed")]
)
def test_task_concurrency_is_accepted_with_a_warning_on_airflow2_and_refused_on_airflow3(
    version: str, rule: str
) -> None:
    found = only(argument_findings('BashOperator(task_id="t", bash_command="true", task_concurrency=1)\n', version))

    assert found.rule == rule
    assert "max_active_tis_per_dag" in found.message


@pytest.mark.parametrize(
    ("version", "rule"), [("2.10.3", "airflow-argument-deprecated"), ("3.0.6", "airflow-argument-removed")]
)
def test_trigger_execution_date_is_deprecated_on_airflow2_and_refused_on_airflow3(version: str, rule: str) -> None:
    body = 'TriggerDagRunOperator(task_id="t", trigger_dag_id="other", execution_date="2024-01-01")\n'

    assert [f.rule for f in argument_findings(body, version)] == [rule]


# -- Airflow 3.0.6: nothing drops provide_context any more -------------------------------------------


@pytest.mark.parametrize("operator", ["PythonOperator", "BranchPythonOperator"])
def test_provide_context_is_an_error_on_airflow3(operator: str) -> None:
    found = only(argument_findings(f'{operator}(task_id="t", python_callable=pick, provide_context=True)\n', "3.0.6"))

    assert (found.rule, found.severity) == ("airflow-argument-removed", Severity.ERROR)
    assert "TypeError" in found.message


def test_provide_context_through_the_airflow2_import_path_is_an_error_on_airflow3() -> None:
    # airflow.operators.python still imports on 3.0 (deprecated), and gives the standard provider's class.
    found = only(
        argument_findings(
            'PythonOperator(task_id="t", python_callable=pick, provide_context=True)\n', "3.0.6", head=AIRFLOW2
        )
    )

    assert found.rule == "airflow-argument-removed"


def test_sla_is_accepted_with_a_warning_on_airflow3() -> None:
    body = 'BashOperator(task_id="t", bash_command="true", sla=None)\n'

    assert [f.rule for f in argument_findings(body, "3.0.6")] == ["airflow-argument-deprecated"]


# -- operators whose signature is not known ------------------------------------------------------------


def test_an_operator_defined_in_the_file_is_not_judged_by_the_signature_it_shadows() -> None:
    head = AIRFLOW2 + (
        "class PythonOperator(PythonOperator):\n"
        "    def __init__(self, *, table, **kwargs):\n"
        "        super().__init__(**kwargs)\n\n\n"
    )
    body = 'PythonOperator(task_id="t", python_callable=pick, table="x")\n'

    assert argument_findings(body, "2.10.3", head=head) == []


def test_an_unknown_operator_gets_only_the_deprecation_of_provide_context_on_airflow2() -> None:
    head = AIRFLOW2 + "from team.operators import LoadOperator\n"
    body = 'LoadOperator(task_id="t", provide_context=True, table="x")\n'

    assert [f.rule for f in argument_findings(body, "2.10.3", head=head)] == ["airflow-argument-deprecated"]


def test_a_version_without_shipped_signatures_falls_back_to_the_change_list() -> None:
    body = (
        'PythonOperator(task_id="t", python_callable=pick, provide_context=True)\n'
        'BashOperator(task_id="b", bash_command="true", not_an_argument=1)\n'
    )

    assert [f.rule for f in argument_findings(body, "2.9.2")] == ["airflow-argument-deprecated"]


# -- context keys: the target's own task context decides -------------------------------------------------

CONTEXT_TASK = """\
from datetime import datetime

from airflow import DAG
from airflow.decorators import task


@task
def report(**context):
    return context["{key}"]


with DAG("ctx", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    report()
"""


def context_findings(key: str, airflow_version: str) -> list[Finding]:
    source = CONTEXT_TASK.format(key=key).encode()
    report = validate_files(
        [SourceFile(path="dag.py", content=source)], ValidationContext(airflow_version=airflow_version)
    )
    return [f for f in report.files[0].findings if f.rule.startswith("airflow-context-")]


def test_conf_in_the_context_is_fine_on_airflow2_which_never_warns_about_it() -> None:
    assert context_findings("conf", "2.10.3") == []


def test_conf_in_the_context_is_an_error_on_airflow3_with_the_right_replacement() -> None:
    found = only(context_findings("conf", "3.0.6"))

    assert found.rule == "airflow-context-removed"
    assert "airflow.configuration.conf" in found.message


@pytest.mark.parametrize(
    ("version", "rule"), [("2.10.3", "airflow-context-deprecated"), ("3.0.6", "airflow-context-removed")]
)
def test_execution_date_in_the_context_warns_on_airflow2_and_fails_on_airflow3(version: str, rule: str) -> None:
    found = only(context_findings("execution_date", version))

    assert found.rule == rule
    assert "logical_date" in found.message


def test_context_keys_of_a_version_without_shipped_signatures_follow_the_change_list() -> None:
    assert [f.rule for f in context_findings("execution_date", "2.9.2")] == ["airflow-context-deprecated"]


# -- the data --------------------------------------------------------------------------------------------


def test_signatures_are_shipped_for_the_reference_versions_and_shared_by_their_patch_releases() -> None:
    assert signatures_for(2, 10) is not None
    assert signatures_for(2, 10).reference == "2.10.3"  # type: ignore[union-attr]
    assert signatures_for(3, 0).reference == "3.0.6"  # type: ignore[union-attr]
    assert signatures_for(2, 9) is None


@pytest.mark.parametrize(("major", "minor"), [(2, 10), (3, 0)])
def test_the_change_list_agrees_with_the_real_context_on_what_is_removed(major: int, minor: int) -> None:
    signatures = signatures_for(major, minor)
    assert signatures is not None
    changes = airflow_changes()
    removed = make_target(signatures.reference, None).status(changes.context_deprecated_in, changes.context_removed_in)

    listed = changes.context_keys
    if removed == "removed":
        assert listed.isdisjoint(signatures.context_known)
    else:
        assert listed <= signatures.context_known
        assert signatures.context_deprecated <= listed  # every key Airflow warns about is listed


@pytest.mark.parametrize(("major", "minor"), [(2, 10), (3, 0)])
def test_the_change_list_agrees_with_the_signatures_on_operator_arguments(major: int, minor: int) -> None:
    # The bug this guards against: provide_context listed as removed in 2.0 while Airflow 2.10's
    # PythonOperator still drops it with a warning.
    signatures = signatures_for(major, minor)
    assert signatures is not None
    target = make_target(signatures.reference, None)
    operators = list(signatures.operators.values())
    for name, change in airflow_changes().operator_arguments.items():
        accepted = any(name in op.accepted for op in operators)
        dropped = any(name in op.dropped for op in operators)
        status = target.status(change.deprecated_in, change.removed_in)
        if status == "removed":
            assert not accepted and not dropped, (
                f"{name} is listed as removed but Airflow {signatures.reference} takes it"
            )
        else:
            assert accepted or dropped, (
                f"{name} is listed as working but no operator of {signatures.reference} takes it"
            )
