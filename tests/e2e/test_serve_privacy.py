"""End to end: a real ``podium serve`` keeps its data folder private (0700, files 0600, umask 077) and
its access log free of blob tokens, and serves bucket files as downloads, not as pages of its origin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from podium.db.migrate import alembic_config
from tests.e2e.servers import ADMIN_PASSWORD, ok, podium_process

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path, int]]:
    from alembic import command

    command.stamp(alembic_config(database_url), "head")
    data = tmp_path / "data"
    with podium_process(database_url, data, log_level="info") as (base, process):
        yield base, data, process.pid


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_serve_keeps_its_files_private_and_its_log_free_of_blob_tokens(
    served: tuple[str, Path, int], database_url: str
) -> None:
    base, data, pid = served
    login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD}
    token = ok(httpx.post(f"{base}/api/Account/Authenticate", json=login, timeout=10))["result"]
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
        bucket = ok(http.post("/odata/Buckets", json={"Name": "served"}), 201)
        action = f"/odata/Buckets({bucket['Id']})/UiPath.Server.Configuration.OData"
        write = ok(http.get(f"{action}.GetWriteUri", params={"path": "site/page.html"}))["Uri"]
        page = b"<html><script>fetch('/odata/Users')</script></html>"
        assert httpx.put(write, content=page, timeout=10).status_code == 201
        read = ok(http.get(f"{action}.GetReadUri", params={"path": "site/page.html"}))["Uri"]
    downloaded = httpx.get(read, timeout=10)
    assert downloaded.content == page and downloaded.headers["content-type"].startswith("text/html")
    assert downloaded.headers["content-disposition"] == 'attachment; filename="page.html"'
    assert downloaded.headers["x-content-type-options"] == "nosniff"

    status = Path(f"/proc/{pid}/status")
    if status.exists():
        assert "Umask:\t0077" in status.read_text()
    assert _mode(data) == 0o700
    [stored] = list((data / "buckets").rglob("page.html"))
    assert _mode(stored) == 0o600 and _mode(stored.parent) == 0o700
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None and _mode(Path(url.database)) == 0o600  # was 0644

    log = (data / "server.log").read_text()
    tokens = [uri.rpartition("/")[2] for uri in (write, read)]
    assert '"PUT /api/BlobFiles/<redacted> HTTP/1.1" 201' in log
    assert '"GET /api/BlobFiles/<redacted> HTTP/1.1" 200' in log
    assert not any(token in log for token in tokens)
