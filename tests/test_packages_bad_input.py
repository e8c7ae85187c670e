"""Bad uploads: each answers 4xx with Orchestrator's error body and leaves neither a row nor a file."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from podium.db.schema_packages import package_versions
from tests.package_builders import nupkg
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"
UPLOAD = f"/odata/Processes/{NS}.UploadPackage"
XXE = """<?xml version="1.0"?>
<!DOCTYPE package [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<package><metadata><id>Hello</id><version>1.0.0</version><description>&xxe;</description></metadata></package>
"""
BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<package><metadata><id>Hello</id><version>1.0.0</version><title>&lol2;</title></metadata></package>
"""


def _zip(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _with(extra: dict[str, bytes], **kw: object) -> bytes:
    base = zipfile.ZipFile(io.BytesIO(nupkg()))
    entries = {n: base.read(n) for n in base.namelist()}
    entries.update(extra)
    return _zip(entries, **kw)  # type: ignore[arg-type]


BAD_PACKAGES = {
    "not a zip": b"this is not a zip file at all",
    "corrupt zip": nupkg()[:200],
    "empty file": b"",
    "no nuspec": _zip(
        {"content/podium.json": b'{"type":"python","entryPoint":"main.py"}', "content/main.py": b""}
    ),
    "nuspec with XXE": nupkg(nuspec=XXE),
    "nuspec with entity bomb": nupkg(nuspec=BOMB),
    "nuspec not XML": nupkg(nuspec="<package><metadata>"),
    "nuspec without version": nupkg(nuspec="<package><metadata><id>Hello</id></metadata></package>"),
    "bad version": nupkg(
        nuspec="<package><metadata><id>Hello</id><version>one</version></metadata></package>"
    ),
    "manifest name differs from id": nupkg(
        nuspec="<package><metadata><id>Other</id><version>1.0.0</version></metadata></package>"
    ),
    "two manifests": nupkg(files={"Second.nuspec": "<package/>"}),
    "no kind": nupkg(files={"content/podium.json": None, "content/main.py": None}),
    "unknown podium type": nupkg(files={"content/podium.json": '{"type": "cobol"}'}),
    "podium.json not JSON": nupkg(files={"content/podium.json": "{nope"}),
    "no entry point (python)": nupkg(files={"content/podium.json": '{"type": "python"}'}),
    "no entry point (robot)": nupkg(
        kind="robotframework", files={"content/podium.json": '{"type": "robotframework"}'}
    ),
    "entry file missing": nupkg(files={"content/main.py": None}),
    "no entry-points.json (uipath)": nupkg(kind="uipath-python", files={"content/entry-points.json": None}),
    "empty entry points (uipath)": nupkg(
        kind="uipath-python", files={"content/entry-points.json": '{"entryPoints": []}'}
    ),
    "uipath function file missing": nupkg(kind="uipath-python", files={"content/main.py": None}),
    "zip slip ..": _with({"../evil.py": b"x"}),
    "zip slip nested": _with({"content/../../evil.py": b"x"}),
    "absolute path": _with({"/etc/evil": b"x"}),
    "backslash path": _with({"..\\evil.py": b"x"}),
    "entry point escapes": nupkg(
        files={"content/podium.json": '{"type": "python", "entryPoint": "../../x.py"}'}
    ),
    "symlink": _with({}, symlink="content/link"),
    "zip bomb": _with({"content/zeros.bin": b"\0" * (20 * 1024 * 1024)}),
}


def assert_nothing_written(api: Api, db: Engine) -> None:
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(package_versions)).scalar_one() == 0
    root = Path(api.client.app.state.podium.settings.data_dir) / "packages"  # type: ignore[attr-defined]
    assert [p for p in root.rglob("*") if p.is_file()] == []


def post(api: Api, **kw: object) -> httpx.Response:
    headers = {**api.headers(), **kw.pop("headers", {})}  # type: ignore[dict-item]
    response: httpx.Response = api.client.post(UPLOAD, headers=headers, **kw)  # type: ignore[arg-type]
    return response


@pytest.mark.parametrize("case", sorted(BAD_PACKAGES))
def test_bad_package_is_refused(api: Api, db: Engine, case: str) -> None:
    body = assert_error(post(api, files={"file": ("bad.nupkg", BAD_PACKAGES[case])}), 400)
    assert body["message"].startswith("Invalid package: "), body
    assert_nothing_written(api, db)


def test_bad_requests(api: Api, db: Engine) -> None:
    assert_error(post(api, json={"file": "x"}), 400)  # not multipart
    assert_error(post(api, files={"a": ("a.nupkg", nupkg()), "b": ("b.nupkg", nupkg("B"))}), 400)  # two files
    assert_error(post(api, data={"name": "value"}, files={}), 400)  # no file part
    assert_error(
        post(api, content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data; boundary=x"}), 400
    )
    assert_nothing_written(api, db)


def test_duplicate_version_is_409_and_keeps_the_first(api: Api, db: Engine) -> None:
    first = nupkg("Hello", "1.0.0")
    api.ok(post(api, files={"file": ("a.nupkg", first)}))
    changed = nupkg("Hello", "1.0.0", files={"content/main.py": "def main(input):\n    return {}\n"})
    assert_error(post(api, files={"file": ("a.nupkg", changed)}), 409)
    assert_error(
        post(api, files={"file": ("a.nupkg", nupkg("hello", "1.0"))}), 409
    )  # same id and version for NuGet
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(package_versions)).scalar_one() == 1
    download = api.get(f"/odata/Processes/{NS}.DownloadPackage(key='Hello:1.0.0')")
    assert download.content == first
    root = Path(api.client.app.state.podium.settings.data_dir) / "packages"  # type: ignore[attr-defined]
    assert len([p for p in root.rglob("*") if p.is_file()]) == 1


def test_oversized_upload_is_413(api: Api, db: Engine) -> None:
    api.client.app.state.podium.settings.max_package_bytes = 4096  # type: ignore[attr-defined]
    big = nupkg(files={"content/data.bin": os.urandom(20_000)})  # incompressible
    assert_error(post(api, files={"file": ("big.nupkg", big)}), 413)
    big_stream = (os.urandom(16_384) for _ in range(50))  # no Content-Length: counted while streaming
    headers = {**api.headers(), "content-type": "multipart/form-data; boundary=b"}
    assert_error(api.client.post(UPLOAD, content=big_stream, headers=headers), 413)
    assert_nothing_written(api, db)
    api.ok(post(api, files={"file": ("small.nupkg", nupkg())}))  # under the limit it works
