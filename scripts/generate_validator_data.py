"""Generate the facts the DAG validator ships, per MWAA Airflow version (run by hand or ``make data``).

For each Airflow version listed in ``scripts/validator_data_inputs.json``:

- the constraints file MWAA installs with (saved in ``data/constraints/<version>.txt``, or fetched
  with ``--constraints-url``) gives the version of every package;
- MWAA's install list, resolved through each wheel's ``Requires-Dist`` (markers evaluated for the
  environment's Python on Linux x86_64, extras only where requested), gives the preinstalled
  distributions;
- every ``apache-airflow-providers-*`` pinned there is read as a zip and each module parsed with
  ``ast`` (never imported): its modules and the public names each defines;
- each distribution's import names come from its wheel's ``top_level.txt``/``RECORD`` and its direct
  dependencies from ``METADATA``, for the preinstalled set and the commonly required distributions.

Wheels are fetched with ``pip download --no-deps`` into a cache folder. Output: one
``data/facts/mwaa-<version>.json.gz`` per version and ``data/preinstalled.json``. Never run at
Lambda runtime.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import email.parser
import gzip
import io
import json
import re
import subprocess
import sys
import urllib.request
import warnings
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
INPUTS = Path(__file__).resolve().parent / "validator_data_inputs.json"
DATA = ROOT / "layers/common/mwaa_control_plane/dags/validation/data"
PROVIDER_PREFIX = "apache-airflow-providers-"
# Wheels MWAA's image can load: CPython on Linux x86_64 (Amazon Linux 2023, glibc 2.34).
PLATFORMS = (
    "manylinux_2_34_x86_64",
    "manylinux_2_28_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux_2_12_x86_64",
    "manylinux2010_x86_64",
    "manylinux_2_5_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The providers' version flags (version_compat.py): AIRFLOW_V_3_1_PLUS is Airflow >= 3.1.
_VERSION_FLAG = re.compile(r"AIRFLOW_V_(\d+)_(\d+)(?:_(\d+))?_PLUS")


@dataclass
class Package:
    """What one distribution's wheel (or, failing that, sdist) says about itself."""

    name: str
    version: str
    imports: list[str]
    requires: list[Requirement]
    wheel: bool
    archive: Path | None = None


@dataclass
class VersionPlan:
    airflow: str
    python: str
    constraints_source: str
    install_source: str
    install: list[str]
    #: What the environment's virtualenv has before the install list (pip, setuptools).
    environment: list[str] = field(default_factory=list)
    pins: dict[str, str] = field(default_factory=dict)


# -- constraints ------------------------------------------------------------------------------------


def read_pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a constraints file, by normalized name."""
    pins: dict[str, str] = {}
    for raw in path.read_text("utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" not in line:
            continue
        name, _, version = line.partition("==")
        pins[canonicalize_name(name.split("[")[0].strip())] = version.split(";")[0].strip()
    return pins


def fetch_constraints(url: str, plan: VersionPlan) -> Path:
    """Download a constraints file and save its pins with a header naming the source and date."""
    if not url.startswith("https://"):
        raise SystemExit(f"--constraints-url must be https: {url}")
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (https only, checked above)
        text = response.read().decode("utf-8")
    pins = [line.strip() for line in text.splitlines() if "==" in line and not line.lstrip().startswith("#")]
    today = datetime.date.today().isoformat()
    header = [
        f"# Pins of the constraints file MWAA installs Airflow {plan.airflow} with (Python {plan.python}).",
        f"# Source: {url}",
        f"#   Pins only; retrieved {today}.",
    ]
    target = DATA / "constraints" / f"{plan.airflow}.txt"
    target.write_text("\n".join(header + pins) + "\n", "utf-8")
    return target


# -- wheels -----------------------------------------------------------------------------------------


class WheelCache:
    """``pip download --no-deps`` into one folder; an archive already there is reused."""

    def __init__(self, folder: Path, python: str) -> None:
        self.folder = folder / f"py{python}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.python = python

    def find(self, name: str, version: str | None, specifier: str = "") -> Path | None:
        """The cached wheel of ``name`` at ``version``, or its newest cached wheel ``specifier`` allows."""
        allowed = SpecifierSet(specifier)
        wanted = canonicalize_name(name)
        best: tuple[Version, Path] | None = None
        for path in self.folder.glob("*.whl"):
            try:
                found, found_version, _, _ = parse_wheel_filename(path.name)
            except (ValueError, InvalidVersion):
                continue
            if found != wanted or (version is not None and found_version != Version(version)):
                continue
            if version is None and not allowed.contains(found_version, prereleases=True):
                continue
            if best is None or found_version > best[0]:
                best = (found_version, path)
        return best[1] if best else None

    def get(self, name: str, specifier: str, pinned: str | None) -> Path | None:
        if pinned is not None:
            cached = self.find(name, pinned)
            if cached is not None:
                return cached
        requirement = f"{name}=={pinned}" if pinned is not None else f"{name}{specifier}"
        binary = ["--only-binary=:all:", "--python-version", self.python, "--implementation", "cp"]
        for platform in PLATFORMS:
            binary += ["--platform", platform]
        # Wheels only: pip would build an sdist (run its setup.py) to read its metadata.
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(self.folder), *binary]
        result = subprocess.run([*command, requirement], capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            return None
        return self.find(name, pinned, specifier)


def read_package(path: Path) -> Package:
    """Import names and requirements of a wheel, from its RECORD'ed files and METADATA."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(info).decode("utf-8", "replace"))
        top_level = info.replace("METADATA", "top_level.txt")
        declared = archive.read(top_level).decode().split() if top_level in names else []
    requires = []
    for text in metadata.get_all("Requires-Dist") or []:
        try:
            requires.append(Requirement(text))
        except InvalidRequirement:
            continue
    name = canonicalize_name(metadata["Name"])
    return Package(
        name=name,
        version=metadata["Version"],
        # PEP 561 stub-only distributions install nothing importable at run time.
        imports=[] if name.endswith("-stubs") else import_names(names, declared),
        requires=requires,
        wheel=True,
        archive=path,
    )


def guessed_package(name: str, version: str | None, known_imports: dict[str, list[str]]) -> Package:
    """A distribution without a wheel for the target (sdist only): no dependencies known, import names from
    the inputs' ``sdist_imports``, the validator's hand-kept ``distribution_imports.json``, or its name."""
    imports = known_imports.get(name) or [name.replace("-", "_")]
    return Package(name=name, version=version or "", imports=imports, requires=[], wheel=False)


def import_names(paths: Iterable[str], declared: Iterable[str] = ()) -> list[str]:
    """Importable names a wheel installs: modules and packages, namespace packages followed down.

    ``google/cloud/bigquery/__init__.py`` gives ``google.cloud.bigquery`` (``google`` and
    ``google.cloud`` have no ``__init__.py``: namespaces shared by many distributions).
    """
    files = [p for p in paths if not p.split("/", 1)[0].endswith((".dist-info", ".data"))]
    packages = {p.rsplit("/", 1)[0] for p in files if p.endswith("/__init__.py")}
    names: set[str] = set()
    for path in files:
        parts = path.split("/")
        if not parts[-1].endswith((".py", ".so", ".pyd")):
            continue
        parts[-1] = parts[-1].split(".", 1)[0]
        for depth in range(1, len(parts) + 1):
            prefix = parts[:depth]
            if not all(_IDENTIFIER.fullmatch(p) for p in prefix):
                break
            if depth == len(parts) or "/".join(prefix) in packages:
                if not prefix[-1].startswith("_") and prefix[-1] != "__init__":
                    names.add(".".join(prefix))
                break
    if not names:
        names.update(n.replace("/", ".") for n in declared if _IDENTIFIER.fullmatch(n.split("/")[0]))
    return sorted(n for n in names if not n.split(".")[0].startswith("_"))


# -- providers --------------------------------------------------------------------------------------


def public_names(source: str) -> list[str]:
    """Names a module defines at top level (``if``/``try`` blocks included); ``*`` when it has ``__getattr__``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # invalid escapes in the providers' own strings
        tree = ast.parse(source)
    names: set[str] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(_target_names(target))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            names.update(_target_names(node.target))
        elif isinstance(node, ast.Import):
            names.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names if a.name != "*")
        elif isinstance(node, ast.If):
            stack.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            stack.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                stack.extend(handler.body)
    dynamic = "__getattr__" in names
    result = sorted(n for n in names if not n.startswith("_"))
    return ["*", *result] if dynamic else result


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in _target_names(element)]
    return []


@dataclass
class ProviderModules:
    """What parsing one provider wheel tells about its modules, for one Airflow version."""

    #: module relative to ``airflow.providers.<key>`` -> its public names
    names: dict[str, list[str]] = field(default_factory=dict)
    #: module -> why importing it raises on this Airflow version (a top-level ``raise`` that runs)
    raises: dict[str, str] = field(default_factory=dict)
    #: module -> the ``airflow.providers`` modules its top level imports whatever happens
    imports: dict[str, list[str]] = field(default_factory=dict)


def provider_modules(wheel: Path, key: str, airflow: tuple[int, int, int]) -> ProviderModules:
    """Modules of a provider wheel, relative to ``airflow.providers.<key>``: names, import-time raises, imports."""
    root = "airflow/providers/" + key.replace(".", "/")
    found = ProviderModules()
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if not name.endswith(".py") or not (name == root + "/__init__.py" or name.startswith(root + "/")):
                continue
            relative = name[len(root) + 1 : -3].split("/")
            is_package = relative[-1] == "__init__"
            if is_package:
                relative.pop()
            if any(part.startswith("_") or not _IDENTIFIER.fullmatch(part) for part in relative):
                continue
            module = ".".join(relative)
            try:
                source = archive.read(name).decode("utf-8")
                found.names[module] = public_names(source)
            except (SyntaxError, UnicodeDecodeError):
                found.names[module] = ["*"]
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)
                tree = ast.parse(source)
            dotted = f"airflow.providers.{key}" + (f".{module}" if module else "")
            package = dotted if is_package else dotted.rpartition(".")[0]
            raised, imported = _import_time(tree.body, airflow, package)
            if raised is not None:
                found.raises[module] = raised
            if imported:
                found.imports[module] = imported
    found.names = dict(sorted(found.names.items()))
    return found


def _import_time(body: list[ast.stmt], airflow: tuple[int, int, int], package: str) -> tuple[str | None, list[str]]:
    """What a module's top level does on import, in order, up to a ``raise`` that runs on this Airflow version.

    Only what surely runs counts: top-level statements and the branches of an ``if`` on a version flag
    (``try`` blocks and other tests may go either way). Returns the raise's wording, if one runs, and the
    ``airflow.providers`` modules imported before it.
    """
    imported: list[str] = []
    for node in body:
        if isinstance(node, ast.Raise):
            return _raise_text(node, airflow), imported
        if isinstance(node, ast.Import):
            imported += [a.name for a in node.names if a.name.startswith("airflow.providers.")]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, package)
            if module is not None and module.startswith("airflow.providers."):
                imported.append(module)
        elif isinstance(node, ast.If):
            taken = _version_test(node.test, airflow)
            if taken is None:
                continue
            raised, more = _import_time(node.body if taken else node.orelse, airflow, package)
            imported += more
            if raised is not None:
                return raised, imported
    return None, imported


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    if not node.level:
        return node.module
    parts = package.split(".")
    if node.level - 1 >= len(parts):
        return None
    base = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def _version_test(test: ast.expr, airflow: tuple[int, int, int]) -> bool | None:
    """The value of an ``if`` test on the providers' version flags for ``airflow`` (None: not such a test)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _version_test(test.operand, airflow)
        return None if inner is None else not inner
    name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
    if name == "TYPE_CHECKING":
        return False
    match = _VERSION_FLAG.fullmatch(name)
    if match is None:
        return None
    return airflow >= tuple(int(group or 0) for group in match.groups())


def _raise_text(node: ast.Raise, airflow: tuple[int, int, int]) -> str:
    """``raises <Exception> at import on Airflow <version>: <message>`` from the raise statement."""
    exception = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    kind = ast.unparse(exception) if exception is not None else "the exception being handled"
    version = ".".join(map(str, airflow))
    text = f"raises {kind} at import on Airflow {version}"
    if isinstance(node.exc, ast.Call) and node.exc.args:
        first = node.exc.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            text += f": {first.value.strip()}"
    return text


def unimportable_modules(providers: dict[str, ProviderModules]) -> dict[str, dict[str, str]]:
    """Per provider, the modules whose import fails: those that raise, and those that import one of them.

    Importing ``a.b.c`` runs ``a`` and ``a.b`` first, so a failing package fails every module under it.
    """

    def dotted(key: str, module: str) -> str:
        return f"airflow.providers.{key}" + (f".{module}" if module else "")

    failing = {dotted(key, m): why for key, found in providers.items() for m, why in found.raises.items()}
    imports = {dotted(key, m): names for key, found in providers.items() for m, names in found.imports.items()}
    owners = {dotted(key, m): (key, m) for key, found in providers.items() for m in found.names}

    def failure(module: str) -> str | None:
        parts = module.split(".")
        for size in range(3, len(parts) + 1):
            prefix = ".".join(parts[:size])
            if prefix in failing:
                return prefix
        return None

    changed = True
    while changed:
        changed = False
        for module in owners:
            if module in failing:
                continue
            cause = failure(module) or next((f for f in map(failure, imports.get(module, ())) if f), None)
            if cause is not None:
                failing[module] = f"imports {cause}, which {failing[cause]}"
                changed = True
    result: dict[str, dict[str, str]] = {}
    for module, why in sorted(failing.items()):
        key, relative = owners[module]
        result.setdefault(key, {})[relative] = why
    return result


# -- resolution -------------------------------------------------------------------------------------


def environment(python: str, extra: str = "") -> dict[str, str]:
    return {
        "python_version": python,
        "python_full_version": python + ".0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "x86_64",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": extra,
    }


def applies(requirement: Requirement, python: str, extras: Iterable[str]) -> bool:
    marker: Marker | None = requirement.marker
    if marker is None:
        return True
    return any(marker.evaluate(environment(python, extra)) for extra in ("", *extras))  # type: ignore[arg-type]


class Resolver:
    """Walks Requires-Dist from a set of roots, each distribution at its constraints pin."""

    def __init__(self, plan: VersionPlan, cache: WheelCache, known_imports: dict[str, list[str]]) -> None:
        self.plan = plan
        self.cache = cache
        self.known_imports = known_imports
        self.packages: dict[str, Package] = {}

    def fetch_many(self, wanted: dict[str, str]) -> None:
        todo = {name: spec for name, spec in wanted.items() if name not in self.packages}

        def one(item: tuple[str, str]) -> tuple[str, Package]:
            name, spec = item
            pinned = self.plan.pins.get(name)
            path = self.cache.get(name, spec, pinned)
            if path is None:
                print(f"  {self.plan.airflow}: no wheel for {name} {pinned or spec}", file=sys.stderr)
                return name, guessed_package(name, pinned, self.known_imports)
            return name, read_package(path)

        with ThreadPoolExecutor(max_workers=6) as pool:
            for name, package in pool.map(one, todo.items()):
                self.packages[name] = package

    def closure(self, roots: Iterable[str]) -> dict[str, set[str]]:
        """Every distribution reachable from ``roots`` (requirement strings), with the extras asked of it."""
        extras: dict[str, set[str]] = {}
        specs: dict[str, str] = {}
        frontier: list[Requirement] = [Requirement(r) for r in roots]
        while frontier:
            wanted: dict[str, str] = {}
            for requirement in frontier:
                name = canonicalize_name(requirement.name)
                before = extras.get(name)
                asked = set(requirement.extras)
                if before is not None and asked <= before:
                    continue
                extras[name] = (before or set()) | asked
                specs.setdefault(name, str(requirement.specifier))
                wanted[name] = specs[name]
            self.fetch_many(wanted)
            frontier = []
            for name in wanted:
                for requirement in self.packages[name].requires:
                    if applies(requirement, self.plan.python, extras[name]):
                        frontier.append(requirement)
        return extras


# -- output -----------------------------------------------------------------------------------------


def direct_requires(package: Package, python: str) -> list[str]:
    return sorted({canonicalize_name(r.name) for r in package.requires if applies(r, python, ())} - {package.name})


def build_version(
    plan: VersionPlan, cache: WheelCache, common: list[str], known_imports: dict[str, list[str]]
) -> dict[str, object]:
    resolver = Resolver(plan, cache, known_imports)
    print(f"{plan.airflow}: resolving MWAA's install list", file=sys.stderr)
    preinstalled = resolver.closure(plan.environment + plan.install)
    print(f"{plan.airflow}: {len(preinstalled)} preinstalled; resolving common requirements", file=sys.stderr)
    resolver.closure(common)
    provider_names = sorted(n for n in plan.pins if n.startswith(PROVIDER_PREFIX))
    print(f"{plan.airflow}: reading {len(provider_names)} providers", file=sys.stderr)
    resolver.fetch_many(dict.fromkeys(provider_names, ""))
    major, minor, micro = (int(part) for part in plan.airflow.split("."))
    airflow = (major, minor, micro)
    read: dict[str, ProviderModules] = {}
    providers: dict[str, dict[str, object]] = {}
    for name in provider_names:
        package = resolver.packages[name]
        if package.archive is None:
            continue
        key = name[len(PROVIDER_PREFIX) :].replace("-", ".")
        read[key] = provider_modules(package.archive, key, airflow)
        providers[key] = {"distribution": name, "version": package.version, "modules": read[key].names}
    for key, failing in unimportable_modules(read).items():
        providers[key]["unimportable"] = failing
    distributions = {
        name: {
            "version": package.version,
            "imports": package.imports,
            "requires": direct_requires(package, plan.python),
            **({} if package.wheel else {"wheel": False}),
        }
        for name, package in sorted(resolver.packages.items())
    }
    missing = sorted(name for name, package in resolver.packages.items() if not package.wheel)
    return {
        "airflow": plan.airflow,
        "python": plan.python,
        "sources": {
            "constraints": plan.constraints_source,
            "constraints_file": f"constraints/{plan.airflow}.txt",
            "install": plan.install_source,
            "install_list": plan.install,
            "environment": plan.environment,
            "generated": datetime.date.today().isoformat(),
            "generator": "scripts/generate_validator_data.py",
            "without_wheel": missing,
        },
        "preinstalled": sorted(preinstalled),
        "providers": providers,
        "distributions": distributions,
    }


def preinstalled_summary(facts: dict[str, object]) -> dict[str, object]:
    """The small always-loaded view: import names and provider keys MWAA installs."""
    distributions: dict[str, dict[str, list[str]]] = facts["distributions"]  # type: ignore[assignment]
    names: list[str] = facts["preinstalled"]  # type: ignore[assignment]
    modules = sorted({module for name in names for module in distributions[name]["imports"]})
    providers = sorted(n[len(PROVIDER_PREFIX) :].replace("-", ".") for n in names if n.startswith(PROVIDER_PREFIX))
    return {
        "reference_version": facts["airflow"],
        "python": facts["python"],
        "providers": providers,
        "modules": modules,
    }


def write_gzip_json(path: Path, payload: object) -> None:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    buffer = io.BytesIO()
    # mtime=0: the same facts give the same bytes, so regenerating changes nothing in git.
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as handle:
        handle.write(raw)
    path.write_bytes(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--airflow-version", action="append", help="only these versions (default: all inputs)")
    parser.add_argument(
        "--constraints-url",
        help="fetch the constraints instead of reading data/constraints/<version>.txt; "
        "{airflow} and {python} are replaced, e.g. https://raw.githubusercontent.com/apache/airflow/"
        "constraints-{airflow}/constraints-{python}.txt",
    )
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache/mwaa-cp/wheels")
    args = parser.parse_args(argv)
    inputs = json.loads(INPUTS.read_text("utf-8"))
    plans = [VersionPlan(**entry) for entry in inputs["airflow_versions"]]
    if args.airflow_version:
        plans = [p for p in plans if p.airflow in args.airflow_version]
    (DATA / "facts").mkdir(exist_ok=True)
    hand_kept = json.loads((DATA / "distribution_imports.json").read_text("utf-8"))["distributions"]
    overrides = {k: v for k, v in inputs["sdist_imports"].items() if not k.startswith("_")}
    known = {canonicalize_name(k): v for k, v in {**hand_kept, **overrides}.items()}
    summary_path = DATA / "preinstalled.json"
    summary = json.loads(summary_path.read_text("utf-8"))
    for plan in plans:
        constraints = DATA / "constraints" / f"{plan.airflow}.txt"
        if args.constraints_url:
            constraints = fetch_constraints(args.constraints_url.format(airflow=plan.airflow, python=plan.python), plan)
        plan.pins = read_pins(constraints)
        facts = build_version(plan, WheelCache(args.cache_dir, plan.python), inputs["common_requirements"], known)
        out = DATA / "facts" / f"mwaa-{plan.airflow}.json.gz"
        write_gzip_json(out, facts)
        print(f"{plan.airflow}: wrote {out.relative_to(ROOT)} ({out.stat().st_size} bytes)", file=sys.stderr)
        summary[f"airflow{plan.airflow.split('.')[0]}"] = preinstalled_summary(facts)
    summary["_source"] = (
        "Generated by scripts/generate_validator_data.py from data/facts/mwaa-<version>.json.gz: the import names "
        "of every distribution MWAA's install list resolves to under its constraints file (namespace packages "
        "followed down to their regular packages). See README.md in this folder."
    )
    summary["_generated"] = datetime.date.today().isoformat()
    summary_path.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
