"""End to end: the official UiPath Python SDK's queue methods against a real ``podium serve``.

The SDK acts as a robot (``UIPATH_ROBOT_KEY`` and a robot token); queues are created over plain HTTP
(the SDK has no method for it). Every queue method the SDK has is called, on both backends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.queue_servers import ODATA, admin_token, podium_servers, robot_tokens
from tests.e2e.test_sdk_jobs import SDK_ENVIRONMENT, ok

pytestmark = pytest.mark.e2e
QUEUE = "sdk-invoices"


def _create_queue(base: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    body = {
        "Name": QUEUE,
        "MaxNumberOfRetries": 1,
        "AcceptAutomaticallyRetry": True,
        "EnforceUniqueReference": True,
    }
    queue: dict[str, Any] = ok(httpx.post(f"{base}{ODATA}/QueueDefinitions", json=body, headers=headers), 201)
    return queue


def test_sdk_queue_methods(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with podium_servers(database_url, tmp_path / "data", 1) as [base]:
        token = admin_token(base)
        queue = _create_queue(base, token)
        [(robot_id, robot_key, robot_token)] = robot_tokens(base, token, database_url, 1)

        for name in SDK_ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("UIPATH_URL", f"{base}/podium/Default")
        monkeypatch.setenv("UIPATH_ACCESS_TOKEN", robot_token)
        monkeypatch.setenv("UIPATH_FOLDER_PATH", "Shared")
        monkeypatch.setenv("UIPATH_ROBOT_KEY", robot_key)
        monkeypatch.setenv("UIPATH_TELEMETRY_ENABLED", "false")
        monkeypatch.chdir(tmp_path)

        from uipath.platform import UiPath
        from uipath.platform.errors import EnrichedException
        from uipath.platform.orchestrator.queues import CommitType

        sdk = UiPath(base_url=f"{base}/podium/Default", secret=robot_token)
        queues = sdk.queues

        # create_item → AddQueueItem
        first = queues.create_item(
            {"Priority": "High", "SpecificContent": {"invoice": 1}, "Reference": "INV-1"}, queue_name=QUEUE
        )
        assert (
            first["Status"] == "New"
            and first["Priority"] == "High"
            and first["QueueDefinitionId"] == queue["Id"]
        )
        assert first["SpecificContent"] == {"invoice": 1}

        # create_items → BulkAddQueueItems with each commit type
        batch = [{"SpecificContent": {"invoice": n}, "Reference": f"INV-{n}"} for n in (2, 3)]
        answer = queues.create_items(batch, QUEUE, CommitType.ALL_OR_NOTHING)
        assert answer["success"] is True and answer["failedItems"] == []
        mixed = [{"SpecificContent": {"invoice": 4}, "Reference": "INV-4"}, {"Reference": "INV-1"}]
        answer = queues.create_items(mixed, QUEUE, CommitType.PROCESS_ALL_INDEPENDENTLY)
        assert answer["success"] is False
        assert [(f["Ordinal"], f["ErrorCode"]) for f in answer["failedItems"]] == [(1, "DuplicateReference")]
        answer = queues.create_items(
            [{"Reference": "INV-2"}, {"Reference": "INV-5"}], QUEUE, CommitType.STOP_ON_FIRST_FAILURE
        )
        assert answer["failedItems"][0]["Ordinal"] == 0
        with pytest.raises(EnrichedException) as refused:
            queues.create_items(
                [{"Reference": "INV-9"}, {"Reference": "INV-3"}], QUEUE, CommitType.ALL_OR_NOTHING
            )
        assert refused.value.status_code == 409

        # create_transaction_item → StartTransaction as the robot of UIPATH_ROBOT_KEY: High first
        taken = queues.create_transaction_item({}, queue_name=QUEUE)
        assert taken["Id"] == first["Id"] and taken["Status"] == "InProgress" and taken["RobotId"] == robot_id

        # update_progress_of_transaction_item → SetTransactionProgress (a JSON answer)
        progress = queues.update_progress_of_transaction_item(str(taken["Id"]), "halfway")
        assert progress["Progress"] == "halfway"

        # complete_transaction_item → SetTransactionResult (a JSON answer)
        done = queues.complete_transaction_item(
            str(taken["Id"]), {"IsSuccessful": True, "Output": {"paid": True}}
        )
        assert done["Status"] == "Successful" and done["Output"] == {"paid": True}

        # an application exception is retried once (the queue's MaxNumberOfRetries), then fails
        second = queues.create_transaction_item({}, queue_name=QUEUE)
        failure = {
            "IsSuccessful": False,
            "ProcessingException": {"Type": "ApplicationException", "Reason": "timeout", "Details": "d"},
        }
        assert queues.complete_transaction_item(str(second["Id"]), failure)["Status"] == "Retried"

        # add-and-start with SpecificContent, and a robot-less transaction
        direct = queues.create_transaction_item({"SpecificContent": {"direct": True}}, queue_name=QUEUE)
        assert direct["SpecificContent"] == {"direct": True} and direct["Status"] == "InProgress"
        queues.complete_transaction_item(str(direct["Id"]), {"IsSuccessful": True})
        seen = [second["Reference"]]
        while (item := queues.create_transaction_item({}, queue_name=QUEUE, no_robot=True)) is not None:
            seen.append(item["Reference"])
            business = {
                "IsSuccessful": False,
                "ProcessingException": {"Type": "BusinessException", "Reason": "no"},
            }
            outcome = queues.complete_transaction_item(str(item["Id"]), business)
            assert outcome["Status"] == "Failed"
        # the retry of the second item came back (same reference); nothing is left: null, not 204
        assert sorted(seen) == sorted(["INV-2", "INV-2", "INV-3", "INV-4"])

        # a result for an item that is no longer InProgress is refused
        with pytest.raises(EnrichedException) as late:
            queues.complete_transaction_item(str(taken["Id"]), {"IsSuccessful": True})
        assert late.value.status_code == 400

        # list_items → QueueItems?$filter=QueueDefinitionName eq '…'
        listed = queues.list_items(queue_name=QUEUE)["value"]
        statuses = sorted(i["Status"] for i in listed)
        assert statuses == sorted(["Successful", "Retried", "Failed", "Failed", "Failed", "Successful"])
        assert queues.list_items(queue_name="no-such-queue")["value"] == []
        assert len(queues.list_items()["value"]) == len(listed)

        # unknown queue: a 404 the SDK raises
        with pytest.raises(EnrichedException) as unknown:
            queues.create_item({"SpecificContent": {}}, queue_name="no-such-queue")
        assert unknown.value.status_code == 404
