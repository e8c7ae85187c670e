"""The three kinds of package Podium runs, recognised from the files under ``content/``.

Order of detection (see docs/packages.md): ``content/operate.json`` with ``"targetRuntime": "python"``
is what the official ``uipath pack`` writes (kind ``uipath-python``); otherwise ``content/podium.json``
says ``"type": "python"`` or ``"type": "robotframework"``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from podium.packages.archive import SafeZip, clean_name
from podium.packages.errors import PackageError

Kind = Literal["uipath-python", "python", "robotframework"]
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class EntryPoint:
    path: str
    unique_id: str | None
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None


@dataclass(frozen=True)
class Detected:
    kind: Kind
    entry_points: list[EntryPoint]
    main_entry_point: str
    dependencies: list[str]


def _json(archive: SafeZip, name: str) -> Any:
    try:
        return orjson.loads(archive.read(name))
    except orjson.JSONDecodeError:
        raise PackageError(f"The package file '{name}' is not valid JSON.") from None


def _schema(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PackageError(f"{where} must be a JSON object (a JSON schema).")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PackageError(f"{where} must be a list of requirement strings.")
    return [v.strip() for v in value]


def _requirements_txt(archive: SafeZip) -> list[str]:
    if "content/requirements.txt" not in archive.names:
        return []
    lines = archive.read("content/requirements.txt").decode("utf-8", "replace").splitlines()
    return [
        ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip() and not ln.startswith("-")
    ]


def _pyproject_dependencies(archive: SafeZip) -> list[str] | None:
    if "content/pyproject.toml" not in archive.names:
        return None
    try:
        project = tomllib.loads(archive.read("content/pyproject.toml").decode("utf-8")).get("project", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        raise PackageError("The package's pyproject.toml is not valid TOML.") from None
    return _strings(
        project.get("dependencies") if isinstance(project, dict) else None, "pyproject dependencies"
    )


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _require_file(archive: SafeZip, relative: Any, what: str) -> str:
    if not isinstance(relative, str) or not relative.strip():
        raise PackageError(f"The package has no entry point: {what} is missing.")
    name = clean_name(relative.strip())
    if f"content/{name}" not in archive.names:
        raise PackageError(f"The package's entry point '{name}' is not in the package.")
    return name


def _uipath_entry_points(archive: SafeZip) -> list[EntryPoint]:
    if "content/entry-points.json" not in archive.names:
        raise PackageError("The package has no entry point: content/entry-points.json is missing.")
    data = _json(archive, "content/entry-points.json")
    items = data.get("entryPoints") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise PackageError("The package has no entry point: entry-points.json lists none.")
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("filePath"), str) or not item["filePath"]:
            raise PackageError("Each entry point of entry-points.json needs a 'filePath'.")
        unique_id = item.get("uniqueId")
        found.append(
            EntryPoint(
                item["filePath"],
                unique_id if isinstance(unique_id, str) else None,
                _schema(item.get("input"), "An entry point's 'input'"),
                _schema(item.get("output"), "An entry point's 'output'"),
            )
        )
    return found


def _check_uipath_files(archive: SafeZip, entry_points: list[EntryPoint]) -> None:
    """The file behind each entry point must be packed: ``uipath.json``'s ``functions`` map names
    to ``file.py:function``; a ``.py`` path names the file itself; other entry points (graphs of
    agent frameworks) are resolved by the ``uipath`` runtime and not checked here."""
    functions: dict[str, Any] = {}
    if "content/uipath.json" in archive.names:
        config = _json(archive, "content/uipath.json")
        if isinstance(config, dict) and isinstance(config.get("functions"), dict):
            functions = config["functions"]
    for entry in entry_points:
        target = functions.get(entry.path)
        if isinstance(target, str):
            _require_file(archive, target.split(":", 1)[0], "the function's file")
        elif entry.path.endswith(".py"):
            _require_file(archive, entry.path, "the entry point file")


def _uipath_python(archive: SafeZip, operate: dict[str, Any]) -> Detected:
    entry_points = _uipath_entry_points(archive)
    _check_uipath_files(archive, entry_points)
    paths = [e.path for e in entry_points]
    main = operate.get("main") if operate.get("main") in paths else paths[0]
    declared = _pyproject_dependencies(archive)
    if declared is None:
        raw = operate.get("dependencies")
        declared = [f"{k}{v}" for k, v in raw.items() if isinstance(v, str)] if isinstance(raw, dict) else []
    return Detected("uipath-python", entry_points, str(main), _unique(declared + _requirements_txt(archive)))


def _podium(archive: SafeZip, config: Any) -> Detected:
    if not isinstance(config, dict):
        raise PackageError("content/podium.json must be a JSON object.")
    arguments = config.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise PackageError("podium.json 'arguments' must be an object with 'input' and 'output' schemas.")
    schemas = (
        _schema(arguments.get("input"), "podium.json arguments.input"),
        _schema(arguments.get("output"), "podium.json arguments.output"),
    )
    dependencies = _unique(
        _strings(config.get("dependencies"), "podium.json 'dependencies'") + _requirements_txt(archive)
    )
    kind = config.get("type")
    if kind == "python":
        path = _require_file(archive, config.get("entryPoint"), "podium.json 'entryPoint'")
        function = config.get("function")
        if function is not None and (not isinstance(function, str) or not _IDENTIFIER.match(function)):
            raise PackageError("podium.json 'function' must be a Python function name.")
        return Detected("python", [EntryPoint(path, None, *schemas)], path, dependencies)
    if kind == "robotframework":
        path = _require_file(archive, config.get("suite"), "podium.json 'suite'")
        return Detected("robotframework", [EntryPoint(path, None, *schemas)], path, dependencies)
    raise PackageError("content/podium.json 'type' must be 'python' or 'robotframework'.")


def detect(archive: SafeZip) -> Detected:
    """The package's kind, entry points and dependencies; PackageError when no kind is recognised."""
    if "content/operate.json" in archive.names:
        operate = _json(archive, "content/operate.json")
        if isinstance(operate, dict) and str(operate.get("targetRuntime", "")).lower() == "python":
            return _uipath_python(archive, operate)
    if "content/podium.json" in archive.names:
        return _podium(archive, _json(archive, "content/podium.json"))
    raise PackageError(
        "The package is not of a kind Podium runs: it needs content/operate.json (uipath pack) "
        "or content/podium.json."
    )
