"""Issue 15's coverage check: the share of the catalog's operations of the administration areas that
Podium's OpenAPI document declares (``benchmarks/api_coverage.py`` prints it with the missing ones).

``FLOOR`` is the share measured on main when it was last raised: it may only go up (the issue's target is
95 %; README lists what stays out and why). No database: the document depends on the routes only."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

FLOOR = 0.99
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "api_coverage.py"


@pytest.fixture(scope="module")
def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_coverage", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["api_coverage"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_paths_compare_without_parameter_spelling(checker: ModuleType) -> None:
    ns = "UiPath.Server.Configuration.OData"
    assert checker.normalize(f"/odata/Buckets({{key}})/{ns}.GetFile") == checker.normalize(
        f"/odata/Buckets({{id}})/{ns}.GetFile(path={{path}})"
    )
    assert checker.normalize("/odata/Folders({folderId})") == "/odata/Folders({})"
    assert checker.area_of("/odata/ReleaseRetention({key})") == "Releases"
    assert checker.area_of("/odata/Jobs") is None


def test_counts_declared_and_missing(checker: ModuleType) -> None:
    catalog = checker.catalog_operations(
        "- `GET /odata/Robots` — x\n- `DELETE /odata/Robots({key})` — y\n- `GET /odata/Jobs` — z\n"
    )
    result = checker.coverage(catalog, {"paths": {"/odata/Robots": {"get": {}}}})
    assert result.per_area["Robots"] == (1, 2) and result.share == 0.5
    assert [str(op) for _, op in result.missing] == ["DELETE /odata/Robots({key})"]


def test_share_of_the_catalog_declared(checker: ModuleType) -> None:
    result = checker.coverage(
        checker.catalog_operations(checker.CATALOG.read_text()), checker.podium_document()
    )
    assert result.total > 200  # the catalog was read
    missing = "\n".join(f"{area}: {op}" for area, op in result.missing)
    assert result.share >= FLOOR, f"{result.declared}/{result.total} declared; missing:\n{missing}"
