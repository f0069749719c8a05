"""The one way the project reads a version string: PEP 440, through ``packaging`` (what pip and Airflow use).

Airflow versions (``GetEnvironment``'s ``AirflowVersion``, ``--airflow-version``, the versions in the
validator's data files) and Python versions are compared by their release numbers, so that
``2.10.3rc1``, ``2.9.2+amzn.1`` and ``2.11`` read as ``(2, 10, 3)``, ``(2, 9, 2)`` and ``(2, 11, 0)``.
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

__all__ = ["InvalidVersion", "Release", "Version", "parse_version", "release"]

#: (major, minor, micro); tuples compare numerically, so ``(2, 10, 1) > (2, 4, 3)``.
Release = tuple[int, int, int]


def parse_version(text: str) -> Version:
    """``text`` as a PEP 440 version (surrounding spaces allowed); raises ``InvalidVersion`` (a ValueError)."""
    return Version(text)


def release(text: str) -> Release:
    """The (major, minor, micro) of ``text``: pre-release, post, dev and local parts are ignored, missing parts are 0.

    Raises ``InvalidVersion`` (a ValueError) when ``text`` is not a PEP 440 version.
    """
    parts = parse_version(text).release
    major, minor, micro = (*parts, 0, 0)[:3]
    return major, minor, micro
