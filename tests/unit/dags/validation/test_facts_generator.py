"""The facts generator's reading of provider modules that fail at import (scripts/generate_validator_data.py)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from scripts.generate_validator_data import ProviderModules, _import_time, unimportable_modules

AIRFLOW_3_0 = (3, 0, 6)
PACKAGE = "airflow.providers.demo.operators"


def import_time(source: str, airflow: tuple[int, int, int] = AIRFLOW_3_0) -> tuple[str | None, list[str]]:
    return _import_time(ast.parse(textwrap.dedent(source)).body, airflow, PACKAGE)


def test_a_raise_under_a_version_flag_that_holds_is_an_import_failure_with_its_message() -> None:
    raised, _ = import_time(
        """
        from airflow.providers.demo.version_compat import AIRFLOW_V_3_1_PLUS
        if not AIRFLOW_V_3_1_PLUS:
            raise AirflowOptionalProviderFeatureException("needs Airflow 3.1+")
        """
    )

    assert raised == "raises AirflowOptionalProviderFeatureException at import on Airflow 3.0.6: needs Airflow 3.1+"


def test_the_same_module_imports_on_the_version_the_flag_asks_for() -> None:
    source = """
        if not AIRFLOW_V_3_1_PLUS:
            raise RuntimeError("needs Airflow 3.1+")
        """

    assert import_time(source, (3, 1, 0))[0] is None
    assert import_time(source, (3, 0, 6))[0] is not None


@pytest.mark.parametrize(
    "source",
    [
        # A missing optional dependency may or may not be installed: not known offline.
        """
        try:
            import pandas
        except ImportError:
            raise AirflowOptionalProviderFeatureException("pip install pandas")
        """,
        # Any other test may go either way.
        """
        if os.environ.get("X"):
            raise RuntimeError("x")
        """,
        """
        if TYPE_CHECKING:
            raise RuntimeError("never at run time")
        """,
        # A raise inside a function runs only when it is called.
        """
        def check():
            raise RuntimeError("later")
        """,
    ],
)
def test_a_raise_that_may_not_run_is_not_an_import_failure(source: str) -> None:
    assert import_time(source)[0] is None


def test_only_the_provider_imports_before_the_raise_are_kept_relative_ones_made_absolute() -> None:
    _, imported = import_time(
        """
        import os
        from . import base
        from ..hooks.demo import DemoHook
        import airflow.providers.other.hooks
        if TYPE_CHECKING:
            from airflow.providers.typing_only import X
        try:
            from airflow.providers.maybe import Y
        except ImportError:
            pass
        """
    )

    assert imported == [PACKAGE, "airflow.providers.demo.hooks.demo", "airflow.providers.other.hooks"]


def test_a_module_importing_a_failing_one_fails_and_so_does_everything_under_a_failing_package() -> None:
    demo = ProviderModules(
        names={"": [], "operators.hitl": [], "triggers": [], "triggers.hitl": [], "example": [], "fine": []},
        raises={"operators.hitl": "raises E: needs 3.1", "triggers": "raises E"},
        imports={"example": ["airflow.providers.demo.operators.hitl"], "fine": ["airflow.providers.demo"]},
    )
    other = ProviderModules(names={"uses": []}, imports={"uses": ["airflow.providers.demo.example"]})

    failing = unimportable_modules({"demo": demo, "other": other})

    assert failing["demo"] == {
        "operators.hitl": "raises E: needs 3.1",
        "triggers": "raises E",
        "triggers.hitl": "imports airflow.providers.demo.triggers, which raises E",
        "example": "imports airflow.providers.demo.operators.hitl, which raises E: needs 3.1",
    }
    assert failing["other"] == {"uses": "imports airflow.providers.demo.example, which " + failing["demo"]["example"]}
