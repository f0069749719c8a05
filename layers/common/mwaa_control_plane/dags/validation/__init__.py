"""Static validation of an MWAA environment's DAGs folder, requirements.txt, plugins.zip and startup.sh.

Public entry point: :func:`validate_files` with a list of :class:`SourceFile` and a
:class:`ValidationContext`; it returns a :class:`Report`. Rules are listed in
``rules.RULES`` and documented in ``docs/validator-rules.md``.
"""

from mwaa_control_plane.dags.validation.formats import render_json, render_sarif, render_text, sarif_document
from mwaa_control_plane.dags.validation.models import (
    FileReport,
    Finding,
    Report,
    Severity,
    SourceFile,
    Summary,
    ValidationContext,
    Verdict,
)
from mwaa_control_plane.dags.validation.rules import RULES, Rule
from mwaa_control_plane.dags.validation.validator import validate_files

__all__ = [
    "RULES",
    "FileReport",
    "Finding",
    "Report",
    "Rule",
    "Severity",
    "SourceFile",
    "Summary",
    "ValidationContext",
    "Verdict",
    "render_json",
    "render_sarif",
    "render_text",
    "sarif_document",
    "validate_files",
]
