"""Real-world checks: the example DAGs Airflow ships inside its released wheels.

The wheels are downloaded at run time with pip into a cache (``$XDG_CACHE_HOME`` or the system
temp dir, keyed by name and version; see ``scripts/generate_signatures.py``), never copied into
this repository. When the package index cannot be reached the tests skip with the reason; any
other download failure (a wrong pin, a missing wheel) fails them.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

from scripts.generate_signatures import IndexUnreachableError, fetch_wheel


@dataclass(frozen=True)
class Examples:
    """A folder of example DAGs inside a released wheel, and the Airflow version it is written for."""

    airflow_version: str
    wheel: str  # pip specifier, pinned
    folder: str  # path of the example DAGs inside the wheel

    @property
    def name(self) -> str:
        return f"{self.wheel}:{self.folder}"


# The MWAA versions' own example DAGs: Airflow 2's ship in apache-airflow; Airflow 3's in
# apache-airflow-core and in the standard provider MWAA pins for 3.0.6 (its constraint file: 1.6.0).
# The Amazon provider ships no example or system DAGs in its wheels (9.0.0, 9.12.0): only in the sdist.
AIRFLOW2_EXAMPLES = Examples("2.10.3", "apache-airflow==2.10.3", "airflow/example_dags/")
AIRFLOW3_EXAMPLES = Examples("3.0.6", "apache-airflow-core==3.0.6", "airflow/example_dags/")
STANDARD_EXAMPLES = Examples(
    "3.0.6", "apache-airflow-providers-standard==1.6.0", "airflow/providers/standard/example_dags/"
)
EXAMPLES = (AIRFLOW2_EXAMPLES, AIRFLOW3_EXAMPLES, STANDARD_EXAMPLES)


@pytest.fixture(scope="session")
def released() -> Callable[[str], Path]:
    """Download (once) the wheel of a pinned specifier; skip when the index is unreachable."""

    def fetch(spec: str) -> Path:
        try:
            return fetch_wheel(spec)
        except IndexUnreachableError as exc:
            pytest.skip(f"package index unreachable, real-world check not run: {exc}")

    return fetch


@pytest.fixture(scope="session")
def example_folder(
    released: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Examples], Path]:
    """The example DAGs of a wheel extracted into a fresh folder: the DAGs folder to validate."""
    extracted: dict[Examples, Path] = {}

    def extract(examples: Examples) -> Path:
        if examples in extracted:
            return extracted[examples]
        wheel = released(examples.wheel)
        target = tmp_path_factory.mktemp("examples")
        with zipfile.ZipFile(wheel) as archive:
            members = [m for m in archive.namelist() if m.startswith(examples.folder) and not m.endswith("/")]
            for member in members:
                relative = PurePosixPath(member[len(examples.folder) :])
                assert ".." not in relative.parts, member
                destination = target.joinpath(*relative.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(archive.read(member))
        assert members, f"{wheel.name} has no {examples.folder}"
        extracted[examples] = target
        return target

    return extract
