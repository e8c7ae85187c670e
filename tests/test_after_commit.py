"""Notes riding on a transaction are delivered once its commit is visible to everyone, never on a
rollback (a robot woken before the commit could find nothing and wait out its long poll)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from podium.db.engine import Database
from podium.db.schema_robots import leases
from podium.domain import after_commit


def test_notes_are_delivered_after_the_commit_is_visible(database_url: str, db: Engine) -> None:
    seen: list[tuple[str, int]] = []

    def deliver(item: str) -> None:  # another connection looks, as a woken robot would
        with db.connect() as other:
            seen.append((item, other.execute(select(func.count()).select_from(leases)).scalar_one()))

    async def go() -> None:
        database = Database(database_url)
        uninstall = after_commit.install(database.write_engine, "test.notes", deliver)
        try:
            async with database.write() as conn:
                expires = dt.datetime.now(dt.UTC)
                await conn.execute(insert(leases).values(name="n", holder="h", expires_at=expires))
                assert after_commit.note(conn, "test.notes", "job 1")
                assert not after_commit.note(conn, "test.notes", "job 1")  # once per transaction
            with pytest.raises(RuntimeError):
                async with database.write() as conn:
                    after_commit.note(conn, "test.notes", "rolled back")
                    raise RuntimeError
        finally:
            uninstall()
            await database.dispose()

    asyncio.run(go())
    assert seen == [("job 1", 1)]
