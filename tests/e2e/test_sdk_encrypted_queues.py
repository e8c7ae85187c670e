"""End to end: the official UiPath Python SDK works an encrypted queue of a real ``podium serve`` exactly as a
plain one (every value it reads is opened), while the database holds the item data sealed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from podium.db.schema_queues import queue_items
from tests.conftest import sync_engine
from tests.e2e.queue_servers import ODATA, admin_token, podium_servers, robot_tokens
from tests.e2e.test_sdk_jobs import SDK_ENVIRONMENT, ok

pytestmark = pytest.mark.e2e
QUEUE = "sdk-vault"
SECRET = "iban-DE89-3704-0044"


def test_sdk_on_an_encrypted_queue(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with podium_servers(database_url, tmp_path / "data", 1) as [base]:
        token = admin_token(base)
        headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
        body = {"Name": QUEUE, "Encrypted": True, "MaxNumberOfRetries": 1, "AcceptAutomaticallyRetry": True}
        ok(httpx.post(f"{base}{ODATA}/QueueDefinitions", json=body, headers=headers), 201)
        [(_robot_id, robot_key, robot_token)] = robot_tokens(base, token, database_url, 1)
        for name in SDK_ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("UIPATH_URL", f"{base}/podium/Default")
        monkeypatch.setenv("UIPATH_ACCESS_TOKEN", robot_token)
        monkeypatch.setenv("UIPATH_FOLDER_PATH", "Shared")
        monkeypatch.setenv("UIPATH_ROBOT_KEY", robot_key)
        monkeypatch.setenv("UIPATH_TELEMETRY_ENABLED", "false")
        monkeypatch.chdir(tmp_path)

        from uipath.platform import UiPath
        from uipath.platform.orchestrator.queues import CommitType

        queues = UiPath(base_url=f"{base}/podium/Default", secret=robot_token).queues
        first = queues.create_item(
            {"SpecificContent": {"iban": SECRET}, "Priority": "High"}, queue_name=QUEUE
        )
        assert first["SpecificContent"] == {"iban": SECRET}
        batch = [{"SpecificContent": {"iban": SECRET, "n": n}} for n in range(2)]
        assert queues.create_items(batch, QUEUE, CommitType.ALL_OR_NOTHING)["success"] is True
        taken = queues.create_transaction_item({}, queue_name=QUEUE)
        assert taken["Id"] == first["Id"] and taken["SpecificContent"] == {"iban": SECRET}
        done = queues.complete_transaction_item(
            str(taken["Id"]), {"IsSuccessful": True, "Output": {"paid": SECRET}, "Analytics": {"a": SECRET}}
        )
        assert done["Output"] == {"paid": SECRET} and done["Analytics"] == {"a": SECRET}
        direct = queues.create_transaction_item({"SpecificContent": {"direct": SECRET}}, queue_name=QUEUE)
        assert direct["SpecificContent"] == {"direct": SECRET}
        listed = queues.list_items(queue_name=QUEUE)["value"]
        assert sorted(str(i["SpecificContent"]) for i in listed) == sorted(
            str(c)
            for c in [
                {"iban": SECRET},
                {"iban": SECRET, "n": 0},
                {"iban": SECRET, "n": 1},
                {"direct": SECRET},
            ]
        )
        assert [i["Output"] for i in listed if i["Id"] == taken["Id"]] == [{"paid": SECRET}]

    engine = sync_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(queue_items.c.specific_content, queue_items.c.output, queue_items.c.analytics)
            )
            stored = [value for row in rows for value in row if value is not None]
    finally:
        engine.dispose()
    assert len(stored) == 6 and all(value.startswith("pe1:") and SECRET not in value for value in stored)
