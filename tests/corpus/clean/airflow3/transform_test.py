# Ignored by .airflowignore (*_test.py): a unit test kept next to the DAGs.
from include.helpers import greeting


def test_greeting():
    assert greeting("x") == "hello x"
