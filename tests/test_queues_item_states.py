"""The queue item state machine (``domain/queue_item_states.py``) called directly, on both backends.

Every pair of statuses is a case: the allowed transitions (written out here, independently of the
domain's table) move the row, stamp it and record one history row and one domain event; every other
pair is refused with a 400 and writes nothing. Then the dequeue (``claim_next``) and the conditional
UPDATE that refuses a transition from a status read before another one changed it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.engine import Database
from podium.db.schema import events
from podium.db.schema_queues import queue_definitions, queue_item_events, queue_items
from podium.domain.queue_enums import QueueItemEventAction, QueueItemStatus
from podium.domain.queue_item_states import FINAL, claim_next, transition
from podium.errors import PodiumError
from tests.factories import listen_rows, tenant_rows

S = QueueItemStatus
NOW = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)

ALLOWED = {
    (S.New, S.InProgress),
    (S.New, S.Deleted),
    (S.InProgress, S.Successful),
    (S.InProgress, S.Failed),
    (S.InProgress, S.Abandoned),
    (S.InProgress, S.Retried),
    (S.Failed, S.Retried),  # manual retry
    (S.Abandoned, S.Retried),  # automatic or manual retry
}
CASES = [
    pytest.param(current, target, id=f"{current.name}-{target.name}")
    for current in QueueItemStatus
    for target in QueueItemStatus
]


def seed_item(db: Engine, status: QueueItemStatus) -> int:
    """A tenant (with an enabled webhook), a folder, a queue and one item in ``status`` (with a unique
    reference); its id."""
    with db.begin() as conn:
        tenant_id, folder_id = tenant_rows(conn, "T", NOW)
        listen_rows(conn, tenant_id, NOW)  # the outbox keeps its events
        queue_id = conn.execute(
            insert(queue_definitions)
            .values(
                tenant_id=tenant_id,
                folder_id=folder_id,
                key=str(uuid.uuid4()),
                name="invoices",
                enforce_unique_reference=True,
                creation_time=NOW,
            )
            .returning(queue_definitions.c.id)
        ).scalar_one()
        key = str(uuid.uuid4())
        started = NOW if status is not S.New else None
        item_id: int = conn.execute(
            insert(queue_items)
            .values(
                tenant_id=tenant_id,
                folder_id=folder_id,
                queue_definition_id=queue_id,
                queue_definition_name="invoices",
                key=key,
                unique_key=key,
                status=int(status),
                reference="ref-1",
                unique_reference="ref-1",
                start_processing=started,
                creation_time=NOW,
            )
            .returning(queue_items.c.id)
        ).scalar_one()
    return item_id


def stored(db: Engine, item_id: int) -> tuple[dict[str, Any], int, int]:
    """(the item's row, its history rows, domain events) as stored."""
    with db.connect() as conn:
        row = dict(conn.execute(select(queue_items).where(queue_items.c.id == item_id)).mappings().one())
        history = conn.execute(
            select(func.count()).where(queue_item_events.c.queue_item_id == item_id)
        ).scalar_one()
        written = conn.execute(select(func.count()).select_from(events)).scalar_one()
    return row, int(history), int(written)


def in_write(database_url: str, work: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
    """Runs ``work`` in one write transaction of the domain's own Database."""

    async def go() -> Any:
        database = Database(database_url)
        try:
            async with database.write() as conn:
                return await work(conn)
        finally:
            await database.dispose()

    return asyncio.run(go())


async def _read(conn: AsyncConnection, item_id: int) -> dict[str, Any]:
    return dict((await conn.execute(select(queue_items).where(queue_items.c.id == item_id))).mappings().one())


@pytest.mark.parametrize(("current", "target"), CASES)
def test_transition(db: Engine, database_url: str, current: QueueItemStatus, target: QueueItemStatus) -> None:
    item_id = seed_item(db, current)
    before = stored(db, item_id)

    async def move(conn: AsyncConnection) -> dict[str, Any]:
        return await transition(conn, await _read(conn, item_id), target, user_id=7)

    if (current, target) not in ALLOWED:
        with pytest.raises(PodiumError) as refused:
            in_write(database_url, move)
        assert refused.value.status == 400
        assert f"is {current.name} and cannot become {target.name}" in str(refused.value)
        assert stored(db, item_id) == before  # nothing written
        return
    moved = in_write(database_url, move)
    row, history, written = stored(db, item_id)
    assert moved["status"] == row["status"] == int(target)
    assert row["last_modification_time"] is not None
    finished = current is S.InProgress and target in FINAL
    assert (row["end_processing"] is not None) == finished
    assert row["unique_reference"] == (None if target is S.Deleted else "ref-1")
    assert (history, written) == (before[1] + 1, before[2] + 1)
    with db.connect() as conn:
        event = conn.execute(
            select(queue_item_events.c.action, queue_item_events.c.status, queue_item_events.c.user_id).where(
                queue_item_events.c.queue_item_id == item_id
            )
        ).one()
        kind = conn.execute(select(events.c.type)).scalar_one()
    action = QueueItemEventAction.Delete if target is S.Deleted else QueueItemEventAction.Status
    assert tuple(event) == (int(action), int(target), 7)
    assert kind == f"queueitem.{target.name.lower()}"


@pytest.mark.parametrize("current", list(QueueItemStatus), ids=lambda s: s.name)
def test_claim_next_takes_only_new_items(db: Engine, database_url: str, current: QueueItemStatus) -> None:
    """The dequeue is the New -> InProgress transition as one statement: other statuses are not taken."""
    item_id = seed_item(db, current)
    before = stored(db, item_id)
    queue_id = before[0]["queue_definition_id"]

    async def claim(conn: AsyncConnection) -> dict[str, Any] | None:
        return await claim_next(conn, queue_id, [], None, 7, NOW)

    claimed = in_write(database_url, claim)
    if current is not S.New:
        assert claimed is None and stored(db, item_id) == before
        return
    row, history, written = stored(db, item_id)
    assert claimed is not None and claimed["id"] == item_id
    assert row["status"] == int(S.InProgress) and row["processing_user_id"] == 7
    assert row["start_processing"] == NOW
    assert (history, written) == (before[1] + 1, before[2] + 1)


def test_a_transition_from_a_stale_read_is_refused(db: Engine, database_url: str) -> None:
    """Of two transitions of one item, the one that read the status before the other changed it gets a
    409 (the UPDATE is conditional on the status read) and writes nothing."""
    item_id = seed_item(db, S.New)

    async def race(conn: AsyncConnection) -> None:
        read = await _read(conn, item_id)
        await conn.execute(
            update(queue_items).where(queue_items.c.id == item_id).values(status=int(S.InProgress))
        )
        await transition(conn, read, S.Deleted)

    with pytest.raises(PodiumError) as refused:
        in_write(database_url, race)
    assert refused.value.status == 409
    row, history, written = stored(db, item_id)
    assert (row["status"], history, written) == (int(S.New), 0, 0)  # the whole transaction rolled back
