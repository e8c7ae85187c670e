"""``podium serve --workers N``: N worker processes on one port, each building the app from the
environment the parent prepared (database, data folder, signing key)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.queue_servers import ODATA, admin_token, podium_server, prepare_database

pytestmark = pytest.mark.e2e


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_workers_share_the_port_the_database_and_the_tokens(database_url: str, tmp_path: Path) -> None:
    prepare_database(database_url)
    with podium_server(database_url, tmp_path / "data", workers=2) as (base, process):
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children(process.pid)]
        workers = [line for line in commands if b"spawn_main" in line]
        assert len(workers) == 2, commands
        token = admin_token(base)
        headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
        created = httpx.post(
            f"{base}{ODATA}/QueueDefinitions", json={"Name": "workers-queue"}, headers=headers, timeout=10
        )
        assert created.status_code == 201, created.text
        # a fresh connection per request: the kernel spreads them over the workers' shared socket
        for n in range(24):
            answer = httpx.post(
                f"{base}{ODATA}/Queues/UiPathODataSvc.AddQueueItem",
                json={"itemData": {"Name": "workers-queue", "Reference": f"r{n}"}},
                headers=headers,
                timeout=10,
            )
            assert answer.status_code == 201, answer.text
        listed = httpx.get(
            f"{base}{ODATA}/QueueItems", params={"$filter": "startswith(Reference,'r')"}, headers=headers
        ).json()
        assert listed["@odata.count"] == 24
