#!/usr/bin/env python
"""Coverage of issue 15's administration areas: the share of the catalog's operations
(``docs/orchestrator-operations.md``, a copy of the brief's ``api/operations.md``) that Podium's OpenAPI
document (``/swagger/v1/swagger.json``) declares, per area and overall, and the operations it lacks.

Run by hand (``tests/test_api_coverage.py`` holds the floor)::

    PYTHONPATH=src python benchmarks/api_coverage.py [--catalog PATH] [--all]

An operation is its method and path. Paths are compared with every ``{parameter}`` made alike and a
function's parenthesized parameter list dropped: OData takes a function's parameters inline
(``GetFile(path='a')``) or from the query string (``GetFile?path=a``), and the catalog writes some one way,
Podium's document the other. An area is a set of entity sets (the path's first segment after ``/odata/``
or ``/api/``): the catalog's sections mix several (Robots holds Machines and Sessions, Processes holds
Releases and ReleaseRetention, Jobs holds ExecutionMedia).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATALOG = Path(__file__).resolve().parents[1] / "docs" / "orchestrator-operations.md"

# issue 15's areas -> the entity sets (first path segment) that make each one
AREAS: dict[str, tuple[str, ...]] = {
    "Tenants": ("Tenants",),
    "Settings": ("Settings", "Translations"),
    "License": ("HostLicenses", "LicensesNamedUser", "LicensesRuntime", "Licensing"),
    "PersonalWorkspaces": ("PersonalWorkspaces",),
    "Folders": ("Folders", "FoldersNavigation", "OrganizationUnits"),
    "Users": ("Users", "Account", "DirectoryService"),
    "Robots": ("Robots", "Sessions"),
    "Machines": ("Machines",),
    "Releases": ("Releases", "ReleaseRetention"),
    "Roles": ("Roles",),
    "ExecutionMedia": ("ExecutionMedia",),
    "Buckets": ("Buckets",),
    "Assets": ("Assets",),
    "Queues": ("QueueDefinitions",),
    "Processes": ("Processes", "PackageFeeds"),
    "Libraries": ("Libraries",),
}

_LINE = re.compile(r"^- `(GET|POST|PUT|PATCH|DELETE) (/\S+)`")
_SEGMENT = re.compile(r"^/(?:odata|api)/([A-Za-z]+)")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def normalize(path: str) -> str:
    """``{key}``/``{folderId}`` alike; a function segment (``Ns.Name(...)``) without its parameters."""
    path = re.sub(r"\{[^}]*\}", "{}", path)
    segments = []
    for segment in path.split("/"):
        if "." in segment and "(" in segment:  # UiPath.Server.Configuration.OData.GetFile(path={})
            segment = segment[: segment.index("(")]
        segments.append(segment)
    return "/".join(segments)


def entity_set(path: str) -> str | None:
    match = _SEGMENT.match(path)
    return match.group(1) if match else None


def area_of(path: str) -> str | None:
    name = entity_set(path)
    return next((area for area, sets in AREAS.items() if name in sets), None)


def catalog_operations(text: str) -> list[Operation]:
    return [Operation(m.group(1), m.group(2)) for m in map(_LINE.match, text.splitlines()) if m]


def declared_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), normalize(path))
        for path, operations in document.get("paths", {}).items()
        for method in operations
        if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}
    }


@dataclass
class Coverage:
    per_area: dict[str, tuple[int, int]]  # area -> (declared, in the catalog)
    missing: list[tuple[str, Operation]]

    @property
    def declared(self) -> int:
        return sum(d for d, _ in self.per_area.values())

    @property
    def total(self) -> int:
        return sum(t for _, t in self.per_area.values())

    @property
    def share(self) -> float:
        return self.declared / self.total if self.total else 1.0


def coverage(catalog: Iterable[Operation], document: dict[str, Any]) -> Coverage:
    declared = declared_operations(document)
    per_area = {area: (0, 0) for area in AREAS}
    missing: list[tuple[str, Operation]] = []
    for op in catalog:
        area = area_of(op.path)
        if area is None:
            continue
        found = (op.method, normalize(op.path)) in declared
        done, total = per_area[area]
        per_area[area] = (done + found, total + 1)
        if not found:
            missing.append((area, op))
    return Coverage(per_area, missing)


def podium_document() -> dict[str, Any]:
    """The OpenAPI document of an application built on a throwaway SQLite file (never started: the
    document depends only on the routes and the OData registry)."""
    from podium.api.docs import build_openapi
    from podium.app import create_app
    from podium.config import Settings

    data = Path(tempfile.mkdtemp(prefix="podium-coverage-"))
    settings = Settings(data_dir=data, database_url=f"sqlite:///{data}/podium.db", secret_key="c" * 48)
    return build_openapi(create_app(settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    args = parser.parse_args(argv)
    result = coverage(catalog_operations(args.catalog.read_text()), podium_document())
    for area, (done, total) in result.per_area.items():
        print(f"{area:20} {done:3}/{total:<3} {100 * done / total if total else 100:5.1f} %")
    print(f"{'all':20} {result.declared:3}/{result.total:<3} {100 * result.share:5.1f} %")
    if result.missing:
        print("\nnot declared:")
        for area, op in result.missing:
            print(f"  {area:20} {op}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
