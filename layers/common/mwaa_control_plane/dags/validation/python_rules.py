"""Rules on Python source: one ``ast.parse`` and one pass over the tree per file.

The checked code is never imported, compiled for execution or run. The pass keeps just
enough state to follow what Airflow would do at parse time: import aliases, which code
runs at import (module level and ``@dag`` bodies), the DAG and TaskGroup a task is created
in, and the tasks a variable holds so that ``>>``, ``chain`` and TaskFlow arguments can be
turned into a dependency graph. Whatever it cannot follow statically (ids computed at run
time, tasks created in loops, DAG factories) it leaves alone or reports as ``dag-dynamic``;
it never turns uncertainty into an error.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from mwaa_control_plane.dags.validation.credentials import is_literal_secret, is_secret_name
from mwaa_control_plane.dags.validation.imports import NAMESPACE_PARENTS, ImportEnv, Resolution
from mwaa_control_plane.dags.validation.models import Finding
from mwaa_control_plane.dags.validation.rules import finding
from mwaa_control_plane.dags.validation.schedule import schedule_problem
from mwaa_control_plane.dags.validation.target import DATA, ArgumentChange, Target, Version, airflow_changes
from mwaa_control_plane.versions import release

Role = Literal["dag", "plugin"]

# Airflow's KEY_REGEX / GROUP_KEY_REGEX (airflow.utils.helpers): \w is Unicode-aware there too.
_KEY = re.compile(r"[\w.-]+")
_GROUP_KEY = re.compile(r"[\w-]+")
_MAX_KEY = 250
_MAX_GROUP_KEY = 200

_DAG_DECORATORS = frozenset({"airflow.decorators.dag", "airflow.sdk.dag", "airflow.decorators.dag.dag"})
_TASK_DECORATOR_BASES = ("airflow.decorators.task", "airflow.sdk.task", "airflow.decorators.setup", "airflow.sdk.setup")
_TASK_DECORATOR_EXTRA = frozenset({"airflow.decorators.teardown", "airflow.sdk.teardown"})
_NOT_TASK_DECORATORS = frozenset({"run_if", "skip_if"})
_TASK_GROUP_DECORATORS = frozenset({"airflow.decorators.task_group", "airflow.sdk.task_group"})
_DEPENDENCY_HELPERS = frozenset({"chain", "chain_linear", "cross_downstream"})

_NONDETERMINISTIC = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.now",
        "datetime.utcnow",
        "pendulum.now",
        "pendulum.DateTime.now",
        "pendulum.DateTime.utcnow",
        "airflow.utils.timezone.utcnow",
        "airflow.utils.timezone.datetime.now",
        "time.time",
        "time.time_ns",
        "uuid.uuid1",
        "uuid.uuid4",
        "os.urandom",
    }
)
_NONDETERMINISTIC_PREFIXES = ("random.", "secrets.", "numpy.random.")

_CLIENT_EXACT = frozenset(
    {
        "urllib.request.urlopen",
        "socket.create_connection",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
        "psycopg2.connect",
        "psycopg.connect",
        "pymysql.connect",
        "MySQLdb.connect",
        "mysql.connector.connect",
        "sqlite3.connect",
        "sqlalchemy.create_engine",
        "snowflake.connector.connect",
        "redshift_connector.connect",
        "pymongo.MongoClient",
        "redis.Redis",
        "redis.StrictRedis",
        "redis.from_url",
        "cx_Oracle.connect",
        "oracledb.connect",
        "pyodbc.connect",
        "pymssql.connect",
        "hvac.Client",
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
        "ftplib.FTP",
        "kafka.KafkaConsumer",
        "kafka.KafkaProducer",
        "botocore.session.get_session",
    }
)
_CLIENT_PREFIXES = ("boto3.", "requests.", "httpx.", "aiohttp.", "urllib3.request", "google.cloud.")
_SUBPROCESS_EXACT = frozenset(
    {"os.system", "os.popen", "os.spawnl", "os.spawnlp", "os.spawnv", "os.spawnvp", "os.execv"}
)
_HOOK_METHODS = frozenset(
    {
        "get_conn",
        "get_connection",
        "get_records",
        "get_first",
        "get_pandas_df",
        "get_df",
        "run",
        "get_client_type",
        "get_resource_type",
        "get_session",
        "get_credentials",
        "test_connection",
    }
)
_HEAVY_MODULES = frozenset(
    {
        "pandas",
        "numpy",
        "scipy",
        "sklearn",
        "torch",
        "tensorflow",
        "keras",
        "transformers",
        "matplotlib",
        "seaborn",
        "plotly",
        "pyspark",
        "polars",
        "dask",
        "xgboost",
        "lightgbm",
        "catboost",
        "spacy",
        "nltk",
        "cv2",
        "statsmodels",
        "pyarrow",
        "great_expectations",
    }
)
# Tasks whose code runs in another interpreter: their imports are resolved there, not on the workers.
_ISOLATED_TASK_DECORATORS = frozenset(
    {"virtualenv", "external_python", "branch_virtualenv", "branch_external_python", "docker", "kubernetes", "pyspark"}
)
_ISOLATED_OPERATORS = ("VirtualenvOperator", "ExternalPythonOperator", "DockerOperator", "KubernetesPodOperator")
# TriggerDagRunOperator(execution_date=): deprecated in 2.6 for logical_date, gone from the operator in 3.0.
_TRIGGER_EXECUTION_DATE = ArgumentChange("execution_date", (2, 6, 0), (3, 0, 0), "logical_date")
_CONTEXT_NAMES = frozenset({"context", "kwargs", "ctx", "kw", "ti_context"})
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_JINJA_OPEN = r"\{\{[^}]*?(?<![\w.])"


@cache
def _context_pattern(keys: frozenset[str]) -> re.Pattern[str]:
    """A context key used in a Jinja expression; the longest key first so that prefixes do not win."""
    alternatives = "|".join(sorted(keys, key=len, reverse=True))
    return re.compile(_JINJA_OPEN + "(?P<key>" + alternatives + r")\b")


def _airflow_path_note(target: Target, dotted: str, *, exact_only: bool) -> tuple[str, str] | None:
    """The finding (rule, message) an import of the Airflow path ``dotted`` deserves on ``target``."""
    changes = airflow_changes()
    change = changes.exact.get(dotted) if exact_only else changes.lookup(dotted)
    if change is None:
        return None
    status = target.status(change.deprecated_in, change.removed_in)
    if status is None:
        return None
    hint = f"; use {change.replacement}" if change.replacement else ""
    if status == "removed":
        return "airflow-import-removed", f"'{dotted}' does not exist on Airflow {target.airflow_text}{hint}"
    return "airflow-import-deprecated", f"'{dotted}' is deprecated on Airflow {target.airflow_text}{hint}"


#: Per target, ``_airflow_path_note`` of the paths met so far: every file imports the same few.
_PATH_NOTES: dict[Target, dict[tuple[str, bool], tuple[str, str] | None]] = {}


_UNKNOWN = ("", "")  # sentinel: a path not in the notes yet
_MAX_PATH_NOTES = 10_000  # bound on what a long-lived process remembers


_KIND_OTHER, _KIND_DAG, _KIND_TASK_GROUP, _KIND_DEPENDENCY_HELPER, _KIND_HOOK, _KIND_NONDETERMINISTIC = range(6)


@cache
def _decorator_kind_of(qn: str) -> str | None:
    if qn in _DAG_DECORATORS:
        return "dag"
    if qn in _TASK_GROUP_DECORATORS:
        return "task_group"
    if qn in _TASK_DECORATOR_EXTRA:
        return "task"
    for base in _TASK_DECORATOR_BASES:
        if qn == base or (qn.startswith(base + ".") and qn.rsplit(".", 1)[1] not in _NOT_TASK_DECORATORS):
            return "task"
    return None


@cache
def _id_problem(rule: str, value: str, what: str) -> str | None:
    """Why ``value`` is not a valid dag_id/task_id/group_id (Airflow's validate_key), or None."""
    pattern, limit = (_GROUP_KEY, _MAX_GROUP_KEY) if rule == "group-id-invalid" else (_KEY, _MAX_KEY)
    if len(value) > limit:
        return f"{what} is {len(value)} characters long (max {limit})"
    if not pattern.fullmatch(value):
        allowed = "letters, digits, '_' and '-'" if rule == "group-id-invalid" else "letters, digits, '_', '.' and '-'"
        return f"{what} {value!r} may only contain {allowed}"
    return None


@cache
def _classify_call(qn: str) -> tuple[tuple[str, str] | None, int]:
    """What calling ``qn`` means: the parse-time-work finding it deserves, and its kind. Cached per name."""
    last = qn.rsplit(".", 1)[-1]
    kind = _KIND_OTHER
    if qn in _NONDETERMINISTIC or qn.startswith(_NONDETERMINISTIC_PREFIXES):
        return None, _KIND_NONDETERMINISTIC
    if last == "DAG":
        kind = _KIND_DAG
    elif last == "TaskGroup":
        kind = _KIND_TASK_GROUP
    elif last in _DEPENDENCY_HELPERS and qn.startswith("airflow"):
        kind = _KIND_DEPENDENCY_HELPER
    elif last.endswith("Hook"):
        kind = _KIND_HOOK
    work: tuple[str, str] | None = None
    if last == "get" and qn.endswith("Variable.get"):
        work = (
            "top-level-variable",
            "Variable.get() at parse time queries the secrets backend or the database at every parse; "
            "use a Jinja template ({{ var.value.name }}) or read it inside the task",
        )
    elif last in ("get_connection", "get_connection_from_secrets") or (last == "get" and qn.endswith("Connection.get")):
        work = (
            "top-level-connection",
            f"'{qn}()' at parse time looks the connection up at every parse; move it into the task",
        )
    elif qn in _CLIENT_EXACT or qn.startswith(_CLIENT_PREFIXES):
        work = (
            "top-level-client",
            f"'{qn}()' at parse time runs at every parse (30 s dagbag_import_timeout); move it into the task",
        )
    elif qn.startswith("subprocess.") or qn in _SUBPROCESS_EXACT:
        work = ("top-level-subprocess", f"'{qn}()' at parse time starts a process at every parse")
    elif qn == "time.sleep":
        work = ("top-level-sleep", "time.sleep() at parse time delays every parse of the DAGs folder")
    return work, kind


# ---------------------------------------------------------------------------------------------
# Operator signatures of the reference Airflow versions (data/signatures/, generated from the
# released wheels by scripts/generate_signatures.py): whether an operator accepts a keyword.


@dataclass(frozen=True, slots=True)
class _Dropped:
    """A keyword an operator's ``__init__`` pops from ``**kwargs`` instead of passing it on."""

    when: Literal["always", "truthy", "present"]
    warns: bool
    by: str  # the class that drops it


@dataclass(frozen=True, slots=True)
class _Operator:
    name: str  # the class name, for messages
    accepted: frozenset[str]
    dropped: dict[str, _Dropped]


@dataclass(frozen=True, slots=True)
class _Signatures:
    reference: str  # the Airflow version the wheels were
    raises: str  # what the end of the __init__ chain raises for a keyword nobody takes
    unless: str | None  # the Airflow setting that turns that error into a warning
    operators: dict[str, _Operator]  # by qualified name, deprecated import paths included
    context_known: frozenset[str]  # keys a task's context has (KNOWN_CONTEXT_KEYS)
    context_deprecated: frozenset[str]  # keys Airflow warns about when they are read


@cache
def _signature_files() -> dict[tuple[int, int], str]:
    """Data files by the (major, minor) of their reference version."""
    folder = DATA / "signatures"
    found: dict[tuple[int, int], str] = {}
    for entry in folder.iterdir():
        name = entry.name
        if name.startswith("airflow-") and name.endswith(".json"):
            major, minor, _ = release(name[len("airflow-") : -len(".json")])
            found[(major, minor)] = name
    return found


@cache
def signatures_for(major: int, minor: int) -> _Signatures | None:
    """The operator signatures of the reference version with this major.minor, or None (none shipped).

    A patch release does not change operator signatures; another minor may, so it gets no data and
    the argument rules fall back to ``airflow_changes.json``.
    """
    name = _signature_files().get((major, minor))
    if name is None:
        return None
    folder = DATA / "signatures"
    raw: dict[str, Any] = json.loads(folder.joinpath(name).read_text("utf-8"))
    base = frozenset(raw["base_params"])
    operators: dict[str, _Operator] = {}
    for qualname, entry in raw["operators"].items():
        dropped = {
            key: _Dropped(when=item["when"], warns=item["warns"], by=item["by"])
            for key, item in entry.get("dropped", {}).items()
        }
        operators[qualname] = _Operator(
            name=qualname.rsplit(".", 1)[-1], accepted=base | frozenset(entry["params"]), dropped=dropped
        )
    for old, new in raw["aliases"].items():
        operators[old] = operators[new]
    invalid = raw["invalid_arguments"]
    return _Signatures(
        reference=raw["airflow_version"],
        raises=invalid["raises"],
        unless=invalid["unless"],
        operators=operators,
        context_known=frozenset(raw["context"]["known"]),
        context_deprecated=frozenset(raw["context"]["deprecated"]),
    )


def _falsy_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and not node.value


@dataclass(frozen=True, slots=True)
class DagDef:
    """A DAG the file defines: static id and line, or ``dag_id=None`` when it is computed."""

    dag_id: str | None
    line: int


@dataclass(slots=True)
class PythonResult:
    findings: list[Finding]
    dags: list[DagDef]
    #: Something builds DAGs that static analysis cannot name (a loop, a factory).
    dynamic_dags: bool = False

    @property
    def defines_dag(self) -> bool:
        return bool(self.dags) or self.dynamic_dags


# ---------------------------------------------------------------------------------------------
# Values the pass tracks for expressions.


@dataclass(eq=False, slots=True)
class _Scope:
    """A DAG (or a @task_group body) that tasks are added to."""

    name: str
    line: int
    ids: dict[str, tuple[int, tuple[tuple[int, int], ...]]] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class _Task:
    scope: _Scope | None
    key: str | None  # node key in the dependency graph (None: not statically known)
    label: str
    line: int


@dataclass(eq=False, slots=True)
class _XCom:
    """An XComArg: the output of a task; passing it to another task creates a dependency."""

    task: _Task


@dataclass(eq=False, slots=True)
class _Refs:
    """A literal list or tuple of task references (None for an item that is not one)."""

    items: list[_Task | None]


@dataclass(eq=False, slots=True)
class _Group:
    scope: _Scope | None
    prefix: str | None  # prefix for children, "" when prefix_group_id=False, None when unknown


@dataclass(eq=False, slots=True)
class _TaskFlow:
    task_id: str
    group: bool = False


@dataclass(eq=False, slots=True)
class _DictLiteral:
    node: ast.Dict | ast.Call


class _Hook:
    """A hook instance: calling its methods at parse time opens connections."""


_HOOK = _Hook()
_Value = _Scope | _Task | _XCom | _Refs | _Group | _TaskFlow | _DictLiteral | _Hook | None


def _tasks_in(value: _Value) -> list[_Task] | None:
    """The tasks a value stands for in ``>>``; None when any part is unknown."""
    if isinstance(value, _Task):
        return [value]
    if isinstance(value, _XCom):
        return [value.task]
    if isinstance(value, _Refs):
        if any(item is None for item in value.items):
            return None
        return [item for item in value.items if item is not None]
    return None


def _constant_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _compatible(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> bool:
    """False when two code paths are in different arms of the same if/try: they never both run."""
    arms = dict(a)
    return all(arms.get(node, arm) == arm for node, arm in b)


class _Analyzer:
    # Slots: 33 attributes are more than CPython keeps inline, and every handler reads several.
    __slots__ = (
        "_lines",
        "aliases",
        "bindings",
        "branch",
        "called_names",
        "changes",
        "check_fstrings",
        "dag_functions",
        "dag_stack",
        "dags",
        "dynamic_line",
        "dynamic_reason",
        "edges",
        "findings",
        "fstring_suspect",
        "function_name",
        "group_stack",
        "guarded",
        "imports",
        "in_function",
        "isolated",
        "isolated_callables",
        "loop_depth",
        "nondeterministic_calls",
        "parse_time",
        "path_notes",
        "pending_task_imports",
        "role",
        "seen_context_lines",
        "signatures",
        "target",
        "taskflow_calls",
        "text",
        "type_checking",
    )

    def __init__(self, target: Target, imports: ImportEnv, role: Role, text: str = "") -> None:
        self.target = target
        self.text = text
        # PEP 701 f-strings parse on the Lambda's 3.12 but not on an older environment Python.
        self.check_fstrings = target.python < (3, 12)
        self.fstring_suspect = False
        self._lines: list[bytes] | None = None
        self.imports = imports
        self.role = role
        self.changes = airflow_changes()
        self.signatures = signatures_for(target.airflow[0], target.airflow[1])
        self.path_notes = _PATH_NOTES.setdefault(target, {})
        self.findings: list[Finding] = []
        self.dags: list[DagDef] = []
        self.dynamic_line: int | None = None
        self.dynamic_reason = ""
        self.aliases: dict[str, str] = {}
        self.bindings: dict[str, _Value] = {}
        self.dag_functions: dict[str, int] = {}
        self.called_names: set[str] = set()
        self.edges: list[tuple[_Task, _Task, int]] = []
        # Where the pass is.
        self.parse_time = True
        self.in_function = False
        self.loop_depth = 0
        self.guarded = 0
        self.type_checking = 0
        self.dag_stack: list[_Scope] = []
        self.group_stack: list[str | None] = []
        self.branch: tuple[tuple[int, int], ...] = ()
        self.taskflow_calls = 0
        # Code that runs in another interpreter (virtualenv, external Python, container): imports not ours to judge.
        self.isolated = 0
        self.function_name = ""
        self.pending_task_imports: list[tuple[str, Finding]] = []
        self.isolated_callables: set[str] = set()
        self.seen_context_lines: set[int] = set()
        #: Calls to now()/random/uuid seen so far; DAG arguments are checked against their positions.
        self.nondeterministic_calls: list[ast.Call] = []

    # -- plumbing -------------------------------------------------------------------------------

    def add(self, rule: str, message: str, line: int | None) -> None:
        if self.role == "plugin" and rule.startswith("top-level-"):
            return
        self.findings.append(finding(rule, message, line))

    def visit(self, node: ast.AST) -> _Value:
        kind = type(node)
        # Names and constants are half of all nodes: handled inline, without a dispatch call.
        if kind is ast.Name:
            return self.bindings.get(node.id)  # type: ignore[attr-defined]
        if kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if type(value) is str and "{{" in value:
                self._jinja(value, node.lineno)  # type: ignore[attr-defined]
            return None
        handler = _DISPATCH.get(kind)
        if handler is not None:
            return handler(self, node)
        for child in ast.iter_child_nodes(node):
            self.visit(child)
        return None

    def visit_all(self, nodes: Iterable[ast.AST]) -> None:
        # Statement lists: no statement is a Name or a Constant, so dispatch directly (one call less each).
        dispatch = _DISPATCH
        for node in nodes:
            handler = dispatch.get(type(node))
            if handler is not None:
                handler(self, node)
            else:
                self.visit(node)

    def _leaf(self, _node: ast.AST) -> _Value:
        return None

    def qualname(self, node: ast.expr) -> str | None:
        if type(node) is ast.Name:
            return self.aliases.get(node.id, node.id)
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        parts.append(self.aliases.get(node.id, node.id))
        parts.reverse()
        return ".".join(parts)

    def mark_dynamic(self, line: int, reason: str) -> None:
        if self.dynamic_line is None:
            self.dynamic_line = line
            self.dynamic_reason = reason

    # -- statements -----------------------------------------------------------------------------

    def _module(self, node: ast.Module) -> _Value:
        self.visit_all(node.body)
        return None

    def _check_import(self, module: str, line: int, names: Iterable[str] = ()) -> None:
        if self.type_checking:
            return
        resolution, why = self.imports.resolve(module)
        if resolution is Resolution.MISSING and not self.guarded and not self.isolated:
            if self.in_function:
                # Held back: the function may turn out to run in its own virtualenv or container.
                self.pending_task_imports.append(
                    (
                        self.function_name,
                        finding("import-unresolved-in-task", why + " (fails when the task runs)", line),
                    )
                )
            else:
                self.add("import-unresolved", why, line)
        elif resolution is Resolution.UNVERIFIED and not self.guarded:
            self.add("import-unverified", why, line)
        if names and resolution is Resolution.FOUND and module.startswith("airflow.providers.") and not self.guarded:
            # A name the provider version MWAA pins no longer defines (e.g. AwsLambdaHook on amazon 9.0.0).
            for rule, message in self.imports.missing_names(module, names):
                if self.in_function:
                    rule = "import-unresolved-in-task"
                    self.pending_task_imports.append(
                        (self.function_name, finding(rule, message + " (fails when the task runs)", line))
                    )
                else:
                    self.add(rule, message, line)
        if module == "airflow" or module.startswith("airflow."):
            self._check_airflow_path(module, line)
            for name in names:
                self._check_airflow_path(f"{module}.{name}", line, exact_only=True)
        if self.parse_time and module.partition(".")[0] in _HEAVY_MODULES:
            self.add(
                "top-level-heavy-import",
                f"'{module}' is imported at module level and loaded at every parse; import it inside the task",
                line,
            )

    def _check_airflow_path(self, dotted: str, line: int, *, exact_only: bool = False) -> None:
        key = (dotted, exact_only)
        note = self.path_notes.get(key, _UNKNOWN)
        if note is _UNKNOWN:
            note = _airflow_path_note(self.target, dotted, exact_only=exact_only)
            if len(self.path_notes) < _MAX_PATH_NOTES:
                self.path_notes[key] = note
        if note is not None:
            self.add(note[0], note[1], line)

    def _import(self, node: ast.Import) -> _Value:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                head = alias.name.partition(".")[0]
                self.aliases[head] = head
            self._check_import(alias.name, node.lineno)
        return None

    def _import_from(self, node: ast.ImportFrom) -> _Value:
        module = node.module or ""
        if node.level:
            for alias in node.names:
                self.aliases[alias.asname or alias.name] = "." * node.level + f"{module}.{alias.name}"
            return None
        names = [alias.name for alias in node.names if alias.name != "*"]
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
        if module in NAMESPACE_PARENTS and names:
            # from google.cloud import bigquery: the names are the packages to find.
            for name in names:
                self._check_import(f"{module}.{name}", node.lineno)
            return None
        self._check_import(module, node.lineno, names)
        return None

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> _Value:
        # Decorators and defaults run when the def statement runs.
        visit = self.visit
        decorators = node.decorator_list
        for decorator in decorators:
            visit(decorator)
        for default in node.args.defaults:
            visit(default)
        for kw_default in node.args.kw_defaults:
            if kw_default is not None:
                visit(kw_default)
        kind: str | None = None
        decorator_call: ast.Call | None = None
        decorator_qn: str | None = None
        for decorator in decorators:
            call = decorator if isinstance(decorator, ast.Call) else None
            qn = self.qualname(call.func if call else decorator)
            kind = _decorator_kind_of(qn) if qn is not None else None
            if kind is not None:
                decorator_call, decorator_qn = call, qn
                break
        if kind == "dag":
            self._dag_function(node, decorator_call)
            return None
        if kind in ("task", "task_group"):
            explicit = (
                _constant_str(_keyword(decorator_call, "task_id" if kind == "task" else "group_id"))
                if (decorator_call)
                else None
            )
            task_id = explicit or node.name
            self.bindings[node.name] = _TaskFlow(task_id=task_id, group=kind == "task_group")
            self._check_context_params(node)
            if kind == "task":
                self._check_id("task-id-invalid", task_id, node.lineno, "task_id")
                isolated = decorator_qn is not None and decorator_qn.rsplit(".", 1)[-1] in _ISOLATED_TASK_DECORATORS
                self.isolated += isolated
                self._body(node, parse_time=False, scope=None)
                self.isolated -= isolated
            else:
                self._check_id("group-id-invalid", task_id, node.lineno, "group_id")
                scope = _Scope(name=f"@task_group {node.name}", line=node.lineno)
                self._body(node, parse_time=False, scope=scope, in_function=False)
            return None
        self.bindings.pop(node.name, None)
        self._body(node, parse_time=False, scope=None)
        return None

    def _body(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        *,
        parse_time: bool,
        scope: _Scope | None,
        in_function: bool = True,
    ) -> None:
        saved = (
            self.parse_time,
            self.in_function,
            self.loop_depth,
            self.dag_stack,
            self.group_stack,
            self.branch,
            dict(self.bindings),
            self.function_name,
        )
        if not self.in_function:
            self.function_name = node.name
        self.parse_time = parse_time
        self.in_function = in_function
        self.loop_depth = 0
        self.dag_stack = [scope] if scope is not None else []
        self.group_stack = []
        self.branch = ()
        self.visit_all(node.body)
        (
            self.parse_time,
            self.in_function,
            self.loop_depth,
            self.dag_stack,
            self.group_stack,
            self.branch,
            self.bindings,
            self.function_name,
        ) = saved

    def _dag_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, decorator: ast.Call | None) -> None:
        dag_id_node = (decorator.args[0] if decorator.args else _keyword(decorator, "dag_id")) if decorator else None
        dag_id = _constant_str(dag_id_node) if dag_id_node is not None else node.name
        if not self.in_function:
            self.dag_functions[node.name] = node.lineno
        self._dag_arguments(decorator, node.lineno)
        scope = self._register_dag(dag_id, dag_id_node, node.lineno)
        # The body of a @dag function runs when the function is called at module level: parse time.
        self._body(node, parse_time=self.parse_time and not self.in_function, scope=scope, in_function=False)

    def _class(self, node: ast.ClassDef) -> _Value:
        self.visit_all(node.bases)
        self.visit_all(node.decorator_list)
        self.visit_all(node.body)
        # From here on the name is the file's own class (often a subclass named like the operator it
        # extends), not the imported one: its signature is not Airflow's.
        self.aliases.pop(node.name, None)
        return None

    def _bind(self, target: ast.expr, value: _Value) -> None:
        if isinstance(target, ast.Name):
            self.bindings[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            items = value.items if isinstance(value, _Refs) and len(value.items) == len(target.elts) else None
            for index, element in enumerate(target.elts):
                self._bind(element, items[index] if items is not None else None)
        elif isinstance(target, ast.Subscript):
            base = target.value
            if isinstance(base, ast.Call) and self.qualname(base.func) in ("globals", "vars"):
                self.mark_dynamic(target.lineno, "DAGs are assigned through globals()")
            self.visit(target)
        else:
            self.visit(target)

    def _assign(self, node: ast.Assign) -> _Value:
        value = self.visit(node.value)
        literal = _constant_str(node.value)
        for target in node.targets:
            self._bind(target, value)
            if literal is not None and isinstance(target, ast.Name) and is_secret_name(target.id):
                self._literal_secret(target.id, literal, node.lineno)
        return None

    def _ann_assign(self, node: ast.AnnAssign) -> _Value:
        value = self.visit(node.value) if node.value is not None else None
        self._bind(node.target, value)
        literal = _constant_str(node.value)
        if literal is not None and isinstance(node.target, ast.Name) and is_secret_name(node.target.id):
            self._literal_secret(node.target.id, literal, node.lineno)
        return None

    def _aug_assign(self, node: ast.AugAssign) -> _Value:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.bindings.pop(node.target.id, None)
        return None

    def _expr_stmt(self, node: ast.Expr) -> _Value:
        self.visit(node.value)
        return None

    def _return(self, node: ast.Return) -> _Value:
        if node.value is not None:
            self.visit(node.value)
        return None

    def _with(self, node: ast.With | ast.AsyncWith) -> _Value:
        pushed_dags = 0
        pushed_groups = 0
        for item in node.items:
            value = self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind(item.optional_vars, value)
            if isinstance(value, _Scope):
                self.dag_stack.append(value)
                pushed_dags += 1
            elif isinstance(value, _Group):
                self.group_stack.append(value.prefix)
                if value.scope is not None and (not self.dag_stack or self.dag_stack[-1] is not value.scope):
                    self.dag_stack.append(value.scope)
                    pushed_dags += 1
                pushed_groups += 1
        self.visit_all(node.body)
        del self.dag_stack[len(self.dag_stack) - pushed_dags :]
        del self.group_stack[len(self.group_stack) - pushed_groups :]
        return None

    def _is_type_checking(self, test: ast.expr) -> bool:
        return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )

    @staticmethod
    def _is_main_guard(test: ast.expr) -> bool:
        return (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
            and any(_constant_str(c) == "__main__" for c in test.comparators)
        )

    def _if(self, node: ast.If) -> _Value:
        chain_id = id(node)
        arm = 0
        current: ast.If | None = node
        saved_branch = self.branch
        # elif chains are nested Ifs in orelse: walk them in a loop, one arm each.
        while current is not None:
            self.visit(current.test)
            self.branch = (*saved_branch, (chain_id, arm))
            if self._is_type_checking(current.test):
                self.type_checking += 1
                self.visit_all(current.body)
                self.type_checking -= 1
            elif self._is_main_guard(current.test):
                saved_parse_time = self.parse_time
                self.parse_time = False
                self.visit_all(current.body)
                self.parse_time = saved_parse_time
            else:
                self.visit_all(current.body)
            arm += 1
            orelse = current.orelse
            if len(orelse) == 1 and isinstance(orelse[0], ast.If):
                current = orelse[0]
                continue
            self.branch = (*saved_branch, (chain_id, arm))
            self.visit_all(orelse)
            current = None
        self.branch = saved_branch
        return None

    def _for(self, node: ast.For | ast.AsyncFor | ast.While) -> _Value:
        if isinstance(node, ast.While):
            self.visit(node.test)
        else:
            self.visit(node.iter)
            self._bind(node.target, None)
        self.loop_depth += 1
        self.visit_all(node.body)
        self.loop_depth -= 1
        self.visit_all(node.orelse)
        return None

    def _try(self, node: ast.Try | ast.TryStar) -> _Value:
        guards = any(self._catches_import_error(handler) for handler in node.handlers)
        saved_branch = self.branch
        tid = id(node)
        self.branch = (*saved_branch, (tid, 0))
        self.guarded += guards
        self.visit_all(node.body)
        self.guarded -= guards
        self.visit_all(node.orelse)
        for index, handler in enumerate(node.handlers, start=1):
            self.branch = (*saved_branch, (tid, index))
            if handler.type is not None:
                self.visit(handler.type)
            self.visit_all(handler.body)
        self.branch = saved_branch
        self.visit_all(node.finalbody)
        return None

    def _catches_import_error(self, handler: ast.ExceptHandler) -> bool:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        return any(isinstance(t, ast.Name) and t.id in _IMPORT_ERRORS for t in types)

    # -- expressions ----------------------------------------------------------------------------

    def _name(self, node: ast.Name) -> _Value:
        return self.bindings.get(node.id)

    def _attribute(self, node: ast.Attribute) -> _Value:
        value = self.visit(node.value)
        if node.attr == "output" and isinstance(value, _Task):
            return _XCom(value)
        return None

    def _subscript(self, node: ast.Subscript) -> _Value:
        value = self.visit(node.value)
        self.visit(node.slice)
        base = node.value
        if isinstance(base, ast.Name) and base.id in _CONTEXT_NAMES:
            key = _constant_str(node.slice)
            if key is not None:
                self._context_key(key, node.lineno)
        if isinstance(value, _XCom):
            return value
        return None

    def _constant(self, node: ast.Constant) -> _Value:
        value = node.value
        if isinstance(value, str) and "{{" in value:
            self._jinja(value, node.lineno)
        return None

    def _joined_str(self, node: ast.JoinedStr) -> _Value:
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                self.visit(part.value)
                if part.format_spec is not None:
                    self.visit(part.format_spec)
                if self.check_fstrings and not self.fstring_suspect:
                    self.fstring_suspect = self._pep701_candidate(part.value)
        return None

    def _pep701_candidate(self, value: ast.expr) -> bool:
        """A replacement field whose source holds a quote, backslash or '#': tokenize to be sure."""
        if type(value) is ast.Name:
            return False  # the usual {name}: its source is an identifier, none of those characters
        if value.lineno != value.end_lineno:
            return True
        if self._lines is None:
            # One encode of the whole text: line breaks are ASCII, so the pieces equal per-line encodes.
            self._lines = _NEWLINES.split(self.text.encode("utf-8", "surrogatepass"))
        if value.lineno > len(self._lines):
            return True
        # AST offsets are in UTF-8 bytes.
        segment = self._lines[value.lineno - 1][value.col_offset : value.end_col_offset or value.col_offset]
        return b"'" in segment or b'"' in segment or b"\\" in segment or b"#" in segment

    def _binop(self, node: ast.BinOp) -> _Value:
        # Long chains (a >> b >> c ..., "x" + "y" + ...) nest on the left: walk them iteratively.
        spine: list[ast.BinOp] = []
        current: ast.expr = node
        while isinstance(current, ast.BinOp):
            spine.append(current)
            current = current.left
        left = self.visit(current)
        for op_node in reversed(spine):
            right = self.visit(op_node.right)
            left = self._dependency(op_node, left, right) if isinstance(op_node.op, ast.RShift | ast.LShift) else None
        return left

    def _dependency(self, node: ast.BinOp, left: _Value, right: _Value) -> _Value:
        if isinstance(left, _Refs) and isinstance(right, _Refs):
            op = ">>" if isinstance(node.op, ast.RShift) else "<<"
            self.add(
                "dependency-list-to-list",
                f"'{op}' between two lists raises TypeError at parse time; use cross_downstream() or chain()",
                node.lineno,
            )
            return None
        upstream, downstream = (left, right) if isinstance(node.op, ast.RShift) else (right, left)
        self._connect(_tasks_in(upstream), _tasks_in(downstream), node.lineno)
        return right

    def _connect(self, upstream: list[_Task] | None, downstream: list[_Task] | None, line: int) -> None:
        if not upstream or not downstream:
            return
        for up in upstream:
            for down in downstream:
                self.edges.append((up, down, line))

    def _sequence(self, node: ast.List | ast.Tuple) -> _Value:
        items: list[_Task | None] = []
        visit = self.visit
        for element in node.elts:
            value = visit(element)
            # _tasks_in() inlined: an item is one task, or None (nested lists are not followed).
            if type(value) is _Task:
                items.append(value)
            elif type(value) is _XCom:
                items.append(value.task)
            else:
                items.append(None)
        return _Refs(items)

    def _dict(self, node: ast.Dict) -> _Value:
        for key, value in zip(node.keys, node.values, strict=True):
            if key is not None:
                self.visit(key)
            self.visit(value)
            name = _constant_str(key)
            literal = _constant_str(value)
            if name is not None and literal is not None and is_secret_name(name):
                self._literal_secret(name, literal, value.lineno)
        return _DictLiteral(node)

    def _lambda(self, node: ast.Lambda) -> _Value:
        saved = self.parse_time, self.in_function
        self.parse_time, self.in_function = False, True
        self.visit(node.body)
        self.parse_time, self.in_function = saved
        return None

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp) -> _Value:
        for generator in node.generators:
            self.visit(generator.iter)
            self.visit_all(generator.ifs)
        self.loop_depth += 1
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)
        self.loop_depth -= 1
        return None

    # -- calls ----------------------------------------------------------------------------------

    def _call(self, node: ast.Call) -> _Value:
        visit = self.visit
        func = node.func
        func_type = type(func)
        attr: str | None = None
        receiver: _Value = None
        callee: _Value = None
        qn: str | None
        # Imports are statements, so visiting the arguments cannot change the aliases: the callee's
        # qualified name can be taken first. A plain name (operators, helpers) is inlined.
        if func_type is ast.Name:
            name_id = func.id  # type: ignore[attr-defined]
            callee = self.bindings.get(name_id)
            self.called_names.add(name_id)
            qn = self.aliases.get(name_id, name_id)
        else:
            if func_type is ast.Attribute:
                attr = func.attr  # type: ignore[attr-defined]
                receiver = visit(func.value)  # type: ignore[attr-defined]
            else:
                callee = visit(func)
            qn = self.qualname(func)
        args = [visit(arg) for arg in node.args]
        kwargs: dict[str | None, _Value] = {}
        task_id_node: ast.expr | None = None
        bindings = self.bindings
        for kw in node.keywords:
            name, value = kw.arg, kw.value
            # Most keyword values are constants or names: inlined, this is the hottest loop.
            value_type = type(value)
            if value_type is ast.Constant:
                literal_value = value.value  # type: ignore[attr-defined]
                if type(literal_value) is str and "{{" in literal_value:
                    self._jinja(literal_value, value.lineno)
                kwargs[name] = None
            elif value_type is ast.Name:
                kwargs[name] = bindings.get(value.id)  # type: ignore[attr-defined]
            else:
                kwargs[name] = visit(value)
            if name == "task_id":
                task_id_node = value
            elif name is not None and is_secret_name(name):
                literal = _constant_str(value)
                if literal is not None:
                    self._literal_secret(name, literal, value.lineno)
        kind = _KIND_OTHER
        if qn is not None:
            work, kind = _classify_call(qn)
            if work is not None and self.parse_time and not self.type_checking:
                self.add(work[0], work[1], node.lineno)
        if attr is not None:
            if type(receiver) is _Hook and self.parse_time and attr in _HOOK_METHODS:
                self.add(
                    "top-level-connection",
                    f"hook method '{attr}()' called at parse time opens a connection at every parse",
                    node.lineno,
                )
            elif attr == "get" and node.args:
                base = func.value if isinstance(func, ast.Attribute) else None
                if isinstance(base, ast.Name) and base.id in _CONTEXT_NAMES:
                    key = _constant_str(node.args[0])
                    if key is not None:
                        self._context_key(key, node.lineno)
        if kind != _KIND_OTHER:
            if kind == _KIND_NONDETERMINISTIC:
                self.nondeterministic_calls.append(node)
                return None
            if kind == _KIND_DAG:
                return self._dag_call(node)
            if kind == _KIND_TASK_GROUP:
                return self._task_group(node, kwargs)
            if kind == _KIND_DEPENDENCY_HELPER:
                assert qn is not None
                self._dependency_helper(qn.rsplit(".", 1)[-1], node, args)
                return None
            return _HOOK
        if attr in ("set_downstream", "set_upstream") and args:
            mine, theirs = _tasks_in(receiver), _tasks_in(args[0])
            if attr == "set_downstream":
                self._connect(mine, theirs, node.lineno)
            else:
                self._connect(theirs, mine, node.lineno)
            return None
        if type(callee) is _TaskFlow or type(receiver) is _TaskFlow:  # cheap test before the call
            taskflow = self._taskflow_target(func, receiver, callee)
            if taskflow is not None:
                return self._taskflow_call(node, taskflow, args, kwargs)
        if attr in ("expand", "expand_kwargs") and receiver is not None:
            self._xcom_dependencies(receiver, args, kwargs, node.lineno)
            return receiver if isinstance(receiver, _Task) else None
        if task_id_node is not None:
            return self._operator(node, qn, task_id_node, args, kwargs)
        return None

    @staticmethod
    def _taskflow_target(func: ast.expr, receiver: _Value, callee: _Value) -> _TaskFlow | None:
        if isinstance(callee, _TaskFlow):
            return callee
        if (
            isinstance(receiver, _TaskFlow)
            and isinstance(func, ast.Attribute)
            and func.attr in ("override", "partial", "expand", "expand_kwargs")
        ):
            return receiver
        return None

    def _taskflow_call(
        self, node: ast.Call, taskflow: _TaskFlow, args: list[_Value], kwargs: dict[str | None, _Value]
    ) -> _Value:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("override", "partial"):
            # tf.override(...) returns a new decorated callable; tf.partial(...) waits for expand().
            override_id = _constant_str(_keyword(node, "task_id")) if func.attr == "override" else None
            return _TaskFlow(task_id=override_id or taskflow.task_id, group=taskflow.group)
        if taskflow.group:
            return _Group(scope=self._current_scope(), prefix=None)
        scope = self._current_scope()
        self.taskflow_calls += 1
        label = self._full_id(taskflow.task_id)
        # TaskFlow ids are made unique by Airflow (name__1, name__2): each call is its own node.
        key = f"{label}#{self.taskflow_calls}" if label is not None and not self.loop_depth else None
        task = _Task(scope=scope, key=key, label=label or taskflow.task_id, line=node.lineno)
        self._xcom_dependencies(task, args, kwargs, node.lineno)
        return _XCom(task)

    def _xcom_dependencies(self, task: _Value, args: list[_Value], kwargs: dict[str | None, _Value], line: int) -> None:
        targets = [task] if type(task) is _Task else _tasks_in(task)  # an operator: the usual case
        if not targets:
            return
        for values in (args, kwargs.values()):
            for value in values:
                if type(value) is _XCom:
                    self._connect([value.task], targets, line)

    def _current_scope(self) -> _Scope | None:
        return self.dag_stack[-1] if self.dag_stack else None

    def _full_id(self, local_id: str | None) -> str | None:
        stack = self.group_stack
        if not stack or local_id is None:
            return local_id  # outside any TaskGroup (or no id): nothing to prefix
        if None in stack:
            return None
        prefix = ".".join(p for p in stack if p)
        return f"{prefix}.{local_id}" if prefix else local_id

    def _operator(
        self,
        node: ast.Call,
        qn: str | None,
        task_id_node: ast.expr,
        args: list[_Value],
        kwargs: dict[str | None, _Value],
    ) -> _Value:
        line = node.lineno
        task_id = _constant_str(task_id_node)
        if task_id is not None:
            self._check_id("task-id-invalid", task_id, line, "task_id")
        self._operator_arguments(node, qn)
        if qn is not None and qn.endswith(_ISOLATED_OPERATORS):
            callable_node = _keyword(node, "python_callable")
            if isinstance(callable_node, ast.Name):
                self.isolated_callables.add(callable_node.id)
        scope = self.dag_stack[-1] if self.dag_stack else None
        dag_kw = kwargs.get("dag")
        if type(dag_kw) is _Scope:
            scope = dag_kw
        group_kw = kwargs.get("task_group")
        if type(group_kw) is _Group:
            scope = group_kw.scope or scope
            full = (
                None
                if group_kw.prefix is None or task_id is None
                else (f"{group_kw.prefix}.{task_id}" if group_kw.prefix else task_id)
            )
        else:
            full = self._full_id(task_id)
        static = full is not None and not self.loop_depth and not self.in_function
        if static and scope is not None and full is not None:
            self._register_id(scope, full, line, "task_id")
        task = _Task(scope=scope, key=full if static else None, label=full or "?", line=line)
        self._xcom_dependencies(task, args, kwargs, line)
        return task

    def _register_id(self, scope: _Scope, full_id: str, line: int, what: str) -> None:
        previous = scope.ids.get(full_id)
        if previous is not None and _compatible(previous[1], self.branch):
            self.add(
                "task-id-duplicate",
                f"{what} '{full_id}' is already used at line {previous[0]} in {scope.name}",
                line,
            )
            return
        if len(full_id) > _MAX_KEY:
            self.add(
                "task-id-invalid",
                f"{what} '{full_id[:60]}' is {len(full_id)} characters with its TaskGroup prefix (max {_MAX_KEY})",
                line,
            )
        scope.ids.setdefault(full_id, (line, self.branch))

    def _task_group(self, node: ast.Call, kwargs: dict[str | None, _Value]) -> _Value:
        group_id_node = node.args[0] if node.args else _keyword(node, "group_id")
        group_id = _constant_str(group_id_node)
        prefix_flag = _keyword(node, "prefix_group_id")
        prefixed = not (isinstance(prefix_flag, ast.Constant) and prefix_flag.value is False)
        scope = self._current_scope()
        dag_kw = kwargs.get("dag")
        if isinstance(dag_kw, _Scope):
            scope = dag_kw
        if group_id_node is not None and isinstance(group_id_node, ast.Constant) and group_id_node.value is None:
            return _Group(scope=scope, prefix="")  # the root group
        if group_id is None:
            return _Group(scope=scope, prefix=None)
        self._check_id("group-id-invalid", group_id, node.lineno, "group_id")
        full = self._full_id(group_id)
        if full is not None and scope is not None and not self.loop_depth:
            self._register_id(scope, full, node.lineno, "group_id")
        if not prefixed:
            return _Group(scope=scope, prefix="" if full is not None else None)
        return _Group(scope=scope, prefix=full)

    def _dependency_helper(self, name: str, node: ast.Call, args: list[_Value]) -> None:
        groups = [_tasks_in(value) for value in args]
        if name == "cross_downstream":
            if len(groups) == 2:
                self._connect(groups[0], groups[1], node.lineno)
            return
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            return
        for up, down, up_value, down_value in zip(groups, groups[1:], args, args[1:], strict=False):
            if (
                name == "chain"
                and isinstance(up_value, _Refs)
                and isinstance(down_value, _Refs)
                and up is not None
                and down is not None
            ):
                if len(up) == len(down):
                    for a, b in zip(up, down, strict=True):
                        self._connect([a], [b], node.lineno)
                continue
            self._connect(up, down, node.lineno)

    # -- DAGs -----------------------------------------------------------------------------------

    def _dag_call(self, node: ast.Call) -> _Value:
        dag_id_node = node.args[0] if node.args else _keyword(node, "dag_id")
        dag_id = _constant_str(dag_id_node)
        self._dag_arguments(node, node.lineno)
        return self._register_dag(dag_id, dag_id_node, node.lineno)

    def _register_dag(self, dag_id: str | None, dag_id_node: ast.expr | None, line: int) -> _Scope:
        scope = _Scope(name=f"DAG '{dag_id}'" if dag_id else f"the DAG at line {line}", line=line)
        if not self.parse_time and not self.in_function:
            return scope  # under `if __name__ == "__main__"`: Airflow never runs it
        if dag_id_node is not None and self._nondeterministic(dag_id_node):
            self.add(
                "dag-argument-nondeterministic",
                "dag_id changes at every parse (time, random or uuid): each parse creates a new DAG",
                line,
            )
        if self.loop_depth or self.in_function:
            self.mark_dynamic(line, "DAGs are created in a loop or a function")
            return scope
        if dag_id is None:
            self.mark_dynamic(line, "the dag_id is computed")
            return scope
        self._check_id("dag-id-invalid", dag_id, line, "dag_id")
        self.dags.append(DagDef(dag_id=dag_id, line=line))
        return scope

    def _dag_arguments(self, call: ast.Call | None, line: int) -> None:
        """The DAG's arguments; ``call`` is None for a bare ``@dag`` decorator (no arguments at all)."""
        keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg is not None} if call is not None else {}
        has_kwargs_splat = call is not None and any(kw.arg is None for kw in call.keywords)
        for name, value in keywords.items():
            change = self.changes.dag_arguments.get(name)
            if change is not None:
                self._argument_change(name, change.deprecated_in, change.removed_in, change.replacement, value.lineno)
        schedule_keys: list[str] = [k for k in ("schedule", "schedule_interval", "timetable") if k in keywords]
        if not schedule_keys and (call is None or len(call.args) < 3) and not has_kwargs_splat:
            self._schedule_missing(line)
        for key in schedule_keys:
            self._check_schedule(keywords[key], keywords)
        for key in ("start_date", "end_date"):
            if key in keywords and self._nondeterministic(keywords[key]):
                self.add(
                    "dag-argument-nondeterministic",
                    f"{key} changes at every parse; use a fixed datetime such as "
                    "pendulum.datetime(2024, 1, 1, tz='UTC')",
                    keywords[key].lineno,
                )
        if has_kwargs_splat:
            return
        if "start_date" not in keywords:
            default_args = keywords.get("default_args")
            start = self._start_date_in_default_args(default_args) if default_args is not None else False
            if start is False:
                self.add(
                    "dag-start-date-missing",
                    "no static start_date on the DAG or in default_args",
                    line,
                )
        if "catchup" not in keywords:
            default = "True (catchup_by_default)" if self.target.major < 3 else "False"
            self.add(
                "dag-catchup-missing", f"catchup not set: defaults to {default} on Airflow {self.target.major}", line
            )

    def _schedule_missing(self, line: int) -> None:
        default = "one day" if self.target.major < 3 else "None (never scheduled)"
        self.add(
            "schedule-missing",
            f"no schedule: Airflow {self.target.airflow_text} defaults to {default}; set schedule= explicitly",
            line,
        )

    def _start_date_in_default_args(self, node: ast.expr) -> bool | None:
        """True/False when default_args is a visible literal, None when it cannot be known."""
        value: _Value = None
        if isinstance(node, ast.Dict):
            value = _DictLiteral(node)
        elif isinstance(node, ast.Name):
            value = self.bindings.get(node.id)
        if not isinstance(value, _DictLiteral):
            return None
        literal = value.node
        if isinstance(literal, ast.Dict):
            if any(k is None for k in literal.keys):
                return None
            for key, item in zip(literal.keys, literal.values, strict=True):
                if _constant_str(key) == "start_date":
                    if self._nondeterministic(item):
                        self.add(
                            "dag-argument-nondeterministic",
                            "default_args start_date changes at every parse; use a fixed datetime",
                            item.lineno,
                        )
                    return True
            return False
        return None

    def _check_schedule(self, value: ast.expr, keywords: dict[str, ast.expr]) -> None:
        expression = _constant_str(value)
        if expression is None:
            return
        problem = schedule_problem(expression)
        if problem is not None:
            self.add("schedule-invalid", f"schedule {expression!r}: {problem}", value.lineno)
            return
        if expression == "@continuous":
            runs = keywords.get("max_active_runs")
            if not (isinstance(runs, ast.Constant) and runs.value == 1):
                self.add("schedule-invalid", "schedule '@continuous' requires max_active_runs=1", value.lineno)

    def _operator_arguments(self, node: ast.Call, qn: str | None) -> None:
        operator: _Operator | None = None
        partial = False
        if qn is not None and self.signatures is not None:
            partial = qn.endswith(".partial")
            operator = self.signatures.operators.get(qn[: -len(".partial")] if partial else qn)
        changes = self.changes.operator_arguments
        for kw in node.keywords:
            name = kw.arg
            if name is None:
                continue
            change = changes.get(name)
            if change is None and name == "execution_date" and qn is not None and "TriggerDagRunOperator" in qn:
                change = _TRIGGER_EXECUTION_DATE
            if operator is not None:
                self._signature_argument(operator, kw, change, partial=partial)
            elif change is not None:
                line = kw.value.lineno
                self._argument_change(name, change.deprecated_in, change.removed_in, change.replacement, line)

    def _signature_argument(
        self, operator: _Operator, kw: ast.keyword, change: ArgumentChange | None, *, partial: bool
    ) -> None:
        """One keyword of an operator whose real signature on the target is known."""
        name, line = kw.arg or "", kw.value.lineno
        replacement = change.replacement if change is not None else None
        hint = f"; use {replacement}" if replacement else ""
        if name in operator.accepted:
            # Accepted: Airflow at most warns, which airflow_changes.json knows (never an error here).
            if change is not None and self.target.status(change.deprecated_in, change.removed_in) is not None:
                self.add(
                    "airflow-argument-deprecated",
                    f"argument '{name}' is deprecated on Airflow {self.target.airflow_text}{hint}",
                    line,
                )
            return
        dropped = operator.dropped.get(name)
        # partial() checks its keywords against the signatures before any __init__ runs: nothing is dropped.
        if dropped is not None and not partial and (dropped.when != "truthy" or not _falsy_literal(kw.value)):
            if dropped.warns:
                self.add(
                    "airflow-argument-deprecated",
                    f"argument '{name}' is deprecated on Airflow {self.target.airflow_text}: {dropped.by} "
                    f"drops it with a deprecation warning{hint}",
                    line,
                )
            return
        assert self.signatures is not None
        if partial:
            why = f"{operator.name}.partial() raises TypeError"
        else:
            why = f"{self.signatures.raises} (invalid arguments) at parse time"
            if self.signatures.unless:
                why += f" unless {self.signatures.unless} is set"
            if dropped is not None:
                why = f"{dropped.by} drops it only when it is true; a false value reaches BaseOperator: {why}"
        self.add(
            "airflow-argument-removed",
            f"argument '{name}' is not accepted by {operator.name} on Airflow {self.target.airflow_text}: {why}{hint}",
            line,
        )

    def _argument_change(
        self, name: str, deprecated_in: Version | None, removed_in: Version | None, replacement: str | None, line: int
    ) -> None:
        status = self.target.status(deprecated_in, removed_in)
        if status is None:
            return
        hint = f"; use {replacement}" if replacement else ""
        if status == "removed":
            self.add(
                "airflow-argument-removed",
                f"argument '{name}' is not accepted on Airflow {self.target.airflow_text}{hint}",
                line,
            )
        else:
            self.add(
                "airflow-argument-deprecated",
                f"argument '{name}' is deprecated on Airflow {self.target.airflow_text}{hint}",
                line,
            )

    def _nondeterministic(self, node: ast.expr) -> bool:
        """Whether ``node`` (already visited) contains a call to now(), random, uuid..."""
        if not self.nondeterministic_calls or type(node) is ast.Constant:
            return False
        start = (node.lineno, node.col_offset)
        end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
        return any(
            start <= (call.lineno, call.col_offset)
            and (call.end_lineno or call.lineno, call.end_col_offset or 0) <= end
            for call in self.nondeterministic_calls
        )

    def _check_id(self, rule: str, value: str, line: int, what: str) -> None:
        problem = _id_problem(rule, value, what)
        if problem is not None:
            self.add(rule, problem, line)

    # -- parse-time work, context keys, secrets -----------------------------------------------------

    def _context_key(self, key: str, line: int) -> None:
        changes = self.changes
        if key not in changes.context_keys or line in self.seen_context_lines:
            return
        status = self.target.status(changes.context_deprecated_in, changes.context_removed_in)
        signatures = self.signatures
        if status is not None and signatures is not None:
            # The target's own context decides: 'conf' is gone on Airflow 3 but never warned about on 2.
            if key not in signatures.context_known:
                status = "removed"
            elif key not in signatures.context_deprecated:
                status = None
        if status is None:
            return
        self.seen_context_lines.add(line)
        use = (
            "read settings from airflow.configuration.conf"
            if key == "conf"
            else "use logical_date or data_interval_start/end"
        )
        if status == "removed":
            self.add(
                "airflow-context-removed",
                f"context key '{key}' does not exist on Airflow {self.target.airflow_text} ({use})",
                line,
            )
        else:
            self.add(
                "airflow-context-deprecated",
                f"context key '{key}' is deprecated on Airflow {self.target.airflow_text}; {use}",
                line,
            )

    def _check_context_params(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
            if arg.arg in self.changes.context_keys:
                self._context_key(arg.arg, arg.lineno)

    def _jinja(self, text: str, line: int) -> None:
        match = _context_pattern(self.changes.context_keys).search(text)
        if match is not None:
            self._context_key(match.group("key"), line)

    def _literal_secret(self, name: str, value: str, line: int) -> None:
        if is_literal_secret(value):
            self.add(
                "credential-literal",
                f"'{name}' is set to a string literal; read it from a connection or the secrets backend",
                line,
            )

    # -- after the pass --------------------------------------------------------------------------

    def finish(self) -> PythonResult:
        self._cycles()
        for function, held in self.pending_task_imports:
            if function not in self.isolated_callables:
                self.findings.append(held)
        for name, line in self.dag_functions.items():
            if name not in self.called_names:
                self.add(
                    "dag-decorator-not-called",
                    f"@dag function '{name}' is never called: Airflow registers no DAG; add '{name}()' at module level",
                    line,
                )
        seen: dict[str, int] = {}
        for dag in self.dags:
            if dag.dag_id is None:
                continue
            if dag.dag_id in seen:
                self.add(
                    "dag-id-duplicate",
                    f"dag_id '{dag.dag_id}' is already defined at line {seen[dag.dag_id]}; Airflow keeps only one",
                    dag.line,
                )
            else:
                seen[dag.dag_id] = dag.line
        result = PythonResult(findings=self.findings, dags=self.dags)
        if self.dynamic_line is not None:
            result.dynamic_dags = True
            self.findings.append(
                finding(
                    "dag-dynamic",
                    f"{self.dynamic_reason}: ids and tasks of these DAGs are not checked statically",
                    self.dynamic_line,
                )
            )
        return result

    def _cycles(self) -> None:
        graphs: dict[_Scope, dict[str, list[tuple[str, int]]]] = {}  # scopes hash by identity
        for up, down, line in self.edges:
            scope = up.scope
            if scope is None or scope is not down.scope or up.key is None or down.key is None:
                continue
            graph = graphs.get(scope)
            if graph is None:
                graph = graphs[scope] = {}
            targets = graph.get(up.key)
            if targets is None:
                graph[up.key] = [(down.key, line)]
            else:
                targets.append((down.key, line))
        for scope, graph in graphs.items():
            cycle = _find_cycle(graph)
            if cycle is not None:
                path, line = cycle
                shown = " >> ".join(key.split("#", 1)[0] for key in path)
                self.add("dag-cycle", f"dependency cycle in {scope.name}: {shown}", line)

    def dynamic_factory_calls(self, tree: ast.Module) -> None:
        """No DAG constructor found: a module-level call to something named like a DAG factory."""
        if self.dags or self.dynamic_line is not None:
            return
        for statement in tree.body:
            value = statement.value if isinstance(statement, ast.Assign | ast.Expr) else None
            if isinstance(value, ast.Call):
                qn = self.qualname(value.func)
                if qn is not None and "dag" in qn.rsplit(".", 1)[-1].lower():
                    self.mark_dynamic(statement.lineno, f"'{qn}()' builds DAGs at parse time")
                    return


# Each handler takes the node type it is registered for; typing the table with Any spares every
# handler a runtime ``assert isinstance`` (a measurable cost at ~100 dispatches per file).
_DISPATCH: dict[type[ast.AST], Callable[[_Analyzer, Any], _Value]] = {
    ast.Module: _Analyzer._module,
    ast.Import: _Analyzer._import,
    ast.ImportFrom: _Analyzer._import_from,
    ast.FunctionDef: _Analyzer._function,
    ast.AsyncFunctionDef: _Analyzer._function,
    ast.ClassDef: _Analyzer._class,
    ast.Assign: _Analyzer._assign,
    ast.AnnAssign: _Analyzer._ann_assign,
    ast.AugAssign: _Analyzer._aug_assign,
    ast.Expr: _Analyzer._expr_stmt,
    ast.Return: _Analyzer._return,
    ast.With: _Analyzer._with,
    ast.AsyncWith: _Analyzer._with,
    ast.If: _Analyzer._if,
    ast.For: _Analyzer._for,
    ast.AsyncFor: _Analyzer._for,
    ast.While: _Analyzer._for,
    ast.Try: _Analyzer._try,
    ast.TryStar: _Analyzer._try,
    ast.Call: _Analyzer._call,
    ast.Name: _Analyzer._name,
    ast.Attribute: _Analyzer._attribute,
    ast.Subscript: _Analyzer._subscript,
    ast.Constant: _Analyzer._constant,
    ast.BinOp: _Analyzer._binop,
    ast.List: _Analyzer._sequence,
    ast.Tuple: _Analyzer._sequence,
    ast.Dict: _Analyzer._dict,
    ast.Lambda: _Analyzer._lambda,
    ast.ListComp: _Analyzer._comprehension,
    ast.SetComp: _Analyzer._comprehension,
    ast.DictComp: _Analyzer._comprehension,
    ast.GeneratorExp: _Analyzer._comprehension,
    ast.JoinedStr: _Analyzer._joined_str,
    ast.Load: _Analyzer._leaf,
    ast.Store: _Analyzer._leaf,
    ast.Del: _Analyzer._leaf,
    ast.Pass: _Analyzer._leaf,
    ast.Break: _Analyzer._leaf,
    ast.Continue: _Analyzer._leaf,
}


def _find_cycle(graph: dict[str, list[tuple[str, int]]]) -> tuple[list[str], int] | None:
    """One cycle (as a path that returns to its start) and the line of its closing edge."""
    grey, black = 1, 2  # absent from ``color``: not visited yet
    color: dict[str, int] = {}
    no_edges: list[tuple[str, int]] = []
    for start in graph:
        if start in color:
            continue
        color[start] = grey
        path: list[str] = [start]
        # Depth first, one edge iterator per node on the path: no (node, index) tuples to rebuild.
        stack = [iter(graph[start])]
        while stack:
            for nxt, line in stack[-1]:
                state = color.get(nxt)
                if state == grey:
                    return [*path[path.index(nxt) :], nxt], line
                if state is None:
                    color[nxt] = grey
                    path.append(nxt)
                    stack.append(iter(graph.get(nxt, no_edges)))
                    break
            else:
                color[path.pop()] = black
                stack.pop()
    return None


# ---------------------------------------------------------------------------------------------
# Syntax against the environment's Python.


def _fstring_problem(text: str) -> int | None:
    """Line of an f-string that only Python >= 3.12 (PEP 701) accepts, or None."""
    stack: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            if kind == tokenize.FSTRING_START:
                if stack and _reuses_quote(stack[-1], token.string):
                    return token.start[0]
                stack.append(token.string.lstrip("fFrRbBuU"))
            elif kind == tokenize.FSTRING_END:
                if stack:
                    stack.pop()
            elif stack and kind != tokenize.FSTRING_MIDDLE:
                if kind == tokenize.STRING and _reuses_quote(stack[-1], token.string):
                    return token.start[0]
                if kind == tokenize.COMMENT or "\\" in token.string:
                    return token.start[0]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return None


_NEWLINES = re.compile(rb"\r\n|\r|\n")


def _reuses_quote(outer: str, inner_token: str) -> bool:
    quote = inner_token.lstrip("fFrRbBuU")
    if outer in ('"""', "'''"):
        return quote.startswith(outer)
    return quote[:1] == outer[:1]


def _parse(text: str, feature: tuple[int, int] | None) -> ast.Module:
    with warnings.catch_warnings():
        # Invalid escape sequences and the like warn on stderr; they are not the validator's output.
        warnings.simplefilter("ignore")
        if feature is None:
            return ast.parse(text)
        return ast.parse(text, feature_version=feature)


def parse(text: str, target: Target) -> tuple[ast.Module | None, Finding | None]:
    """Parse ``text`` for the environment's Python; a finding instead of a tree when it does not parse."""
    feature = target.python
    try:
        tree = _parse(text, feature)
    except SyntaxError as exc:
        try:
            _parse(text, None)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return None, finding("syntax-error", exc.msg, exc.lineno)
        return None, finding(
            "syntax-python-version",
            f"{exc.msg}: the environment runs Python {target.python_text}",
            exc.lineno,
        )
    except ValueError as exc:
        return None, finding("syntax-error", f"cannot parse: {exc}", None)
    except (MemoryError, RecursionError):
        # The CPython parser itself gives up building the tree; compiling for import may still work.
        return None, finding("analysis-incomplete", "the file nests too deeply to be analysed; no rule was checked")
    return tree, None


def analyze_python(text: str, target: Target, imports: ImportEnv, role: Role = "dag") -> PythonResult:
    """Every Python rule on one file's text."""
    tree, problem = parse(text, target)
    if tree is None:
        assert problem is not None
        return PythonResult(findings=[problem], dags=[])
    analyzer = _Analyzer(target, imports, role, text)
    try:
        analyzer.visit(tree)
    except RecursionError:
        return PythonResult(
            findings=[finding("analysis-incomplete", "the file nests too deeply to be analysed; other rules skipped")],
            dags=[],
        )
    if analyzer.fstring_suspect:
        line = _fstring_problem(text)
        if line is not None:
            # Airflow cannot even import the file: the other findings would only be noise.
            return PythonResult(
                findings=[
                    finding(
                        "syntax-python-version",
                        "f-string reuses its quote, or holds a backslash or comment, inside {}: valid only from "
                        f"Python 3.12, the environment runs Python {target.python_text}",
                        line,
                    )
                ],
                dags=[],
            )
    analyzer.dynamic_factory_calls(tree)
    return analyzer.finish()
