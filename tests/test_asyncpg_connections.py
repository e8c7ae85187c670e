"""``db/asyncpg_connections.py``: the list path's page statements on asyncpg in the app's loop, psycopg as the
reference (a call asyncpg fails is answered by psycopg, and a statement only psycopg answers stays there),
and the database URL's settings passed on to asyncpg or asyncpg left unused."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

import psycopg
import pytest
from sqlalchemy import BigInteger, bindparam, literal_column, select

from podium.db.asyncpg_connections import KEPT, NotConnected, connect_arguments, positional
from podium.db.engine import Database
from podium.db.schema import folders
from podium.domain.queue_hot_path import _rows
from podium.odata import driver_rows
from podium.odata.driver_rows import DriverStatement, data_errors
from tests.support import Api


def test_connect_arguments() -> None:
    url = "postgresql+psycopg://u:p@db.example:5433/podium?options=-csearch_path%3Dbench+-c+lock_timeout%3D5s&sslmode=require"
    assert connect_arguments(url) == {
        "host": "db.example",
        "port": 5433,
        "user": "u",
        "password": "p",
        "database": "podium",
        "ssl": "require",
        "server_settings": {
            "search_path": "bench",
            "lock_timeout": "5s",
            "timezone": "UTC",
            "datestyle": "ISO",
        },
    }
    socket = connect_arguments("postgresql+psycopg://postgres@/test?host=/var/run/postgresql")
    assert socket is not None and socket["host"] == "/var/run/postgresql"
    for unusable in (
        "postgresql+psycopg://u@h/d?target_session_attrs=read-write",  # not passed on: psycopg only
        "postgresql+psycopg://u@h/d?options=-csearch_path",  # a setting without a value
        "postgresql+psycopg://u@h/d?options=search_path%3Dx",  # not an option
    ):
        assert connect_arguments(unusable) is None, unusable


def test_lists_read_on_asyncpg_answer_as_psycopg_does(api: Api) -> None:
    db: Database = api.client.app.state.podium.db  # type: ignore[attr-defined]
    query = {"$filter": "DisplayName eq 'Shared' or Id gt 0", "$orderby": "Id desc", "$top": "5"}
    first = api.ok(api.get("/odata/Folders", params=query))  # SQLAlchemy (a statement's first run)
    answers = [api.ok(api.get("/odata/Folders", params=query)) for _ in range(3)]
    assert first["value"] and all(answer == first for answer in answers)
    if db.asyncpg is None:
        return  # SQLite: no asyncpg
    used = [
        s
        for s in list(driver_rows._STATEMENTS.values())
        if s._asyncpg is not None and s.psycopg.compiled.string not in db.asyncpg.psycopg_only
    ]
    assert used, "no page statement ran on asyncpg"
    assert db.asyncpg._kept  # its connection was kept for the next call


def _run(database_url: str, scenario: Any) -> Any:
    async def main() -> Any:
        db = Database(database_url)
        try:
            if db.asyncpg is None:
                pytest.skip("asyncpg serves PostgreSQL only")
            db.asyncpg.bind(asyncio.get_running_loop())
            return await scenario(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


def test_a_statement_asyncpg_cannot_run_stays_on_psycopg(database_url: str) -> None:
    async def scenario(db: Database) -> None:
        # asyncpg encodes a bigint parameter from an int only; psycopg sends text PostgreSQL converts
        as_id = bindparam("odata_filter_0", "-1", type_=BigInteger)
        query = select(folders.c.id).where(folders.c.id == as_id)
        statement = DriverStatement(query, db.write_engine.dialect)
        async with db.read() as conn:
            assert await statement.rows(conn, {"odata_filter_0": "-1"}, db.asyncpg) == []
        assert statement.psycopg.compiled.string in db.asyncpg.psycopg_only
        async with db.read() as conn:  # psycopg from now on
            assert await statement.rows(conn, {"odata_filter_0": "-2"}, db.asyncpg) == []

    _run(database_url, scenario)


def test_a_failing_statement_raises_psycopgs_error_and_stays_on_asyncpg(database_url: str) -> None:
    async def scenario(db: Database) -> None:
        query = select(literal_column("10", BigInteger) // bindparam("odata_filter_0", 1, type_=BigInteger))
        statement = DriverStatement(query, db.write_engine.dialect)
        async with db.read() as conn:
            assert await statement.rows(conn, {"odata_filter_0": 2}, db.asyncpg) == [(5,)]
            with pytest.raises(data_errors()):  # division by zero: psycopg's error (a 400 in a list)
                await statement.rows(conn, {"odata_filter_0": 0}, db.asyncpg)
        assert not db.asyncpg.psycopg_only  # the error is the statement's, not asyncpg's

    _run(database_url, scenario)


def test_other_loops_read_on_psycopg(database_url: str) -> None:
    async def scenario(db: Database) -> bool:
        assert db.asyncpg is not None and db.asyncpg.usable
        db.asyncpg.bind(asyncio.new_event_loop())  # the app's loop is another one
        return db.asyncpg.usable

    assert not _run(database_url, scenario)


def test_positional_parameters() -> None:
    assert positional("SELECT %(a)s, %(b)s::text, %(a)s, '100%%'") == (
        "SELECT $1, $2::text, $1, '100%'",
        ("a", "b"),
    )


async def _one_row(db: Database, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The queue statements' runner (``queue_hot_path._rows``), for statements of one row or none."""
    rows = await _rows(db, sql, params)
    return rows[0] if rows else None


def test_queue_statements_on_asyncpg_and_psycopg_as_reference(database_url: str) -> None:
    async def scenario(db: Database) -> None:
        assert db.asyncpg is not None
        assert await _one_row(db, "SELECT %(x)s::bigint AS v, %(x)s::bigint + 1 AS w", {"x": 5}) == {
            "v": 5,
            "w": 6,
        }
        assert db.asyncpg._kept  # it ran on asyncpg, whose connection is kept
        # asyncpg encodes a bigint from an int only; psycopg sends text PostgreSQL converts: psycopg answers,
        # and keeps the statement
        text_id = "SELECT id FROM folders WHERE id = %(x)s::bigint"
        assert await _one_row(db, text_id, {"x": "-1"}) is None
        assert text_id in db.asyncpg.psycopg_only
        # a statement PostgreSQL refuses: psycopg's error, and the statement stays on asyncpg
        failing = "SELECT 1 / %(x)s::int AS v"
        with pytest.raises(psycopg.errors.DivisionByZero):
            await _one_row(db, failing, {"x": 0})
        assert failing not in db.asyncpg.psycopg_only
        assert await _one_row(db, failing, {"x": 1}) == {"v": 1}

    _run(database_url, scenario)


def test_asyncpg_that_cannot_connect_is_left_unused(database_url: str) -> None:
    async def scenario(db: Database) -> None:
        assert db.asyncpg is not None
        db.asyncpg._arguments = {**(db.asyncpg._arguments or {}), "port": 1}  # nothing listens there
        assert await _one_row(db, "SELECT %(x)s::int AS v", {"x": 3}) == {"v": 3}  # psycopg answered
        assert not db.asyncpg.usable

    _run(database_url, scenario)


def test_at_most_kept_connections_then_psycopg(database_url: str) -> None:
    async def scenario(db: Database) -> None:
        fast = db.asyncpg
        assert fast is not None
        async with AsyncExitStack() as stack:
            held = [await stack.enter_async_context(fast.connection()) for _ in range(KEPT)]
            assert len({id(conn) for conn in held}) == KEPT
            with pytest.raises(NotConnected):
                await stack.enter_async_context(fast.connection())
            # meanwhile a queue statement is answered by psycopg
            assert await _one_row(db, "SELECT %(x)s::int AS v", {"x": 4}) == {"v": 4}
        assert len(fast._kept) == KEPT and fast._open == KEPT  # all kept for the next calls
        async with fast.connection() as conn:
            assert conn in held

    _run(database_url, scenario)
