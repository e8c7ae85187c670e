"""Reading and extracting packages: the interface the API and the robot agent use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium.packages.archive import Limits, SafeZip
from podium.packages.errors import PackageError
from podium.packages.kinds import EntryPoint, Kind, detect
from podium.packages.nuspec import Nuspec, parse_nuspec


@dataclass(frozen=True)
class PackageInfo:
    id: str
    version: str
    kind: Kind
    title: str | None
    description: str | None
    authors: str | None
    entry_points: list[EntryPoint]
    main_entry_point: str
    dependencies: list[str]
    input_arguments: dict[str, Any] | None  # JSON schemas of the main entry point, for GetArguments
    output_arguments: dict[str, Any] | None
    release_notes: str | None = None
    tags: str | None = None


def _nuspec(archive: SafeZip) -> Nuspec:
    """The one ``<id>.nuspec`` at the root of the archive."""
    manifests = [name for name in archive.names if "/" not in name and name.lower().endswith(".nuspec")]
    if not manifests:
        raise PackageError("The package has no .nuspec manifest at its root.")
    if len(manifests) > 1:
        raise PackageError("The package has more than one .nuspec manifest.")
    nuspec = parse_nuspec(archive.read(manifests[0]))
    if manifests[0][: -len(".nuspec")].lower() != nuspec.id.lower():
        raise PackageError(f"The manifest {manifests[0]} does not match the package id '{nuspec.id}'.")
    return nuspec


def read_nuspec(path: Path, limits: Limits | None = None) -> Nuspec:
    """A package's manifest only (libraries need no entry point); raises PackageError."""
    with SafeZip(path, limits) as archive:
        return _nuspec(archive)


def read_package(path: Path, limits: Limits | None = None) -> PackageInfo:
    """Validates a process package and reads its metadata; raises PackageError."""
    with SafeZip(path, limits) as archive:
        nuspec = _nuspec(archive)
        found = detect(archive)
    main = next(e for e in found.entry_points if e.path == found.main_entry_point)
    return PackageInfo(
        id=nuspec.id,
        version=nuspec.version,
        kind=found.kind,
        title=nuspec.title,
        description=nuspec.description,
        authors=nuspec.authors,
        entry_points=found.entry_points,
        main_entry_point=found.main_entry_point,
        dependencies=found.dependencies,
        input_arguments=main.input_schema,
        output_arguments=main.output_schema,
        release_notes=nuspec.release_notes,
        tags=nuspec.tags,
    )


def extract_package(path: Path, target: Path, limits: Limits | None = None) -> Path:
    """Extracts the package under ``target`` (no entry can land outside it); returns ``target/content``."""
    target.mkdir(parents=True, exist_ok=True)
    with SafeZip(path, limits) as archive:
        _nuspec(archive)
        archive.extract_all(target)
    return target / "content"
