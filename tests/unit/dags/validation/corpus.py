"""Loading corpus folders the way the CLI does, shared by the corpus tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mwaa_control_plane.dags.validation import Report, validate_files
from mwaa_control_plane.dags.validation.models import SettingsFile
from mwaa_control_plane.dags.validation.sources import load_paths

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
DEFECTS = CORPUS / "defects"
CLEAN = CORPUS / "clean"


@dataclass
class Case:
    folder: Path
    airflow_version: str = "2.10.3"
    expect: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.folder.name


def defect_cases() -> list[Case]:
    cases = []
    for folder in sorted(p for p in DEFECTS.iterdir() if p.is_dir()):
        meta = json.loads((folder / "case.json").read_text()) if (folder / "case.json").exists() else {}
        cases.append(
            Case(
                folder=folder,
                airflow_version=meta.get("airflow_version", "2.10.3"),
                expect=meta.get("expect", [folder.name.split("--")[0]]),
                context=_settings(meta.get("context", {})),
            )
        )
    return cases


def _settings(context: dict[str, Any]) -> dict[str, Any]:
    """``case.json``'s context with its ``settings_file`` (path and text) as the SettingsFile it describes."""
    given = context.get("settings_file")
    if not isinstance(given, dict):
        return context
    return {**context, "settings_file": SettingsFile(path=given["path"], content=given["content"].encode())}


def validate_folder(folder: Path, airflow_version: str, **context: Any) -> Report:
    loaded = load_paths([folder])
    files = [f for f in loaded.files if f.path != "case.json"]
    return validate_files(files, loaded.context(with_requirements=False, airflow_version=airflow_version, **context))
