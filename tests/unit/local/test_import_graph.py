"""The local runtime's modules import each other without cycles, lazy and type-only imports included."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE_ROOT = REPO / "local"
PACKAGE = "mwaa_cp_local"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for path in (PACKAGE_ROOT / PACKAGE).rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                # "from package import module" depends on the module; "from module import name" on the module.
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
            else:
                continue
            graph[name].update(target for target in targets if target in files and target != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                found.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_graph_sees_the_imports_it_should() -> None:
    graph = _import_graph()

    assert "mwaa_cp_local.mwaa.models" in graph["mwaa_cp_local.mwaa.responses"]
    assert "mwaa_cp_local.mwaa.s3" in graph["mwaa_cp_local.mwaa.models"]
    assert "mwaa_cp_local.patches" in graph["mwaa_cp_local.runtime"]


def test_a_cycle_is_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]


def test_no_module_of_the_local_runtime_is_part_of_an_import_cycle() -> None:
    assert _cycles(_import_graph()) == []
