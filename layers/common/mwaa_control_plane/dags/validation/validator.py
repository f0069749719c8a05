"""The validator: every rule over a set of files, one report.

``validate_files`` is what both the Lambda and ``mwaa-cp validate`` call. It reads only the
bytes it is given: no file system, no network, no import or execution of the checked code.
Suppressions (``# mwaa-cp: ignore`` comments, ``.mwaa-cp.toml``) are applied last, when the
report is built: every rule runs the same way with or without them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field

from mwaa_control_plane.dags.validation.airflowignore import IgnoreRules, build_rules
from mwaa_control_plane.dags.validation.archives import (
    is_native,
    open_archive,
    prefixed,
    read_member,
    top_level_module,
)
from mwaa_control_plane.dags.validation.credentials import scan_text
from mwaa_control_plane.dags.validation.import_graph import ImportReach, imported_names, parsed_by_airflow
from mwaa_control_plane.dags.validation.imports import ImportEnv
from mwaa_control_plane.dags.validation.models import (
    FileKind,
    FileReport,
    Finding,
    Report,
    Severity,
    SourceFile,
    Summary,
    ValidationContext,
    decode_utf8,
    default_kind,
    normalize_path,
    over_limit,
)
from mwaa_control_plane.dags.validation.plugins import check_plugins, plugin_source_findings
from mwaa_control_plane.dags.validation.python_rules import DagDef, PythonResult, analyze_python
from mwaa_control_plane.dags.validation.requirements import Requirements, parse_requirements
from mwaa_control_plane.dags.validation.rules import finding
from mwaa_control_plane.dags.validation.settings_file import SettingsProblem, parse_settings
from mwaa_control_plane.dags.validation.startup import check_startup
from mwaa_control_plane.dags.validation.suppression import (
    ConfigPolicy,
    Directives,
    apply_suppressions,
    config_policy,
    read_directives,
)
from mwaa_control_plane.dags.validation.target import make_target

# Files Airflow or its operators read as text from the DAGs folder: checked for encoding and secrets.
_TEXT_SUFFIXES = frozenset(
    {
        ".sql",
        ".json",
        ".yaml",
        ".yml",
        ".sh",
        ".txt",
        ".cfg",
        ".ini",
        ".toml",
        ".md",
        ".j2",
        ".jinja",
        ".jinja2",
        ".html",
        ".tpl",
        ".env",
        ".csv",
        ".hql",
        ".properties",
    }
)
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_JUNK_FOLDERS = frozenset(
    {".git", ".svn", ".hg", ".idea", ".vscode", ".ipynb_checkpoints", ".venv", "venv", "node_modules"}
)
_JUNK_SUFFIXES = (".swp", ".swo", "~", ".orig", ".rej", ".bak")
# Text files whose comments start with '#': suppression comments are read in them too.
_HASH_COMMENT_SUFFIXES = frozenset({".sh", ".txt", ".cfg", ".ini", ".toml", ".yaml", ".yml", ".env", ".properties"})
# What a Python file Airflow never imports is still checked for: it does not parse, or it holds a secret.
_NOT_IMPORTED_RULES = frozenset(
    {
        "syntax-error",
        "syntax-python-version",
        "analysis-incomplete",
        "credential-aws-key",
        "credential-uri-password",
        "credential-private-key",
        "credential-literal",
    }
)


@dataclass(slots=True)
class _FileState:
    source: SourceFile
    path: str
    kind: FileKind  # source.resolved_kind, computed once from ``path``
    findings: list[Finding] = field(default_factory=list)
    dags: list[DagDef] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)  # plugins.zip only
    plugin_sources: list[tuple[str, bytes]] = field(default_factory=list)  # plugins.zip only
    directives: Directives | None = None  # its suppression comments


def _finding_order(item: Finding) -> tuple[int, str, str]:
    return (item.line or 0, item.rule, item.message)


def _suffix(path: str) -> str:
    return posixpath.splitext(path)[1].lower()


def _state(source: SourceFile) -> _FileState:
    path = normalize_path(source.path)
    return _FileState(source=source, path=path, kind=source.kind or default_kind(path))


def _severity_counts(found: list[Finding]) -> tuple[int, int, int, int]:
    """(errors, warnings, infos, suppressed) among ``found``; a suppressed finding counts only as suppressed."""
    errors = warnings = infos = suppressed = 0
    for item in found:
        if item.suppressed:
            suppressed += 1
        elif item.severity is Severity.ERROR:
            errors += 1
        elif item.severity is Severity.WARNING:
            warnings += 1
        else:
            infos += 1
    return errors, warnings, infos, suppressed


def _decode(content: bytes, state: _FileState, what: str = "") -> str | None:
    try:
        return decode_utf8(content)
    except UnicodeDecodeError as exc:
        state.findings.append(
            finding("envelope-not-utf8", f"{what}not valid UTF-8 (byte {exc.start}); save the file as UTF-8")
        )
        return None


class _Run:
    """One validation run: shared context built once, then each file."""

    def __init__(self, files: Sequence[SourceFile], context: ValidationContext) -> None:
        self.context = context
        self.target = make_target(context.airflow_version, context.python_version)
        self.states = [_state(f) for f in files]
        self.settings_findings: list[Finding] = []
        self.policy = self._config_policy()
        self.requirements = self._requirements()
        plugin_modules = set(context.plugin_modules)
        for state in self.states:
            if state.kind == "plugins":
                result = check_plugins(state.source.content, context, self.target)
                state.findings.extend(result.findings)
                plugin_modules |= result.modules
                state.modules = sorted(result.modules)
                state.plugin_sources = result.sources
        siblings = set(context.sibling_modules)
        if self.policy is not None:
            # Declared importable: their top-level package, which is what import resolution keys on.
            siblings.update(module.split(".", 1)[0] for module in self.policy.extra_modules)
        for state in self.states:
            if state.kind == "dags":
                module = top_level_module(state.path)
                if module is not None:
                    siblings.add(module)
        self.imports = ImportEnv.build(
            self.target,
            distributions=tuple(self.requirements.distributions),
            opaque_requirements=self.requirements.opaque,
            local_modules=frozenset(siblings | plugin_modules),
        )
        self.ignore = self._ignore_rules()
        #: Modules that the files Airflow parses import, transitively; read as far as a skipped file needs.
        self._reach: ImportReach | None = None

    def _config_policy(self) -> ConfigPolicy | None:
        settings_file = self.context.settings_file
        if settings_file is None:
            return None
        try:
            settings = parse_settings(settings_file.content)
        except SettingsProblem as problem:
            self.settings_findings.append(
                finding(
                    "config-invalid",
                    f"{problem}; every rule runs with its defaults and the run fails until the file is fixed",
                    problem.line,
                )
            )
            return None
        policy = config_policy(settings)
        self.settings_findings.extend(policy.refusals)
        return policy

    def _requirements(self) -> Requirements:
        for state in self.states:
            if state.kind == "requirements":
                text = _decode(state.source.content, state)
                parsed = parse_requirements(text or "", self.target)
                state.findings.extend(parsed.findings)
                state.findings.extend(scan_text(text or ""))
                state.directives = read_directives(text or "", python=False)
                return parsed
        if self.context.requirements is not None:
            return parse_requirements(self.context.requirements, self.target)
        return Requirements()

    def _ignore_rules(self) -> IgnoreRules:
        syntax = self.context.dag_ignore_syntax or ("glob" if self.target.major >= 3 else "regexp")
        sources: list[tuple[str, str, str]] = []
        batch_has_root = False
        for state in self.states:
            if state.kind == "dags" and posixpath.basename(state.path) == ".airflowignore":
                text = _decode(state.source.content, state)
                folder = posixpath.dirname(state.path)
                batch_has_root = batch_has_root or folder == ""
                sources.append((state.source.path, folder, text or ""))
        if self.context.airflowignore is not None and not batch_has_root:
            sources.insert(0, (".airflowignore", "", self.context.airflowignore))
        return build_rules(sources, syntax, re2=self.target.major < 3)

    # -- per file ---------------------------------------------------------------------------------

    def check(self) -> None:
        for state in self.states:
            kind = state.kind
            if kind == "dags":
                self._dags_folder_file(state)
            elif kind == "startup":
                text = _decode(state.source.content, state)
                if text is not None:
                    state.findings.extend(check_startup(state.source.content, text))
                    state.findings.extend(scan_text(text))
                    state.directives = read_directives(text, python=False)
            elif kind == "plugins":
                state.findings.extend(plugin_source_findings(state.plugin_sources, self.target, self.imports))
        self._dag_id_conflicts()

    def _dags_folder_file(self, state: _FileState) -> None:
        path, content = state.path, state.source.content
        parts = path.split("/")
        name = parts[-1].lower()
        suffix = _suffix(path)
        if "__pycache__" in parts or suffix in (".pyc", ".pyo"):
            state.findings.append(
                finding(
                    "envelope-bytecode", "compiled Python is ignored or, worse, stale: delete it and sync sources only"
                )
            )
            return
        if is_native(name):
            state.findings.append(
                finding(
                    "envelope-file-type",
                    "native binaries cannot be loaded from the DAGs folder; ship code in plugins.zip",
                )
            )
            return
        if name in _JUNK_NAMES or name.endswith(_JUNK_SUFFIXES) or any(p.lower() in _JUNK_FOLDERS for p in parts[:-1]):
            state.findings.append(finding("envelope-junk-file", "not part of the DAGs: exclude it from the sync"))
        limit = self.context.max_python_file_bytes if suffix == ".py" else self.context.max_file_bytes
        if len(content) > limit:
            state.findings.append(finding("envelope-file-too-large", over_limit(len(content), limit)))
            return
        if suffix == ".py":
            text = _decode(content, state)
            if text is not None:
                self._python(state, content, text, self.imports)
        elif suffix == ".zip":
            self._dag_zip(state)
        elif name == ".airflowignore":  # decoded and compiled with the other ignore files
            state.findings.extend(self.ignore.findings.get(state.source.path, ()))
        elif suffix in _TEXT_SUFFIXES:
            text = _decode(content, state)
            if text is not None:
                state.findings.extend(scan_text(text))
                if suffix in _HASH_COMMENT_SUFFIXES:
                    state.directives = read_directives(text, python=False)

    def _python(
        self, state: _FileState, content: bytes, text: str, imports: ImportEnv, member: str | None = None
    ) -> None:
        """The Python rules on ``state``'s file, or on its archive ``member`` (a packaged DAG)."""
        result = analyze_python(text, self.target, imports)
        found = [*result.findings, *scan_text(text)]
        if member is None:
            state.directives = read_directives(text, python=True)
            if self._never_imported(state, result, content, text):
                kept = [f for f in found if f.rule in _NOT_IMPORTED_RULES]
                state.findings.extend(kept)
                waived = sorted({f.rule for f in found} - {f.rule for f in kept})
                if waived:  # said only when the full checks would have said more
                    state.findings.append(self._not_imported_finding(waived))
                return
        # What Airflow loads DAGs from: the file itself, or a root-level module of a packaged DAG.
        top = member is None or "/" not in member
        if top:
            self._discovery(result, content, state.path, found, in_zip=member is not None)
        if member is not None:
            found = [prefixed(member, f) for f in found]
        state.findings.extend(found)
        if top:
            state.dags.extend(result.dags)

    def _never_imported(self, state: _FileState, result: PythonResult, content: bytes, text: str) -> bool:
        """A file safe mode skips, that defines no DAG, and that no file Airflow parses imports (transitively).

        A file that imports ``airflow`` itself is Airflow code, meant to run where Airflow runs: it keeps
        the full checks even when no importer is in sight (a DAG may load it in a way not seen here).
        """
        if not self.context.safe_mode or result.defines_dag or not text.strip():
            return False
        if parsed_by_airflow(content, self.target.major) or "airflow" in imported_names(state.path, content):
            return False
        if self._reach is None:
            self._reach = ImportReach(
                [(state.path, state.source.content) for state in self.states if state.kind == "dags"],
                self.target.major,
                self.context.imported_modules or frozenset(),
            )
        return not self._reach.imports(state.path)

    def _not_imported_finding(self, waived: list[str]) -> Finding:
        words = "'airflow' and 'dag' (or 'asset')" if self.target.major >= 3 else "both 'airflow' and 'dag'"
        return finding(
            "file-not-imported",
            f"Airflow never imports this file: safe mode skips it (it does not contain {words}) and no DAG file "
            f"imports it (a Glue or Spark job script, say); only its syntax and secrets were checked, so "
            f"{', '.join(waived)} {'is' if len(waived) == 1 else 'are'} not reported. If a DAG does load it, "
            "import it by its module name",
        )

    def _discovery(
        self, result: PythonResult, content: bytes, path: str, found: list[Finding], *, in_zip: bool = False
    ) -> None:
        if not result.defines_dag:
            return
        line = result.dags[0].line if result.dags else None
        if self.context.safe_mode and not parsed_by_airflow(content, self.target.major):
            words = "'airflow' and 'dag' (or 'asset')" if self.target.major >= 3 else "both 'airflow' and 'dag'"
            found.append(
                finding(
                    "dag-skipped-safe-mode",
                    f"Airflow only parses files that contain {words}; this one is skipped, so its DAG never appears",
                    line,
                )
            )
        if not in_zip and self.ignore.is_ignored(path):
            found.append(finding("dag-ignored", f"{path} is excluded by .airflowignore: its DAG never appears", line))

    def _dag_zip(self, state: _FileState) -> None:
        archive = open_archive(state.source.content, self.context)
        state.findings.extend(archive.findings)
        if archive.zip is None:
            return
        # Airflow puts the archive on sys.path while it loads the root-level modules.
        local = frozenset(m for m in (top_level_module(f.filename) for f in archive.files) if m is not None)
        imports = self.imports.with_local(local)
        for member in archive.files:
            name = member.filename
            lowered = name.lower()
            if "__pycache__" in lowered.split("/") or lowered.endswith((".pyc", ".pyo")):
                state.findings.append(finding("envelope-bytecode", f"{name}: compiled Python in a packaged DAG"))
            elif is_native(lowered):
                state.findings.append(
                    finding("zip-native-binary", f"{name}: packaged DAGs cannot contain compiled libraries")
                )
            elif lowered.endswith(".py"):
                if member.file_size > self.context.max_python_file_bytes:
                    state.findings.append(
                        finding(
                            "envelope-file-too-large",
                            f"{name}: {over_limit(member.file_size, self.context.max_python_file_bytes)}",
                        )
                    )
                    continue
                data = read_member(archive.zip, member)
                if isinstance(data, Finding):
                    state.findings.append(data)
                    continue
                text = _decode(data, state, f"{name}: ")
                if text is not None:
                    self._python(state, data, text, imports, member=name)

    # -- across files -----------------------------------------------------------------------------

    def _dag_id_conflicts(self) -> None:
        owners: dict[str, list[_FileState]] = {}
        for state in self.states:
            for dag_id in dict.fromkeys(d.dag_id for d in state.dags if d.dag_id is not None):
                owners.setdefault(dag_id, []).append(state)
        index = {dag_id: normalize_path(path) for dag_id, path in self.context.dag_id_owners.items()}
        for state in self.states:
            lines = {d.dag_id: d.line for d in reversed(state.dags) if d.dag_id is not None}
            for dag_id, line in lines.items():
                others = [s.source.path for s in owners[dag_id] if s is not state]
                if others:
                    state.findings.append(
                        finding("dag-id-conflict", f"dag_id '{dag_id}' is also defined in {', '.join(others)}", line)
                    )
                    continue
                owner = index.get(dag_id)
                if owner is not None and owner != state.path:
                    state.findings.append(
                        finding(
                            "dag-id-conflict",
                            f"dag_id '{dag_id}' already belongs to {owner} in the environment; Airflow reports an "
                            "import error for one of the two files",
                            line,
                        )
                    )

    def _applied(self, found: list[Finding], directives: Directives | None = None) -> list[Finding]:
        if directives is None and self.policy is None:
            return found
        return apply_suppressions(found, directives, self.policy)

    def report(self) -> Report:
        reports: list[FileReport] = []
        errors = warnings = infos = failed = suppressed = 0
        for state in self.states:
            found = self._applied(state.findings, state.directives)
            found = sorted(found, key=_finding_order) if len(found) > 1 else list(found)
            file_errors, file_warnings, file_infos, file_suppressed = _severity_counts(found)
            errors, warnings, infos = errors + file_errors, warnings + file_warnings, infos + file_infos
            suppressed += file_suppressed
            has_error = file_errors > 0
            failed += has_error
            reports.append(
                FileReport(
                    path=state.source.path,
                    verdict="fail" if has_error else "pass",
                    findings=found,
                    dag_ids=sorted({d.dag_id for d in state.dags if d.dag_id is not None}),
                    modules=state.modules,
                )
            )
        known = {state.source.path for state in self.states}
        extra = [(path, self._applied(found)) for path, found in self.ignore.findings.items() if path not in known]
        # The .airflowignore from the context, not from the files; .mwaa-cp.toml when it has something to say.
        if self.settings_findings and self.context.settings_file is not None:
            extra.append((self.context.settings_file.path, self._applied(self.settings_findings)))
        for path, found in extra:
            file_errors, file_warnings, file_infos, file_suppressed = _severity_counts(found)
            errors, warnings, infos = errors + file_errors, warnings + file_warnings, infos + file_infos
            suppressed += file_suppressed
            failed += file_errors > 0
            reports.append(FileReport(path=path, verdict="fail" if file_errors else "pass", findings=found))
        summary = Summary(
            files=len(reports),
            passed=len(reports) - failed,
            failed=failed,
            errors=errors,
            warnings=warnings,
            infos=infos,
            airflow_version=self.context.airflow_version,
            python_version=self.target.python_text,
            suppressed=suppressed,
        )
        return Report(files=reports, summary=summary)


def validate_files(files: Sequence[SourceFile], context: ValidationContext) -> Report:
    """Check ``files`` against the environment described by ``context``.

    Paths are relative to the DAGs folder root. Environment files (requirements.txt,
    plugins.zip, startup.sh) may be passed too; their findings appear in the same report
    and requirements.txt and plugins.zip feed import resolution.
    """
    run = _Run(files, context)
    run.check()
    return run.report()
