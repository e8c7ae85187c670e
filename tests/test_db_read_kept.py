"""``Database.read`` on PostgreSQL keeps up to ``KEPT_READERS`` autocommit connections open between
blocks: a block that ends normally gives its connection back for the next one, a block that raised does
not, the ones past the limit close, and ``dispose`` closes every kept one. On SQLite every block gets a
connection of its own, as before."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.engine import KEPT_READERS, Database, driver_connection


async def _pid(conn: AsyncConnection) -> int:
    return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _reused_and_dropped(db: Database) -> None:
    async with db.read() as conn:
        first, first_pid = conn, await _pid(conn)
    assert db._readers == [first]
    async with db.read() as conn:
        assert conn is first and await _pid(conn) == first_pid  # kept between the blocks
        # autocommit: nothing a block reads leaves a transaction open on the server
        driver = await driver_connection(conn)
        assert driver.autocommit and driver.info.transaction_status == 0
    with pytest.raises(ZeroDivisionError):
        async with db.read() as conn:
            assert conn is first
            raise ZeroDivisionError  # a block that raised: its connection is closed, not kept
    assert first.closed and db._readers == []
    async with db.read() as conn:
        assert conn is not first and await _pid(conn) > 0


async def _past_the_kept(db: Database) -> None:
    pool = db.write_engine.sync_engine.pool
    async with AsyncExitStack() as stack:
        held = [await stack.enter_async_context(db.read()) for _ in range(KEPT_READERS + 2)]
        assert len({await _pid(conn) for conn in held}) == KEPT_READERS + 2
    assert pool.checkedout() == KEPT_READERS  # kept; the two others closed, back in the pool
    kept = {id(conn) for conn in db._readers}
    results = await asyncio.gather(*(_read_one(db) for _ in range(KEPT_READERS)))
    assert results == [1] * KEPT_READERS
    assert {id(conn) for conn in db._readers} == kept  # concurrent blocks took and gave back the kept ones


async def _read_one(db: Database) -> int:
    async with db.read() as conn:
        await asyncio.sleep(0)  # let the other blocks take theirs meanwhile
        return int((await conn.execute(text("SELECT 1"))).scalar_one())


def test_read_keeps_its_connections(database_url: str) -> None:
    async def scenario() -> None:
        db = Database(database_url)
        pool = db.write_engine.sync_engine.pool
        try:
            if db.is_sqlite:
                async with db.read() as conn:
                    assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
                assert db._readers == []
                return
            await _reused_and_dropped(db)
            await _past_the_kept(db)
        finally:
            await db.dispose()
        assert pool.checkedout() == 0  # dispose closed the kept connections

    asyncio.run(scenario())
