"""Column types shared by every table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator, TypeEngine

UTC = dt.UTC

SESSION_SETTINGS = {"timezone": "UTC", "datestyle": "ISO"}
"""What every PostgreSQL session of Podium sets (psycopg's in ``engine.postgres_options``, asyncpg's in
``asyncpg_connections.connect_arguments``): ``timestamptz`` values come back in UTC, and list pages read
datetime columns as ISO text (``odata.serialize.format_stored_datetime``)."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every backend.

    PostgreSQL stores ``timestamptz``. SQLite has no datetime type, so values are stored as
    ``YYYY-MM-DD HH:MM:SS.ffffff`` text in UTC: it sorts and compares correctly as text and SQLite's
    ``strftime``/``date`` functions read it (``$filter=year(CreationTime) eq 2018``). Naive values are
    taken as UTC; aware ones are converted.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(26))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return value

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """None on PostgreSQL: psycopg returns ``timestamptz`` aware, in the session's time zone, which
        Podium's engine sets to UTC (``engine.postgres_options``), so there is nothing to convert; a
        processor would cost a call per value of every row read."""
        if dialect.name == "postgresql":
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        raise TypeError(f"unexpected datetime value {value!r}")
