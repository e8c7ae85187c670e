"""Bulk writes on PostgreSQL: ``COPY`` on the connection's own transaction, and identity values taken
ahead of time (``COPY`` returns nothing, so rows that others point at get their ids first).

Why not ``INSERT … VALUES`` with many rows: psycopg parses every statement's text for its placeholders,
and a statement longer than 4 KB is not cached, so an INSERT of 1,000 queue items (24,000 parameters)
cost ~200 ms of CPU before it reached the database. ``COPY`` sends the rows as data; the database
also spends less on it than on INSERT.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from sqlalchemy import Table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

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
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    try:
        async with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                await copy.write_row(row)
    except psycopg.errors.IntegrityError as error:
        raise IntegrityError(statement, None, error) from error
