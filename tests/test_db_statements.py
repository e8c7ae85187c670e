"""``Database.statements`` (PostgreSQL): the connections it keeps between calls are reused in autocommit,
one left in a transaction or broken is not, the ones past ``KEPT_CONNECTIONS`` go back to the pool out of
autocommit, and ``dispose`` gives every kept one back."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

import psycopg
import pytest

from podium.db.engine import KEPT_CONNECTIONS, Database


async def _pid(conn: Any) -> int:
    row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
    return int(row[0])


async def _kept_and_dropped(db: Database) -> None:
    async with db.statements() as conn:
        first = await _pid(conn)
        assert conn.autocommit
    async with db.statements() as conn:
        assert await _pid(conn) == first  # kept between the calls
        await conn.execute("BEGIN")  # left in a transaction: not used again
    async with db.statements() as conn:
        assert await _pid(conn) != first
        assert conn.info.transaction_status == 0
        with pytest.raises(psycopg.errors.DivisionByZero):
            await conn.execute("SELECT 1 / 0")  # a failed statement leaves it idle: kept
        again = await _pid(conn)
    async with db.statements() as conn:
        assert await _pid(conn) == again


async def _past_the_kept(db: Database) -> None:
    async with AsyncExitStack() as stack:
        held = [await stack.enter_async_context(db.statements()) for _ in range(KEPT_CONNECTIONS + 2)]
        assert len({await _pid(conn) for conn in held}) == KEPT_CONNECTIONS + 2
    pool = db.write_engine.sync_engine.pool
    assert pool.checkedout() == KEPT_CONNECTIONS  # kept; the two others back in the pool
    async with db.write() as conn:  # a general transaction gets a returned one, out of autocommit
        raw = await conn.get_raw_connection()
        assert raw.driver_connection is not None and not raw.driver_connection.autocommit


def test_statements_keep_their_connections(database_url: str) -> None:
    async def scenario() -> None:
        db = Database(database_url)
        try:
            if db.is_sqlite:
                with pytest.raises(RuntimeError):
                    async with db.statements():
                        pass
                return
            await _kept_and_dropped(db)
            await _past_the_kept(db)
            pool = db.write_engine.sync_engine.pool
        finally:
            await db.dispose()
        assert pool.checkedout() == 0  # dispose gave the kept connections back before closing

    asyncio.run(scenario())
