"""NuGet package versions: validation, the normalized form that decides duplicates, and ordering.

NuGet compares versions as SemVer 2.0 with up to four numeric parts: ``1.0`` and ``1.0.0`` are the
same version, build metadata (``+abc``) is ignored, pre-release labels compare case-insensitively and
sort before the release (``1.0.0-beta < 1.0.0``).
"""

from __future__ import annotations

import re

_VERSION = re.compile(
    r"^(?P<release>\d{1,9}(?:\.\d{1,9}){0,3})"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)

SortKey = tuple[tuple[int, ...], int, tuple[tuple[int, int, str], ...]]


def is_valid(version: str) -> bool:
    return len(version) <= 64 and _VERSION.match(version) is not None


def normalize(version: str) -> str:
    """``1.0`` and ``1.0.0.0`` -> ``1.0.0``, ``1.0.0-BETA+x`` -> ``1.0.0-beta``; ValueError when invalid."""
    match = _VERSION.match(version)
    if match is None or len(version) > 64:
        raise ValueError(f"'{version}' is not a valid package version.")
    parts = [int(p) for p in match.group("release").split(".")]
    parts += [0] * (3 - len(parts))
    if len(parts) == 4 and parts[3] == 0:
        parts = parts[:3]
    text = ".".join(str(p) for p in parts)
    pre = match.group("pre")
    return f"{text}-{pre.lower()}" if pre else text


def sort_key(version: str) -> SortKey:
    """A key that orders versions the NuGet way (pre-releases before their release)."""
    normalized = normalize(version)
    release, _, pre = normalized.partition("-")
    numbers = tuple(int(p) for p in release.split("."))
    numbers += (0,) * (4 - len(numbers))
    labels = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    return numbers, 0 if pre else 1, labels


def latest(versions: list[str]) -> str | None:
    return max(versions, key=sort_key) if versions else None
