"""Defects that cannot live in the committed corpus: binaries, crafted archives, CRLF, secrets.

``.pyc`` and ``__pycache__`` are git-ignored, zip archives are clearer built here than
committed, and credential-shaped strings would trip secret scanners on push: they are
assembled at run time.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from mwaa_control_plane.dags.validation import RULES, Severity, SourceFile, ValidationContext, validate_files

DAG = b"""from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("generated", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    EmptyOperator(task_id="t")
"""
ELF_X86_64 = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x03\x00" + (0x3E).to_bytes(2, "little") + b"\x00" * 40
ELF_AARCH64 = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x03\x00" + (0xB7).to_bytes(2, "little") + b"\x00" * 40
MACH_O = b"\xcf\xfa\xed\xfe" + b"\x00" * 60


def make_zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def secret(*parts: str) -> str:
    """A credential-shaped string assembled at run time (never present whole in the repository)."""
    return "".join(parts)


@dataclass
class Generated:
    rule: str
    build: Callable[[], list[SourceFile]]
    context: dict[str, Any] = field(default_factory=dict)
    airflow_version: str = "2.10.3"


def _dag_with(extra: str) -> list[SourceFile]:
    return [SourceFile(path="dag.py", content=DAG + extra.encode())]


GENERATED: dict[str, Generated] = {
    "envelope-bytecode": Generated(
        "envelope-bytecode",
        lambda: [
            SourceFile(path="dag.py", content=DAG),
            SourceFile(path="__pycache__/dag.cpython-311.pyc", content=b"\xa7\r\r\n" + b"\x00" * 12),
        ],
    ),
    "envelope-bytecode--pyc-next-to-source": Generated(
        "envelope-bytecode", lambda: [SourceFile(path="helpers.pyc", content=b"\xa7\r\r\n")]
    ),
    "zip-unsafe-path": Generated(
        "zip-unsafe-path",
        lambda: [SourceFile(path="packaged.zip", content=make_zip({"dag.py": DAG, "../../etc/cron.d/x": b"x"}))],
    ),
    "zip-bomb": Generated(
        "zip-bomb",
        lambda: [
            SourceFile(path="packaged.zip", content=make_zip({"dag.py": DAG, "zeros.bin": b"\x00" * (8 * 1024 * 1024)}))
        ],
    ),
    "zip-bomb--total-size": Generated(
        "zip-bomb",
        lambda: [SourceFile(path="plugins.zip", content=make_zip({"a.txt": b"a" * 5000, "b.txt": b"b" * 5000}))],
        context={"max_uncompressed_bytes": 4096},
    ),
    "zip-native-binary": Generated(
        "zip-native-binary",
        lambda: [SourceFile(path="packaged.zip", content=make_zip({"dag.py": DAG, "lib/_speedups.so": ELF_X86_64}))],
    ),
    "zip-invalid--crc": Generated("zip-invalid", lambda: [SourceFile(path="packaged.zip", content=_corrupt_crc())]),
    "dag-cycle--inside-packaged-dag": Generated(
        "dag-cycle",
        lambda: [
            SourceFile(
                path="packaged.zip",
                content=make_zip(
                    {
                        "cyclic.py": DAG
                        + b'    a = EmptyOperator(task_id="a")\n    b = EmptyOperator(task_id="b")\n    a >> b >> a\n',
                        "helpers/__init__.py": b"",
                    }
                ),
            )
        ],
    ),
    "credential-aws-key": Generated(
        "credential-aws-key", lambda: _dag_with(f'\nAWS_KEY_ID = "{secret("AKIA", "Z3XQ7RMT", "4PLW8KHD")}"\n')
    ),
    "credential-aws-key--secret-in-sql": Generated(
        "credential-aws-key",
        lambda: [
            SourceFile(
                path="sql/copy.sql",
                content=(
                    "COPY t FROM 's3://b/k' CREDENTIALS 'aws_access_key_id=x;"
                    f"aws_secret_access_key={secret('wJalrXUtnFEMI', 'K7MDENGbPxRfiCY', 'zQ9mN2vL8kP4')}';\n"
                ).encode(),
            )
        ],
    ),
    "credential-uri-password": Generated(
        "credential-uri-password",
        lambda: _dag_with(
            f'\nWAREHOUSE = "postgresql://etl:{secret("Tr0ub4dor", "-and-3")}@warehouse.internal:5432/dw"\n'
        ),
    ),
    "credential-private-key": Generated(
        "credential-private-key",
        lambda: [
            SourceFile(
                path="keys/deploy.yaml",
                content=f"key: |\n  -----BEGIN {secret('RSA PRIV', 'ATE KEY')}-----\n  MIIEow\n".encode(),
            )
        ],
    ),
    "credential-literal": Generated(
        "credential-literal",
        lambda: _dag_with(f'\nsnowflake_password = "{secret("c0rrect", "-h0rse-battery")}"\n'),
    ),
    "credential-uri-password--requirements-index": Generated(
        "credential-uri-password",
        lambda: [
            SourceFile(
                path="requirements.txt",
                content=(
                    "-c https://raw.githubusercontent.com/apache/airflow/constraints-2.10.3/constraints-3.11.txt\n"
                    f"--index-url https://deploy:{secret('s3cr3t', 'T0ken99')}@pypi.example.com/simple\n"
                    "internal-lib==1.0\n"
                ).encode(),
            )
        ],
    ),
    "plugins-top-level-folder": Generated(
        "plugins-top-level-folder",
        lambda: [
            SourceFile(path="plugins.zip", content=make_zip({"plugins/__init__.py": b"", "plugins/ops.py": b"X = 1\n"}))
        ],
    ),
    "plugins-native-binary": Generated(
        "plugins-native-binary",
        lambda: [
            SourceFile(path="plugins.zip", content=make_zip({"fast/_impl.so": ELF_AARCH64, "fast/__init__.py": b""}))
        ],
    ),
    "plugins-native-binary--macos": Generated(
        "plugins-native-binary",
        lambda: [SourceFile(path="plugins.zip", content=make_zip({"fast/_impl.so": MACH_O}))],
    ),
    "plugins-wheel-incompatible": Generated(
        "plugins-wheel-incompatible",
        lambda: [
            SourceFile(
                path="plugins.zip",
                content=make_zip({"wheels/numpy-1.26.4-cp311-cp311-macosx_11_0_arm64.whl": b"PK"}),
            )
        ],
    ),
    "plugins-wheel-incompatible--python-tag": Generated(
        "plugins-wheel-incompatible",
        lambda: [
            SourceFile(
                path="plugins.zip",
                content=make_zip({"wheels/orjson-3.10.0-cp312-cp312-manylinux_2_17_x86_64.whl": b"PK"}),
            )
        ],
    ),
    "plugins-too-large": Generated(
        "plugins-too-large",
        lambda: [SourceFile(path="plugins.zip", content=make_zip({"ops.py": b"X = 1\n" * 200}))],
        context={"max_plugins_bytes": 64},
    ),
    "syntax-error--inside-plugins": Generated(
        "syntax-error", lambda: [SourceFile(path="plugins.zip", content=make_zip({"ops.py": b"def broken(:\n"}))]
    ),
    "startup-crlf": Generated(
        "startup-crlf", lambda: [SourceFile(path="startup.sh", content=b"#!/bin/bash\r\nexport TEAM=data\r\n")]
    ),
    "analysis-incomplete": Generated(
        "analysis-incomplete",
        lambda: [SourceFile(path="deep.py", content=b"x = a" + b".b" * 2000 + b"\n")],
    ),
}


def _corrupt_crc() -> bytes:
    data = bytearray(make_zip({"dag.py": DAG}, compression=zipfile.ZIP_STORED))
    index = data.find(b"EmptyOperator(task_id")
    data[index] ^= 0x01  # flip one byte of the stored member: CRC-32 no longer matches
    return bytes(data)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_defect_reports_its_rule_and_no_other_error(name: str) -> None:
    case = GENERATED[name]
    context = ValidationContext(airflow_version=case.airflow_version, **case.context)

    report = validate_files(case.build(), context)

    found = [f for file in report.files for f in file.findings]
    assert case.rule in {f.rule for f in found}, [f.rule for f in found]
    assert all(f.severity == RULES[case.rule].severity for f in found if f.rule == case.rule)
    assert {f.rule for f in found if f.severity is Severity.ERROR} <= {case.rule}


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("credential-aws-key", "Z3XQ7RMT"), ("credential-uri-password", "Tr0ub4dor"), ("credential-literal", "c0rrect")],
)
def test_credential_findings_never_repeat_the_secret(name: str, fragment: str) -> None:
    files = GENERATED[name].build()
    assert fragment in files[0].content.decode()

    report = validate_files(files, ValidationContext())

    messages = [f.message for f in report.files[0].findings]
    assert messages
    assert all(fragment not in message for message in messages)


def test_plugins_zip_modules_resolve_imports_of_dags() -> None:
    plugins = SourceFile(path="plugins.zip", content=make_zip({"team_ops/__init__.py": b"", "team_ops/s3.py": b""}))
    dag = SourceFile(path="dag.py", content=DAG + b"\nfrom team_ops.s3 import copy_prefix  # noqa\n")

    report = validate_files([plugins, dag], ValidationContext())

    assert report.ok, report.files


def test_compatible_wheels_and_native_code_in_plugins_pass() -> None:
    content = make_zip(
        {
            "wheels/internal_lib-1.0-py3-none-any.whl": b"PK",
            "wheels/orjson-3.10.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl": b"PK",
            "wheels/cryptography-42.0.0-cp39-abi3-manylinux_2_28_x86_64.whl": b"PK",
            "fast/_impl.so": ELF_X86_64,
        }
    )

    report = validate_files([SourceFile(path="plugins.zip", content=content)], ValidationContext())

    assert report.files[0].findings == []
