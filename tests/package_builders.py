"""Builds ``.nupkg`` files of the three kinds Podium runs (and broken ones) for tests."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

NUSPEC = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2011/10/nuspec.xsd">
  <metadata>
    <id>{id}</id>
    <version>{version}</version>
    <title>{id} title</title>
    <authors>Podium Tests</authors>
    <description>{id} does things</description>
  </metadata>
</package>
"""

INPUT_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "default": "world"}, "times": {"type": "integer"}},
    "required": ["name"],
}
OUTPUT_SCHEMA = {"type": "object", "properties": {"greeting": {"type": "string"}}}


def _content(kind: str, package_id: str, version: str) -> dict[str, bytes]:
    arguments = {"input": INPUT_SCHEMA, "output": OUTPUT_SCHEMA}
    if kind == "python":
        podium = {
            "type": "python",
            "entryPoint": "main.py",
            "function": "main",
            "dependencies": ["requests>=2"],
            "arguments": arguments,
        }
        return {
            "content/podium.json": json.dumps(podium).encode(),
            "content/main.py": b"def main(input):\n    return {'greeting': 'hello ' + input['name']}\n",
        }
    if kind == "robotframework":
        podium = {"type": "robotframework", "suite": "suite.robot", "arguments": arguments}
        return {
            "content/podium.json": json.dumps(podium).encode(),
            "content/suite.robot": b"*** Test Cases ***\nGreet\n    Log    hello\n",
        }
    if kind == "uipath-python":
        operate = {
            "projectId": "4532a2df-02fb-4b37-9824-4a40a6da3e33",
            "main": "main",
            "contentType": "function",
            "targetFramework": "Portable",
            "targetRuntime": "python",
            "dependencies": {"uipath": ">=2.14.44, <2.15.0"},
        }
        entry = {
            "filePath": "main",
            "uniqueId": "4cbb7c86-685a-4c72-927b-739cd5a263f1",
            "type": "function",
            "input": INPUT_SCHEMA,
            "output": OUTPUT_SCHEMA,
        }
        pyproject = (
            f'[project]\nname = "{package_id}"\nversion = "{version}"\n'
            'dependencies = ["uipath>=2.14.44, <2.15.0"]\n'
        )
        return {
            "content/operate.json": json.dumps(operate).encode(),
            "content/entry-points.json": json.dumps({"entryPoints": [entry]}).encode(),
            "content/uipath.json": json.dumps({"functions": {"main": "main.py:main"}}).encode(),
            "content/pyproject.toml": pyproject.encode(),
            "content/main.py": b"def main(input):\n    return input\n",
        }
    if kind == "library":
        return {"lib/net45/Library.dll": b"\x00binary"}
    raise ValueError(kind)


def nupkg(
    package_id: str = "Hello",
    version: str = "1.0.0",
    kind: str = "python",
    files: dict[str, Any] | None = None,
    nuspec: str | None = None,
) -> bytes:
    """A package; ``files`` adds entries (bytes or str) or removes them (None)."""
    entries: dict[str, Any] = {
        f"{package_id}.nuspec": nuspec or NUSPEC.format(id=package_id, version=version)
    }
    entries.update(_content(kind, package_id, version))
    for name, value in (files or {}).items():
        if value is None:
            entries.pop(name, None)
        else:
            entries[name] = value
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in entries.items():
            archive.writestr(name, value.encode() if isinstance(value, str) else value)
    return buffer.getvalue()
