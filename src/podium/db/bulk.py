"""Bulk writes: on PostgreSQL ``COPY`` on the connection's own transaction, and identity values taken
ahead of time (``COPY`` returns nothing, so rows that others point at get their ids first); on both
backends many rows inserted or updated with one statement (:func:`insert_rows`, :func:`update_rows`).

Why not ``INSERT … VALUES`` with many rows: psycopg parses every statement's text for its placeholders,
and a statement longer than 4 KB is not cached, so an INSERT of 1,000 queue items (24,000 parameters)
cost ~200 ms of CPU before it reached the database. ``COPY`` sends the rows as data; the database
also spends less on it than on INSERT.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import Table, bindparam, insert, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.engine import driver_connection

# one row holding an array: a thousand result rows cost more to read than one array
_NEXT_IDS = (
    "SELECT array_agg(nextval(pg_get_serial_sequence(:table, 'id')))"
    " FROM generate_series(1, CAST(:count AS integer))"
)


async def next_ids(conn: AsyncConnection, table: Table, count: int) -> list[int]:
    """``count`` new values of ``table``'s identity column ``id``, ascending (PostgreSQL)."""
    ids = (await conn.execute(text(_NEXT_IDS), {"table": table.name, "count": count})).scalar_one()
    return sorted(int(value) for value in ids)


async def copy_rows(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows`` (values in ``columns`` order) on ``conn``'s
    driver connection, inside its transaction when it has one. A constraint the rows break raises
    SQLAlchemy's IntegrityError, as an INSERT would (and the transaction must then be rolled back)."""
    driver = await driver_connection(conn)
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    try:
        async with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                await copy.write_row(row)
    except psycopg.errors.IntegrityError as error:
        raise IntegrityError(statement, None, error) from error


# --- many rows in one small statement ------------------------------------------------------------------
#
# On PostgreSQL the rows go as one array a column: ``INSERT … SELECT … FROM unnest(%(a)b, %(b)b, …)``
# and ``UPDATE … FROM unnest(…)``. The statement's text is the same whatever the number of rows (psycopg
# parses it once, PostgreSQL prepares it once), where a multi-row ``VALUES`` of 1,000 rows is a new
# 25,000-parameter statement each time. The arrays are sent in binary (``%b``): psycopg's text form of
# an array quotes and escapes each element in Python, 10-50 times the cost (a JSON payload the most).
# A column whose rows all hold one value is one plain parameter. SQLite (no arrays) gets an
# executemany: one statement a row in one call, which costs it no round trip.


class _Arrays:
    """The rows of a PostgreSQL statement as its parameters, and the SQL that reads them."""

    def __init__(
        self, conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], names: Mapping[str, str]
    ) -> None:
        """``names`` maps each row key to the column of ``table`` whose type its values take."""
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        columns: dict[str, list[Any]] = {}
        for name, column in names.items():
            process = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)  # UTCDateTime's
            values = [row[name] for row in rows]
            columns[name] = values if process is None else [process(value) for value in values]
        varying = [name for name, values in columns.items() if values.count(values[0]) != len(values)]
        self.params: dict[str, Any] = {}
        self.sql: dict[str, str] = {}  # row key: what reads its value in the statement
        arrays: list[str] = []
        for name, values in columns.items():
            spelled = table.c[names[name]].type.compile(dialect=dialect)
            if name in varying or (not varying and not arrays):  # unnest needs one array at least
                self.params[name] = values
                arrays.append(f"CAST(%({name})b AS {spelled}[])")
                self.sql[name] = f"v.{quote(name)}"
            else:
                self.params[name] = values[0]
                self.sql[name] = f"CAST(%({name})s AS {spelled})"
        read = [quote(name) for name, sql in self.sql.items() if sql.startswith("v.")]
        self.source = f"unnest({', '.join(arrays)}) AS v({', '.join(read)})"


async def _run(conn: AsyncConnection, statement: str, params: Mapping[str, Any]) -> tuple[list[Any], int]:
    """``statement`` on ``conn``'s psycopg connection, in its transaction: (rows returned, rowcount)."""
    driver = await driver_connection(conn)
    async with driver.cursor() as cursor:
        try:
            await cursor.execute(statement, params)
        except psycopg.errors.IntegrityError as error:
            raise IntegrityError(statement, None, error) from error
        rows = await cursor.fetchall() if cursor.description is not None else []
        return rows, int(cursor.rowcount)


def _with_defaults(table: Table, rows: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """The rows with each column they leave out that has a Python-side scalar default (as ``insert()``
    would fill it); a callable default has to be given."""
    missing = {}
    for column in table.columns:
        if column.name in rows[0] or column.default is None:
            continue
        if not getattr(column.default, "is_scalar", False):
            raise ValueError(f"{table.name}.{column.name}: give its value (its default is not a constant)")
        missing[column.name] = getattr(column.default, "arg", None)
    return [{**row, **missing} for row in rows] if missing else rows


async def insert_rows(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Inserts ``rows`` (dicts with the same keys, column names of ``table``); the ``returning``
    columns of the new rows as tuples, in no particular order (return a unique column to match them),
    their values as the driver reads them. A column the rows leave out takes its default."""
    if not rows:
        return []
    if conn.dialect.name != "postgresql":
        statement: Any = insert(table)
        if returning:
            statement = statement.returning(*(table.c[name] for name in returning))
        result = await conn.execute(statement, list(rows))
        return [tuple(row) for row in result] if returning else []
    rows = _with_defaults(table, rows)
    arrays = _Arrays(conn, table, rows, {name: name for name in rows[0]})
    quote = conn.dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {conn.dialect.identifier_preparer.format_table(table)}"
        f" ({', '.join(quote(name) for name in arrays.sql)})"
        f" SELECT {', '.join(arrays.sql.values())} FROM {arrays.source}"
    )
    if returning:
        statement += f" RETURNING {', '.join(quote(name) for name in returning)}"
    found, _ = await _run(conn, statement, arrays.params)
    return [tuple(row) for row in found]


async def update_rows(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    match: Mapping[str, str],
    changes: Mapping[str, str],
) -> int:
    """One UPDATE of ``table`` per row, all in one statement: ``match`` maps columns to the row keys
    they must equal, ``changes`` columns to the row keys of their new values (row keys must not be
    column names of ``table``); how many rows were updated."""
    if not rows:
        return 0
    if conn.dialect.name != "postgresql":
        statement: Any = (
            update(table)
            .where(*(table.c[column] == bindparam(name) for column, name in match.items()))
            .values({column: bindparam(name) for column, name in changes.items()})
        )
        result = await conn.execute(statement, list(rows))
        return int(result.rowcount)
    arrays = _Arrays(conn, table, rows, {name: column for column, name in [*match.items(), *changes.items()]})
    quote = conn.dialect.identifier_preparer.quote
    statement = (
        f"UPDATE {conn.dialect.identifier_preparer.format_table(table)} AS t"
        f" SET {', '.join(f'{quote(column)} = {arrays.sql[name]}' for column, name in changes.items())}"
        f" FROM {arrays.source}"
        f" WHERE {' AND '.join(f't.{quote(column)} = {arrays.sql[name]}' for column, name in match.items())}"
    )
    _, count = await _run(conn, statement, arrays.params)
    return count
