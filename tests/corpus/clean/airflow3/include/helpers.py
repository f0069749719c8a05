"""Helpers for the DAGs: importable because the DAGs folder is on sys.path."""


def greeting(name: str) -> str:
    return f"hello {name}"
