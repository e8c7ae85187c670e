"""Leases: one server process of several does a periodic task (a lease row, renewed while held)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_robots import leases
from podium.db.types import utcnow


async def acquire(conn: AsyncConnection, name: str, holder: str, ttl: dt.timedelta) -> bool:
    """Takes or renews the lease ``name`` for ``holder`` until now + ttl; False if another holds it."""
    now = utcnow()
    renewed = await conn.execute(
        update(leases)
        .where(leases.c.name == name, or_(leases.c.holder == holder, leases.c.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    if renewed.rowcount == 1:
        return True
    try:
        async with conn.begin_nested():
            await conn.execute(insert(leases).values(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False
    return True
