"""End to end: Action Center tasks created by the official UiPath Python SDK (2.14.44) on a real
``podium serve``, completed by a person through Orchestrator's API, read back by the SDK.

The SDK creates two kinds of task: an app task (``tasks.create(app_key=…)`` → ``AppTasks/CreateAppTask``,
then ``AssignTasks`` by user name) and a QuickForm task (``tasks.create_quickform`` →
``GenericTasks/CreateTask`` with ``type`` 6). ``tasks.create(app_name=…)`` without a key first asks
UiPath's Apps service (``apps_/…/deployed-action-apps-schemas``), which is not Orchestrator's and
Podium does not serve; form tasks are not created by the SDK (their API is tested in tests/test_tasks.py).
The SDK has no call to complete a task: the person's completion goes through ``CompleteAppTask`` /
``CompleteTask``. What a resumed process receives is read with the runtime's own trigger reader
(``UiPathResumeTriggerHandler.read_trigger``), as ``uipath run --resume`` does: the task's data, the
chosen action in it.
"""

from __future__ import annotations

import asyncio
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.servers import ok
from tests.e2e.test_sdk_jobs import ADMIN_PASSWORD, SDK_ENVIRONMENT, podium_server

pytestmark = pytest.mark.e2e

TASKS = "/podium/Default/orchestrator_/tasks"
SCHEMA = {
    "id": "invoice-approval",
    "fields": [{"id": "amount", "label": "Amount", "type": "number"}],
    "outcomes": [{"id": "approve", "name": "Approve"}, {"id": "reject", "name": "Reject"}],
}


def _admin(base: str) -> httpx.Client:
    http = httpx.Client(base_url=base, timeout=30)
    login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD}
    token = ok(http.post("/api/Account/Authenticate", json=login))["result"]
    http.headers.update({"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"})
    return http


def _read_as_resumed_process(key: str) -> Any:
    """What ``uipath run --resume`` hands the process for a Task trigger on this task."""
    from uipath.core.triggers import UiPathResumeTrigger, UiPathResumeTriggerType
    from uipath.platform.resume_triggers import UiPathResumeTriggerHandler

    trigger = UiPathResumeTrigger(
        trigger_type=UiPathResumeTriggerType.TASK, item_key=key, folder_path="Shared"
    )
    return asyncio.run(UiPathResumeTriggerHandler().read_trigger(trigger))


def test_sdk_creates_tasks_a_person_completes_them(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with podium_server(database_url, tmp_path / "data") as base, closing(_admin(base)) as http:
        token = http.headers["Authorization"].removeprefix("Bearer ")
        for name in SDK_ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("UIPATH_URL", f"{base}/podium/Default")
        monkeypatch.setenv("UIPATH_ACCESS_TOKEN", token)
        monkeypatch.setenv("UIPATH_FOLDER_PATH", "Shared")
        monkeypatch.setenv("UIPATH_TELEMETRY_ENABLED", "false")
        monkeypatch.chdir(tmp_path)

        from uipath.core.errors import UiPathPendingTriggerError
        from uipath.platform import UiPath

        sdk = UiPath(base_url=f"{base}/podium/Default", secret=token)

        # an app task, assigned at creation (AssignTasks by UserNameOrEmail): Pending
        app = sdk.tasks.create(
            "Approve invoice 42",
            {"invoice": 42, "amount": 1250.5},
            app_key="invoice-app",
            assignee="admin",
            priority="High",
            labels=["finance"],
        )
        assert app.id is not None and app.key is not None and app.status == 0  # as created
        pending = sdk.tasks.retrieve(app.key)
        assert (pending.status, pending.priority, pending.title) == (1, "High", "Approve invoice 42")
        assert pending.data == {"invoice": 42, "amount": 1250.5}
        with pytest.raises(UiPathPendingTriggerError):  # a resumed process would keep waiting
            _read_as_resumed_process(app.key)

        completion = {"taskId": app.id, "data": {"approved": True}, "action": "Approve"}
        assert http.post(f"{TASKS}/AppTasks/CompleteAppTask", json=completion).status_code == 204
        done = sdk.tasks.retrieve(app.key)
        assert done.status == 2 and done.completion_time is not None and done.is_deleted is False
        expected = {"invoice": 42, "amount": 1250.5, "approved": True, "Action": "Approve"}
        assert done.data == expected
        assert _read_as_resumed_process(app.key) == expected
        twice = http.post(f"{TASKS}/AppTasks/CompleteAppTask", json={**completion, "action": "Reject"})
        assert twice.status_code == 409 and {"message", "errorCode", "traceId"} <= set(twice.json())
        assert sdk.tasks.retrieve(app.key).data == expected  # nothing changed

        # a QuickForm task (GenericTasks/CreateTask, type 6), created unassigned, then assigned by hand
        async def quickform() -> Any:
            return await sdk.tasks.create_quickform_async(
                "Check the address", "address-check", SCHEMA, {"street": "Rue 1"}, folder_path="Shared"
            )

        form = asyncio.run(quickform())
        assert form.key is not None and sdk.tasks.retrieve(form.key).status == 0  # Unassigned
        assignment = {"taskAssignments": [{"taskId": form.id, "UserNameOrEmail": "admin"}]}
        assigned = http.post(
            "/podium/Default/orchestrator_/odata/Tasks/UiPath.Server.Configuration.OData.AssignTasks",
            json=assignment,
        )
        assert ok(assigned)["value"] == []  # no failures
        assert sdk.tasks.retrieve(form.key).status == 1
        completion = {"taskId": form.id, "data": {"street": "Rue 2"}, "action": "reject"}
        assert http.post(f"{TASKS}/GenericTasks/CompleteTask", json=completion).status_code == 204
        assert _read_as_resumed_process(form.key) == {"street": "Rue 2", "Action": "reject"}
