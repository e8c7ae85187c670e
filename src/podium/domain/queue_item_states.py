"""The queue item state machine: one table of allowed transitions, applied by one function.

Every path that changes an item's status (StartTransaction, SetTransactionResult, the abandon
sweep, retries, deletion) goes through :func:`transition` or, for the dequeue, :func:`claim_next`
(the New -> InProgress transition done as one statement so that two consumers can never take the
same item). Each records the item's history row and a domain event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningUpdate

from podium.db.schema_queues import queue_item_events, queue_items
from podium.db.types import utcnow
from podium.domain import events
from podium.domain.queue_enums import QueueItemEventAction, QueueItemStatus
from podium.errors import ErrorCode, PodiumError

S = QueueItemStatus
FINAL = frozenset({S.Failed, S.Successful, S.Abandoned, S.Retried, S.Deleted})

ALLOWED: dict[QueueItemStatus, frozenset[QueueItemStatus]] = {
    S.New: frozenset({S.InProgress, S.Deleted}),
    S.InProgress: frozenset({S.Successful, S.Failed, S.Abandoned, S.Retried}),
    S.Failed: frozenset({S.Retried}),  # manual retry (application exceptions)
    S.Abandoned: frozenset({S.Retried}),  # automatic or manual retry
    S.Successful: frozenset(),
    S.Retried: frozenset(),
    S.Deleted: frozenset(),
}


def status_unindexed() -> ColumnElement[int]:
    """``status`` as an expression no index matches, for conditions on a row already named by its id.

    With ``id = … AND status = …`` the planner may walk ``ix_queue_items_status_start`` instead of the
    primary key: its statistics see few items of that status (InProgress always, New once most items are
    done), but that index range also holds an entry for every past version of every item in it until
    VACUUM (tens of thousands under a busy queue), all visited by each such lookup (measured: 58-99
    buffers for one SetTransactionResult). ``status + 0`` leaves the primary key as the only way."""
    return queue_items.c.status + 0


def invalid_transition(current: QueueItemStatus, target: QueueItemStatus) -> PodiumError:
    return PodiumError(
        f"The queue item is {current.name} and cannot become {target.name}.",
        status=400,
        code=ErrorCode.VALIDATION,
    )


async def record_history(
    conn: AsyncConnection,
    item: Mapping[str, Any],
    action: QueueItemEventAction,
    user_id: int | None,
    data: dict[str, Any] | None = None,
) -> None:
    """One QueueItemEvents row: what happened to the item, by whom, and its status after it."""
    await conn.execute(
        insert(queue_item_events).values(
            tenant_id=item["tenant_id"],
            folder_id=item["folder_id"],
            queue_item_id=item["id"],
            timestamp=utcnow(),
            action=int(action),
            data=orjson.dumps(data).decode() if data is not None else None,
            user_id=user_id,
            status=int(item["status"]),
            review_status=int(item.get("review_status") or 0),
            reviewer_user_id=item.get("reviewer_user_id"),
        )
    )


async def _recorded(
    conn: AsyncConnection, item: Mapping[str, Any], current: QueueItemStatus, user_id: int | None
) -> None:
    target = QueueItemStatus(item["status"])
    action = QueueItemEventAction.Delete if target is S.Deleted else QueueItemEventAction.Status
    await record_history(conn, item, action, user_id)
    await events.record(
        conn,
        item["tenant_id"],
        f"queueitem.{target.name.lower()}",
        item["unique_key"],
        {
            "QueueItemId": item["id"],
            "QueueDefinitionId": item["queue_definition_id"],
            "From": current.name,
            "Status": target.name,
        },
        item["folder_id"],
    )


async def transition(
    conn: AsyncConnection,
    item: Mapping[str, Any],
    target: QueueItemStatus,
    user_id: int | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """Moves ``item`` (a row of ``queue_items``) to ``target``, stamping times, and records it.

    The UPDATE is conditional on the status read, so of two concurrent transitions of one item only
    one applies: the other gets a 409 and its transaction is rolled back.
    """
    current = QueueItemStatus(item["status"])
    if target not in ALLOWED[current]:
        raise invalid_transition(current, target)
    now = utcnow()
    values: dict[str, Any] = {"status": int(target), "last_modification_time": now, **changes}
    if current is S.InProgress and target in FINAL:
        values.setdefault("end_processing", now)
    if target is S.Deleted:
        values["unique_reference"] = None  # a deleted item's reference may be used again
    result = await conn.execute(
        update(queue_items)
        .where(queue_items.c.id == item["id"], status_unindexed() == int(current))
        .values(**values)
    )
    if result.rowcount != 1:
        raise PodiumError(
            "The queue item changed meanwhile; try again.", status=409, code=ErrorCode.VALIDATION
        )
    updated = {**item, **values}
    await _recorded(conn, updated, current, user_id)
    return updated


def claim_statement(
    queue_definition_id: int,
    conditions: list[ColumnElement[bool]],
    robot_id: int | None,
    user_id: int | None,
    now: dt.datetime,
) -> ReturningUpdate[Any]:
    """``UPDATE … WHERE id = (SELECT id … ORDER BY <dequeue order> LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING …``: on PostgreSQL concurrent consumers skip the row another one is taking instead of
    waiting for it, so no item is handed out twice and none blocks the queue; on SQLite the write
    transaction already holds the database lock (BEGIN IMMEDIATE), with the same outcome. The
    sub-select walks ``ix_queue_items_dequeue`` in order (O(log n) to the first candidate)."""
    c = queue_items.c
    candidate = (
        select(c.id)
        .where(
            c.queue_definition_id == queue_definition_id,
            c.status == int(S.New),
            (c.defer_date.is_(None)) | (c.defer_date <= now),
            *conditions,
        )
        .order_by(c.due_order, c.priority, c.due_date, c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(queue_items)
        .where(c.id == candidate, status_unindexed() == int(S.New))
        .values(
            status=int(S.InProgress),
            robot_id=robot_id,
            processing_user_id=user_id,
            start_processing=now,
            last_modification_time=now,
        )
        .returning(*queue_items.c)
    )


async def claim_next(
    conn: AsyncConnection,
    queue_definition_id: int,
    conditions: list[ColumnElement[bool]],
    robot_id: int | None,
    user_id: int | None,
    now: dt.datetime,
) -> dict[str, Any] | None:
    """Hands out the next New item of the queue: one statement (:func:`claim_statement`),
    New -> InProgress, then its history row and domain event."""
    statement = claim_statement(queue_definition_id, conditions, robot_id, user_id, now)
    row = (await conn.execute(statement)).mappings().first()
    if row is None:
        return None
    item = dict(row)
    await _recorded(conn, item, S.New, user_id)
    return item
