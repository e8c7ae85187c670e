"""Packages (``.nupkg``): validation, metadata and safe extraction. See docs/packages.md."""

from __future__ import annotations

from podium.packages.archive import Limits
from podium.packages.errors import PackageError
from podium.packages.kinds import EntryPoint, Kind
from podium.packages.nuspec import Nuspec
from podium.packages.reader import PackageInfo, extract_package, read_nuspec, read_package

__all__ = [
    "EntryPoint",
    "Kind",
    "Limits",
    "Nuspec",
    "PackageError",
    "PackageInfo",
    "extract_package",
    "read_nuspec",
    "read_package",
]
