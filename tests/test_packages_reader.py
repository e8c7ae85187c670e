"""The package reader without a server: kinds, metadata, versions, and safe extraction."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from podium.packages import Limits, PackageError, extract_package, read_nuspec, read_package, versions
from tests.package_builders import INPUT_SCHEMA, OUTPUT_SCHEMA, nupkg


def write(tmp_path: Path, data: bytes, name: str = "p.nupkg") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_python_package(tmp_path: Path) -> None:
    info = read_package(write(tmp_path, nupkg("Hello", "1.2.3")))
    assert (info.id, info.version, info.kind) == ("Hello", "1.2.3", "python")
    assert (info.title, info.authors, info.description) == (
        "Hello title",
        "Podium Tests",
        "Hello does things",
    )
    assert info.main_entry_point == "main.py" and info.dependencies == ["requests>=2"]
    assert info.input_arguments == INPUT_SCHEMA and info.output_arguments == OUTPUT_SCHEMA
    assert [e.path for e in info.entry_points] == ["main.py"]


def test_robotframework_package(tmp_path: Path) -> None:
    info = read_package(
        write(
            tmp_path,
            nupkg(
                "Suite",
                "1.0.0",
                kind="robotframework",
                files={"content/requirements.txt": "robotframework>=7\n# c\n"},
            ),
        )
    )
    assert info.kind == "robotframework" and info.main_entry_point == "suite.robot"
    assert info.dependencies == ["robotframework>=7"]


def test_uipath_python_package(tmp_path: Path) -> None:
    info = read_package(write(tmp_path, nupkg("Agent", "0.0.1", kind="uipath-python")))
    assert info.kind == "uipath-python" and info.main_entry_point == "main"
    assert info.entry_points[0].unique_id == "4cbb7c86-685a-4c72-927b-739cd5a263f1"
    assert info.dependencies == ["uipath>=2.14.44, <2.15.0"]  # from the packed pyproject.toml
    without_pyproject = nupkg("Agent", "0.0.1", kind="uipath-python", files={"content/pyproject.toml": None})
    assert read_package(write(tmp_path, without_pyproject)).dependencies == [
        "uipath>=2.14.44, <2.15.0"
    ]  # operate.json


def test_operate_json_wins_over_podium_json(tmp_path: Path) -> None:
    both = nupkg(
        "Agent",
        "1.0.0",
        kind="uipath-python",
        files={"content/podium.json": '{"type": "python", "entryPoint": "main.py"}'},
    )
    assert read_package(write(tmp_path, both)).kind == "uipath-python"


def test_nuspec_with_other_namespace_and_library(tmp_path: Path) -> None:
    spec = (
        '<?xml version="1.0"?><package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">'
        "<metadata><id>Lib</id><version>2.0.0-rc.1</version><authors>A</authors>"
        '<dependencies><group><dependency id="Dep" version="[1.0,2.0)"/></group></dependencies>'
        "</metadata></package>"
    )
    nuspec = read_nuspec(write(tmp_path, nupkg("Lib", kind="library", nuspec=spec)))
    assert (nuspec.id, nuspec.version, nuspec.dependencies) == ("Lib", "2.0.0-rc.1", ["Dep [1.0,2.0)"])
    with pytest.raises(PackageError, match="not of a kind"):
        read_package(write(tmp_path, nupkg("Lib", kind="library", nuspec=spec)))


def test_extraction_is_confined(tmp_path: Path) -> None:
    content = extract_package(write(tmp_path, nupkg("Hello")), tmp_path / "out")
    assert content == tmp_path / "out" / "content" and (content / "main.py").is_file()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "Hello.nuspec", "<package><metadata><id>Hello</id><version>1.0.0</version></metadata></package>"
        )
        archive.writestr("content/../../escaped.txt", "x")
    with pytest.raises(PackageError, match="leaves the package folder"):
        extract_package(write(tmp_path, buffer.getvalue(), "slip.nupkg"), tmp_path / "slip")
    assert not (tmp_path / "escaped.txt").exists()
    assert not list((tmp_path / "slip").rglob("*.txt"))


def test_limits(tmp_path: Path) -> None:
    many = nupkg(files={f"content/f{i}.txt": "x" for i in range(20)})
    with pytest.raises(PackageError, match="more than 10 files"):
        read_package(write(tmp_path, many), Limits(max_entries=10))
    with pytest.raises(PackageError, match="inflates to more"):
        extract_package(
            write(tmp_path, nupkg(files={"content/big.txt": "y" * 5000})),
            tmp_path / "o",
            Limits(max_total_bytes=4000),
        )


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1.0.0", "1.0.1"),
        ("1.0.0-beta", "1.0.0"),
        ("1.0.0-alpha", "1.0.0-beta"),
        ("1.0.0-beta.2", "1.0.0-beta.10"),
        ("1.2.0", "1.10.0"),
        ("1.0.0-1", "1.0.0-a"),
        ("1.0", "1.0.0.1"),
    ],
)
def test_version_order(older: str, newer: str) -> None:
    assert versions.sort_key(older) < versions.sort_key(newer)
    assert versions.latest([newer, older]) == newer


def test_version_normalization() -> None:
    assert versions.normalize("1.0") == versions.normalize("1.0.0.0") == "1.0.0"
    assert versions.normalize("1.0.0-BETA+build.5") == "1.0.0-beta"
    assert versions.normalize("1") == "1.0.0"


@pytest.mark.parametrize("bad", ["", "v1.0", "1.0.0.0.0", "1..0", "1.0-", "1" * 70])
def test_invalid_versions(bad: str) -> None:
    assert not versions.is_valid(bad)
