"""The Python rules: what they catch, and the look-alikes they must leave alone."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from mwaa_control_plane.dags.validation import Finding, SourceFile, ValidationContext, validate_files

HEAD = """\
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup

"""


def check(source: str, airflow_version: str = "2.10.3", path: str = "dag.py", **context: Any) -> list[Finding]:
    content = textwrap.dedent(source).encode()
    report = validate_files(
        [SourceFile(path=path, content=content)], ValidationContext(airflow_version=airflow_version, **context)
    )
    return report.files[0].findings


def rules(source: str, airflow_version: str = "2.10.3", **context: Any) -> set[str]:
    return {f.rule for f in check(source, airflow_version, **context)}


def dag(body: str, dag_id: str = "d") -> str:
    return (
        HEAD
        + f'with DAG("{dag_id}", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:\n'
        + textwrap.indent(textwrap.dedent(body), "    ")
    )


# -- duplicates ------------------------------------------------------------------------------


def test_tasks_created_in_a_loop_are_not_reported_as_duplicates() -> None:
    assert "task-id-duplicate" not in rules(dag('for i in range(3):\n    EmptyOperator(task_id="same")\n'))


def test_tasks_in_exclusive_if_branches_are_not_duplicates() -> None:
    body = 'if ENV == "prod":\n    EmptyOperator(task_id="load")\nelse:\n    EmptyOperator(task_id="load")\n'
    assert "task-id-duplicate" not in rules("ENV = 'dev'\n" + dag(body))


def test_tasks_in_elif_arms_are_not_duplicates_but_a_later_one_is() -> None:
    body = (
        'if ENV == "a":\n    EmptyOperator(task_id="x")\nelif ENV == "b":\n    EmptyOperator(task_id="x")\n'
        'EmptyOperator(task_id="x")\n'
    )
    found = check("ENV = 'dev'\n" + dag(body))
    assert [f.rule for f in found if f.rule == "task-id-duplicate"] == ["task-id-duplicate"]


def test_same_task_id_in_two_groups_is_fine() -> None:
    body = (
        'with TaskGroup("a"):\n    EmptyOperator(task_id="t")\nwith TaskGroup("b"):\n    EmptyOperator(task_id="t")\n'
    )
    assert "task-id-duplicate" not in rules(dag(body))


def test_prefix_group_id_false_puts_children_at_the_dag_level() -> None:
    body = 'with TaskGroup("a", prefix_group_id=False):\n    EmptyOperator(task_id="t")\nEmptyOperator(task_id="t")\n'
    assert "task-id-duplicate" in rules(dag(body))


def test_same_task_id_in_two_dags_of_one_file_is_fine() -> None:
    source = dag('EmptyOperator(task_id="t")\n', "one") + dag('EmptyOperator(task_id="t")\n', "two").removeprefix(HEAD)
    assert "task-id-duplicate" not in rules(source)


def test_operators_attached_with_dag_kwarg_are_checked() -> None:
    source = HEAD + (
        'dag = DAG("d", schedule=None, start_date=datetime(2024, 1, 1), catchup=False)\n'
        'a = EmptyOperator(task_id="a", dag=dag)\nb = EmptyOperator(task_id="a", dag=dag)\n'
    )
    assert "task-id-duplicate" in rules(source)


def test_taskflow_calls_with_the_same_function_are_not_duplicates() -> None:
    source = """
    import pendulum
    from airflow.decorators import dag, task

    @dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
    def pipeline():
        @task
        def step(x):
            return x

        step(1) >> step(2) >> step(3)

    pipeline()
    """
    assert rules(source) == set()


def test_tasks_in_helper_functions_are_not_compared() -> None:
    source = dag('make("a")\nmake("b")\n') + '\n\ndef make(name):\n    return EmptyOperator(task_id="fixed")\n'
    assert "task-id-duplicate" not in rules(source)


# -- cycles ---------------------------------------------------------------------------------


def test_diamond_is_not_a_cycle() -> None:
    body = (
        'a = EmptyOperator(task_id="a")\nb = EmptyOperator(task_id="b")\nc = EmptyOperator(task_id="c")\n'
        'd = EmptyOperator(task_id="d")\na >> [b, c] >> d\n'
    )
    assert "dag-cycle" not in rules(dag(body))


def test_a_self_loop_is_a_cycle() -> None:
    assert "dag-cycle" in rules(dag('a = EmptyOperator(task_id="a")\na >> a\n'))


def test_left_shift_direction_is_followed() -> None:
    body = 'a = EmptyOperator(task_id="a")\nb = EmptyOperator(task_id="b")\na << b\na >> b\n'
    assert "dag-cycle" in rules(dag(body))


def test_tasks_with_computed_ids_never_produce_a_cycle_finding() -> None:
    body = 'name = "a"\nx = EmptyOperator(task_id=f"{name}")\ny = EmptyOperator(task_id=f"{name}_2")\nx >> y\ny >> x\n'
    assert "dag-cycle" not in rules(dag(body))


def test_chain_of_equal_length_lists_pairs_elements() -> None:
    body = (
        'a, b, c, d = [EmptyOperator(task_id=t) for t in "abcd"]\n'
        "w = EmptyOperator(task_id='w')\nx = EmptyOperator(task_id='x')\n"
        "y = EmptyOperator(task_id='y')\nz = EmptyOperator(task_id='z')\n"
        "chain([w, x], [y, z])\nz >> w\n"
    )
    source = dag(body).replace(
        "from airflow.utils.task_group", "from airflow.models.baseoperator import chain\nfrom airflow.utils.task_group"
    )
    # w->y and x->z only: z >> w closes no cycle.
    assert "dag-cycle" not in rules(source)


def test_long_dependency_chains_do_not_hit_the_recursion_limit() -> None:
    body = "".join(f't{i} = EmptyOperator(task_id="t{i}")\n' for i in range(1500))
    body += " >> ".join(f"t{i}" for i in range(1500)) + "\n"
    assert rules(dag(body)) == set()


# -- parse time ------------------------------------------------------------------------------


def test_calls_inside_tasks_and_main_guard_are_not_parse_time_work() -> None:
    source = dag('EmptyOperator(task_id="t")\n') + textwrap.dedent(
        """
        import boto3
        import time
        from airflow.models import Variable


        def callable_():
            boto3.client("s3")
            Variable.get("x")
            time.sleep(1)


        if __name__ == "__main__":
            dag.test()
            time.sleep(1)
        """
    )
    assert rules(source) == set()


def test_parse_time_work_inside_a_dag_decorated_function_is_reported() -> None:
    source = """
    import pendulum
    from airflow.decorators import dag, task
    from airflow.models import Variable

    @dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
    def pipeline():
        threshold = Variable.get("threshold")

        @task
        def use():
            return Variable.get("fine_here")

        use()

    pipeline()
    """
    found = [f for f in check(source) if f.rule == "top-level-variable"]
    assert [f.line for f in found] == [8]


def test_hook_methods_at_module_level_are_connection_work() -> None:
    source = dag('EmptyOperator(task_id="t")\n') + (
        "from airflow.providers.amazon.aws.hooks.s3 import S3Hook\n\n"
        'KEYS = S3Hook(aws_conn_id="aws_default").list_keys("bucket")\n'
        "CLIENT = S3Hook().get_conn()\n"
    )
    assert "top-level-connection" in rules(source)


def test_heavy_imports_inside_functions_or_type_checking_are_fine() -> None:
    source = dag('EmptyOperator(task_id="t")\n') + textwrap.dedent(
        """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            import pandas


        def work():
            import numpy
        """
    )
    assert "top-level-heavy-import" not in rules(source)


# -- imports ---------------------------------------------------------------------------------


def test_guarded_imports_are_not_reported() -> None:
    source = (
        dag('EmptyOperator(task_id="t")\n') + "try:\n    import orjson as json\nexcept ImportError:\n    import json\n"
    )
    assert rules(source) == set()


def test_sibling_modules_and_requirements_resolve_imports() -> None:
    source = (
        dag('EmptyOperator(task_id="t")\n')
        + "import team_utils\nimport yaml\nimport snowflake.connector\nimport sklearn\n"
    )
    requirements = "-c https://x/constraints-2.10.3/constraints-3.11.txt\nPyYAML==6.0\nsnowflake-connector-python==3.12\nscikit-learn==1.5\n"

    assert "import-unresolved" in rules(source)
    assert rules(source, sibling_modules=frozenset({"team_utils"}), requirements=requirements) == {
        "top-level-heavy-import"
    }


def test_standard_library_depends_on_the_environment_python() -> None:
    source = dag('EmptyOperator(task_id="t")\n') + "import distutils\n"
    assert rules(source, "2.10.3") == set()  # Python 3.11 still has distutils
    assert "import-unresolved" in rules(
        source.replace("airflow.operators.empty", "airflow.providers.standard.operators.empty"), "3.0.6"
    )


def test_preinstalled_providers_depend_on_the_airflow_version() -> None:
    source = "import airflow\nfrom airflow.providers.standard.operators.bash import BashOperator\n"
    assert "import-unresolved" not in rules(source, "3.0.6")
    assert "import-unresolved" in rules(source, "2.10.3")


def test_provider_from_requirements_resolves() -> None:
    source = "import airflow\nfrom airflow.providers.microsoft.azure.hooks.wasb import WasbHook\n"
    requirements = (
        "-c https://x/constraints-2.10.3/constraints-3.11.txt\napache-airflow-providers-microsoft-azure==10.5.1\n"
    )
    assert rules(source, requirements=requirements) == set()


def test_pandas_is_not_preinstalled() -> None:
    assert "import-unresolved" in rules("import airflow\nimport pandas\n")


# -- versions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "version", "expected"),
    [
        ("from airflow.operators.dummy import DummyOperator\n", "2.10.3", "airflow-import-deprecated"),
        ("from airflow.operators.dummy import DummyOperator\n", "3.0.6", "airflow-import-removed"),
        ("from airflow.operators.bash import BashOperator\n", "2.10.3", None),
        ("from airflow.operators.bash import BashOperator\n", "3.0.6", "airflow-import-deprecated"),
        ("from airflow.datasets import Dataset\n", "2.10.3", None),
        ("from airflow.datasets import Dataset\n", "3.0.6", "airflow-import-deprecated"),
        ("from airflow.models import DAG\n", "3.0.6", "airflow-import-deprecated"),
        ("from airflow.utils.helpers import chain\n", "3.0.6", "airflow-import-removed"),
        ("import airflow.contrib.hooks.aws_hook\n", "2.10.3", "airflow-import-removed"),
    ],
)
def test_import_paths_are_judged_by_target_version(source: str, version: str, expected: str | None) -> None:
    found = rules(source, version) & {"airflow-import-removed", "airflow-import-deprecated"}
    assert found == ({expected} if expected else set())


def test_execution_date_in_templates_is_removed_on_3_only() -> None:
    body = 'BashOperator(task_id="t", bash_command="echo {{ execution_date }} {{ dag_run.conf }}")\n'
    source = dag(body).replace(
        "from airflow.utils.task_group",
        "from airflow.operators.bash import BashOperator\nfrom airflow.utils.task_group",
    )
    assert "airflow-context-deprecated" in rules(source, "2.10.3")
    assert "airflow-context-removed" in rules(source, "3.0.6")


def test_syntax_is_checked_against_the_environment_python() -> None:
    source = 'import airflow\nx = {"k": 1}\nprint(f"{x["k"]}")\n'
    assert rules(source, "2.10.3") == {"syntax-python-version"}
    assert rules(source, "3.0.6") == set()
    assert rules('print(f"{1!r:>{4}}", f"{\'a\'}")\n', "2.10.3") == set()


# -- DAG arguments ---------------------------------------------------------------------------


def test_dag_decorator_arguments_are_checked() -> None:
    source = """
    from airflow.decorators import dag

    @dag(schedule="61 * * * *", catchup=False)
    def pipeline():
        pass

    pipeline()
    """
    assert rules(source) == {"schedule-invalid", "dag-start-date-missing"}


def test_start_date_in_default_args_counts() -> None:
    source = HEAD + (
        'ARGS = {"owner": "x", "start_date": datetime(2024, 1, 1)}\n'
        'with DAG("d", schedule=None, default_args=ARGS, catchup=False):\n    EmptyOperator(task_id="t")\n'
    )
    assert rules(source) == set()


def test_start_date_from_an_unknown_default_args_is_not_reported() -> None:
    source = HEAD + (
        "from common import DEFAULT_ARGS\n"
        'with DAG("d", schedule=None, default_args=DEFAULT_ARGS, catchup=False):\n    EmptyOperator(task_id="t")\n'
    )
    assert "dag-start-date-missing" not in rules(source, sibling_modules=frozenset({"common"}))


def test_literal_secrets_ignore_templates_ids_and_placeholders() -> None:
    source = dag('EmptyOperator(task_id="t")\n') + textwrap.dedent(
        """
        password = "{{ conn.db.password }}"
        password_conn_id = "db_password"
        secret_name = "prod/db"
        api_key = "***"
        uri = "postgresql://user:{password}@host/db"
        """
    )
    assert rules(source) == set()


@pytest.mark.parametrize(
    "schedule",
    [
        "@daily",
        "@continuous",
        "0 0 * * *",
        "*/15 9-17 * * MON-FRI",
        "0 12 L * *",
        "0 0 1,15 * *",
        "0 0 * * 5#2",
        "0 0 * * * 30",
        "0 0 1 1 * 0 2030",
        "@quarterly",
        "@annually",
        "@DAILY",
    ],
)
def test_valid_schedules_pass(schedule: str) -> None:
    extra = ", max_active_runs=1" if schedule == "@continuous" else ""
    source = HEAD + (
        f'with DAG("d", schedule="{schedule}"{extra}, start_date=datetime(2024, 1, 1), catchup=False):\n'
        '    EmptyOperator(task_id="t")\n'
    )
    assert rules(source) == set()


@pytest.mark.parametrize(
    "schedule",
    [
        "* * *",
        "60 * * * *",
        "0 0 32 * *",
        "0 0 * 13 *",
        "0 0 * * 8",
        "@every_day",
        "*/0 * * * *",
        "",
        # croniter (Airflow's cron parser) has no W in day of month, and Airflow matches @once exactly.
        "0 0 15W * *",
        "@ONCE",
        "H * * * *",
    ],
)
def test_invalid_schedules_fail(schedule: str) -> None:
    source = HEAD + (
        f'with DAG("d", schedule="{schedule}", start_date=datetime(2024, 1, 1), catchup=False):\n'
        '    EmptyOperator(task_id="t")\n'
    )
    assert "schedule-invalid" in rules(source)


def test_imports_of_code_running_in_its_own_interpreter_are_not_judged() -> None:
    source = """
    import pendulum
    from airflow.decorators import dag, task
    from airflow.operators.python import PythonVirtualenvOperator

    def in_venv():
        import polars

        return polars.__version__

    @dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
    def pipeline():
        @task.virtualenv(requirements=["great_tables==0.10"])
        def report():
            import great_tables

            return great_tables.__name__

        @task
        def plain():
            import great_tables

        report() >> plain()
        PythonVirtualenvOperator(task_id="venv", python_callable=in_venv, requirements=["polars"])

    pipeline()
    """
    found = [f for f in check(source) if f.rule == "import-unresolved-in-task"]
    assert [f.line for f in found] == [21]  # only the plain @task


def test_google_cloud_packages_need_their_own_distribution() -> None:
    source = "import airflow\nfrom google.cloud import bigquery\nimport google.cloud.storage\nimport google.protobuf\n"
    requirements = "-c https://x/constraints-2.10.3/constraints-3.11.txt\ngoogle-cloud-bigquery==3.25.0\n"

    missing = [f.message for f in check(source, requirements=requirements) if f.rule == "import-unresolved"]

    assert len(missing) == 1
    assert "google-cloud-storage" in missing[0]
