"""plugins.zip: layout, native code and wheels for the environment's platform, and the modules it provides.

MWAA unzips plugins.zip into ``/usr/local/airflow/plugins``, which is on ``sys.path``: the
archive's top-level modules are importable from DAGs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mwaa_control_plane.dags.validation.archives import (
    is_native,
    open_archive,
    prefixed,
    read_member,
    top_level_module,
)
from mwaa_control_plane.dags.validation.imports import ImportEnv
from mwaa_control_plane.dags.validation.models import Finding, ValidationContext, decode_utf8, over_limit
from mwaa_control_plane.dags.validation.python_rules import analyze_python
from mwaa_control_plane.dags.validation.rules import finding
from mwaa_control_plane.dags.validation.target import Target

# MWAA runs its containers on Linux x86_64 (Amazon Linux, glibc). Unconfirmed for every Region and
# version: if MWAA ever documents arm64 workers, add "aarch64" here and EM_AARCH64 below.
_PLATFORM_ARCHES = ("x86_64",)
_ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64", 0x03: "x86", 0x28: "arm"}
_ACCEPTED_ELF = {0x3E}
_WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-(?P<build>\d[^-]*))?-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$"
)


@dataclass(slots=True)
class PluginsResult:
    findings: list[Finding] = field(default_factory=list)
    modules: frozenset[str] = frozenset()
    #: (member name, text) of the Python sources, checked by the Python rules.
    sources: list[tuple[str, bytes]] = field(default_factory=list)


def _native_problem(header: bytes) -> str | None:
    """Why a native binary's header does not run on MWAA, or None when it does (or is not a binary)."""
    if header[:4] == b"\x7fELF":
        if len(header) < 20:
            return "truncated ELF header"
        little = header[5] == 1
        machine = int.from_bytes(header[18:20], "little" if little else "big")
        if machine in _ACCEPTED_ELF:
            return None
        return f"built for {_ELF_MACHINES.get(machine, f'machine {machine:#x}')}, MWAA runs Linux x86_64"
    if header[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa\xcf"):
        return "a macOS (Mach-O) binary, MWAA runs Linux x86_64"
    if header[:2] == b"MZ":
        return "a Windows (PE) binary, MWAA runs Linux x86_64"
    return "not a Linux x86_64 shared object"


def wheel_problem(filename: str, target: Target) -> str | None:
    """Why pip on the environment would reject the wheel ``filename``, or None."""
    match = _WHEEL.match(filename.rsplit("/", 1)[-1])
    if match is None:
        return "not a valid wheel file name"
    platforms = match.group("platform").split(".")
    if not any(
        tag == "any" or (tag.startswith(("manylinux", "linux_")) and tag.endswith(_PLATFORM_ARCHES))
        for tag in platforms
    ):
        return f"platform {match.group('platform')} does not run on Linux x86_64 (glibc)"
    major, minor = target.python
    abi = match.group("abi")
    for tag in match.group("python").split("."):
        if tag in ("py3", f"py{major}{minor}", f"py{major}"):
            return None
        if tag.startswith("cp3") and tag[3:].isdigit():
            wheel_minor = int(tag[3:])
            if wheel_minor == minor or (abi == "abi3" and wheel_minor <= minor):
                return None
    return f"Python tag {match.group('python')}/{abi} does not match Python {target.python_text}"


def check_plugins(data: bytes, context: ValidationContext, target: Target) -> PluginsResult:
    """Findings for plugins.zip, the modules it makes importable and its Python sources."""
    result = PluginsResult()
    if len(data) > context.max_plugins_bytes:
        result.findings.append(finding("plugins-too-large", over_limit(len(data), context.max_plugins_bytes)))
    archive = open_archive(data, context)
    result.findings.extend(archive.findings)
    if archive.zip is None:
        return result
    files = archive.files
    names = [m.filename.replace("\\", "/") for m in files]
    if names and all(name.startswith("plugins/") for name in names):
        result.findings.append(
            finding(
                "plugins-top-level-folder",
                "every file is under plugins/: MWAA extracts the zip into the plugins folder, so zip the folder's "
                "contents, not the folder",
            )
        )
    modules: set[str] = set()
    for member, name in zip(files, names, strict=True):
        module = top_level_module(name, native=True)
        if module is not None:
            modules.add(module)
        lowered = name.lower()
        if lowered.endswith(".whl"):
            problem = wheel_problem(name, target)
            if problem:
                result.findings.append(finding("plugins-wheel-incompatible", f"{name}: {problem}"))
        elif is_native(lowered):
            header = read_member(archive.zip, member, 20)
            if isinstance(header, Finding):
                result.findings.append(header)
                continue
            problem = _native_problem(header)
            if problem:
                result.findings.append(finding("plugins-native-binary", f"{name}: {problem}"))
        elif lowered.endswith(".py") and member.file_size <= context.max_python_file_bytes:
            content = read_member(archive.zip, member)
            if isinstance(content, Finding):
                result.findings.append(content)
            else:
                result.sources.append((name, content))
    result.modules = frozenset(modules)
    return result


def plugin_source_findings(sources: list[tuple[str, bytes]], target: Target, imports: ImportEnv) -> list[Finding]:
    """The Python rules on plugins.zip's sources, reported on plugins.zip with each member's name."""
    found: list[Finding] = []
    for name, content in sources:
        try:
            text = decode_utf8(content)
        except UnicodeDecodeError:
            found.append(finding("envelope-not-utf8", f"{name}: not valid UTF-8"))
            continue
        for item in analyze_python(text, target, imports, role="plugin").findings:
            found.append(prefixed(name, item))
    return found
