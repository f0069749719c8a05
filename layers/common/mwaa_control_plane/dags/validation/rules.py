"""The rule catalog: every finding the validator can emit, with its id and severity.

Ids are stable (tests, SARIF consumers and users' suppressions depend on them);
``docs/validator-rules.md`` documents each one and a unit test keeps the two in step.

A rule with a ``refusal`` cannot be suppressed or lowered: its finding means Airflow cannot
import the file (or silently loses a DAG), so no comment or configuration may let it through.
"""

from __future__ import annotations

from dataclasses import dataclass

from mwaa_control_plane.dags.validation.models import Finding, Severity

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N for note, SARIF's name for info


# Why a suppression of an unsuppressible rule is refused; said in the ``suppression-refused`` finding.
_IMPORT_FAILS = "Airflow fails to import the file: an import error, and none of its DAGs appear"
_DAG_DROPPED = "Airflow keeps one of the two DAGs and silently drops the other"
_DAG_CONFLICT = "one of the two files gets an import error (AirflowDagDuplicatedIdException) and its DAG disappears"
_ABOUT_SUPPRESSIONS = "it reports on the suppressions and the configuration themselves"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    #: Why the rule cannot be suppressed (inline, file or config) or lowered; empty when it can.
    refusal: str = ""

    @property
    def suppressible(self) -> bool:
        return not self.refusal


_CATALOG: tuple[Rule, ...] = (
    # Envelope: what the file is, before its content is read.
    Rule("envelope-file-too-large", E, "File larger than the limit for its kind"),
    Rule("envelope-not-utf8", E, "Python or text file that is not valid UTF-8"),
    Rule("envelope-bytecode", E, "Compiled Python (.pyc, .pyo, __pycache__) in the DAGs folder"),
    Rule("envelope-file-type", E, "Native binary, executable or wheel in the DAGs folder"),
    Rule("envelope-junk-file", W, "Editor, OS or VCS leftovers synced to every worker"),
    Rule("zip-invalid", E, "Archive that cannot be read: corrupt, truncated, encrypted or CRC mismatch", _IMPORT_FAILS),
    Rule("zip-unsafe-path", E, "Archive member with an absolute path or '..'"),
    Rule("zip-bomb", E, "Archive whose expansion exceeds the size, member or ratio limits"),
    Rule("zip-native-binary", E, "Packaged DAG zip that contains a compiled library"),
    # Python source.
    Rule("syntax-error", E, "File does not parse", _IMPORT_FAILS),
    Rule("syntax-python-version", E, "Syntax newer than the environment's Python", _IMPORT_FAILS),
    Rule(
        "import-unresolved",
        E,
        "Module imported at parse time that the environment does not have",
        f"{_IMPORT_FAILS}; a module installed another way is declared in .mwaa-cp.toml [imports] extra_modules",
    ),
    Rule("import-unresolved-in-task", W, "Module imported inside a function that the environment does not have"),
    Rule("import-unverified", N, "Import that cannot be checked because requirements.txt has opaque entries"),
    Rule("airflow-import-removed", E, "Import path removed in the target Airflow version", _IMPORT_FAILS),
    Rule("airflow-import-deprecated", W, "Import path deprecated in the target Airflow version"),
    Rule(
        "airflow-argument-removed", E, "DAG or operator argument removed in the target Airflow version", _IMPORT_FAILS
    ),
    Rule("airflow-argument-deprecated", W, "DAG or operator argument deprecated in the target Airflow version"),
    Rule("airflow-context-removed", E, "Task context key removed in the target Airflow version"),
    Rule("airflow-context-deprecated", W, "Task context key deprecated in the target Airflow version"),
    # DAG structure.
    Rule("dag-id-invalid", E, "dag_id with characters outside [A-Za-z0-9_.-] or longer than 250", _IMPORT_FAILS),
    Rule("task-id-invalid", E, "task_id with characters outside [A-Za-z0-9_.-] or longer than 250", _IMPORT_FAILS),
    Rule(
        "group-id-invalid",
        E,
        "TaskGroup group_id with characters outside [A-Za-z0-9_-] or longer than 200",
        _IMPORT_FAILS,
    ),
    Rule(
        "task-id-duplicate",
        E,
        "Two tasks or groups with the same id in one DAG (TaskGroup prefixes applied)",
        _IMPORT_FAILS,
    ),
    Rule("dag-id-duplicate", E, "The same dag_id defined twice in one file", _DAG_DROPPED),
    Rule("dag-id-conflict", E, "dag_id already defined by another file of the environment", _DAG_CONFLICT),
    Rule("dag-cycle", E, "Task dependencies form a cycle", _IMPORT_FAILS),
    Rule("dependency-list-to-list", E, "'>>' or '<<' between two lists, a TypeError at parse time", _IMPORT_FAILS),
    Rule("schedule-invalid", E, "schedule that is neither a valid cron expression nor a preset", _IMPORT_FAILS),
    Rule("schedule-missing", W, "DAG without an explicit schedule (the default differs between Airflow 2 and 3)"),
    Rule("dag-argument-nondeterministic", W, "dag_id, start_date or end_date that changes at every parse"),
    Rule("dag-start-date-missing", N, "DAG without a static start_date"),
    Rule("dag-catchup-missing", N, "DAG without an explicit catchup (the default differs between Airflow 2 and 3)"),
    Rule("dag-decorator-not-called", W, "@dag function never called at module level: no DAG is registered"),
    Rule("dag-dynamic", N, "DAGs generated dynamically: static checks cannot follow them"),
    Rule("analysis-incomplete", N, "File too deeply nested to analyse; only syntax was checked"),
    Rule("dag-skipped-safe-mode", W, "File defines a DAG but Airflow's safe-mode heuristic skips it"),
    Rule("dag-ignored", W, "File defines a DAG but .airflowignore excludes it"),
    Rule("airflowignore-pattern-invalid", W, ".airflowignore pattern that does not compile (Airflow drops it)"),
    Rule("airflowignore-pattern-unsupported", W, ".airflowignore regexp that re2 rejects on Airflow 2 (dropped)"),
    # Work done at every parse.
    Rule("top-level-variable", W, "Variable.get at parse time"),
    Rule("top-level-connection", W, "Connection or hook lookup at parse time"),
    Rule("top-level-client", W, "Network, AWS or database client call at parse time"),
    Rule("top-level-subprocess", W, "Subprocess at parse time"),
    Rule("top-level-sleep", W, "sleep at parse time"),
    Rule("top-level-heavy-import", W, "Heavy library imported at module level"),
    # Secrets.
    Rule("credential-aws-key", E, "AWS access key id or secret access key in the file"),
    Rule("credential-uri-password", E, "Password inside a connection URI"),
    Rule("credential-private-key", E, "Private key block in the file"),
    Rule("credential-literal", E, "Literal string assigned to a password, secret or API key"),
    # Environment files.
    Rule("requirements-invalid-line", E, "requirements.txt line pip cannot parse"),
    Rule("requirements-airflow-listed", E, "requirements.txt lists apache-airflow itself"),
    Rule("requirements-constraint-missing", W, "requirements.txt without a --constraint line"),
    Rule("requirements-constraint-mismatch", E, "Constraint file for another Airflow or Python version"),
    Rule("requirements-unpinned", W, "Requirement not pinned with =="),
    Rule("plugins-top-level-folder", E, "plugins.zip with everything under a top-level plugins/ folder"),
    Rule("plugins-native-binary", E, "Native binary in plugins.zip built for another platform"),
    Rule("plugins-wheel-incompatible", E, "Wheel in plugins.zip for another Python or platform"),
    Rule("plugins-too-large", E, "plugins.zip over the size limit"),
    Rule("startup-protected-variable", E, "startup.sh sets a variable MWAA protects"),
    Rule("startup-crlf", E, "startup.sh with Windows line endings"),
    # Suppressions, configuration and files Airflow never imports.
    Rule(
        "file-not-imported",
        N,
        "Python file Airflow never imports (safe mode skips it, no DAG imports it): syntax and secrets only",
    ),
    Rule(
        "suppression-refused",
        N,
        "Suppression that names an unsuppressible or unknown rule, or is malformed",
        _ABOUT_SUPPRESSIONS,
    ),
    Rule(
        "config-invalid",
        E,
        ".mwaa-cp.toml that is not valid TOML or has unknown keys, rules or values",
        _ABOUT_SUPPRESSIONS,
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _CATALOG}


def finding(rule_id: str, message: str, line: int | None = None) -> Finding:
    """A finding of ``rule_id`` at the rule's severity."""
    return Finding(rule=rule_id, severity=RULES[rule_id].severity, message=message, line=line)
