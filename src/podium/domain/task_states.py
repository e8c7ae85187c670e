"""The task state machine: Unassigned → Pending → Completed, one table of moves applied by one function.

Every change of a task (assignment, saved data, completion, deletion ...) is a :class:`Move` applied by
:func:`transition`: it checks the task's status against the move's table entry, updates the row under the
status it read (two concurrent moves of one task cannot both apply: the loser gets a 409), writes the
task's activity and records the event ``task.<move>`` in the outbox (``domain/events.py``), all in the
caller's transaction. Nothing else writes ``tasks.status``.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_tasks import task_activities, tasks
from podium.db.types import utcnow
from podium.domain import events, job_triggers
from podium.domain.task_enums import TaskActivityType, TaskStatus, TaskType
from podium.errors import ErrorCode, PodiumError

S = TaskStatus
OPEN = frozenset({S.Unassigned, S.Pending})
ANY = frozenset(TaskStatus)


@dataclass(frozen=True)
class Rule:
    sources: frozenset[TaskStatus]  # the statuses the move starts from
    target: TaskStatus | None  # None: the status stays
    activity: TaskActivityType


class Move(enum.Enum):
    created = "created"
    assigned = "assigned"
    reassigned = "reassigned"
    forwarded = "forwarded"  # the assignee saves and hands the task to someone else
    unassigned = "unassigned"
    saved = "saved"
    completed = "completed"
    deleted = "deleted"
    edited = "edited"  # title, priority, catalog, tags


RULES: dict[Move, Rule] = {
    Move.assigned: Rule(frozenset({S.Unassigned}), S.Pending, TaskActivityType.Assigned),
    Move.reassigned: Rule(OPEN, S.Pending, TaskActivityType.Reassigned),
    Move.forwarded: Rule(frozenset({S.Pending}), S.Pending, TaskActivityType.Forwarded),
    Move.unassigned: Rule(frozenset({S.Pending}), S.Unassigned, TaskActivityType.Unassigned),
    Move.saved: Rule(OPEN, None, TaskActivityType.Saved),
    Move.completed: Rule(OPEN, S.Completed, TaskActivityType.Completed),
    Move.deleted: Rule(ANY, None, TaskActivityType.Deleted),
    Move.edited: Rule(ANY, None, TaskActivityType.Saved),
}


def refused(task: Mapping[str, Any], move: Move) -> PodiumError:
    status = TaskStatus(task["status"]).name
    return PodiumError(
        f"Task {task['id']} is {status} and cannot be {move.value}.", status=409, code=ErrorCode.VALIDATION
    )


async def transition(
    conn: AsyncConnection,
    task: Mapping[str, Any],
    move: Move,
    actor_id: int | None,
    *,
    target_user_id: int | None = None,
    activity: TaskActivityType | None = None,
    note_id: int | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """Applies ``move`` to ``task`` (a row of ``tasks``) with the column ``changes``; returns the row as
    it is now. 409 when the task's status does not allow the move or changed meanwhile; a deleted task
    allows nothing (its readers see ``isDeleted``)."""
    rule = RULES[move]
    current = TaskStatus(task["status"])
    if task["is_deleted"] or current not in rule.sources:
        raise refused(task, move)
    now = utcnow()
    values: dict[str, Any] = {"last_modification_time": now, "last_modifier_user_id": actor_id, **changes}
    if rule.target is not None:
        values["status"] = int(rule.target)
        values["is_completed"] = rule.target is S.Completed
    if rule.target is S.Pending:
        values.setdefault("last_assigned_time", now)
    if rule.target is S.Unassigned:
        values["assigned_to_user_id"] = None
    if rule.target is S.Completed:
        values.setdefault("completion_time", now)
        values.setdefault("completed_by_user_id", actor_id)
    if move is Move.deleted:
        values.update(is_deleted=True, deletion_time=now, deleter_user_id=actor_id)
    result = await conn.execute(
        update(tasks)
        .where(tasks.c.id == task["id"], tasks.c.status == int(current), tasks.c.is_deleted.is_(False))
        .values(**values)
    )
    if result.rowcount != 1:
        raise PodiumError("The task changed meanwhile; try again.", status=409, code=ErrorCode.VALIDATION)
    updated = {**task, **values}
    await _record(conn, updated, move, current, actor_id, activity or rule.activity, target_user_id, note_id)
    if move is Move.completed:
        await task_completed(conn, updated)
    return updated


async def created(conn: AsyncConnection, task: Mapping[str, Any], actor_id: int | None) -> None:
    """The activity and event of a task just inserted (Unassigned)."""
    await _record(conn, task, Move.created, None, actor_id, TaskActivityType.Created, None, None)


async def commented(conn: AsyncConnection, task: Mapping[str, Any], actor_id: int, note_id: int) -> None:
    """The activity of a note added to a task (its status does not change, so no move)."""
    await _activity(conn, task, TaskActivityType.Commented, actor_id, None, note_id)


async def task_completed(conn: AsyncConnection, task: Mapping[str, Any]) -> None:
    """A task was completed (in this transaction): the jobs suspended waiting for it resume with its
    data (``domain/job_triggers.py``)."""
    data = orjson.loads(task["data"]) if task.get("data") else {}
    await job_triggers.task_completed(
        conn, task["tenant_id"], task["id"], data if isinstance(data, dict) else {}
    )


async def _record(
    conn: AsyncConnection,
    task: Mapping[str, Any],
    move: Move,
    previous: TaskStatus | None,
    actor_id: int | None,
    activity: TaskActivityType,
    target_user_id: int | None,
    note_id: int | None,
) -> None:
    await _activity(conn, task, activity, actor_id, target_user_id, note_id)
    status = TaskStatus(task["status"]).name
    payload = {
        "TaskId": task["id"],
        "Key": task["key"],
        "Title": task["title"],
        "Type": TaskType(task["type"]).name,
        "From": previous.name if previous is not None else None,
        "Status": status,
        "AssignedToUserId": task.get("assigned_to_user_id"),
        "Action": task.get("action"),
        "UserId": actor_id,
    }
    await events.record(
        conn, task["tenant_id"], f"task.{move.value}", task["key"], payload, task["folder_id"]
    )


async def _activity(
    conn: AsyncConnection,
    task: Mapping[str, Any],
    activity: TaskActivityType,
    actor_id: int | None,
    target_user_id: int | None,
    note_id: int | None,
) -> None:
    await conn.execute(
        insert(task_activities).values(
            tenant_id=task["tenant_id"],
            folder_id=task["folder_id"],
            task_id=task["id"],
            key=str(uuid.uuid4()),
            activity_type=int(activity),
            creator_user_id=actor_id,
            target_user_id=target_user_id,
            task_note_id=note_id,
            creation_time=utcnow(),
        )
    )
