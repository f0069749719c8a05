"""Zip archives (packaged DAGs and plugins.zip): open them safely, never extract them.

Limits are checked on the central directory before a byte is decompressed, and only
members the rules need (Python sources, the first bytes of binaries) are read. ``zipfile`` is
imported only when there is an archive to open: the validator imports this module for its path
helpers on every run, and zipfile (with shutil and threading) costs a one-file run a few ms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from mwaa_control_plane.dags.validation.models import MIB, Finding, ValidationContext, human_size
from mwaa_control_plane.dags.validation.rules import finding

if TYPE_CHECKING:
    import zipfile

NATIVE_SUFFIXES = (".so", ".dylib", ".dll", ".pyd", ".exe", ".o", ".a")
_SO_VERSIONED = re.compile(r"\.so(\.\d+)+$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# zipfile parses untrusted bytes and can fail in many ways (BadZipFile, zlib/lzma errors, struct.error,
# UnicodeDecodeError on member names, an error for unknown compression methods...): any of them
# means "not readable", never a crash of the validator.
_READ_ERRORS = (Exception,)


@dataclass(slots=True)
class Archive:
    zip: zipfile.ZipFile | None
    #: Members that are files (folder entries left out).
    files: list[zipfile.ZipInfo] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def is_native(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith(NATIVE_SUFFIXES) or bool(_SO_VERSIONED.search(lowered))


def top_level_module(path: str, *, native: bool = False) -> str | None:
    """The module ``path`` makes importable when its root is on ``sys.path``, or None.

    A folder gives its name, a root-level ``.py`` file its stem; with ``native``, a root-level
    compiled library (``fast.cpython-311-x86_64-linux-gnu.so``) too.
    """
    first, _, rest = path.partition("/")
    if not rest:
        if first.endswith(".py"):
            first = first[:-3]
        elif native and is_native(first):
            first = first.split(".", 1)[0]
        else:
            return None
    return first if _IDENTIFIER.match(first) else None


def _unsafe(name: str) -> bool:
    normalized = name.replace("\\", "/")
    return normalized.startswith("/") or bool(_DRIVE.match(normalized)) or ".." in PurePosixPath(normalized).parts


def open_archive(data: bytes, context: ValidationContext) -> Archive:
    """Open ``data`` as a zip and check the central directory against the limits."""
    import io
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except _READ_ERRORS as exc:
        return Archive(zip=None, findings=[finding("zip-invalid", f"not a readable zip archive ({exc})")])
    findings: list[Finding] = []
    files = [m for m in members if not m.is_dir()]
    if len(members) > context.max_zip_members:
        findings.append(finding("zip-bomb", f"{len(members)} members, more than {context.max_zip_members}"))
    total = sum(m.file_size for m in files)
    if total > context.max_uncompressed_bytes:
        findings.append(
            finding(
                "zip-bomb",
                f"expands to {human_size(total)}, more than {human_size(context.max_uncompressed_bytes)}",
            )
        )
    for member in files:
        if member.file_size > MIB and member.file_size > context.max_compression_ratio * max(member.compress_size, 1):
            findings.append(
                finding(
                    "zip-bomb",
                    f"{member.filename}: compression ratio above {context.max_compression_ratio}:1",
                )
            )
            break
    if findings:
        return Archive(zip=None, files=files, findings=findings)
    for member in members:
        if _unsafe(member.filename):
            findings.append(finding("zip-unsafe-path", f"member {member.filename!r} escapes the extraction folder"))
        if member.flag_bits & 0x1:
            findings.append(finding("zip-invalid", f"{member.filename}: encrypted members cannot be read by Airflow"))
    return Archive(zip=archive, files=files, findings=findings)


def read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int | None = None) -> bytes | Finding:
    """The member's bytes (or its first ``limit`` bytes), or a zip-invalid finding when it cannot be read."""
    try:
        if limit is None:
            return archive.read(member)
        with archive.open(member) as handle:
            return handle.read(limit)
    except _READ_ERRORS as exc:
        return finding("zip-invalid", f"{member.filename}: cannot be read ({exc})")


def prefixed(member: str, found: Finding) -> Finding:
    """A finding on an archive member, reported on the archive with the member's name."""
    return Finding(rule=found.rule, severity=found.severity, message=f"{member}: {found.message}", line=found.line)
