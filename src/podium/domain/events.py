"""The event outbox: domain events are rows written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import events
from podium.db.types import utcnow


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
            dispatched=False,
        )
        .returning(events.c.id)
    )
    return int(result.scalar_one())


async def record_many(
    conn: AsyncConnection,
    entries: Sequence[tuple[int, str, str | None, dict[str, Any], int | None]],
) -> None:
    """Writes several events (tenant, type, entity key, payload, folder) with one INSERT."""
    if not entries:
        return
    now = utcnow()
    await conn.execute(
        insert(events),
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
