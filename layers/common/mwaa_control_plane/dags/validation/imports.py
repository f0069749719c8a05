"""Where an import can come from on the target environment.

Sources, in order: the standard library of the environment's Python, the packages MWAA
preinstalls for the Airflow version (``data/preinstalled.json``), the environment's
requirements.txt with everything each requirement installs (``facts.py``), modules in the DAGs
folder (it is on ``sys.path``) and plugins.zip. Imports of a preinstalled provider are checked
against the modules and names of the provider version MWAA pins for the Airflow version.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from mwaa_control_plane.dags.validation.target import (
    Target,
    distribution_imports,
    normalize_distribution,
    preinstalled,
    stdlib_modules,
)

if TYPE_CHECKING:
    from mwaa_control_plane.dags.validation.facts import Facts, Provider


def facts_for(airflow: tuple[int, int, int], *, exact: bool) -> Facts | None:
    """``facts.facts_for``, imported on first use: most validations never need the generated facts."""
    from mwaa_control_plane.dags.validation import facts

    return facts.facts_for(airflow, exact=exact)


#: Namespace packages whose members come from many distributions: resolved one level deeper.
NAMESPACE_PARENTS = frozenset({"google", "google.cloud"})
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
    #: Dotted import names MWAA preinstalls (``yaml``, ``google.protobuf``, ``google.cloud.location``).
    installed: frozenset[str]
    #: Namespace packages above them (``google``, ``google.cloud``): importable, empty.
    namespaces: frozenset[str]
    providers: frozenset[str]
    #: Providers requirements.txt installs, at a version this check does not know.
    extra_providers: frozenset[str]
    #: Dotted import names of every distribution requirements.txt installs, dependencies included.
    requirement_imports: frozenset[str]
    #: Normalized names of requirements missing from the data: their import name is guessed.
    guessed_names: tuple[str, ...]
    #: Requirements whose dependencies are not known offline: a missing import may come from them.
    uncertain: tuple[str, ...]
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
        imports: set[str] = set()
        extra_providers: set[str] = set()
        guessed: list[str] = []
        uncertain: list[str] = []
        # Read only when there are requirements to resolve.
        facts = facts_for(target.airflow, exact=False) if distributions else None
        for dist in distributions:
            normalized = normalize_distribution(dist)
            if facts is None or (closure := facts.closure(normalized)) is None:
                _guess(normalized, imports, extra_providers)
                guessed.append(normalized.replace("-", "_"))
                uncertain.append(dist)
                continue
            members, complete = closure
            if not complete:
                uncertain.append(dist)
            for member in members:
                key = provider_key(member)
                if key is not None:
                    extra_providers.add(key)
                imports.update(facts.import_names(member) or ())
        return cls(
            target=target,
            stdlib=stdlib_modules(target.python),
            installed=pre.modules,
            namespaces=_namespaces(pre.modules),
            providers=pre.providers,
            extra_providers=frozenset(extra_providers),
            requirement_imports=frozenset(imports),
            guessed_names=tuple(guessed),
            uncertain=tuple(uncertain),
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

    def missing_names(self, module: str, names: Iterable[str]) -> list[tuple[str, str]]:
        """(rule, message) for each ``from module import name`` the provider version MWAA pins lacks.

        Only modules of a preinstalled provider that requirements.txt does not replace, and only for
        an Airflow version with generated facts; any other import yields nothing.
        """
        owner = self._pinned_provider(module)
        if owner is None:
            return []
        provider, relative = owner
        if not provider.module_exists(relative) or relative in provider.unimportable:
            return []  # resolve() reports the module
        notes: list[tuple[str, str]] = []
        for name in names:
            if provider.defines(relative, name):
                continue
            replacement = provider.replacement_name(relative, name)
            where = f"{provider.label}, the version MWAA installs for Airflow {self.target.airflow_text}"
            if replacement is not None:
                notes.append(("airflow-import-removed", f"'{name}' is not in '{module}' in {where}; use {replacement}"))
            else:
                notes.append(("import-unresolved", f"'{name}' is not in '{module}' in {where}"))
        return notes

    def _pinned_provider(self, module: str) -> tuple[Provider, str] | None:
        parts = module.split(".")
        if len(parts) < 3 or parts[0] != "airflow" or parts[1] != "providers":
            return None
        candidates = [".".join(parts[2:4]), parts[2]]
        if any(c in self.extra_providers for c in candidates) or not any(c in self.providers for c in candidates):
            return None
        facts = facts_for(self.target.airflow, exact=True)
        return facts.provider_of(module) if facts is not None else None

    def _resolve(self, module: str) -> tuple[Resolution, str]:
        top = module.partition(".")[0]
        if top == "airflow":
            return self._resolve_airflow(module)
        if top == "__future__" or top in self.stdlib or top in self.local:
            return Resolution.FOUND, ""
        if module in self.namespaces or _covered(module, self.installed):
            return Resolution.FOUND, ""
        if _covered(module, self.requirement_imports) or self._fuzzy_requirement(top):
            return Resolution.FOUND, ""
        if self.opaque_requirements:
            return (
                Resolution.UNVERIFIED,
                f"'{module}' is not preinstalled and requirements.txt cannot be resolved offline",
            )
        if self.uncertain:
            sources = ", ".join(self.uncertain)
            return (
                Resolution.UNVERIFIED,
                f"'{module}' is not preinstalled and no requirement with known dependencies installs it; it may come "
                f"from {sources} (requirements.txt), whose dependencies are not known offline",
            )
        hint = self._distribution_hint(module)
        return (
            Resolution.MISSING,
            f"'{module}' is not in the standard library of Python {self.target.python_text}, not preinstalled "
            f"on MWAA for Airflow {self.target.airflow_text}, not in requirements.txt and not a module of the "
            f"DAGs folder or plugins.zip{hint}",
        )

    def _distribution_hint(self, module: str) -> str:
        """Which distributions provide ``module``, from the generated data: never a made-up name."""
        facts = facts_for(self.target.airflow, exact=False)
        found = facts.distributions_providing(module) if facts is not None else ()
        if not found:
            return ""
        return f"; the distribution {' or '.join(found[:3])} provides it"

    def _fuzzy_requirement(self, top: str) -> bool:
        # snowflake-connector-python provides snowflake: accept a distribution whose name contains the import.
        lowered = top.lower()
        return len(lowered) >= 4 and any(lowered in name for name in self.guessed_names)

    def _resolve_airflow(self, module: str) -> tuple[Resolution, str]:
        parts = module.split(".")
        if len(parts) >= 2 and parts[1] == "sdk" and self.target.major < 3:
            return Resolution.MISSING, f"'{module}': the airflow.sdk package exists only on Airflow 3"
        if len(parts) >= 3 and parts[1] == "providers":
            candidates = [".".join(parts[2:4]), parts[2]] if len(parts) >= 4 else [parts[2]]
            if any(c in self.extra_providers for c in candidates):
                return Resolution.FOUND, ""
            if any(c in self.providers for c in candidates):
                return self._resolve_provider_module(module)
            if self.opaque_requirements:
                return Resolution.UNVERIFIED, f"'{module}': provider not preinstalled, requirements.txt is opaque"
            return Resolution.MISSING, self._provider_missing(module, parts[2])
        return Resolution.FOUND, ""

    def _resolve_provider_module(self, module: str) -> tuple[Resolution, str]:
        owner = self._pinned_provider(module)
        if owner is None:
            return Resolution.FOUND, ""
        provider, relative = owner
        failure = provider.unimportable.get(relative)
        if failure is not None:
            return (
                Resolution.MISSING,
                f"'{module}' exists in {provider.label}, the version MWAA installs for Airflow "
                f"{self.target.airflow_text}, but {failure}",
            )
        if provider.module_exists(relative):
            return Resolution.FOUND, ""
        replacement = provider.replacement_module(relative)
        hint = f"; use {provider.dotted(replacement)}" if replacement is not None else ""
        return (
            Resolution.MISSING,
            f"'{module}' does not exist in {provider.label}, the version MWAA installs for Airflow "
            f"{self.target.airflow_text}{hint}",
        )

    def _provider_missing(self, module: str, first: str) -> str:
        facts = facts_for(self.target.airflow, exact=False)
        dist = _provider_distribution(facts, module) if facts is not None else None
        if dist is None:
            return (
                f"'{module}': no Airflow provider '{first}' is preinstalled on MWAA for Airflow "
                f"{self.target.airflow_text} or listed in requirements.txt"
            )
        return (
            f"'{module}': the provider {dist} is not preinstalled on MWAA for Airflow "
            f"{self.target.airflow_text}; add it to requirements.txt"
        )


def _provider_distribution(facts: Facts, module: str) -> str | None:
    owner = facts.provider_of(module)
    return owner[0].distribution if owner is not None else None


def _covered(module: str, names: frozenset[str]) -> bool:
    """Whether ``module`` or one of its parent packages is in ``names``."""
    if module in names:
        return True
    end = module.rfind(".")
    while end != -1:
        if module[:end] in names:
            return True
        end = module.rfind(".", 0, end)
    return False


def _namespaces(names: Iterable[str]) -> frozenset[str]:
    """The parents of dotted import names that are not themselves import names: namespace packages."""
    result: set[str] = set()
    for name in names:
        parts = name.split(".")
        result.update(".".join(parts[:size]) for size in range(1, len(parts)))
    return frozenset(result)


def _guess(normalized: str, imports: set[str], providers: set[str]) -> None:
    """Import names of a distribution the data does not know: the hand-kept list or its name."""
    key = provider_key(normalized)
    if key is not None:
        providers.add(key)
        return
    imports.update(modules_of_distribution(normalized))
    if normalized.startswith("google-cloud-"):
        imports.add("google.cloud." + normalized.removeprefix("google-cloud-").replace("-", "_"))
