"""Report renderers: text for people, JSON for machines, SARIF 2.1.0 for code-scanning tools.

Suppressed findings are in the JSON (``"suppressed": true`` and their ``suppression`` source) and in
SARIF (a result with a ``suppressions`` entry, SARIF's standard way; viewers that honour it show the
result as suppressed); the text output, read by people fixing what fails, leaves them out and counts
them in its last line.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from mwaa_control_plane import __version__
from mwaa_control_plane.dags.validation.models import SETTINGS_FILE_NAME, Finding, Report, Severity
from mwaa_control_plane.dags.validation.rules import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_RULES_DOC = "docs/validator-rules.md"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# SARIF's suppression kinds: in the source (a comment) or outside it (the configuration file).
_SARIF_SUPPRESSION = {
    "inline": ("inSource", "'# mwaa-cp: ignore' comment on the line"),
    "file": ("inSource", "'# mwaa-cp: ignore-file' comment at the top of the file"),
    "config": ("external", f"rule disabled in {SETTINGS_FILE_NAME}"),
}


def render_text(report: Report) -> str:
    """``path:line: severity rule message`` per finding (the form editors and CI logs link), then a summary."""
    lines: list[str] = []
    for file in report.files:
        for item in file.findings:
            if item.suppressed:
                continue
            where = f"{file.path}:{item.line}" if item.line is not None else file.path
            lines.append(f"{where}: {item.severity.value} [{item.rule}] {item.message}")
    s = report.summary
    lines.append(
        f"{s.files} file{'s' if s.files != 1 else ''} checked against Airflow {s.airflow_version} "
        f"(Python {s.python_version}): {s.passed} passed, {s.failed} failed; "
        f"{s.errors} error{'s' if s.errors != 1 else ''}, {s.warnings} warning{'s' if s.warnings != 1 else ''}, "
        f"{s.infos} info" + (f"; {s.suppressed} suppressed" if s.suppressed else "")
    )
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    # ensure_ascii=False: the characters as they are, in UTF-8, the way the output always wrote them.
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def sarif_document(report: Report) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log with one run; every rule of the catalog is described."""
    rule_ids = list(RULES)
    rules = [
        {
            "id": rule.id,
            "name": "".join(part.capitalize() for part in rule.id.split("-")),
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": f"{rule.summary}. See {_RULES_DOC}#{rule.id}."},
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
            "properties": {"tags": ["mwaa", "airflow"]},
        }
        for rule in RULES.values()
    ]
    results: list[dict[str, Any]] = []
    for file in report.files:
        for item in file.findings:
            location: dict[str, Any] = {"artifactLocation": {"uri": quote(file.path, safe="/")}}
            if item.line is not None and item.line >= 1:
                location["region"] = {"startLine": item.line}
            result: dict[str, Any] = {
                "ruleId": item.rule,
                "level": _SARIF_LEVEL[item.severity],
                "message": {"text": item.message},
                "locations": [{"physicalLocation": location}],
            }
            if item.rule in RULES:
                result["ruleIndex"] = rule_ids.index(item.rule)
            if item.suppressed:
                result["suppressions"] = [_sarif_suppression(item)]
            results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mwaa-cp validate",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": {"summary": report.summary.to_dict()},
            }
        ],
    }


def _sarif_suppression(item: Finding) -> dict[str, Any]:
    kind, justification = _SARIF_SUPPRESSION[item.suppression or "config"]
    return {
        "kind": kind,
        "status": "accepted",
        "justification": justification,
        "properties": {"source": item.suppression},
    }


def render_sarif(report: Report) -> str:
    return json.dumps(sarif_document(report), indent=2) + "\n"
