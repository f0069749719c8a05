"""Regenerate the operator signatures the DAG validator ships (``dags/validation/data/signatures/``).

Whether an operator accepts a keyword argument is decided by the released code of the target
Airflow, not by a hand-kept list: this script downloads the wheels of each reference version with
pip (cached, ``--no-deps``), parses the operator modules with ``ast`` (nothing is imported or run)
and follows every operator's ``__init__`` chain through its MRO. For each public operator it
records the keywords the chain names, the ones a class drops from ``**kwargs`` (and whether it
warns when it does), and what the class that ends the chain raises for anything left over
(Airflow 2: ``AirflowException`` unless ``[operators] allow_illegal_arguments``; Airflow 3:
``TypeError``). A class whose chain cannot be followed statically is left out: the validator
then falls back to ``airflow_changes.json`` and never errs on what it cannot see. The task
context of each version (``KNOWN_CONTEXT_KEYS``, and the keys Airflow 2 warns about) is recorded too.

    python scripts/generate_signatures.py          # rewrite the data files
    python scripts/generate_signatures.py --check  # exit 1 when they differ from the wheels

The download helpers are shared with ``tests/realworld`` (same cache, same timeout).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "layers/common/mwaa_control_plane/dags/validation/data/signatures"

#: Seconds pip may wait on one socket operation, and on one whole download.
SOCKET_TIMEOUT = 30
DOWNLOAD_TIMEOUT = 300

# What pip prints when it cannot reach the index at all (as opposed to "no such version").
_UNREACHABLE = re.compile(
    r"NewConnectionError|ConnectTimeoutError|ReadTimeoutError|Failed to establish a new connection|"
    r"Temporary failure in name resolution|Name or service not known|Network is unreachable|"
    r"Connection refused|ProxyError|Max retries exceeded|connection broken|SSLError|No route to host"
)


class IndexUnreachableError(RuntimeError):
    """The package index did not answer: callers may skip rather than fail."""


class DownloadError(RuntimeError):
    """pip reached the index and still failed (a wrong pin, a missing wheel)."""


@dataclass(frozen=True)
class Reference:
    """One reference Airflow version: the wheels that make it up and where its operators live."""

    airflow_version: str
    #: Pinned requirement specifiers, as MWAA installs them (constraints of that Airflow version).
    wheels: tuple[str, ...]
    #: Packages (dotted) whose modules define the operators users instantiate.
    operator_packages: tuple[str, ...]
    #: Modules whose ``__deprecated_classes`` map old import paths onto those operators.
    alias_modules: tuple[str, ...] = ("airflow.operators", "airflow.sensors")


REFERENCES: tuple[Reference, ...] = (
    Reference(
        airflow_version="2.10.3",
        wheels=("apache-airflow==2.10.3",),
        operator_packages=("airflow.operators", "airflow.sensors"),
    ),
    Reference(
        airflow_version="3.0.6",
        # MWAA 3.0.6 installs the constraint file of Airflow 3.0.6: task SDK 1.0.6, standard provider 1.6.0.
        wheels=(
            "apache-airflow-core==3.0.6",
            "apache-airflow-task-sdk==1.0.6",
            "apache-airflow-providers-standard==1.6.0",
        ),
        operator_packages=("airflow.providers.standard.operators", "airflow.providers.standard.sensors"),
    ),
)


# ---------------------------------------------------------------------------------------------
# Downloads


def cache_dir() -> Path:
    """Where downloaded wheels are kept: ``$XDG_CACHE_HOME`` or the system temp dir."""
    base = os.environ.get("XDG_CACHE_HOME") or tempfile.gettempdir()
    return Path(base) / "mwaa-control-plane" / "wheels"


def _wheel_prefix(spec: str) -> str:
    name, _, version = spec.partition("==")
    return f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-"


def fetch_wheel(spec: str, cache: Path | None = None) -> Path:
    """The wheel of ``spec`` (``name==version``), downloaded once into the cache.

    Raises ``IndexUnreachableError`` when the index cannot be reached, ``DownloadError`` otherwise.
    """
    folder = (cache or cache_dir()) / spec.replace("==", "-")
    prefix = _wheel_prefix(spec)
    found = sorted(p for p in folder.glob("*.whl") if p.name.lower().startswith(prefix))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as partial:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--timeout",
            str(SOCKET_TIMEOUT),
            "--retries",
            "2",
            "--dest",
            partial,
            spec,
        ]
        try:
            # The command is this interpreter's pip with fixed options and a pinned spec from this file.
            done = subprocess.run(  # noqa: S603
                command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise IndexUnreachableError(f"pip download {spec} took more than {DOWNLOAD_TIMEOUT} s") from exc
        output = done.stdout + done.stderr
        if done.returncode != 0:
            if _UNREACHABLE.search(output):
                raise IndexUnreachableError(f"package index unreachable for {spec}: {output.strip()[-400:]}")
            raise DownloadError(f"pip download {spec} failed:\n{output.strip()[-2000:]}")
        wheels = [p for p in Path(partial).glob("*.whl") if p.name.lower().startswith(prefix)]
        if len(wheels) != 1:
            raise DownloadError(f"pip download {spec} gave {sorted(p.name for p in Path(partial).iterdir())}")
        target = folder / wheels[0].name
        # Atomic: a concurrent test worker either sees the whole wheel or none.
        os.replace(wheels[0], target)
    return target


# ---------------------------------------------------------------------------------------------
# Reading modules out of wheels


class Sources:
    """The Python modules of several wheels, by dotted name; parsed on first use."""

    def __init__(self, wheels: Sequence[Path]) -> None:
        self._members: dict[str, tuple[Path, str]] = {}
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if not member.endswith(".py") or ".dist-info/" in member:
                        continue
                    parts = member[:-3].split("/")
                    if parts[-1] == "__init__":
                        parts.pop()
                    self._members.setdefault(".".join(parts), (wheel, member))
        self._trees: dict[str, ast.Module | None] = {}

    def modules_under(self, package: str) -> list[str]:
        return sorted(m for m in self._members if m == package or m.startswith(package + "."))

    def tree(self, module: str) -> ast.Module | None:
        if module not in self._trees:
            where = self._members.get(module)
            if where is None:
                self._trees[module] = None
            else:
                with zipfile.ZipFile(where[0]) as archive:
                    self._trees[module] = ast.parse(archive.read(where[1]).decode("utf-8"))
        return self._trees[module]

    def is_package(self, module: str) -> bool:
        where = self._members.get(module)
        return where is not None and where[1].endswith("__init__.py")


_VERSION_FLAG = re.compile(r"AIRFLOW_V_(\d+)_(\d+)(?:_(\d+))?_PLUS")
_AMBIGUOUS = "<ambiguous>"


@dataclass
class ModuleNames:
    """What the top-level names of a module are bound to when Airflow imports it."""

    names: dict[str, str] = field(default_factory=dict)  # local name -> "module.Name" it refers to
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    deprecated_classes: dict[str, dict[str, str]] = field(default_factory=dict)


class Resolver:
    """Top-level bindings of modules, with ``if`` tests on Airflow's version flags evaluated."""

    def __init__(self, sources: Sources, version: tuple[int, int, int]) -> None:
        self.sources = sources
        self.version = version
        self._modules: dict[str, ModuleNames | None] = {}

    def module(self, name: str) -> ModuleNames | None:
        if name not in self._modules:
            tree = self.sources.tree(name)
            self._modules[name] = None if tree is None else self._bind_module(name, tree)
        return self._modules[name]

    def _condition(self, test: ast.expr) -> bool | None:
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self._condition(test.operand)
            return None if inner is None else not inner
        name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else None
        if name == "TYPE_CHECKING":
            return False
        match = _VERSION_FLAG.fullmatch(name or "")
        if match:
            wanted = tuple(int(g or 0) for g in match.groups())
            return self.version >= wanted
        return None

    def _bind_module(self, module: str, tree: ast.Module) -> ModuleNames:
        result = ModuleNames()
        package = module if self.sources.is_package(module) else module.rpartition(".")[0]
        self._bind(tree.body, module, package, result)
        return result

    def _bind(self, body: Iterable[ast.stmt], module: str, package: str, result: ModuleNames) -> None:
        for node in body:
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")
                    parent = parent[: len(parent) - (node.level - 1)]
                    base = ".".join([*parent, base] if base else parent)
                for alias in node.names:
                    if alias.name != "*":
                        self._set(result, alias.asname or alias.name, f"{base}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self._set(result, alias.asname, alias.name)
            elif isinstance(node, ast.ClassDef):
                result.names[node.name] = f"{module}.{node.name}"
                result.classes[node.name] = node
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                target = node.targets[0].id
                if isinstance(node.value, ast.Name) and node.value.id in result.names:
                    self._set(result, target, result.names[node.value.id])
                else:
                    self._module_table(target, node.value, package, result)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                self._module_table(node.target.id, node.value, package, result)
            elif isinstance(node, ast.If):
                taken = self._condition(node.test)
                if taken is True:
                    self._bind(node.body, module, package, result)
                elif taken is False:
                    self._bind(node.orelse, module, package, result)
                else:
                    before = dict(result.names)
                    self._bind(node.body, module, package, result)
                    first = dict(result.names)
                    result.names = dict(before)
                    self._bind(node.orelse, module, package, result)
                    for name in set(first) | set(result.names):
                        if first.get(name) != result.names.get(name):
                            result.names[name] = _AMBIGUOUS
            elif isinstance(node, ast.Try):
                # The body is what runs when its imports succeed, and every module here is installed.
                self._bind(node.body, module, package, result)
                self._bind(node.orelse, module, package, result)

    def _module_table(self, target: str, value: ast.expr, package: str, result: ModuleNames) -> None:
        """Airflow's tables of lazily imported and deprecated names (read, never executed)."""
        if target not in ("__deprecated_classes", "__lazy_imports"):
            return
        try:
            table = ast.literal_eval(value)
        except ValueError:
            return
        if target == "__deprecated_classes":
            result.deprecated_classes = table
            return
        for name, module in table.items():
            # module.__getattr__ imports ``module`` (relative to the package when it starts with a dot).
            absolute = package + module if module.startswith(".") else module
            result.names.setdefault(name, f"{absolute}.{name}")

    @staticmethod
    def _set(result: ModuleNames, name: str, target: str) -> None:
        result.names[name] = target
        result.classes.pop(name, None)

    def resolve_class(self, dotted: str, seen: frozenset[str] = frozenset()) -> tuple[str, ast.ClassDef] | None:
        """The class ``dotted`` ("module.Name") finally refers to, following re-exports."""
        if dotted in seen:
            return None
        module, _, name = dotted.rpartition(".")
        info = self.module(module) if module else None
        if info is None:
            return None
        if name in info.classes:
            return f"{module}.{name}", info.classes[name]
        target = info.names.get(name)
        if target is None or target == _AMBIGUOUS:
            return None
        return self.resolve_class(target, seen | {dotted})

    def base_names(self, qualname: str, node: ast.ClassDef) -> list[str | None]:
        """Qualified names of a class's bases (None for one that is not a plain name)."""
        module = qualname.rpartition(".")[0]
        info = self.module(module)
        names: list[str | None] = []
        for base in node.bases:
            if isinstance(base, ast.Subscript):
                base = base.value  # Generic[T]
            dotted = _dotted(base)
            if dotted is None or info is None:
                names.append(None)
                continue
            head, _, rest = dotted.partition(".")
            bound = info.names.get(head)
            if bound == _AMBIGUOUS:
                names.append(None)
            elif bound is not None:
                names.append(f"{bound}.{rest}" if rest else bound)
            else:
                names.append(dotted if "." in dotted else f"builtins.{dotted}")
        return names


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


# ---------------------------------------------------------------------------------------------
# Following an __init__ chain


#: Bases that take part in the MRO without an ``__init__`` of interest.
_INERT_BASES = frozenset({"builtins.object", "typing.Generic", "typing.Protocol", "abc.ABC"})
#: Class decorators that leave an ``__init__`` written in the class body as it is.
# (``deprecated`` wraps the class to warn when it is created, with the same arguments.)
_KEEPS_INIT = frozenset({"total_ordering", "dataclass", "deprecated"})


@dataclass(eq=False)
class Klass:
    qualname: str
    node: ast.ClassDef | None  # None: a base whose code is not read
    bases: list[Klass]
    #: A base outside the wheels (or computed): fine in the MRO, fatal if the chain reaches it.
    opaque: bool = False


@dataclass
class Chain:
    """What an operator's ``__init__`` chain does with keyword arguments."""

    params: set[str] = field(default_factory=set)
    dropped: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The ``__init__`` that ends the chain (raises for leftover keywords) and its class.
    terminal: ast.FunctionDef | None = None
    terminal_owner: str = ""


class Unfollowable(Exception):
    """The chain cannot be followed statically: the class is left out of the data."""


class Analyzer:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._classes: dict[str, Klass] = {}

    def klass(self, qualname: str, node: ast.ClassDef | None = None, depth: int = 0) -> Klass:
        if qualname in self._classes:
            return self._classes[qualname]
        if depth > 50:
            raise Unfollowable(f"class hierarchy of {qualname} too deep")
        if qualname in _INERT_BASES:
            return self._classes.setdefault(qualname, Klass(qualname, None, []))
        if node is None:
            resolved = self.resolver.resolve_class(qualname)
            if resolved is None:
                return self._classes.setdefault(qualname, Klass(qualname, None, [], opaque=True))
            qualname, node = resolved
            if qualname in self._classes:
                return self._classes[qualname]
        bases = []
        for index, base in enumerate(self.resolver.base_names(qualname, node)):
            name = base if base is not None else f"{qualname}.<base {index}>"
            bases.append(self.klass(name, None, depth + 1))
        found = Klass(qualname, node, bases)
        self._classes[qualname] = found
        return found

    def mro(self, klass: Klass) -> list[Klass]:
        """C3 linearization, as Python computes it (an opaque base counts as one class)."""
        sequences = [self.mro(base) for base in klass.bases] + [list(klass.bases)]
        result = [klass]
        while True:
            sequences = [s for s in sequences if s]
            if not sequences:
                return result
            for sequence in sequences:
                head = sequence[0]
                if not any(head in s[1:] for s in sequences):
                    break
            else:
                raise Unfollowable(f"no consistent MRO for {klass.qualname}")
            result.append(head)
            for sequence in sequences:
                if sequence[0] is head:
                    del sequence[0]

    def chain(self, klass: Klass) -> Chain:
        order = self.mro(klass)
        chain = Chain()
        position = 0
        while True:
            init, position = _next_init(order, position)
            if init is None:
                raise Unfollowable(f"{klass.qualname}: the chain reaches object.__init__ with keywords left")
            owner = order[position]
            assert owner.node is not None
            for decorator in owner.node.decorator_list:
                name = _dotted(decorator.func if isinstance(decorator, ast.Call) else decorator) or "?"
                # A dataclass keeps an __init__ the class defines; any other decorator may replace or wrap it.
                if name.rpartition(".")[2] not in _KEEPS_INIT:
                    raise Unfollowable(f"{owner.qualname} is decorated with {name}")
            if any(isinstance(i, ast.FunctionDef) and i.name == "_hook_apply_defaults" for i in owner.node.body):
                raise Unfollowable(f"{owner.qualname} rewrites its arguments before __init__")
            _read_init(init, owner.qualname, chain)
            step = _forwarding(init)
            if step == "strict":
                chain.terminal, chain.terminal_owner = init, owner.qualname
                return chain
            if step == "super":
                position += 1
                continue
            raise Unfollowable(f"{owner.qualname}.__init__ does not hand **kwargs to super().__init__")


def _next_init(order: list[Klass], start: int) -> tuple[ast.FunctionDef | None, int]:
    """The next class from ``start`` in the MRO that defines ``__init__``."""
    for index in range(start, len(order)):
        klass = order[index]
        if klass.opaque:
            raise Unfollowable(f"the chain reaches {klass.qualname}, whose code is not in the wheels")
        if klass.node is None:
            continue
        for item in klass.node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                return item, index
    return None, len(order)


def _var_keyword(init: ast.FunctionDef) -> str | None:
    return init.args.kwarg.arg if init.args.kwarg is not None else None


def _read_init(init: ast.FunctionDef, owner: str, chain: Chain) -> None:
    args = init.args
    for arg in (*args.posonlyargs, *args.args[1:], *args.kwonlyargs):
        chain.params.add(arg.arg)
    kwargs = _var_keyword(init)
    if kwargs is None:
        return
    for statement, conditions in _statements(init.body, ()):
        for call in _calls(statement):
            key = _kwargs_call_key(call, kwargs, "pop")
            if key is None or key in chain.dropped or key in chain.params:
                continue
            when = "always"
            for test in conditions:
                if _kwargs_call_key(test, kwargs, "get") == key:
                    when = "truthy"
                elif _is_membership(test, key, kwargs):
                    when = "present"
            warns = any(_warns(block) for block in _blocks_testing(init.body, key, kwargs))
            chain.dropped[key] = {"when": when, "warns": warns, "by": owner.rpartition(".")[2]}


def _statements(
    body: list[ast.stmt], conditions: tuple[ast.expr, ...]
) -> Iterator[tuple[ast.stmt, tuple[ast.expr, ...]]]:
    """Each simple statement of ``body`` with the ``if`` tests it is nested under."""
    for statement in body:
        if isinstance(statement, ast.If):
            yield from _statements(statement.body, (*conditions, statement.test))
            yield from _statements(statement.orelse, conditions)
        elif isinstance(statement, ast.With | ast.For | ast.While | ast.Try):
            inner = [*statement.body, *getattr(statement, "orelse", []), *getattr(statement, "finalbody", [])]
            yield from _statements(inner, conditions)
        else:
            yield statement, conditions


def _calls(node: ast.AST) -> Iterator[ast.Call]:
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            yield child


def _kwargs_call_key(node: ast.AST, kwargs: str, method: str) -> str | None:
    """``key`` in ``kwargs.<method>("key", ...)``."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == kwargs
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _is_membership(test: ast.expr, key: str, kwargs: str) -> bool:
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.In)
        and isinstance(test.left, ast.Constant)
        and test.left.value == key
        and isinstance(test.comparators[0], ast.Name)
        and test.comparators[0].id == kwargs
    )


def _blocks_testing(body: list[ast.stmt], key: str, kwargs: str) -> Iterator[ast.If]:
    for node in body:
        for child in ast.walk(node):
            if isinstance(child, ast.If) and (
                _kwargs_call_key(child.test, kwargs, "get") == key or _is_membership(child.test, key, kwargs)
            ):
                yield child


def _warns(block: ast.If) -> bool:
    calls = (call for statement in block.body for call in _calls(statement))
    return any(_dotted(call.func) in ("warnings.warn", "warn") for call in calls)


def _forwarding(init: ast.FunctionDef) -> str:
    """ "super": leftover keywords go on to the next ``__init__``; "strict": they raise here."""
    kwargs = _var_keyword(init)
    if kwargs is None:
        return "strict"  # Python itself raises TypeError for an unexpected keyword
    for call in _calls(init):
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "__init__"
            and isinstance(func.value, ast.Call)
            and _dotted(func.value.func) == "super"
            and any(k.arg is None and isinstance(k.value, ast.Name) and k.value.id == kwargs for k in call.keywords)
        ):
            return "super"
    for node in ast.walk(init):
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == kwargs
            and any(isinstance(child, ast.Raise) for child in ast.walk(node))
        ):
            return "strict"
    return "open"


def _strict_raise(init: ast.FunctionDef) -> tuple[str, str | None]:
    """The exception the end of the chain raises for leftover keywords, and the config that lifts it."""
    kwargs = _var_keyword(init)
    if kwargs is None:
        return "TypeError", None
    for node in ast.walk(init):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == kwargs:
            unless = None
            for inner in ast.walk(node):
                if isinstance(inner, ast.If):
                    for call in _calls(inner.test):
                        if _dotted(call.func) in ("conf.getboolean", "conf.get") and len(call.args) == 2:
                            section, key = (a.value if isinstance(a, ast.Constant) else "?" for a in call.args)
                            unless = f"[{section}] {str(key).lower()}"
                if isinstance(inner, ast.Raise) and inner.exc is not None:
                    exc = inner.exc.func if isinstance(inner.exc, ast.Call) else inner.exc
                    return _dotted(exc) or "Exception", unless
    return "TypeError", None


# ---------------------------------------------------------------------------------------------
# One reference version


def generate(reference: Reference, wheels: Sequence[Path]) -> dict[str, Any]:
    """The signatures document of ``reference`` from its wheels."""
    version = tuple(int(p) for p in reference.airflow_version.split("."))
    assert len(version) == 3
    sources = Sources(wheels)
    resolver = Resolver(sources, (version[0], version[1], version[2]))
    analyzer = Analyzer(resolver)
    operators: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    base: set[str] | None = None
    raises: tuple[str, str | None] | None = None
    for package in reference.operator_packages:
        for module in sources.modules_under(package):
            info = resolver.module(module)
            if info is None:
                continue
            for name, node in sorted(info.classes.items()):
                if name.startswith("_") or module.rpartition(".")[2].startswith("_"):
                    continue
                qualname = f"{module}.{name}"
                try:
                    klass = analyzer.klass(qualname, node)
                    if not any(k.qualname.endswith(".BaseOperator") for k in analyzer.mro(klass)):
                        continue
                    chain = analyzer.chain(klass)
                except Unfollowable as exc:
                    skipped[qualname] = str(exc)
                    continue
                assert chain.terminal is not None
                terminal = Chain()
                _read_init(chain.terminal, chain.terminal_owner, terminal)
                if base is None:
                    base, raises = terminal.params, _strict_raise(chain.terminal)
                elif base != terminal.params:
                    raise SystemExit(f"{qualname}: its chain ends in {chain.terminal_owner}, not the other operators'")
                entry: dict[str, Any] = {"params": sorted(chain.params - base)}
                dropped = {k: v for k, v in chain.dropped.items() if not k.startswith("_")}
                if dropped:
                    entry["dropped"] = dict(sorted(dropped.items()))
                operators[qualname] = entry
    aliases: dict[str, str] = {}
    for module in reference.alias_modules:
        info = resolver.module(module)
        for old_module, names in sorted((info.deprecated_classes if info else {}).items()):
            for old, new in sorted(names.items()):
                if new in operators:
                    aliases[f"{module}.{old_module}.{old}"] = new
    if base is None or raises is None:
        raise SystemExit(f"no operator found for {reference.airflow_version}")
    return {
        "_source": (
            "Generated by scripts/generate_signatures.py from the released wheels "
            f"{', '.join(reference.wheels)} (ast only, nothing imported). Do not edit by hand."
        ),
        "airflow_version": reference.airflow_version,
        "wheels": list(reference.wheels),
        "invalid_arguments": {"raises": raises[0], "unless": raises[1]},
        "base_params": sorted(base),
        "operators": dict(sorted(operators.items())),
        "aliases": aliases,
        "not_followed": dict(sorted(skipped.items())),
        "context": context_keys(resolver),
    }


def context_keys(resolver: Resolver) -> dict[str, list[str]]:
    """The task context of the version: ``airflow.utils.context`` (core) in both majors.

    ``known``: ``KNOWN_CONTEXT_KEYS``, what a task may find in its context; ``deprecated``: the keys
    Airflow warns about when they are read (``Context._DEPRECATION_REPLACEMENTS``; Airflow 2 only).
    """
    tree = resolver.sources.tree("airflow.utils.context")
    if tree is None:
        raise SystemExit("airflow.utils.context is not in the wheels")
    known: set[str] | None = None
    deprecated: set[str] = set()
    for node in ast.walk(tree):
        target = node.target if isinstance(node, ast.AnnAssign) else None
        name = target.id if isinstance(target, ast.Name) else None
        if name == "KNOWN_CONTEXT_KEYS" and isinstance(node, ast.AnnAssign) and node.value is not None:
            known = set(ast.literal_eval(node.value))
        elif name == "_DEPRECATION_REPLACEMENTS" and isinstance(node, ast.AnnAssign) and node.value is not None:
            deprecated = set(ast.literal_eval(node.value))
    if known is None:
        raise SystemExit("KNOWN_CONTEXT_KEYS not found in airflow.utils.context")
    return {"known": sorted(known), "deprecated": sorted(deprecated)}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=False) + "\n"


def path_for(reference: Reference) -> Path:
    return DATA / f"airflow-{reference.airflow_version}.json"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped files instead of writing")
    options = parser.parse_args(argv)
    stale = []
    for reference in REFERENCES:
        wheels = [fetch_wheel(spec) for spec in reference.wheels]
        text = render(generate(reference, wheels))
        target = path_for(reference)
        if options.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                stale.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target.relative_to(REPO)}")
    for target in stale:
        print(f"{target.relative_to(REPO)} differs from the wheels; run scripts/generate_signatures.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
