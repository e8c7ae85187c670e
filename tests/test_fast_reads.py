"""``db/fast_reads.py``: the list path's page statements on asyncpg in the app's loop, psycopg as the
reference (a call asyncpg fails is answered by psycopg, and a statement only psycopg answers stays there),
and the database URL's settings passed on to asyncpg or asyncpg left unused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import BigInteger, bindparam, literal_column, select

from podium.db.engine import Database
from podium.db.fast_reads import connect_arguments
from podium.db.schema import folders
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
        "server_settings": {"search_path": "bench", "lock_timeout": "5s", "timezone": "UTC"},
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
    if db.fast_reads is None:
        return  # SQLite: no asyncpg
    used = [s for s in list(driver_rows._STATEMENTS.values()) if s._asyncpg is not None and s.on_asyncpg]
    assert used, "no page statement ran on asyncpg"
    assert db.fast_reads._kept  # its connection was kept for the next call


def _run(database_url: str, scenario: Any) -> Any:
    async def main() -> Any:
        db = Database(database_url)
        try:
            if db.fast_reads is None:
                return None
            db.fast_reads.bind(asyncio.get_running_loop())
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
            assert await statement.rows(conn, {"odata_filter_0": "-1"}, db.fast_reads) == []
        assert not statement.on_asyncpg
        async with db.read() as conn:  # psycopg from now on
            assert await statement.rows(conn, {"odata_filter_0": "-2"}, db.fast_reads) == []

    _run(database_url, scenario)


def test_a_failing_statement_raises_psycopgs_error_and_stays_on_asyncpg(database_url: str) -> None:
    async def scenario(db: Database) -> None:
        query = select(literal_column("10", BigInteger) // bindparam("odata_filter_0", 1, type_=BigInteger))
        statement = DriverStatement(query, db.write_engine.dialect)
        async with db.read() as conn:
            assert await statement.rows(conn, {"odata_filter_0": 2}, db.fast_reads) == [(5,)]
            with pytest.raises(data_errors()):  # division by zero: psycopg's error (a 400 in a list)
                await statement.rows(conn, {"odata_filter_0": 0}, db.fast_reads)
        assert statement.on_asyncpg  # the error is the statement's, not asyncpg's

    _run(database_url, scenario)


def test_other_loops_read_on_psycopg(database_url: str) -> None:
    async def scenario(db: Database) -> bool:
        assert db.fast_reads is not None and db.fast_reads.usable
        db.fast_reads.bind(asyncio.new_event_loop())  # the app's loop is another one
        return db.fast_reads.usable

    assert not _run(database_url, scenario)
