"""``/forms/TaskForms/*``: form tasks, whose layout is a form.io form. Their data is checked against the
layout (``domain/task_forms.py``): types when saved, required fields too when completed; only the
assignee completes one. ``BulkCompleteTasks``/``BulkUpdateTasks`` handle each task on its own and answer
the failures, ``[{taskId, errorCode, errorMessage}]`` (empty when all went through).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium import inputs
from podium.api import tasks
from podium.domain import task_forms
from podium.domain.task_enums import TaskType
from podium.errors import PodiumError, bad_request
from podium.odata.registry import Area
from podium.odata.routes import json_response

router = APIRouter(tags=["Task Forms"])
area = Area("TaskForms", router)

BASE = "/forms/TaskForms"
MAX_BULK = 1000


def form_dto(task: Mapping[str, Any], with_layout: bool = True) -> dict[str, Any]:
    """TaskFormDto: the task's data plus its form (``formLayout`` only when asked for)."""
    return {
        **tasks.task_data(task),
        "formLayout": tasks.form_layout(task) if with_layout else None,
        "formLayoutId": task["form_layout_id"],
        "bulkFormLayoutId": task["bulk_form_layout_id"],
        "actionLabel": None,
    }


@router.post(f"{BASE}/CreateFormTask", status_code=201, summary="Creates a form task (201, TaskDataDto)")
async def create_form_task(request: Request) -> Response:
    ctx, body = await tasks.call_body(request)
    layout = tasks.value(body, "formLayout")
    layout_id = inputs.optional_id(tasks.value(body, "formLayoutId"), "formLayoutId")
    if layout is None and layout_id is None:
        raise bad_request("A form task needs formLayout (a form.io form) or formLayoutId.")
    task = await tasks.create_task(
        ctx,
        body,
        TaskType.FormTask,
        form_layout=None if layout is None else task_forms.check_layout(layout),
        form_layout_id=layout_id,
        bulk_form_layout_id=inputs.optional_id(tasks.value(body, "bulkFormLayoutId"), "bulkFormLayoutId"),
    )
    return tasks.created(tasks.task_data(task))


@router.get(f"{BASE}/GetTaskFormById", summary="A form task with its form (TaskFormDto)")
async def get_task_form_by_id(request: Request) -> Response:
    expand = (request.query_params.get("expandOnFormLayout") or "true").lower() != "false"
    return await tasks.get_task(request, lambda task: form_dto(task, expand))


@router.get(f"{BASE}/GetTaskDataById", summary="A task's data (TaskDataDto)")
async def get_task_data_by_id(request: Request) -> Response:
    return await tasks.get_task(request, tasks.task_data)


@router.post(f"{BASE}/CompleteTask", status_code=204, summary="Completes a form task (its assignee only)")
async def complete_task(request: Request) -> Response:
    return await tasks.complete_task(request, TaskType.FormTask)


@router.put(f"{BASE}/SaveTaskData", status_code=204, summary="Saves a form task's data")
async def save_task_data(request: Request) -> Response:
    return await tasks.save_task_data(request)


@router.post(
    f"{BASE}/SaveAndReassignTask", status_code=204, summary="Saves a task and hands it to another user"
)
async def save_and_reassign_task(request: Request) -> Response:
    return await tasks.save_and_reassign(request)


async def _bulk(request: Request, completing: bool) -> Response:
    """Each task of ``taskIds`` gets ``data`` merged into its data (and, completing, the ``action``) and the
    optional title, priority, catalog and note, in a savepoint of its own."""
    ctx, body = await tasks.call_body(request)
    task_ids = inputs.id_list(tasks.value(body, "taskIds"), "taskIds", what="task ids")
    if len(task_ids) > MAX_BULK:
        raise bad_request(f"taskIds must have at most {MAX_BULK} ids.")
    data = tasks.data_of(body)
    action = tasks.optional_text(body, "action")
    title = tasks.optional_text(body, "title", 512)
    priority = tasks.priority_of(body)
    catalog_id = inputs.optional_id(tasks.value(body, "taskCatalogId"), "taskCatalogId")
    unset = tasks.value(body, "unsetTaskCatalog")
    unset_catalog = unset is not None and inputs.boolean(unset, "unsetTaskCatalog")
    note = tasks.optional_text(body, "noteText", 4000)
    failures: list[dict[str, Any]] = []

    async with ctx.state.db.write() as conn:
        for task_id in task_ids:
            try:
                async with conn.begin_nested():
                    await tasks.bulk_change(
                        ctx,
                        conn,
                        task_id,
                        completing,
                        data=data,
                        action=action,
                        title=title or None,
                        priority=priority,
                        catalog_id=catalog_id,
                        unset_catalog=unset_catalog,
                        note=note,
                    )
            except PodiumError as error:
                failures.append(
                    {
                        "taskId": task_id,
                        "errorCode": error.code or error.status,
                        "errorMessage": error.message,
                    }
                )
    return json_response(failures)


@router.post(
    f"{BASE}/BulkCompleteTasks", summary="Completes several form tasks with the same data and action"
)
async def bulk_complete_tasks(request: Request) -> Response:
    return await _bulk(request, completing=True)


@router.put(f"{BASE}/BulkUpdateTasks", summary="Merges the same data into several tasks")
async def bulk_update_tasks(request: Request) -> Response:
    return await _bulk(request, completing=False)
