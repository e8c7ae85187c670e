"""The list path's kept and shortened steps give what the general ones give: decoded query strings,
kept filter parses, a driver statement's fixed parameters, datetime and enum formatting, and timestamptz
values read without a result processor on PostgreSQL; a statement with a pattern is planned per call."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Text, bindparam, cast, select, text
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg
from starlette.requests import Request

from podium.api.jobs import JOBS
from podium.db.engine import Database
from podium.db.schema import jobs
from podium.domain.enums import JobState
from podium.errors import PodiumError
from podium.odata.driver_rows import CompiledForm, DriverStatement, driver_statement
from podium.odata.filter import parsed_template
from podium.odata.model import Edm, Field
from podium.odata.routes import KEPT_QUERY_LENGTH, _decoded, query_params
from podium.odata.serialize import (
    _datetime,
    converter,
    format_datetime,
    format_stored_datetime,
    identity,
)
from podium.odata.service import in_folders


def _request(query: bytes) -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/odata/Jobs", "query_string": query, "headers": []}
    )


@pytest.mark.parametrize(
    "query",
    [
        b"",
        b"%24filter=Robot%2FId+eq+5+and+State+eq+%27Successful%27&%24top=10&%24count=true",
        b"%24top=1&%24top=2",  # a repeated name: the last value
        b"%24filter=&%24select",  # blank values are kept
        b"%24filter=Name+eq+%27caf%C3%A9%27",  # UTF-8 percent-encoding
        b"%24filter=Info eq 'a+b'",  # a plus is a space
        b"name=\xe9",  # a raw latin-1 byte, as Starlette decodes it
    ],
)
def test_query_params_read_as_starlette_does(query: bytes) -> None:
    request = _request(query)
    assert dict(query_params(request)) == dict(request.query_params)
    assert dict(query_params(_request(query))) == dict(request.query_params)  # again, from the cache


def test_long_query_strings_are_not_kept() -> None:
    before = _decoded.cache_info().currsize
    long_query = b"%24filter=" + b"a" * KEPT_QUERY_LENGTH
    assert query_params(_request(long_query))["$filter"] == "a" * KEPT_QUERY_LENGTH
    assert _decoded.cache_info().currsize == before
    with pytest.raises(TypeError):
        query_params(_request(b"%24top=1"))["$top"] = "2"  # type: ignore[index]  # shared: read-only


def test_a_filter_text_is_parsed_once_and_a_bad_one_every_time() -> None:
    text_ = "Robot/Id eq 7 and State eq 'Faulted'"
    node, shape, literals = parsed_template(text_)
    assert parsed_template(text_)[0] is node
    assert [lit.value for lit in literals] == [7, "Faulted"]
    assert parsed_template("Robot/Id eq 9 and State eq 'Successful'")[1] == shape  # same template
    for _ in range(2):
        with pytest.raises(PodiumError):
            parsed_template("Robot/Id eq")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(2018, 1, 15, 18, 18, 2, 790000, tzinfo=dt.UTC), "2018-01-15T18:18:02.79Z"),
        (dt.datetime(2018, 1, 15, 18, 18, 2, tzinfo=dt.UTC), "2018-01-15T18:18:02Z"),
        (dt.datetime(2018, 1, 15, 18, 18, 2, 5, tzinfo=dt.UTC), "2018-01-15T18:18:02.000005Z"),
        (dt.datetime(2018, 1, 15, 18, 18, 2, 120000), "2018-01-15T18:18:02.12Z"),  # naive: UTC
        (
            dt.datetime(2018, 1, 15, 20, 18, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2018-01-15T18:18:02Z",
        ),
        (
            dt.datetime(2018, 1, 15, 18, 18, 2, tzinfo=dt.timezone(dt.timedelta(0), "Z")),
            "2018-01-15T18:18:02Z",
        ),
    ],
)
def test_datetimes_formatted_as_orchestrator_does(value: dt.datetime, expected: str) -> None:
    assert format_datetime(value) == expected
    assert _datetime(value) == expected
    assert _datetime(None) is None


STORED_DATETIMES = [
    dt.datetime(2018, 1, 15, 18, 18, 2, 790000, tzinfo=dt.UTC),
    dt.datetime(2018, 1, 15, 18, 18, 10, tzinfo=dt.UTC),  # whole seconds ending in 0
    dt.datetime(2018, 1, 15, 18, 18, 10, 100000, tzinfo=dt.UTC),
    dt.datetime(2018, 1, 15, 0, 0, 0, 5, tzinfo=dt.UTC),
    dt.datetime(2018, 1, 15, 23, 59, 59, 123456, tzinfo=dt.UTC),
    dt.datetime(1, 1, 1, tzinfo=dt.UTC),  # .NET's DateTime.MinValue
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(2018, 1, 15, 20, 18, 2, 500000, tzinfo=dt.timezone(dt.timedelta(hours=2))),
]


def test_datetime_columns_read_as_text_give_what_datetimes_give(database_url: str) -> None:
    """List pages select a datetime column as text (``CAST(... AS TEXT)``, as each database writes
    it) and format that text: the same answer as formatting the datetime the driver decodes."""

    async def scenario() -> list[tuple[str, dt.datetime]]:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                read = []
                for value in STORED_DATETIMES:
                    stored = bindparam("value", value, type_=jobs.c.creation_time.type)
                    query = select(cast(stored, Text), stored)
                    row = (await conn.execute(query)).one()
                    read.append((row[0], row[1]))
                return read
        finally:
            await db.dispose()

    for (as_text, decoded), value in zip(asyncio.run(scenario()), STORED_DATETIMES, strict=True):
        assert format_stored_datetime(as_text) == format_datetime(decoded) == format_datetime(value)
        assert _datetime(as_text) == format_datetime(value)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2018-01-15 18:18:02.79+00", "2018-01-15T18:18:02.79Z"),  # PostgreSQL, session in UTC
        ("2018-01-15 18:18:10+00", "2018-01-15T18:18:10Z"),
        ("2018-01-15 18:18:02.790000", "2018-01-15T18:18:02.79Z"),  # SQLite, as stored
        ("2018-01-15 18:18:00.000000", "2018-01-15T18:18:00Z"),
        ("2018-01-15 18:18:02", "2018-01-15T18:18:02Z"),  # a default written by SQL
        ("2018-01-15 20:18:02.789+02", "2018-01-15T18:18:02.789Z"),  # another session time zone
        ("2018-01-15 13:18:02.789-05", "2018-01-15T18:18:02.789Z"),  # as long as SQLite's form
        ("2018-01-15T18:18:02.5+00:00", "2018-01-15T18:18:02.5Z"),
        ("2018-01-15 18:18:02.5Z", "2018-01-15T18:18:02.5Z"),
    ],
)
def test_stored_datetime_texts_formatted_as_orchestrator_does(stored: str, expected: str) -> None:
    assert format_stored_datetime(stored) == expected


@pytest.mark.parametrize("stored", ["0001-01-01 00:00:00+00 BC", "2018-01-15 18:18:02 BC", "infinity"])
def test_stored_datetime_texts_python_cannot_hold_are_refused(stored: str) -> None:
    """A value no ``datetime`` can hold (PostgreSQL's BC dates, infinity) is an error, as decoding it
    into a ``datetime`` is; never a malformed answer."""
    with pytest.raises(ValueError):
        format_stored_datetime(stored)


def test_enum_and_text_converters() -> None:
    state = converter(Field("State", Edm.ENUM, "state", enum=JobState))
    assert state(int(JobState.Faulted)) == "Faulted"
    assert state(None) is None
    assert state(99) == "99"  # a value the enum does not name: its number as text
    assert converter(Field("Info", Edm.STRING, "info"), text_column=True) is identity
    as_text = converter(Field("RobotId", Edm.STRING, "robot_id"))
    assert as_text(5) == "5" and as_text(None) is None and as_text("x") == "x"


@pytest.mark.parametrize("dialect", [pg_psycopg.dialect(), pg_asyncpg.dialect()], ids=["psycopg", "asyncpg"])
def test_a_fixed_driver_statement_matches_the_expanded_one(dialect: Any) -> None:
    query = select(jobs.c.id, jobs.c.creation_time).where(
        jobs.c.tenant_id == 3,
        jobs.c.state == bindparam("odata_filter_0", 1),
        jobs.c.creation_time > bindparam("odata_filter_1", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
    )
    form = CompiledForm(query, dialect)
    given = {"odata_filter_0": 4, "odata_filter_1": dt.datetime(2021, 5, 6, 7, 8, 9, tzinfo=dt.UTC)}
    expanded = form.compiled.construct_expanded_state(given)
    sql, values, order = form.statement(given)
    assert form.fixed is not None
    assert sql == expanded.statement and values == expanded.parameters and order == expanded.positiontup
    assert form.statement({})[1] == form.compiled.construct_expanded_state({}).parameters
    # an IN list is rendered per call: the general path
    listed = CompiledForm(
        select(jobs.c.id).where(jobs.c.state.in_(bindparam("states", expanding=True))), dialect
    )
    assert listed.fixed is None
    sql, values, _ = listed.statement({"states": [1, 2, 3]})
    assert sorted(values.values()) == [1, 2, 3] and len(values) == 3


def test_timestamptz_values_come_back_aware_in_utc(database_url: str) -> None:
    async def scenario() -> dt.datetime:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                query = select(jobs.c.creation_time).where(jobs.c.id == -1)  # the type, not a row
                typed = text(
                    "SELECT CAST('2018-01-15 20:18:02.79+02' AS timestamptz) AS t"
                    if not db.is_sqlite
                    else "SELECT '2018-01-15 18:18:02.790000' AS t"
                ).columns(t=jobs.c.creation_time.type)
                assert (await conn.execute(query)).first() is None
                return (await conn.execute(typed)).scalar_one()
        finally:
            await db.dispose()

    value = asyncio.run(scenario())
    assert value == dt.datetime(2018, 1, 15, 18, 18, 2, 790000, tzinfo=dt.UTC)
    assert value.utcoffset() == dt.timedelta(0)
    assert format_datetime(value) == "2018-01-15T18:18:02.79Z"


def test_a_statement_with_a_pattern_is_never_prepared(database_url: str) -> None:
    """Its plan depends on the pattern: PostgreSQL plans every call (psycopg, unprepared), where a plain
    statement is prepared from psycopg's fifth call on a connection and asyncpg prepares at once."""
    searched = select(jobs.c.id).where(jobs.c.info.like(bindparam("odata_filter_0", "%x%"), escape="/"))
    negated = select(jobs.c.id).where(~jobs.c.release_name.startswith(bindparam("odata_filter_0", "x")))
    plain = select(jobs.c.id).where(jobs.c.state == bindparam("odata_filter_0", 1))

    async def scenario() -> list[str] | None:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                if db.is_sqlite:
                    assert driver_statement(searched, conn.dialect) is None  # SQLAlchemy's own path
                    return None
                statements = [DriverStatement(query, conn.dialect) for query in (searched, negated, plain)]
                assert [statement.planned_per_call for statement in statements] == [True, True, False]
                assert db.asyncpg is not None
                db.asyncpg.bind(asyncio.get_running_loop())  # as the app's lifespan does
                for _ in range(8):
                    for statement, value in zip(statements, ("%Logon%", "x", 4), strict=True):
                        assert await statement.rows(conn, {"odata_filter_0": value}, db.asyncpg) == []
                    assert await statements[2].rows(conn, {"odata_filter_0": 4}) == []  # psycopg
                kept = await conn.execute(text("SELECT statement FROM pg_prepared_statements"))
                return [str(statement) for statement in kept.scalars()]
        finally:
            await db.dispose()

    prepared = asyncio.run(scenario())
    if prepared is not None:  # PostgreSQL
        assert not any("LIKE" in statement for statement in prepared)
        assert any("jobs.state =" in statement for statement in prepared)  # the plain one, by psycopg


@pytest.mark.parametrize("dialect", [pg_psycopg.dialect(), pg_asyncpg.dialect()], ids=["psycopg", "asyncpg"])
def test_one_folder_scope_keeps_the_fixed_statement(dialect: Any) -> None:
    """A request with a folder header is scoped to one folder: ``folder_id = :id``, so its page statement
    keeps the fixed parameters; several folders are an ``IN`` list, rendered per call."""
    one = CompiledForm(select(jobs.c.id).where(in_folders(JOBS, [5])), dialect)
    several = CompiledForm(select(jobs.c.id).where(in_folders(JOBS, [5, 6])), dialect)
    assert one.fixed is not None and list(one.fixed.values()) == [5]
    assert several.fixed is None and sorted(several.statement({})[1].values()) == [5, 6]
