"""Notes riding on a transaction are delivered once its commit is visible to everyone, never on a
rollback (a robot woken before the commit could find nothing and wait out its long poll)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
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


def test_a_broadcast_notes_each_and_sends_the_new_ones_in_one_statement(database_url: str) -> None:
    delivered: list[str] = []
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "pg_notify" in statement:
            sent.append(statement)

    async def go() -> None:
        database = Database(database_url)
        uninstall = after_commit.install(database.write_engine, "test.heard", delivered.append)
        event.listen(database.write_engine.sync_engine, "before_cursor_execute", count)
        notes = [after_commit.Broadcast("test.heard", "test_channel", item, item) for item in ("a", "b")]
        try:
            async with database.write() as conn:
                await after_commit.broadcast(conn, notes)
                await after_commit.broadcast(conn, notes[:1])  # noted already: nothing sent again
        finally:
            uninstall()
            await database.dispose()

    asyncio.run(go())
    assert delivered == ["a", "b"]
    assert len(sent) == (0 if database_url.startswith("sqlite") else 1)
    assert all(text.count("pg_notify(") == 2 for text in sent)
