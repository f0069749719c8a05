"""Generated facts about each MWAA Airflow version: providers' modules and names, distributions' imports.

``data/facts/mwaa-<airflow>.json.gz`` is written by ``scripts/generate_validator_data.py`` from the
constraints file MWAA installs with and the wheels it pins (sources recorded in each file). A file
is read the first time a provider import or a requirement is checked, then kept for the process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mwaa_control_plane.dags.validation.target import DATA
from mwaa_control_plane.versions import Release, release

_FILE = re.compile(r"^mwaa-(?P<version>\d+\.\d+\.\d+)\.json\.gz$")
_PROVIDER_PREFIX = "apache-airflow-providers-"
#: Marks a module that defines ``__getattr__``: any name may resolve at run time.
_DYNAMIC = "*"


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: the name index is cached per provider
class Provider:
    key: str  # common.sql
    distribution: str  # apache-airflow-providers-common-sql
    version: str
    #: module relative to ``airflow.providers.<key>`` ("" for the package itself) -> public names
    modules: dict[str, frozenset[str]]
    #: module -> why importing it fails on this Airflow version (it raises, or imports one that does)
    unimportable: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.distribution} {self.version}"

    def module_exists(self, relative: str) -> bool:
        return relative in self.modules

    def defines(self, relative: str, name: str) -> bool:
        """Whether ``from <module> import name`` works: a public name, a submodule, or a dynamic module."""
        names = self.modules.get(relative)
        if names is None:
            return False
        sub = f"{relative}.{name}" if relative else name
        return name in names or _DYNAMIC in names or sub in self.modules

    def replacement_module(self, relative: str) -> str | None:
        """A module of this provider that replaced ``relative``: the longest sibling whose name prefixes it.

        ``operators.emr_create_job_flow`` -> ``operators.emr``; ``operators.s3_copy_object`` -> ``operators.s3``.
        """
        parent, _, leaf = relative.rpartition(".")
        words = leaf.split("_")
        for size in range(len(words) - 1, 0, -1):
            candidate = ".".join(filter(None, (parent, "_".join(words[:size]))))
            if candidate in self.modules:
                return candidate
        return None

    def replacement_name(self, relative: str, name: str) -> str | None:
        """Where ``name`` (or the same name without an ``Aws`` prefix) is defined now, as module.Name."""
        wanted = [name]
        if name.startswith("Aws") and len(name) > 3 and name[3].isupper():
            wanted.append(name[3:])
        for candidate in wanted:
            if candidate != name and self.defines(relative, candidate):
                return f"{self.dotted(relative)}.{candidate}"
            homes = self.index().get(candidate, ())
            if homes:
                # The module nearest the old one: the longest shared dotted prefix.
                best = max(homes, key=lambda m: (_shared(m, relative), -len(m)))
                return f"{self.dotted(best)}.{candidate}"
        return None

    def dotted(self, relative: str) -> str:
        return ".".join(filter(None, ("airflow.providers", self.key, relative)))

    def index(self) -> dict[str, tuple[str, ...]]:
        return _name_index(self)


@cache
def _name_index(provider: Provider) -> dict[str, tuple[str, ...]]:
    """Name -> modules defining it as a class or function of their own (re-exports included)."""
    homes: dict[str, list[str]] = {}
    for module, names in provider.modules.items():
        for name in names:
            if name[:1].isupper():  # classes; hooks, operators and sensors are what users import by name
                homes.setdefault(name, []).append(module)
    return {name: tuple(modules) for name, modules in homes.items()}


def _shared(a: str, b: str) -> int:
    count = 0
    for left, right in zip(a.split("."), b.split("."), strict=False):
        if left != right:
            break
        count += 1
    return count


@dataclass(frozen=True, slots=True)
class Distribution:
    name: str
    version: str
    imports: tuple[str, ...]
    requires: tuple[str, ...]
    #: False when no wheel exists for the target: imports guessed from the name, dependencies unknown.
    known: bool


@dataclass(frozen=True, slots=True)
class Facts:
    airflow: str
    python: str
    sources: dict[str, Any]
    preinstalled: frozenset[str]
    providers: dict[str, Provider]
    distributions: dict[str, Distribution]
    _closures: dict[str, tuple[frozenset[str], bool]] = field(default_factory=dict, compare=False, repr=False)

    def provider_of(self, module: str) -> tuple[Provider, str] | None:
        """The provider that owns ``airflow.providers.X...`` and the module's path inside it."""
        parts = module.split(".")
        if len(parts) < 3 or parts[0] != "airflow" or parts[1] != "providers":
            return None
        for size in (2, 1):  # common.sql before common
            key = ".".join(parts[2 : 2 + size])
            provider = self.providers.get(key)
            if provider is not None and len(parts) >= 2 + size:
                return provider, ".".join(parts[2 + size :])
        return None

    def provider_distribution(self, key: str) -> str | None:
        """The distribution of provider ``key`` if MWAA's constraints pin one (never a made-up name)."""
        provider = self.providers.get(key)
        return provider.distribution if provider is not None else None

    def import_names(self, distribution: str) -> tuple[str, ...] | None:
        known = self.distributions.get(_normalize(distribution))
        return known.imports if known is not None else None

    def closure(self, distribution: str) -> tuple[frozenset[str], bool] | None:
        """The distributions ``distribution`` installs (itself included), and whether all of them are known.

        None when the distribution is not in the data at all.
        """
        name = _normalize(distribution)
        if name not in self.distributions:
            return None
        cached = self._closures.get(name)
        if cached is None:
            seen: set[str] = set()
            complete = True
            stack = [name]
            while stack:
                current = stack.pop()
                if current in seen:
                    continue
                seen.add(current)
                entry = self.distributions.get(current)
                if entry is None or not entry.known:
                    complete = False
                    continue
                stack.extend(entry.requires)
            cached = self._closures[name] = (frozenset(seen), complete)
        return cached

    def distributions_providing(self, module: str) -> tuple[str, ...]:
        """Distributions of the data whose import names cover ``module`` (for suggestions)."""
        found = [
            dist.name
            for dist in self.distributions.values()
            if dist.known and any(module == i or module.startswith(i + ".") for i in dist.imports)
        ]
        return tuple(sorted(found))


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _data() -> Path:
    return DATA / "facts"


@cache
def available_versions() -> tuple[Release, ...]:
    """Airflow versions with generated facts (a directory listing; no file is read)."""
    folder = _data()
    if not folder.is_dir():
        return ()
    found = (_FILE.match(entry.name) for entry in folder.iterdir())
    return tuple(sorted(release(m.group("version")) for m in found if m is not None))


def facts_for(airflow: Release, *, exact: bool) -> Facts | None:
    """Facts for ``airflow``: that exact version, or (``exact=False``) the nearest one of the same major."""
    versions = available_versions()
    if airflow in versions:
        return _load(airflow)
    if exact:
        return None
    same_major = [v for v in versions if v[0] == airflow[0]]
    if not same_major:
        return None
    nearest = min(same_major, key=lambda v: (abs(v[1] - airflow[1]), abs(v[2] - airflow[2]), v < airflow))
    return _load(nearest)


@cache
def _load(airflow: Release) -> Facts:
    import gzip  # only when facts are needed: not part of the Lambda's cold start

    name = "mwaa-{}.{}.{}.json.gz".format(*airflow)
    raw: dict[str, Any] = json.loads(gzip.decompress(_data().joinpath(name).read_bytes()))
    return parse_facts(raw)


def parse_facts(raw: dict[str, Any]) -> Facts:
    providers = {
        key: Provider(
            key=key,
            distribution=entry["distribution"],
            version=entry["version"],
            modules={module: frozenset(names) for module, names in entry["modules"].items()},
            unimportable=dict(entry.get("unimportable", {})),
        )
        for key, entry in raw["providers"].items()
    }
    distributions = {
        name: Distribution(
            name=name,
            version=entry["version"],
            imports=tuple(entry["imports"]),
            requires=tuple(entry["requires"]),
            known=entry.get("wheel", True),
        )
        for name, entry in raw["distributions"].items()
    }
    return Facts(
        airflow=raw["airflow"],
        python=raw["python"],
        sources=raw["sources"],
        preinstalled=frozenset(raw["preinstalled"]),
        providers=providers,
        distributions=distributions,
    )


def provider_distributions(names: Iterable[str]) -> dict[str, str]:
    """Provider key by distribution, for the ``apache-airflow-providers-*`` among ``names``."""
    result: dict[str, str] = {}
    for name in names:
        normalized = _normalize(name)
        if normalized.startswith(_PROVIDER_PREFIX):
            result[normalized] = normalized[len(_PROVIDER_PREFIX) :].replace("-", ".")
    return result
