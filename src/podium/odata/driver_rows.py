"""The list path's cached page statements executed on psycopg's own cursor (PostgreSQL).

A list request's statement is one of a few templates kept by ``query.EntityQuery.page``. Executed
through SQLAlchemy's ``AsyncConnection.execute``, each call still pays the statement-cache lookup, the
parameter processing, a greenlet switch and a result object: measured here, 0.66 ms of CPU a seed
filter request's query against 0.41 ms on the driver's cursor (``benchmarks/odata_jobs.py``'s filter,
10 rows and the count). So a cached statement is compiled once for the dialect and executed on the
driver's cursor, with what SQLAlchemy would do around it: the same SQL, each bind parameter through its
type's bind processor (expanding ``IN`` parameters rendered per call by ``construct_expanded_state``),
each result column through its type's result processor; rows come back as tuples (a ``Shape`` reads
them by position).

In the app's process the statement runs on asyncpg instead (``db/asyncpg_connections.py``), compiled for
SQLAlchemy's asyncpg dialect with that dialect's processors: ~0.06 ms of CPU less a call. psycopg stays the
reference: a call asyncpg fails is run again on psycopg, which answers or raises as it always did, and a
statement psycopg then answers (asyncpg could not, e.g. a parameter type it will not encode) stays on
psycopg from then on.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DataError
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.asyncpg_connections import CONNECTION_ERRORS, AsyncpgConnections
from podium.db.engine import driver_connection

log = logging.getLogger("podium.odata")

Processor = Callable[[Any], Any]


class DriverStatement:
    """One page statement compiled for the dialect, with its bind and result processors."""

    def __init__(self, query: Select[Any], dialect: Dialect) -> None:
        self.query = query
        self.dialect = dialect
        self._asyncpg: _AsyncpgForm | None = None
        self.on_asyncpg = True  # until psycopg answers a call asyncpg failed
        self.compiled = query.compile(dialect=dialect)
        self.bind_processors: dict[str, Processor] = {}
        for name, bind in self.compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.bind_processors[name] = processor
        self.column_types = [column.type for column in query.selected_columns]
        self.result_processors: list[Processor | None] | None = None  # known at the first execution
        # without expanding or literal-rendered parameters the SQL never changes, and the values of
        # the parameters a call does not give (the scope's tenant...) are processed once, here
        compiled = self.compiled
        self._fixed: dict[str, Any] | None = None
        if not compiled.post_compile_params and not compiled.literal_execute_params and self.usable:
            own = compiled.construct_params()
            self._fixed = {
                name: self.bind_processors[name](value) if name in self.bind_processors else value
                for name, value in own.items()
            }

    @property
    def usable(self) -> bool:
        """Plain named parameters (no escaped names, no schema translation): what this path handles."""
        return not self.compiled.escaped_bind_names and not self.compiled.schema_translate_map

    def _statement(self, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The SQL and its parameter values for one call, processed as SQLAlchemy would."""
        fixed = self._fixed
        if fixed is not None and fixed.keys() >= params.keys():
            values = fixed.copy()
            processors = self.bind_processors
            for name, value in params.items():
                values[name] = processors[name](value) if name in processors else value
            return self.compiled.string, values
        state = self.compiled.construct_expanded_state(dict(params))
        processors = {**self.bind_processors, **state.processors}
        return state.statement, {
            name: processors[name](value) if name in processors else value
            for name, value in state.parameters.items()
        }

    async def rows(
        self, conn: AsyncConnection, params: Mapping[str, Any], fast: AsyncpgConnections | None = None
    ) -> list[tuple[Any, ...]]:
        """The rows of the page for ``params``: on asyncpg when ``fast`` can serve this loop, else (or
        when asyncpg fails) on psycopg under ``conn``."""
        if fast is None or not self.on_asyncpg or not fast.usable:
            return await self._psycopg_rows(conn, params)
        try:
            if self._asyncpg is None:
                self._asyncpg = _AsyncpgForm(self.query)
            async with fast.connection() as connection:
                return await self._asyncpg.rows(connection, params)
        except CONNECTION_ERRORS:
            return await self._psycopg_rows(conn, params)  # that connection is dropped; this call on psycopg
        except Exception as error:
            answered = await self._psycopg_rows(conn, params)  # psycopg's error, if it has one, is raised
            self.on_asyncpg = False
            log.info("a page statement stays on psycopg: asyncpg failed with %s", type(error).__name__)
            return answered

    async def _psycopg_rows(self, conn: AsyncConnection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        statement, values = self._statement(params)
        async with (await driver_connection(conn)).cursor() as cursor:
            await cursor.execute(statement, values)
            fetched: list[tuple[Any, ...]] = await cursor.fetchall()
            if self.result_processors is None:
                self.result_processors = [
                    kind.dialect_impl(self.dialect).result_processor(self.dialect, described.type_code)
                    for kind, described in zip(self.column_types, cursor.description or [], strict=True)
                ]
        converters = [(index, p) for index, p in enumerate(self.result_processors) if p is not None]
        if not converters:
            return fetched
        converted = []
        for row in fetched:
            values_of_row = list(row)
            for index, convert in converters:
                values_of_row[index] = convert(values_of_row[index])
            converted.append(tuple(values_of_row))
        return converted


_ASYNCPG = asyncpg_dialect()  # type: ignore[no-untyped-call]


class _AsyncpgForm:
    """A page statement compiled for SQLAlchemy's asyncpg dialect: positional ``$n`` parameters, that
    dialect's bind and result processors."""

    def __init__(self, query: Select[Any]) -> None:
        dialect = _ASYNCPG
        self.compiled = compiled = query.compile(dialect=dialect)
        if compiled.escaped_bind_names or compiled.schema_translate_map or compiled.positiontup is None:
            raise ValueError("not a plain positional statement")
        self.bind_processors: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.bind_processors[name] = processor
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in query.selected_columns
        ]
        self.converters = [(index, p) for index, p in enumerate(processors) if p is not None]
        self.order: list[str] = list(compiled.positiontup)
        self.fixed: dict[str, Any] | None = None
        if not compiled.post_compile_params and not compiled.literal_execute_params:
            own = compiled.construct_params()
            self.fixed = {
                name: self.bind_processors[name](value) if name in self.bind_processors else value
                for name, value in own.items()
            }

    def arguments(self, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        fixed = self.fixed
        processors = self.bind_processors
        if fixed is not None and fixed.keys() >= params.keys():
            values = fixed.copy()
            for name, value in params.items():
                values[name] = processors[name](value) if name in processors else value
            return self.compiled.string, [values[name] for name in self.order]
        state = self.compiled.construct_expanded_state(dict(params))
        every = {**processors, **state.processors}
        values = {
            name: every[name](value) if name in every else value for name, value in state.parameters.items()
        }
        assert state.positiontup is not None
        return state.statement, [values[name] for name in state.positiontup]

    async def rows(self, connection: Any, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        statement, arguments = self.arguments(params)
        records = await connection.fetch(statement, *arguments)
        if not self.converters:
            return [tuple(record) for record in records]
        converted = []
        for record in records:
            values = list(record)
            for index, convert in self.converters:
                values[index] = convert(values[index])
            converted.append(tuple(values))
        return converted


_STATEMENTS: weakref.WeakKeyDictionary[Select[Any], DriverStatement] = weakref.WeakKeyDictionary()
_SEEN_ONCE: weakref.WeakSet[Select[Any]] = weakref.WeakSet()


def driver_statement(query: Select[Any], dialect: Dialect) -> DriverStatement | None:
    """The compiled form of a page statement executed before (kept as long as the statement), or
    None: on PostgreSQL only, from a statement's second execution (a statement built for one request
    is not worth compiling twice), and when this path handles it."""
    if dialect.name != "postgresql":
        return None
    found = _STATEMENTS.get(query)
    if found is None:
        if query not in _SEEN_ONCE:
            _SEEN_ONCE.add(query)
            return None
        found = _STATEMENTS[query] = DriverStatement(query, dialect)
    return found if found.usable else None


def data_errors() -> tuple[type[Exception], ...]:
    """The errors of values a statement could not evaluate (PostgreSQL's class 22), as SQLAlchemy
    raises them and as the driver's cursor does (evaluated in an ``except`` clause: only once an
    error is raised)."""
    from psycopg.errors import DataError as DriverDataError

    return (DataError, DriverDataError)
