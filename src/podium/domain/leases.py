"""Leases: one server process of several does a periodic task (a lease row, renewed while held)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_robots import leases
from podium.db.types import utcnow


async def acquire(conn: AsyncConnection, name: str, holder: str, ttl: dt.timedelta) -> bool:
    """Takes or renews the lease ``name`` for ``holder`` until now + ttl; False if another holds it.

    One statement whoever holds it: the row is inserted, or updated when this holder has it or it
    expired (``ON CONFLICT … DO UPDATE … WHERE``). Every leased service of every process asks each
    round; an UPDATE that found nothing followed by an INSERT failing in a savepoint cost the
    non-holders three round trips and an exception a round."""
    now = utcnow()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(leases).values(name=name, holder=holder, expires_at=now + ttl)
    statement = statement.on_conflict_do_update(
        index_elements=[leases.c.name],
        set_={"holder": holder, "expires_at": now + ttl},
        where=(leases.c.holder == holder) | (leases.c.expires_at < now),
    ).returning(leases.c.name)
    return (await conn.execute(statement)).first() is not None
