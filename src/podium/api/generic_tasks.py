"""``/tasks/GenericTasks/*``: generic tasks (ExternalTask, and QuickFormTask: what the SDK's
``tasks.create_quickform`` creates, type 6) and the task-data calls every kind of task answers
(``GetTaskDataByKey`` is what the SDK's ``tasks.retrieve`` and its resume reader call).

Handlers and the TaskDataDto are shared with the form and app task routes (``api/tasks.py``); the rules
are in ``domain/tasks.py``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium import inputs
from podium.api import tasks
from podium.domain.task_enums import TaskType
from podium.odata.registry import Area

router = APIRouter(tags=["Generic Tasks"])
area = Area("GenericTasks", router)

BASE = "/tasks/GenericTasks"


@router.post(f"{BASE}/CreateTask", status_code=201, summary="Creates a generic task (201, TaskDataDto)")
async def create_task(request: Request) -> Response:
    ctx, body = await tasks.call_body(request)
    kind = tasks.value(body, "type")
    task_type = TaskType.ExternalTask if kind is None else inputs.choice(kind, "type", TaskType)
    schema = tasks.value(body, "schema")
    task = await tasks.create_task(
        ctx,
        body,
        task_type,
        task_schema_key=tasks.optional_text(body, "taskSchemaKey", 128),
        form_layout=None if schema is None else inputs.json_object(schema, "schema"),
    )
    return tasks.created(tasks.task_data(task))


@router.post(
    f"{BASE}/CompleteTask", status_code=204, summary="Completes a task with its data and the action taken"
)
async def complete_task(request: Request) -> Response:
    return await tasks.complete_task(request, None)


@router.get(f"{BASE}/GetTaskDataById", summary="A task's data (TaskDataDto) by id")
async def get_task_data_by_id(request: Request) -> Response:
    return await tasks.get_task(request, tasks.task_data)


@router.get(f"{BASE}/GetTaskDataByKey", summary="A task's data (TaskDataDto) by key")
async def get_task_data_by_key(request: Request) -> Response:
    return await tasks.get_task(request, tasks.task_data)


@router.put(f"{BASE}/SaveTaskData", status_code=204, summary="Saves a task's data")
async def save_task_data(request: Request) -> Response:
    return await tasks.save_task_data(request)


@router.put(f"{BASE}/SaveTaskTags", status_code=204, summary="Saves a task's tags")
async def save_task_tags(request: Request) -> Response:
    return await tasks.save_task_tags(request)


@router.post(
    f"{BASE}/SaveAndReassignTask", status_code=204, summary="Saves a task and hands it to another user"
)
async def save_and_reassign_task(request: Request) -> Response:
    return await tasks.save_and_reassign(request)
