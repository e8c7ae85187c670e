"""``/tasks/AppTasks/*``: tasks shown by a UiPath App (what the SDK's ``tasks.create(app_key=…)`` creates).
Podium keeps the app's id and version and the actionable-message metadata the SDK sends; there is no App
to render them here, so a person completes one through ``CompleteAppTask`` (its assignee only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium import inputs
from podium.api import tasks
from podium.domain.task_enums import TaskType
from podium.errors import bad_request
from podium.odata.registry import Area

router = APIRouter(tags=["Tasks"])
area = Area("AppTasks", router)

BASE = "/tasks/AppTasks"


def app_task_dto(task: Mapping[str, Any]) -> dict[str, Any]:
    """AppTasksDataDto: the task's data plus ``appTasksMetadata``."""
    return {
        **tasks.task_data(task),
        "appTasksMetadata": {
            "appId": task["app_id"],
            "appVersion": task["app_version"],
            "creationTime": task["creation_time"],
            "creatorUserId": task["creator_user_id"],
            "id": task["id"],
        },
        "actionLabel": None,
    }


@router.post(f"{BASE}/CreateAppTask", status_code=201, summary="Creates an app task (AppTasksDataDto)")
async def create_app_task(request: Request) -> Response:
    ctx, body = await tasks.call_body(request)
    app_id = tasks.optional_text(body, "appId") or tasks.optional_text(body, "appName")
    if not app_id:
        raise bad_request("An app task needs appId.")
    version = tasks.value(body, "appVersion")
    task = await tasks.create_task(
        ctx,
        body,
        TaskType.AppTask,
        app_id=app_id,
        app_version=None if version is None else inputs.integer(version, "appVersion"),
    )
    return tasks.created(app_task_dto(task))


@router.get(f"{BASE}/GetAppTaskById", summary="An app task (AppTasksDataDto)")
async def get_app_task_by_id(request: Request) -> Response:
    return await tasks.get_task(request, app_task_dto)


@router.post(f"{BASE}/CompleteAppTask", status_code=204, summary="Completes an app task (its assignee only)")
async def complete_app_task(request: Request) -> Response:
    return await tasks.complete_task(request, TaskType.AppTask)


@router.put(f"{BASE}/SaveAppTasksData", status_code=204, summary="Saves an app task's data")
async def save_app_tasks_data(request: Request) -> Response:
    return await tasks.save_task_data(request)


@router.post(f"{BASE}/SaveAndReassignAppTasks", status_code=204, summary="Saves an app task and hands it on")
async def save_and_reassign_app_tasks(request: Request) -> Response:
    return await tasks.save_and_reassign(request)
