"""``/odata/Tasks`` (Action Center tasks: lists, assignment, deletion, metadata), ``/odata/TaskNotes`` and
``/odata/TaskActivities``; and what the task routes share (``generic_tasks.py``, ``task_forms.py``,
``app_tasks.py``): reading a task-route call and the camelCase task-data DTO.

``GET /odata/Tasks`` lists the tasks of the folders where the caller holds Tasks.View;
``GetTasksAcrossFolders`` the ones it may work on there (unassigned, its own, and all of the folders where
it holds TaskAssignment.View); ``GetTasksAcrossFoldersForAdmin`` every task of the folders where it holds
TaskAssignment.View. Deleted tasks are not listed. The rules are in ``domain/tasks.py``.

Assign/Reassign/Unassign/DeleteTasks handle each task on its own (a savepoint each) and answer
``{"value": [TaskOperationErrorResponse]}``, empty when every task was handled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium import inputs
from podium.db import schema_tasks
from podium.domain import tasks
from podium.domain.task_enums import TaskActivityType, TaskPriority, TaskStatus, TaskType
from podium.domain.task_states import Move
from podium.errors import PodiumError, bad_request, forbidden
from podium.http.context import RequestContext, request_context
from podium.odata import service
from podium.odata.declare import audit, boolean, choice, constant, guid, integer, key_id, text, when
from podium.odata.model import Edm, EntitySet, Field, Navigation, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, entity, json_response, param, read_json, require_body

router = APIRouter(tags=["Tasks"])
area = Area("Tasks", router)

TASKS = area.add(
    EntitySet(
        name="Tasks",
        type_name="TaskDto",
        table=schema_tasks.tasks,
        scope=Scope.FOLDER,
        permission="Tasks",
        insertable=False,
        updatable=False,
        deletable=False,
        read_filter=lambda ctx: [tasks.not_deleted()],
        navigations=[
            Navigation("AssignedToUser", "Users", local="assigned_to_user_id"),
            Navigation("CreatorUser", "Users", local="creator_user_id"),
        ],
        fields=[
            choice("Status", TaskStatus, "status", read_only=True),
            text("TaskCatalogName", "task_catalog_name", read_only=True),
            boolean("IsCompleted", "is_completed", read_only=True),
            integer("BulkFormLayoutId", "bulk_form_layout_id", read_only=True),
            integer("FormLayoutId", "form_layout_id", read_only=True),
            constant("Encrypted", False, Edm.BOOLEAN),
            Field("Tags", Edm.UNTYPED, "tags", read_only=True),
            text("Action", "action", read_only=True),
            text("Title", "title", read_only=True),
            choice("Type", TaskType, "type", read_only=True),
            choice("Priority", TaskPriority, "priority", read_only=True),
            integer("AssignedToUserId", "assigned_to_user_id", read_only=True),
            integer("OrganizationUnitId", "folder_id", read_only=True),
            text("ExternalTag", "external_tag", read_only=True),
            text("CreatorJobKey", "creator_job_key", read_only=True),
            text("WaitJobKey", "wait_job_key", read_only=True),
            when("LastAssignedTime", "last_assigned_time", read_only=True),
            when("CompletionTime", "completion_time", read_only=True),
            text("ParentOperationId", "parent_operation_id", read_only=True),
            guid("Key", "key", read_only=True),
            boolean("IsDeleted", "is_deleted", read_only=True),
            integer("DeleterUserId", "deleter_user_id", read_only=True),
            when("DeletionTime", "deletion_time", read_only=True),
            *audit(),
            key_id(),
        ],
    )
)

TASK_NOTES = area.add(
    EntitySet(
        name="TaskNotes",
        type_name="TaskNoteDto",
        table=schema_tasks.task_notes,
        scope=Scope.FOLDER,
        permission="Tasks",
        insertable=False,
        updatable=False,
        deletable=False,
        navigations=[Navigation("CreatorUser", "Users", local="creator_user_id")],
        fields=[
            guid("Key", "key", read_only=True),
            integer("OrganizationUnitId", "folder_id", read_only=True),
            integer("TaskId", "task_id", read_only=True),
            text("Text", "text", read_only=True),
            integer("CreatorUserId", "creator_user_id", read_only=True),
            when("CreationTime", "creation_time", read_only=True),
            key_id(),
        ],
    )
)

TASK_ACTIVITIES = area.add(
    EntitySet(
        name="TaskActivities",
        type_name="TaskActivityDto",
        table=schema_tasks.task_activities,
        scope=Scope.FOLDER,
        permission="Tasks",
        insertable=False,
        updatable=False,
        deletable=False,
        navigations=[
            Navigation("CreatorUser", "Users", local="creator_user_id"),
            Navigation("TargetUser", "Users", local="target_user_id"),
        ],
        fields=[
            guid("Key", "key", read_only=True),
            integer("OrganizationUnitId", "folder_id", read_only=True),
            integer("TaskId", "task_id", read_only=True),
            choice("ActivityType", TaskActivityType, "activity_type", read_only=True),
            integer("CreatorUserId", "creator_user_id", read_only=True),
            integer("TargetUserId", "target_user_id", read_only=True),
            integer("TaskNoteId", "task_note_id", read_only=True),
            when("CreationTime", "creation_time", read_only=True),
            key_id(),
        ],
    )
)


# -- what the task routes share ------------------------------------------------------------------------


def value(body: Mapping[str, Any], name: str) -> Any:
    """A body property by name, any case (the SDK sends ``taskId`` and ``UserNameOrEmail`` side by side)."""
    if name in body:
        return body[name]
    lowered = name.lower()
    for key, found in body.items():
        if isinstance(key, str) and key.lower() == lowered:
            return found
    return None


async def call_body(request: Request) -> tuple[RequestContext, dict[str, Any]]:
    """The caller and the JSON object body of a task route."""
    ctx = await request_context(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return ctx, body


def data_of(body: Mapping[str, Any], name: str = "data") -> dict[str, Any]:
    found = value(body, name)
    return {} if found is None else inputs.json_object(found, name)


def task_id_of(body: Mapping[str, Any]) -> int:
    return inputs.entity_id(inputs.url_integer(value(body, "taskId")), "taskId")


def optional_text(body: Mapping[str, Any], name: str, max_length: int = 256) -> str | None:
    return inputs.optional_text(value(body, name), name, max_length=max_length)


def priority_of(body: Mapping[str, Any]) -> TaskPriority | None:
    found = value(body, "priority")
    return None if found is None else inputs.choice(found, "priority", TaskPriority)


def tags_of(body: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """``tags``: TagDto objects (name, displayName, value, displayValue; any case), kept as given."""
    found = value(body, "tags")
    if found is None:
        return None
    items = inputs.json_list(found, "tags", max_items=100)
    tags = []
    for item in items:
        tag = inputs.json_object(item, "tags[]")
        name = inputs.text(value(tag, "name"), "tags[].name", max_length=256)
        tags.append(
            {
                "Name": name,
                "DisplayName": value(tag, "displayName") or name,
                "Value": value(tag, "value"),
                "DisplayValue": value(tag, "displayValue") or value(tag, "value"),
            }
        )
    return tags


async def readable_task(ctx: RequestContext, conn: AsyncConnection, task_id: int) -> dict[str, Any]:
    """The task (deleted ones too), checked for Tasks.View in its folder."""
    task = await tasks.task_by_id(conn, ctx.tenant_id, task_id)
    ctx.require("Tasks.View", task["folder_path"])
    return task


async def editable_task(ctx: RequestContext, conn: AsyncConnection, task_id: int) -> dict[str, Any]:
    """A live task, checked for Tasks.View and Tasks.Edit in its folder."""
    task = await tasks.live_task(conn, ctx.tenant_id, task_id)
    ctx.require("Tasks.View", task["folder_path"])
    ctx.require("Tasks.Edit", task["folder_path"])
    return task


def task_data(task: Mapping[str, Any]) -> dict[str, Any]:
    """TaskDataDto, camelCase, with ``status`` as Orchestrator's number: the SDK's resume reader compares
    integers (``assert isinstance(status, int)``)."""
    assigned = None
    if task["assigned_to_user_id"] is not None and task.get("assignee_user_name") is not None:
        assigned = {
            "name": task["assignee_name"],
            "surname": task["assignee_surname"],
            "userName": task["assignee_user_name"],
            "emailAddress": task["assignee_email"],
            "id": task["assigned_to_user_id"],
        }
    return {
        "status": int(task["status"]),
        "data": tasks.loads(task["data"]) or {},
        "action": task["action"],
        "waitJobState": tasks.job_state_name(task.get("wait_job_state")),
        "organizationUnitFullyQualifiedName": task["folder_path"],
        "tags": tasks.loads(task["tags"]) or [],
        "assignedToUser": assigned,
        "taskCatalogName": task["task_catalog_name"],
        "title": task["title"],
        "type": TaskType(task["type"]).name,
        "priority": TaskPriority(task["priority"]).name,
        "assignedToUserId": task["assigned_to_user_id"],
        "organizationUnitId": task["folder_id"],
        "externalTag": task["external_tag"],
        "creatorJobKey": task["creator_job_key"],
        "waitJobKey": task["wait_job_key"],
        "lastAssignedTime": task["last_assigned_time"],
        "completionTime": task["completion_time"],
        "parentOperationId": task["parent_operation_id"],
        "key": task["key"],
        "isDeleted": bool(task["is_deleted"]),
        "deleterUserId": task["deleter_user_id"],
        "deletionTime": task["deletion_time"],
        "lastModificationTime": task["last_modification_time"],
        "lastModifierUserId": task["last_modifier_user_id"],
        "creationTime": task["creation_time"],
        "creatorUserId": task["creator_user_id"],
        "id": task["id"],
    }


async def create_task(
    ctx: RequestContext, body: Mapping[str, Any], task_type: TaskType, **columns: Any
) -> dict[str, Any]:
    """Creates a task in the caller's folder (header) from the common request properties (title, priority,
    data, taskCatalogName, externalTag, tags, parentOperationId, creatorJobKey) and ``columns``."""
    folder = ctx.require_folder()
    ctx.require("Tasks.Create", folder.fully_qualified_name)
    title = inputs.text(value(body, "title"), "title", max_length=512)
    priority = priority_of(body) or TaskPriority.Medium
    data = data_of(body)
    tags = tags_of(body)
    catalog = optional_text(body, "taskCatalogName", 128)
    async with ctx.state.db.write() as conn:
        return await tasks.create(
            conn,
            ctx.tenant_id,
            folder.id,
            ctx.user_id,
            task_type=task_type,
            title=title,
            priority=priority,
            data=data,
            catalog_name=catalog,
            external_tag=optional_text(body, "externalTag"),
            tags=tags,
            parent_operation_id=optional_text(body, "parentOperationId", 128),
            creator_job_key=optional_text(body, "creatorJobKey", 36),
            creator_job_id=ctx.principal.job_id,
            **columns,
        )


# -- OData operations ---------------------------------------------------------------------------------


def _error(task_id: Any, error: PodiumError, assignment: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "TaskId": task_id,
        "UserId": value(assignment, "UserId") if assignment else None,
        "ErrorCode": error.code or error.status,
        "ErrorMessage": error.message,
        "UserNameOrEmail": value(assignment, "UserNameOrEmail") if assignment else None,
    }


Each = Callable[[AsyncConnection, Any], Awaitable[None]]


async def _each(
    ctx: RequestContext, items: list[Any], task_of: Callable[[Any], Any], act: Each
) -> dict[str, Any]:
    """Runs ``act`` for each item in a savepoint of one transaction: an item that fails changes nothing and
    is answered as a TaskOperationErrorResponse."""
    errors: list[dict[str, Any]] = []
    async with ctx.state.db.write() as conn:
        for item in items:
            try:
                async with conn.begin_nested():
                    await act(conn, item)
            except PodiumError as error:
                errors.append(_error(task_of(item), error, item if isinstance(item, Mapping) else None))
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#Collection(TaskOperationErrorResponse)",
        "value": errors,
    }


def _assignments(call: ActionCall) -> list[Mapping[str, Any]]:
    body = require_body(call)
    items = inputs.json_list(value(body, "taskAssignments"), "taskAssignments", max_items=1000)
    if not items:
        raise bad_request("taskAssignments must not be empty.")
    return [inputs.json_object(item, "taskAssignments[]") for item in items]


async def _assign(ctx: RequestContext, call: ActionCall, move: Move) -> dict[str, Any]:
    assignments = _assignments(call)

    async def act(conn: AsyncConnection, item: Mapping[str, Any]) -> None:
        task = await editable_task(
            ctx, conn, inputs.entity_id(inputs.url_integer(value(item, "TaskId")), "TaskId")
        )
        user_id = inputs.optional_id(inputs.url_integer(value(item, "UserId")), "UserId")
        name = inputs.optional_text(value(item, "UserNameOrEmail"), "UserNameOrEmail", max_length=256)
        target = await tasks.assignee(conn, ctx.tenant_id, task["folder_path"], user_id, name)
        if move is Move.reassigned or target != ctx.user_id:
            ctx.require("TaskAssignment.Create", task["folder_path"])
        await tasks.assign(conn, task, ctx.user_id, target, move)

    return await _each(ctx, assignments, lambda item: value(item, "TaskId"), act)


@area.operation(
    "Tasks", "AssignTasks", returns="Collection(TaskOperationErrorResponse)", summary="Assigns tasks to users"
)
async def assign_tasks(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    return await _assign(ctx, call, Move.assigned)


@area.operation(
    "Tasks",
    "ReassignTasks",
    returns="Collection(TaskOperationErrorResponse)",
    summary="Reassigns tasks to users",
)
async def reassign_tasks(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    return await _assign(ctx, call, Move.reassigned)


def _task_ids(call: ActionCall) -> list[int]:
    body = require_body(call)
    return inputs.id_list(value(body, "taskIds"), "taskIds", what="task ids")


@area.operation(
    "Tasks", "UnassignTasks", returns="Collection(TaskOperationErrorResponse)", summary="Unassigns tasks"
)
async def unassign_tasks(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    async def act(conn: AsyncConnection, task_id: int) -> None:
        task = await editable_task(ctx, conn, task_id)
        if task["assigned_to_user_id"] != ctx.user_id:
            ctx.require("TaskAssignment.Delete", task["folder_path"])
        await tasks.unassign(conn, task, ctx.user_id)

    return await _each(ctx, _task_ids(call), lambda task_id: task_id, act)


@area.operation(
    "Tasks", "DeleteTasks", returns="Collection(TaskOperationErrorResponse)", summary="Deletes tasks"
)
async def delete_tasks(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    async def act(conn: AsyncConnection, task_id: int) -> None:
        task = await tasks.live_task(conn, ctx.tenant_id, task_id)
        ctx.require("Tasks.View", task["folder_path"])
        ctx.require("Tasks.Delete", task["folder_path"])
        await tasks.delete(conn, task, ctx.user_id)

    return await _each(ctx, _task_ids(call), lambda task_id: task_id, act)


@area.operation("Tasks", "EditTaskMetadata", summary="Edits a task's title, priority and catalog")
async def edit_task_metadata(ctx: RequestContext, call: ActionCall) -> None:
    body = require_body(call)
    task_id = inputs.entity_id(inputs.url_integer(value(body, "TaskId")), "TaskId")
    title = optional_text(body, "Title", 512)
    if title == "":
        raise bad_request("Title must not be empty.")
    priority = priority_of(body)
    catalog_id = inputs.optional_id(value(body, "TaskCatalogId"), "TaskCatalogId")
    unset = value(body, "UnsetTaskCatalog")
    note = optional_text(body, "NoteText", 4000)
    async with ctx.state.db.write() as conn:
        task = await editable_task(ctx, conn, task_id)
        await tasks.edit_metadata(
            conn,
            task,
            ctx.user_id,
            title=title,
            priority=priority,
            catalog_id=catalog_id,
            unset_catalog=bool(unset is not None and inputs.boolean(unset, "UnsetTaskCatalog")),
        )
        if note:
            await tasks.add_note(conn, task, ctx.user_id, note)


async def _across(ctx: RequestContext, call: ActionCall, admin: bool) -> Any:
    async with ctx.state.db.read() as conn:
        administered = await _folders_with(ctx, conn, "TaskAssignment.View")
    if admin:
        if administered == []:
            raise forbidden("You are not authorized! (missing permission TaskAssignment.View)")
        extra = [] if administered is None else [tasks.in_folders(administered)]
    else:
        extra = [tasks.visible_to(ctx.user_id, administered)]
    page = await service.list_entities(ctx, TASKS, call.options, extra)
    return collection(ctx, "Tasks", page.rows, page.count)


async def _folders_with(ctx: RequestContext, conn: AsyncConnection, permission: str) -> list[int] | None:
    """The folders where the caller holds ``permission`` (None: all), [] where it holds it nowhere."""
    try:
        return await ctx.readable_folder_ids(conn, permission)
    except PodiumError:
        return []


@area.operation(
    "Tasks",
    "GetTasksAcrossFolders",
    method="GET",
    returns="Tasks",
    parameters=("event",),
    summary="Tasks the caller may work on, across the folders where it holds Tasks.View",
)
async def tasks_across_folders(ctx: RequestContext, call: ActionCall) -> Any:
    return await _across(ctx, call, admin=False)


@area.operation(
    "Tasks",
    "GetTasksAcrossFoldersForAdmin",
    method="GET",
    returns="Tasks",
    parameters=("event",),
    summary="Every task of the folders where the caller holds TaskAssignment.View",
)
async def tasks_across_folders_for_admin(ctx: RequestContext, call: ActionCall) -> Any:
    return await _across(ctx, call, admin=True)


@area.operation(
    "TaskNotes",
    "GetByTaskId",
    method="GET",
    returns="TaskNotes",
    parameters=("taskId",),
    summary="The notes of a task",
)
async def notes_by_task(ctx: RequestContext, call: ActionCall) -> Any:
    task_id = inputs.url_id(param(call, "taskId"), "taskId")
    async with ctx.state.db.read() as conn:
        await readable_task(ctx, conn, task_id)
    page = await service.list_entities(ctx, TASK_NOTES, call.options, [tasks.notes_of(task_id)])
    return collection(ctx, "TaskNotes", page.rows, page.count)


@area.operation("TaskNotes", "CreateTaskNote", returns="TaskNoteDto", summary="Adds a note to a task")
async def create_task_note(ctx: RequestContext, call: ActionCall) -> Any:
    body = require_body(call)
    task_id = inputs.entity_id(inputs.url_integer(value(body, "TaskId")), "TaskId")
    note = inputs.text(value(body, "Text"), "Text", max_length=4000)
    async with ctx.state.db.write() as conn:
        task = await editable_task(ctx, conn, task_id)
        note_id = await tasks.add_note(conn, task, ctx.user_id, note)
    return entity(ctx, "TaskNotes", await service.get_entity(ctx, TASK_NOTES, note_id))


@area.operation(
    "TaskActivities",
    "GetByTaskId",
    method="GET",
    returns="TaskActivities",
    parameters=("taskId",),
    summary="What happened to a task, oldest first",
)
async def activities_by_task(ctx: RequestContext, call: ActionCall) -> Any:
    task_id = inputs.url_id(param(call, "taskId"), "taskId")
    async with ctx.state.db.read() as conn:
        await readable_task(ctx, conn, task_id)
    page = await service.list_entities(ctx, TASK_ACTIVITIES, call.options, [tasks.activities_of(task_id)])
    return collection(ctx, "TaskActivities", page.rows, page.count)


# -- the handlers the task routes share ---------------------------------------------------------------


async def get_task(request: Request, shape: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Response:
    """``GET …ById?taskId=`` or ``…ByKey?taskKey=``: the task shaped by ``shape`` (Tasks.View)."""
    ctx = await request_context(request)
    query = request.query_params
    async with ctx.state.db.read() as conn:
        if query.get("taskKey") is not None:
            key = inputs.text(query["taskKey"].strip("'"), "taskKey", max_length=64)
            task = await tasks.task_by_key(conn, ctx.tenant_id, key)
            ctx.require("Tasks.View", task["folder_path"])
        else:
            task = await readable_task(ctx, conn, inputs.url_id(query.get("taskId"), "taskId"))
    return json_response(shape(task))


async def complete_task(request: Request, only: TaskType | None) -> Response:
    """``CompleteTask`` ``{taskId, data, action}``: 204; ``only``: the route completes that type only."""
    ctx, body = await call_body(request)
    task_id = task_id_of(body)
    data = data_of(body)
    action = optional_text(body, "action")
    async with ctx.state.db.write() as conn:
        task = await editable_task(ctx, conn, task_id)
        if only is not None and task["type"] != only:
            raise bad_request(f"Task {task_id} is a {TaskType(task['type']).name}, not a {only.name}.")
        await tasks.complete(conn, task, ctx.user_id, data, action)
    return Response(status_code=204)


async def save_task_data(request: Request) -> Response:
    """``SaveTaskData`` ``{taskId, data}``: the task's data replaced (not completed); 204."""
    ctx, body = await call_body(request)
    task_id = task_id_of(body)
    data = data_of(body)
    async with ctx.state.db.write() as conn:
        task = await editable_task(ctx, conn, task_id)
        await tasks.save_data(conn, task, ctx.user_id, data)
    return Response(status_code=204)


async def save_and_reassign(request: Request) -> Response:
    """``SaveAndReassignTask`` ``{TaskId, SaveData, Data, NoteText, UserId | UserNameOrEmail}``: the
    assignee saves (when SaveData) and hands the task to another user; 204."""
    ctx, body = await call_body(request)
    task_id = inputs.entity_id(inputs.url_integer(value(body, "TaskId")), "TaskId")
    save = value(body, "SaveData")
    save = save is not None and inputs.boolean(save, "SaveData")
    data = data_of(body, "Data") if save else {}
    note = optional_text(body, "NoteText", 4000)
    user_id = inputs.optional_id(inputs.url_integer(value(body, "UserId")), "UserId")
    name = optional_text(body, "UserNameOrEmail")
    async with ctx.state.db.write() as conn:
        task = await editable_task(ctx, conn, task_id)
        target = await tasks.assignee(conn, ctx.tenant_id, task["folder_path"], user_id, name)
        tasks.require_actor(task, ctx.user_id, Move.forwarded)
        if save:
            task = await tasks.save_data(conn, task, ctx.user_id, data)
        task = await tasks.assign(conn, task, ctx.user_id, target, Move.forwarded)
        if note:
            await tasks.add_note(conn, task, ctx.user_id, note)
    return Response(status_code=204)


async def save_task_tags(request: Request) -> Response:
    """``SaveTaskTags`` ``{taskId, tags}``: 204."""
    ctx, body = await call_body(request)
    task_id = task_id_of(body)
    tags = tags_of(body) or []
    async with ctx.state.db.write() as conn:
        task = await editable_task(ctx, conn, task_id)
        await tasks.save_tags(conn, task, ctx.user_id, tags)
    return Response(status_code=204)


def form_layout(task: Mapping[str, Any]) -> Any:
    return tasks.loads(task["form_layout"])


async def bulk_change(
    ctx: RequestContext, conn: AsyncConnection, task_id: int, completing: bool, **changes: Any
) -> None:
    """One task of a bulk call (``domain/tasks.bulk_change``), checked for Tasks.Edit in its folder."""
    task = await editable_task(ctx, conn, task_id)
    await tasks.bulk_change(conn, task, ctx.user_id, completing, **changes)


def created(payload: dict[str, Any]) -> Response:
    return json_response(payload, 201)
