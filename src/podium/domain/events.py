"""The event outbox: domain events are rows written in the same transaction as the change.

Only the webhook fan-out (``domain/webhook_events.py``) reads the outbox, so an event of a tenant without
an enabled webhook is not written at all: nobody would receive it, and a row would cost the database an
insert, its index entries and its WAL for nothing (``benchmarks/queue_throughput.py``: every queue
transaction pair writes two). The webhooks' creation is not serialised with the events: an event written
while the tenant's first webhook is being created may be missed by it, as any event before the
subscription; an event of a webhook disabled meanwhile is marked dispatched by the fan-out unread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, exists, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db import bulk
from podium.db.schema import events
from podium.db.schema_webhooks import webhooks
from podium.db.types import utcnow


def heard(tenant_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    """True when the tenant has an enabled webhook: only then are its events written."""
    return exists().where(webhooks.c.tenant_id == tenant_id, webhooks.c.enabled.is_(True))


async def heard_tenants(conn: AsyncConnection, among: set[int] | None = None) -> set[int]:
    """The tenants (of ``among``, or all) with an enabled webhook."""
    query = select(webhooks.c.tenant_id).where(webhooks.c.enabled.is_(True)).distinct()
    if among is not None:
        query = query.where(webhooks.c.tenant_id.in_(among))
    return {int(tenant_id) for tenant_id in await conn.scalars(query)}


async def record(
    conn: AsyncConnection,
    tenant_id: int,
    event_type: str,
    entity_key: str | None,
    payload: dict[str, Any],
    folder_id: int | None = None,
) -> int | None:
    """Writes the event when its tenant has an enabled webhook (one ``INSERT … SELECT … WHERE EXISTS``);
    its id (the EventId webhooks send), or None when nothing was written."""
    values = {
        "tenant_id": tenant_id,
        "folder_id": folder_id,
        "type": event_type,
        "entity_key": entity_key,
        "payload": orjson.dumps(payload, default=str).decode(),
        "creation_time": utcnow(),
        "dispatched": False,
    }
    row = select(*(literal(value, events.c[name].type) for name, value in values.items()))
    result = await conn.execute(
        insert(events).from_select(list(values), row.where(heard(tenant_id))).returning(events.c.id)
    )
    found = result.scalar_one_or_none()
    return None if found is None else int(found)


async def record_many(
    conn: AsyncConnection,
    entries: Sequence[tuple[int, str, str | None, dict[str, Any], int | None]],
) -> None:
    """Writes several events (tenant, type, entity key, payload, folder) with one INSERT (``db/bulk.py``:
    one small statement whatever the number of rows on PostgreSQL), those of tenants with an enabled
    webhook only (asked first, in one query; one event is one statement, :func:`record`)."""
    if not entries:
        return
    if len(entries) == 1:
        await record(conn, *entries[0])
        return
    listened = await heard_tenants(conn, {entry[0] for entry in entries})
    entries = [entry for entry in entries if entry[0] in listened]
    if not entries:
        return
    now = utcnow()
    await bulk.insert_rows(
        conn,
        events,
        [
            {
                "tenant_id": tenant_id,
                "folder_id": folder_id,
                "type": event_type,
                "entity_key": entity_key,
                "payload": orjson.dumps(payload, default=str).decode(),
                "creation_time": now,
                "dispatched": False,
            }
            for tenant_id, event_type, entity_key, payload, folder_id in entries
        ],
    )
