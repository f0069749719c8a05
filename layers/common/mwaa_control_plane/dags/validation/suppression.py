"""Suppressions: ``# mwaa-cp: ignore`` comments and ``.mwaa-cp.toml``, applied to one file's findings.

In a ``#`` comment of a Python file, requirements.txt, startup.sh or another ``#``-comment text
file of the DAGs folder (YAML, TOML, INI, shell...)::

    x = Variable.get("k")  # mwaa-cp: ignore[top-level-variable]   that rule's findings on this line
    x = Variable.get("k")  # mwaa-cp: ignore[rule-a, rule-b]        several rules
    x = Variable.get("k")  # mwaa-cp: ignore                        every suppressible rule on this line
    # mwaa-cp: ignore-file[top-level-variable, ...]                 in the whole file: on a line of its own
    # mwaa-cp: ignore-file                                          in the leading comment block, before
                                                                    the first statement (or docstring)

Anything after the directive is free text (a reason). A suppressed finding stays in the report,
marked with its source (``inline``, ``file`` or ``config``); it no longer counts toward the verdict.
A directive that names an unsuppressible or unknown rule, an ``ignore-file`` out of place, or a
``mwaa-cp:`` comment that does not parse is answered by an info ``suppression-refused`` finding, so a
suppression never fails silently.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from mwaa_control_plane.dags.validation.models import Finding, Severity, SuppressionSource
from mwaa_control_plane.dags.validation.rules import RULES, finding
from mwaa_control_plane.dags.validation.settings_file import ValidatorSettings

MARKER = "mwaa-cp:"
_MARKED = re.compile(r"#\s*mwaa-cp:(?P<rest>.*)")
_DIRECTIVE = re.compile(r"\s*(?P<kind>ignore-file|ignore)(?:\[(?P<ids>[^\]]*)\])?(?=\s|#|$)")
_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}
_GRAMMAR = (
    "write '# mwaa-cp: ignore[rule-id, ...]' at the end of the line, or '# mwaa-cp: ignore-file[rule-id, ...]' "
    "on a line of its own before the first statement"
)
_PYTHON_NOISE = frozenset({tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING, tokenize.INDENT, tokenize.DEDENT})


@dataclass(frozen=True, slots=True)
class _Directive:
    line: int
    #: The suppressible rules it names; None for a bare ``ignore`` / ``ignore-file`` (every suppressible rule).
    rules: frozenset[str] | None

    def covers(self, rule: str) -> bool:
        return self.rules is None or rule in self.rules


@dataclass(slots=True)
class Directives:
    """The suppression comments of one file."""

    inline: dict[int, _Directive] = field(default_factory=dict)
    whole_file: list[_Directive] = field(default_factory=list)
    #: ``suppression-refused`` findings about the comments themselves.
    refusals: list[Finding] = field(default_factory=list)

    def source_for(self, item: Finding) -> SuppressionSource | None:
        if item.line is not None:
            directive = self.inline.get(item.line)
            if directive is not None and directive.covers(item.rule):
                return "inline"
        if any(d.covers(item.rule) for d in self.whole_file):
            return "file"
        return None

    def bare_over(self, item: Finding) -> Iterator[_Directive]:
        """Bare directives whose scope holds ``item``: they meant it too, and are told why it stays."""
        directive = self.inline.get(item.line) if item.line is not None else None
        if directive is not None and directive.rules is None:
            yield directive
        yield from (d for d in self.whole_file if d.rules is None)


@dataclass(frozen=True, slots=True)
class ConfigPolicy:
    """What ``.mwaa-cp.toml`` asks once what it may not ask is taken out (and said in ``refusals``)."""

    disabled: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    #: ``[imports] extra_modules``: declared importable (not a suppression, but read from the same file).
    extra_modules: frozenset[str] = frozenset()
    refusals: tuple[Finding, ...] = ()


def _refused(rule_id: str, line: int | None, what: str = "cannot be suppressed") -> Finding:
    return finding("suppression-refused", f"'{rule_id}' {what}: {RULES[rule_id].refusal}", line)


def config_policy(settings: ValidatorSettings) -> ConfigPolicy:
    """``settings`` as applied: unsuppressible rules are neither disabled nor lowered."""
    refusals: list[Finding] = []
    disabled: set[str] = set()
    for rule_id in sorted(settings.rules.disable):
        if RULES[rule_id].suppressible:
            disabled.add(rule_id)
        else:
            refusals.append(_refused(rule_id, None, "in [rules] disable cannot be suppressed"))
    severity: dict[str, Severity] = {}
    for rule_id, wanted in sorted(settings.rules.severity.items()):
        rule = RULES[rule_id]
        if rule.suppressible or _RANK[wanted] >= _RANK[rule.severity]:
            severity[rule_id] = wanted
        else:
            refusals.append(_refused(rule_id, None, f"in [rules.severity] cannot be lowered to {wanted.value}"))
    return ConfigPolicy(frozenset(disabled), severity, settings.imports.extra_modules, tuple(refusals))


def _python_comments(text: str) -> Iterator[tuple[int, str, bool]]:
    """(line, comment, in the leading block) of each comment; raises on what tokenize cannot read."""
    leading = True
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            own_line = not token.line[: token.start[1]].strip()
            yield token.start[0], token.string, leading and own_line
        elif token.type not in _PYTHON_NOISE:
            leading = False


def _hash_comments(text: str) -> Iterator[tuple[int, str, bool]]:
    """The same for ``#``-comment text files (and Python that tokenize rejects): line by line."""
    leading = True
    for number, line in enumerate(text.splitlines(), 1):
        at = line.find("#")
        code = line[:at] if at >= 0 else line
        if code.strip():
            leading = False
        if at >= 0:
            yield number, line[at:], leading


def read_directives(text: str, *, python: bool) -> Directives | None:
    """The suppression comments in ``text``; None when it has none (the common case, decided by one search)."""
    if MARKER not in text:
        return None
    comments: list[tuple[int, str, bool]]
    if python:
        try:
            comments = list(_python_comments(text))
        except (tokenize.TokenError, SyntaxError):
            comments = list(_hash_comments(text))
    else:
        comments = list(_hash_comments(text))
    directives = Directives()
    for line, comment, leading in comments:
        marked = _MARKED.search(comment)
        if marked is not None:
            _read_directive(directives, line, marked.group("rest"), leading)
    return directives


def _read_directive(directives: Directives, line: int, rest: str, leading: bool) -> None:
    parsed = _DIRECTIVE.match(rest)
    if parsed is None:
        message = f"'mwaa-cp:' comment not understood; {_GRAMMAR}"
        directives.refusals.append(finding("suppression-refused", message, line))
        return
    rules: frozenset[str] | None = None
    if parsed.group("ids") is not None:
        named = [part.strip() for part in parsed.group("ids").split(",") if part.strip()]
        if not named:
            directives.refusals.append(
                finding("suppression-refused", f"'{parsed.group('kind')}[]' names no rule; {_GRAMMAR}", line)
            )
            return
        kept: set[str] = set()
        for rule_id in dict.fromkeys(named):
            rule = RULES.get(rule_id)
            if rule is None:
                directives.refusals.append(
                    finding("suppression-refused", f"'{rule_id}' is not a rule id; nothing is suppressed for it", line)
                )
            elif not rule.suppressible:
                directives.refusals.append(_refused(rule_id, line))
            else:
                kept.add(rule_id)
        rules = frozenset(kept)
    if parsed.group("kind") == "ignore":
        directives.inline.setdefault(line, _Directive(line, rules))
    elif leading:
        directives.whole_file.append(_Directive(line, rules))
    else:
        directives.refusals.append(
            finding(
                "suppression-refused",
                "'ignore-file' is only read on a line of its own in the leading comment block, before the first "
                "statement (or docstring); this one is not applied",
                line,
            )
        )


def _severity(item: Finding, policy: ConfigPolicy | None) -> Finding:
    wanted = policy.severity.get(item.rule) if policy is not None else None
    if wanted is None or wanted is item.severity:
        return item
    return replace(item, severity=wanted)


def apply_suppressions(
    found: list[Finding], directives: Directives | None, policy: ConfigPolicy | None
) -> list[Finding]:
    """``found`` with the configured severities, suppressed findings marked, and the refusals added."""
    result: list[Finding] = []
    refused: dict[tuple[int, str], Finding] = {}
    for original in found:
        item = _severity(original, policy)
        rule = RULES.get(item.rule)
        source: SuppressionSource | None = None
        if rule is not None and rule.suppressible:
            if directives is not None:
                source = directives.source_for(item)
            if source is None and policy is not None and item.rule in policy.disabled:
                source = "config"
        elif rule is not None and directives is not None:
            for directive in directives.bare_over(item):
                what = "cannot be suppressed"
                if item.line is not None and item.line != directive.line:
                    what = f"on line {item.line} {what}"
                refused.setdefault((directive.line, item.rule), _refused(item.rule, directive.line, what))
        if source is not None:
            item = replace(item, suppressed=True, suppression=source)
        result.append(item)
    extra = [*(directives.refusals if directives is not None else ()), *refused.values()]
    result.extend(_severity(item, policy) for item in extra)
    return result
