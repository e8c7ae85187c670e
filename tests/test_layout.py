"""The layout's rules (docs/decisions.md, "Layout"), checked on the source so that they stay true:
which package may import which, no SQL in the HTTP areas, one explicit list of areas, and one stem per
area in every layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from podium.api import areas

SRC = Path(__file__).resolve().parents[1] / "src" / "podium"

# package → packages of Podium it must not import
FORBIDDEN = {
    "odata": ("podium.api", "podium.services"),
    "http": ("podium.api", "podium.odata", "podium.services"),
    "domain": ("podium.api", "podium.http", "podium.services"),
    "services": ("podium.api",),
    "db": ("podium.api", "podium.http", "podium.domain", "podium.services", "podium.odata"),
    "auth": ("podium.api", "podium.http", "podium.services"),
    "robot": ("podium.api", "podium.http", "podium.db", "podium.domain", "podium.odata", "podium.services"),
}
# SQLAlchemy names that build statements: an area module that imports one builds SQL
SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "and_", "or_", "exists", "case"}


def modules(package: str) -> list[Path]:
    return sorted(p for p in (SRC / package).rglob("*.py") if p.name != "__init__.py")


def imported(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in the file, at any depth (imports inside functions count)."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


def relative(path: Path) -> str:
    return str(path.relative_to(SRC.parent))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_downwards(package: str) -> None:
    wrong = [
        f"{relative(path)} imports {module}"
        for path in modules(package)
        for module, _ in imported(path)
        if module.startswith(FORBIDDEN[package])
    ]
    assert wrong == []


@pytest.mark.parametrize("path", modules("api"), ids=lambda p: p.stem)
def test_area_modules_build_no_sql(path: Path) -> None:
    """Handlers parse, check permission, call the domain and shape the answer; SQL lives in the domain."""
    builders = [
        f"{module}.{name}"
        for module, names in imported(path)
        if module.startswith("sqlalchemy")
        for name in names
        if name in SQL_BUILDERS
    ]
    schema_tables = [
        name
        for module, names in imported(path)
        if module.startswith("podium.db.schema")
        for name in names
        if not _only_declares(path, name)
    ]
    assert builders == [] and schema_tables == []


def _only_declares(path: Path, table: str) -> bool:
    """A table imported only to be the ``table=`` of an entity set declaration."""
    uses = [
        node
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Name) and node.id == table
    ]
    declared = [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.keyword) and node.arg == "table" and isinstance(node.value, ast.Name)
    ]
    return len(uses) == sum(1 for value in declared if value.id == table)


def test_every_area_module_is_in_the_one_list() -> None:
    listed = {id(area) for area in areas.AREAS}
    declaring = [
        path
        for path in modules("api")
        if any(
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "area" for t in node.targets)
            for node in ast.parse(path.read_text()).body
        )
    ]
    missing = []
    for path in declaring:
        module = __import__(f"podium.api.{path.stem}", fromlist=["area"])
        if id(module.area) not in listed:
            missing.append(path.stem)
    assert declaring and missing == []


def test_no_import_alias_hides_a_podium_module() -> None:
    """``from podium.domain import queues as transactions`` hides which module is meant."""
    hidden = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("podium"):
                package = SRC / node.module.removeprefix("podium").lstrip(".").replace(".", "/")
                hidden += [
                    f"{relative(path)}: {node.module}.{alias.name} as {alias.asname}"
                    for alias in node.names
                    if alias.asname and alias.asname != alias.name and (package / f"{alias.name}.py").exists()
                ]
    assert hidden == []
