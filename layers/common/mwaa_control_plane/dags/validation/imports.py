"""Where an import can come from on the target environment.

Sources, in order: the standard library of the environment's Python, the packages MWAA
preinstalls for the Airflow version (``data/preinstalled.json``), the environment's
requirements.txt, modules in the DAGs folder (it is on ``sys.path``) and plugins.zip.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from enum import Enum

from mwaa_control_plane.dags.validation.target import (
    Target,
    distribution_imports,
    normalize_distribution,
    preinstalled,
    stdlib_modules,
)

#: Namespace packages whose members come from many distributions: resolved one level deeper.
NAMESPACE_PARENTS = frozenset({"google", "google.cloud"})
# What googleapis-common-protos (preinstalled) puts under google.cloud.
_PREINSTALLED_GOOGLE_CLOUD = frozenset({"location", "extended_operations_pb2"})
_PROVIDER_DIST = re.compile(r"^apache-airflow-providers-(?P<name>[a-z0-9-]+)$")


class Resolution(Enum):
    FOUND = "found"
    MISSING = "missing"
    UNVERIFIED = "unverified"


def provider_key(distribution: str) -> str | None:
    """``apache-airflow-providers-common-sql`` -> ``common.sql``; None for other distributions."""
    match = _PROVIDER_DIST.match(normalize_distribution(distribution))
    return match.group("name").replace("-", ".") if match else None


def modules_of_distribution(distribution: str) -> tuple[str, ...]:
    normalized = normalize_distribution(distribution)
    known = distribution_imports().get(normalized)
    if known is not None:
        return known
    underscored = normalized.replace("-", "_")
    candidates = [underscored]
    for prefix in ("python_", "py_"):
        if underscored.startswith(prefix):
            candidates.append(underscored[len(prefix) :])
    if underscored.endswith("_python"):
        candidates.append(underscored[: -len("_python")])
    return tuple(candidates)


@dataclass(frozen=True, slots=True)
class ImportEnv:
    """Everything import resolution needs, built once per validation run."""

    target: Target
    stdlib: frozenset[str]
    installed: frozenset[str]
    namespaces: frozenset[str]
    providers: frozenset[str]
    extra_providers: frozenset[str]
    requirement_modules: frozenset[str]
    requirement_dotted: frozenset[str]
    requirement_names: tuple[str, ...]
    local: frozenset[str]
    opaque_requirements: bool
    #: module -> resolution; the same imports repeat in every file of a folder.
    _cache: dict[str, tuple[Resolution, str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        target: Target,
        *,
        distributions: tuple[str, ...],
        opaque_requirements: bool,
        local_modules: frozenset[str],
    ) -> ImportEnv:
        pre = preinstalled(target.major)
        namespaces = {m.split(".", 1)[0] for m in pre.modules if "." in m}
        requirement_modules: set[str] = set()
        requirement_dotted: set[str] = set()
        extra_providers: set[str] = set()
        for dist in distributions:
            key = provider_key(dist)
            if key is not None:
                extra_providers.add(key)
                continue
            for module in modules_of_distribution(dist):
                requirement_modules.add(module.split(".", 1)[0])
                requirement_dotted.add(module)
        return cls(
            target=target,
            stdlib=stdlib_modules(target.python),
            installed=pre.modules,
            namespaces=frozenset(namespaces),
            providers=pre.providers,
            extra_providers=frozenset(extra_providers),
            requirement_modules=frozenset(requirement_modules),
            requirement_dotted=frozenset(requirement_dotted),
            requirement_names=tuple(normalize_distribution(d).replace("-", "_") for d in distributions),
            local=local_modules,
            opaque_requirements=opaque_requirements,
        )

    def with_local(self, extra: frozenset[str]) -> ImportEnv:
        if not extra:
            return self
        # A fresh cache: resolutions change with the local modules.
        return dataclasses.replace(self, local=self.local | extra, _cache={})

    def resolve(self, module: str) -> tuple[Resolution, str]:
        """Whether ``module`` (absolute, dotted) is importable; the str explains a miss."""
        cached = self._cache.get(module)
        if cached is None:
            cached = self._cache[module] = self._resolve(module)
        return cached

    def _resolve(self, module: str) -> tuple[Resolution, str]:
        top, _, rest = module.partition(".")
        if top == "airflow":
            return self._resolve_airflow(module)
        if top == "__future__" or top in self.stdlib or top in self.local:
            return Resolution.FOUND, ""
        if module.startswith("google.cloud."):
            return self._resolve_google_cloud(module)
        if top in self.namespaces:
            second = rest.partition(".")[0]
            if not second or f"{top}.{second}" in self.installed:
                return Resolution.FOUND, ""
        elif top in self.installed:
            return Resolution.FOUND, ""
        if top in self.requirement_modules or self._fuzzy_requirement(top):
            return Resolution.FOUND, ""
        if self.opaque_requirements:
            return (
                Resolution.UNVERIFIED,
                f"'{module}' is not preinstalled and requirements.txt cannot be resolved offline",
            )
        return (
            Resolution.MISSING,
            f"'{module}' is not in the standard library of Python {self.target.python_text}, not preinstalled "
            f"on MWAA for Airflow {self.target.airflow_text}, not in requirements.txt and not a module of the "
            "DAGs folder or plugins.zip",
        )

    def _resolve_google_cloud(self, module: str) -> tuple[Resolution, str]:
        # google.cloud.bigquery comes from google-cloud-bigquery, not from the google.cloud the image has.
        member = module.split(".")[2]
        if member in _PREINSTALLED_GOOGLE_CLOUD:
            return Resolution.FOUND, ""
        if any(module == m or module.startswith(m + ".") for m in self.requirement_dotted) or any(
            name.startswith("google_cloud_") and member.replace("_", "") in name.replace("_", "")
            for name in self.requirement_names
        ):
            return Resolution.FOUND, ""
        if self.opaque_requirements:
            return (
                Resolution.UNVERIFIED,
                f"'{module}' is not preinstalled and requirements.txt cannot be resolved offline",
            )
        dist = "google-cloud-" + member.replace("_", "-")
        return (
            Resolution.MISSING,
            f"'{module}' is not preinstalled on MWAA for Airflow {self.target.airflow_text}; add {dist} to "
            "requirements.txt",
        )

    def _fuzzy_requirement(self, top: str) -> bool:
        # snowflake-connector-python provides snowflake: accept a distribution whose name contains the import.
        lowered = top.lower()
        return len(lowered) >= 4 and any(lowered in name for name in self.requirement_names)

    def _resolve_airflow(self, module: str) -> tuple[Resolution, str]:
        parts = module.split(".")
        if len(parts) >= 2 and parts[1] == "sdk" and self.target.major < 3:
            return Resolution.MISSING, f"'{module}': the airflow.sdk package exists only on Airflow 3"
        if len(parts) >= 3 and parts[1] == "providers":
            candidates = [".".join(parts[2:4]), parts[2]] if len(parts) >= 4 else [parts[2]]
            known = self.providers | self.extra_providers
            if any(c in known for c in candidates):
                return Resolution.FOUND, ""
            if self.opaque_requirements:
                return Resolution.UNVERIFIED, f"'{module}': provider not preinstalled, requirements.txt is opaque"
            dist = "apache-airflow-providers-" + parts[2].replace("_", "-")
            return (
                Resolution.MISSING,
                f"'{module}': the provider {dist} is not preinstalled on MWAA for Airflow "
                f"{self.target.airflow_text}; add it to requirements.txt",
            )
        return Resolution.FOUND, ""
