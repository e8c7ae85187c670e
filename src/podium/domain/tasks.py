"""Action Center tasks: creating them, reading them, and every change, each through the state machine
(``domain/task_states.py``).

Who may act on a task, beyond the permission of its folder (checked by the handlers):

- a task that is not an ExternalTask is saved, forwarded and completed only by its assignee (403 for
  anyone else, 409 while nobody is assigned): the person the work was given to;
- an ExternalTask (closed by another system) may be saved and completed by any caller with
  ``Tasks.Edit`` in its folder, assigned or not;
- an assignee must be an active user of the tenant holding ``Tasks.View`` and ``Tasks.Edit`` in the
  task's folder.

Completion merges the submitted ``data`` into the task's data, keeps the ``action`` chosen and also writes
it into the data as ``Action``: the SDK's task reader returns only ``data``, so a waiting process reads
the choice there. A form task's data is checked against its form.io layout (``domain/task_forms.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.principal import load_principal
from podium.db.schema import folders, jobs, users
from podium.db.schema_tasks import task_activities, task_catalogs, task_notes, tasks
from podium.db.types import utcnow
from podium.domain import task_forms, task_states
from podium.domain.enums import JobState
from podium.domain.task_enums import TaskActivityType, TaskPriority, TaskStatus, TaskType
from podium.domain.task_states import Move
from podium.errors import ErrorCode, PodiumError, bad_request, forbidden, not_found

MISSING = "Task does not exist."
ACTION_KEY = "Action"  # where the chosen action is also written in the task's data


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(text: str | None) -> Any:
    return orjson.loads(text) if text else None


@cache
def _query() -> Select[Any]:
    """A task with its folder's path, its assignee's login info and the state of the job waiting for it.
    Built once: aliasing ``users`` and ``jobs`` copies their column collections, which cost a completion
    (that reads its task first) a third of its CPU when done per call."""
    assignee = users.alias("assignee")
    waiting = jobs.alias("waiting")
    return (
        select(
            tasks,
            folders.c.fully_qualified_name.label("folder_path"),
            assignee.c.user_name.label("assignee_user_name"),
            assignee.c.name.label("assignee_name"),
            assignee.c.surname.label("assignee_surname"),
            assignee.c.email_address.label("assignee_email"),
            waiting.c.state.label("wait_job_state"),
        )
        .join(folders, folders.c.id == tasks.c.folder_id)
        .outerjoin(assignee, assignee.c.id == tasks.c.assigned_to_user_id)
        .outerjoin(waiting, waiting.c.key == tasks.c.wait_job_key)
    )


async def _one(conn: AsyncConnection, *conditions: ColumnElement[bool]) -> dict[str, Any]:
    row = (await conn.execute(_query().where(*conditions))).mappings().first()
    if row is None:
        raise not_found(MISSING)
    return dict(row)


async def task_by_id(conn: AsyncConnection, tenant_id: int, task_id: int) -> dict[str, Any]:
    """The tenant's task (deleted ones too: readers see ``isDeleted``); 404 when there is none."""
    return await _one(conn, tasks.c.id == task_id, tasks.c.tenant_id == tenant_id)


async def task_by_key(conn: AsyncConnection, tenant_id: int, key: str) -> dict[str, Any]:
    return await _one(conn, func.lower(tasks.c.key) == key.strip().lower(), tasks.c.tenant_id == tenant_id)


async def live_task(conn: AsyncConnection, tenant_id: int, task_id: int) -> dict[str, Any]:
    """A task that is not deleted (404 for a deleted one: nothing more happens to it)."""
    task = await task_by_id(conn, tenant_id, task_id)
    if task["is_deleted"]:
        raise not_found(MISSING)
    return task


def not_deleted() -> ColumnElement[bool]:
    return tasks.c.is_deleted.is_(False)


def in_folders(folder_ids: list[int]) -> ColumnElement[bool]:
    return tasks.c.folder_id.in_(folder_ids)


def visible_to(user_id: int, all_tasks_in: list[int] | None) -> ColumnElement[bool]:
    """Tasks a user sees across folders: unassigned ones, its own, and every task of the folders where it
    administers tasks (``all_tasks_in``; None: every folder)."""
    if all_tasks_in is None:
        return tasks.c.id.is_not(None)
    return or_(
        tasks.c.assigned_to_user_id.is_(None),
        tasks.c.assigned_to_user_id == user_id,
        tasks.c.folder_id.in_(all_tasks_in),
    )


def job_state_name(state: int | None) -> str | None:
    return None if state is None else JobState(state).name


# -- creating -----------------------------------------------------------------------------------------


async def catalog_by_name(conn: AsyncConnection, folder_id: int, name: str) -> dict[str, Any]:
    """The task catalog of the folder with this name (any case); 400 when there is none."""
    row = (
        (
            await conn.execute(
                select(task_catalogs.c.id, task_catalogs.c.name).where(
                    task_catalogs.c.folder_id == folder_id,
                    func.lower(task_catalogs.c.name) == name.lower(),
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise bad_request(f"Task catalog '{name}' does not exist in the folder.")
    return dict(row)


async def catalog_by_id(
    conn: AsyncConnection, tenant_id: int, folder_id: int, catalog_id: int
) -> Mapping[str, Any]:
    row = (
        (
            await conn.execute(
                select(task_catalogs.c.id, task_catalogs.c.name).where(
                    task_catalogs.c.id == catalog_id,
                    task_catalogs.c.tenant_id == tenant_id,
                    task_catalogs.c.folder_id == folder_id,
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise bad_request(f"Task catalog {catalog_id} does not exist in the task's folder.")
    return dict(row)


async def create(
    conn: AsyncConnection,
    tenant_id: int,
    folder_id: int,
    actor_id: int,
    *,
    task_type: TaskType,
    title: str,
    priority: TaskPriority,
    data: dict[str, Any],
    catalog_name: str | None = None,
    creator_job_id: int | None = None,
    **columns: Any,
) -> dict[str, Any]:
    """Inserts an Unassigned task (a form task's data is checked against its layout's types, not yet
    against its required fields), with its Created activity and ``task.created`` event."""
    if columns.get("form_layout") is not None:
        task_forms.check_data(columns["form_layout"], data, complete=False)
        columns["form_layout"] = dumps(columns["form_layout"])
    if columns.get("tags") is not None:
        columns["tags"] = dumps(columns["tags"])
    if columns.get("creator_job_key") is None and creator_job_id is not None:  # a job's own token
        columns["creator_job_key"] = (
            await conn.execute(select(jobs.c.key).where(jobs.c.id == creator_job_id))
        ).scalar_one_or_none()
    if catalog_name:
        catalog = await catalog_by_name(conn, folder_id, catalog_name)
        columns.update(task_catalog_id=catalog["id"], task_catalog_name=catalog["name"])
    values = {
        "tenant_id": tenant_id,
        "folder_id": folder_id,
        "key": str(uuid.uuid4()),
        "title": title,
        "type": int(task_type),
        "priority": int(priority),
        "status": int(TaskStatus.Unassigned),
        "is_completed": False,
        "data": dumps(data),
        "is_deleted": False,
        "creation_time": utcnow(),
        "creator_user_id": actor_id,
        **columns,
    }
    task_id = (await conn.execute(insert(tasks).values(**values).returning(tasks.c.id))).scalar_one()
    task = await task_by_id(conn, tenant_id, task_id)
    await task_states.created(conn, task, actor_id)
    return task


# -- acting on a task ---------------------------------------------------------------------------------


def require_actor(task: Mapping[str, Any], user_id: int, move: Move) -> None:
    """Only the assignee saves, forwards or completes a task, except an ExternalTask (see the docstring)."""
    if task["type"] == TaskType.ExternalTask and move is not Move.forwarded:
        return
    if task["status"] == TaskStatus.Unassigned:
        raise PodiumError(
            f"Task {task['id']} is not assigned to anyone; assign it before it is {move.value}.",
            status=409,
            code=ErrorCode.VALIDATION,
        )
    if task["status"] == TaskStatus.Pending and task["assigned_to_user_id"] != user_id:
        raise forbidden(f"Task {task['id']} is assigned to another user.")


def _layout(task: Mapping[str, Any]) -> Any:
    return loads(task["form_layout"]) if task["type"] == TaskType.FormTask else None


async def complete(
    conn: AsyncConnection,
    task: Mapping[str, Any],
    actor_id: int,
    data: Mapping[str, Any],
    action: str | None,
    activity: TaskActivityType | None = None,
) -> dict[str, Any]:
    """Completes the task with ``data`` merged into its data and the ``action`` chosen (also in the data)."""
    if task["is_deleted"] or task["status"] == TaskStatus.Completed:
        raise task_states.refused(task, Move.completed)
    require_actor(task, actor_id, Move.completed)
    merged = {**(loads(task["data"]) or {}), **data}
    task_forms.check_data(_layout(task), merged, complete=True)
    if action is not None:
        merged[ACTION_KEY] = action
    return await task_states.transition(
        conn, task, Move.completed, actor_id, data=dumps(merged), action=action
    )


async def save_data(
    conn: AsyncConnection,
    task: Mapping[str, Any],
    actor_id: int,
    data: Mapping[str, Any],
    *,
    merge: bool = False,
    activity: TaskActivityType | None = None,
) -> dict[str, Any]:
    """Saves the task's data (replaced, or merged into it); a form task's values must fit its layout."""
    if task["is_deleted"] or task["status"] == TaskStatus.Completed:
        raise task_states.refused(task, Move.saved)
    require_actor(task, actor_id, Move.saved)
    saved = {**(loads(task["data"]) or {}), **data} if merge else dict(data)
    task_forms.check_data(_layout(task), saved, complete=False)
    return await task_states.transition(
        conn, task, Move.saved, actor_id, activity=activity, data=dumps(saved)
    )


async def save_tags(
    conn: AsyncConnection, task: Mapping[str, Any], actor_id: int, tags: list[dict[str, Any]]
) -> dict[str, Any]:
    return await task_states.transition(conn, task, Move.edited, actor_id, tags=dumps(tags))


async def bulk_change(
    conn: AsyncConnection,
    task: Mapping[str, Any],
    actor_id: int,
    completing: bool,
    *,
    data: Mapping[str, Any],
    action: str | None,
    title: str | None,
    priority: TaskPriority | None,
    catalog_id: int | None,
    unset_catalog: bool,
    note: str | None,
) -> dict[str, Any]:
    """One task of BulkCompleteTasks/BulkUpdateTasks: the metadata given, a note, then ``data`` merged
    into its data and, completing, the ``action``."""
    current = dict(task)
    if title or priority is not None or catalog_id is not None or unset_catalog:
        current = await edit_metadata(
            conn,
            current,
            actor_id,
            title=title,
            priority=priority,
            catalog_id=catalog_id,
            unset_catalog=unset_catalog,
        )
    if note:
        await add_note(conn, current, actor_id, note)
    if completing:
        return await complete(conn, current, actor_id, data, action, activity=TaskActivityType.BulkCompleted)
    return await save_data(conn, current, actor_id, data, merge=True, activity=TaskActivityType.BulkSaved)


async def edit_metadata(
    conn: AsyncConnection,
    task: Mapping[str, Any],
    actor_id: int,
    *,
    title: str | None = None,
    priority: TaskPriority | None = None,
    catalog_id: int | None = None,
    unset_catalog: bool = False,
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = title
    if priority is not None:
        changes["priority"] = int(priority)
    if unset_catalog:
        changes.update(task_catalog_id=None, task_catalog_name=None)
    elif catalog_id is not None:
        catalog = await catalog_by_id(conn, task["tenant_id"], task["folder_id"], catalog_id)
        changes.update(task_catalog_id=catalog["id"], task_catalog_name=catalog["name"])
    return await task_states.transition(conn, task, Move.edited, actor_id, **changes)


async def assignee(
    conn: AsyncConnection, tenant_id: int, folder_path: str, user_id: int | None, name_or_email: str | None
) -> int:
    """The user a task is given to (by id, or by user name or email, any case): an active user of the
    tenant holding Tasks.View and Tasks.Edit in the task's folder; 400 otherwise."""
    query = select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.is_active.is_(True))
    if user_id is not None:
        query = query.where(users.c.id == user_id)
        what = f"User {user_id}"
    elif name_or_email:
        lowered = name_or_email.strip().lower()
        query = query.where(
            or_(func.lower(users.c.user_name) == lowered, func.lower(users.c.email_address) == lowered)
        )
        what = f"User '{name_or_email}'"
    else:
        raise bad_request("A task assignment needs UserId or UserNameOrEmail.")
    found = (await conn.execute(query.order_by(users.c.id).limit(1))).scalar_one_or_none()
    if found is None:
        raise bad_request(f"{what} does not exist or is not active.")
    principal = await load_principal(conn, found, tenant_id, "user")
    if principal is None or not all(principal.has(p, folder_path) for p in ("Tasks.View", "Tasks.Edit")):
        raise bad_request(f"{what} may not work on tasks of folder '{folder_path}' (Tasks.View, Tasks.Edit).")
    return int(found)


async def assign(
    conn: AsyncConnection, task: Mapping[str, Any], actor_id: int, user_id: int, move: Move
) -> dict[str, Any]:
    """Gives the task to ``user_id`` (``move``: assigned, reassigned or forwarded)."""
    if move is Move.forwarded:
        require_actor(task, actor_id, move)
    if move is Move.reassigned and task["status"] == TaskStatus.Unassigned:
        move = Move.assigned
    return await task_states.transition(
        conn, task, move, actor_id, target_user_id=user_id, assigned_to_user_id=user_id
    )


async def unassign(conn: AsyncConnection, task: Mapping[str, Any], actor_id: int) -> dict[str, Any]:
    return await task_states.transition(
        conn, task, Move.unassigned, actor_id, target_user_id=task["assigned_to_user_id"]
    )


async def delete(conn: AsyncConnection, task: Mapping[str, Any], actor_id: int) -> dict[str, Any]:
    return await task_states.transition(conn, task, Move.deleted, actor_id)


async def set_waiting_job(conn: AsyncConnection, tenant_id: int, task_id: int, job_key: str | None) -> None:
    """Notes the job suspended waiting for the task (``waitJobKey``; ``waitJobState`` follows the job)."""
    await conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id, tasks.c.tenant_id == tenant_id)
        .values(wait_job_key=job_key)
    )


# -- notes --------------------------------------------------------------------------------------------


async def add_note(conn: AsyncConnection, task: Mapping[str, Any], actor_id: int, text: str) -> int:
    """A note on the task, and its Commented activity; the note's id."""
    note_id = (
        await conn.execute(
            insert(task_notes)
            .values(
                tenant_id=task["tenant_id"],
                folder_id=task["folder_id"],
                task_id=task["id"],
                key=str(uuid.uuid4()),
                text=text,
                creator_user_id=actor_id,
                creation_time=utcnow(),
            )
            .returning(task_notes.c.id)
        )
    ).scalar_one()
    await task_states.commented(conn, task, actor_id, note_id)
    return int(note_id)


def notes_of(task_id: int) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = task_notes.c.task_id == task_id
    return condition


def activities_of(task_id: int) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = task_activities.c.task_id == task_id
    return condition


async def tasks_by_ids(
    conn: AsyncConnection, tenant_id: int, ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """The tenant's tasks among ``ids`` that are not deleted, by id."""
    if not ids:
        return {}
    rows = await conn.execute(
        _query().where(tasks.c.tenant_id == tenant_id, tasks.c.id.in_(list(ids)), not_deleted())
    )
    return {row["id"]: dict(row) for row in rows.mappings()}
