"""The event outbox: domain events are rows written in the same transaction as the change.

An event of a tenant without an enabled webhook is written already dispatched: nobody would receive
it, and the fan-out (``domain/webhook_events.py``) has nothing to read, render or mark for it. The
webhooks' creation is not serialised with the events: an event written while the tenant's first
webhook is being created may be missed by it, as any event before the subscription.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db import bulk
from podium.db.schema import events
from podium.db.schema_webhooks import webhooks
from podium.db.types import utcnow


def unheard(tenant_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    """True when the tenant has no enabled webhook: its events are stored dispatched."""
    return ~exists().where(webhooks.c.tenant_id == tenant_id, webhooks.c.enabled.is_(True))


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
) -> int:
    """Writes the event; its id (the EventId webhooks send)."""
    result = await conn.execute(
        insert(events)
        .values(
            tenant_id=tenant_id,
            folder_id=folder_id,
            type=event_type,
            entity_key=entity_key,
            payload=orjson.dumps(payload, default=str).decode(),
            creation_time=utcnow(),
            dispatched=unheard(tenant_id),
        )
        .returning(events.c.id)
    )
    return int(result.scalar_one())


async def record_many(
    conn: AsyncConnection,
    entries: Sequence[tuple[int, str, str | None, dict[str, Any], int | None]],
) -> None:
    """Writes several events (tenant, type, entity key, payload, folder) with one INSERT (``db/bulk.py``:
    one small statement whatever the number of rows on PostgreSQL)."""
    if not entries:
        return
    now = utcnow()
    heard = await heard_tenants(conn, {entry[0] for entry in entries})
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
                "dispatched": tenant_id not in heard,
            }
            for tenant_id, event_type, entity_key, payload, folder_id in entries
        ],
    )
