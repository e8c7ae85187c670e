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

A statement with a pattern match (``LIKE``: ``contains``, ``startswith``, ``endswith``, ``indexof``) is
planned for each call's values instead: how many rows a pattern matches decides its plan (a trigram
bitmap, or walking an index in the page's order), and a prepared statement's generic plan, which
PostgreSQL adopts after five calls, cannot see the pattern. Measured on the seed's text filter
(``benchmarks/odata_jobs.py``, 1,000,000 jobs), the generic plan fetched and joined all ~30,000
matches to sort them for a page of two, twice the PostgreSQL time of the plan made for the pattern.
Such a statement runs on psycopg unprepared (an unnamed statement, planned at each call); planning
costs a fraction of a millisecond, the search far more.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DataError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression

from podium.db.asyncpg_connections import AsyncpgConnections
from podium.db.engine import driver_connection

Processor = Callable[[Any], Any]

PATTERN_OPERATORS = frozenset(
    getattr(operators, f"{negation}{case}{kind}_op")
    for negation in ("", "not_")
    for case in ("", "i")
    for kind in ("like", "contains", "startswith", "endswith")
)


def matches_patterns(query: Select[Any]) -> bool:
    """Whether the statement (its subqueries included) tests a value against a ``LIKE`` pattern."""
    return any(
        isinstance(element, BinaryExpression) and element.operator in PATTERN_OPERATORS
        for element in visitors.iterate(query)
    )


class CompiledForm:
    """A page statement compiled for one dialect (psycopg's named ``%(name)s`` parameters, asyncpg's
    positional ``$n``), with what SQLAlchemy does around an execution: each bind parameter through its
    type's bind processor, expanding ``IN`` parameters rendered per call, each result column through
    its type's result processor."""

    def __init__(self, query: Select[Any], dialect: Dialect) -> None:
        self.dialect = dialect
        self.compiled = compiled = query.compile(dialect=dialect)
        self.column_types = [column.type for column in query.selected_columns]
        self.bind_processors: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.bind_processors[name] = processor
        # without expanding or literal-rendered parameters the SQL never changes, and the values of
        # the parameters a call does not give (the scope's tenant...) are processed once, here
        self.fixed: dict[str, Any] | None = None
        if not compiled.post_compile_params and not compiled.literal_execute_params and self.usable:
            self.fixed = self._processed(compiled.construct_params(), self.bind_processors)

    @property
    def usable(self) -> bool:
        """Plain parameters (no escaped names, no schema translation): what this path handles."""
        return not self.compiled.escaped_bind_names and not self.compiled.schema_translate_map

    @staticmethod
    def _processed(values: Mapping[str, Any], processors: Mapping[str, Processor]) -> dict[str, Any]:
        return {
            name: processors[name](value) if name in processors else value for name, value in values.items()
        }

    def statement(self, params: Mapping[str, Any]) -> tuple[str, dict[str, Any], Sequence[str] | None]:
        """The SQL, its parameter values for one call and, for a positional dialect, their order."""
        fixed = self.fixed
        if fixed is not None and fixed.keys() >= params.keys():
            return (
                self.compiled.string,
                {**fixed, **self._processed(params, self.bind_processors)},
                (self.compiled.positiontup),
            )
        state = self.compiled.construct_expanded_state(dict(params))
        processors = {**self.bind_processors, **state.processors}
        return state.statement, self._processed(state.parameters, processors), state.positiontup

    def converters(self, type_codes: Sequence[Any]) -> list[tuple[int, Processor]]:
        """The result processors (column index, processor) for the columns' driver type codes."""
        found = [
            (index, kind.dialect_impl(self.dialect).result_processor(self.dialect, code))
            for index, (kind, code) in enumerate(zip(self.column_types, type_codes, strict=True))
        ]
        return [(index, processor) for index, processor in found if processor is not None]


def _converted(
    rows: Sequence[Sequence[Any]], converters: list[tuple[int, Processor]]
) -> list[tuple[Any, ...]]:
    if not converters:
        return [tuple(row) for row in rows]
    converted = []
    for row in rows:
        values = list(row)
        for index, convert in converters:
            values[index] = convert(values[index])
        converted.append(tuple(values))
    return converted


_ASYNCPG = asyncpg_dialect()  # type: ignore[no-untyped-call]


class DriverStatement:
    """One page statement, run on asyncpg in the app's loop and on psycopg (the reference) elsewhere."""

    def __init__(self, query: Select[Any], dialect: Dialect) -> None:
        self.query = query
        self.psycopg = CompiledForm(query, dialect)
        self._psycopg_converters: list[tuple[int, Processor]] | None = None  # at the first execution
        self._asyncpg: tuple[CompiledForm, list[tuple[int, Processor]]] | None = None  # at the first use
        self.planned_per_call = matches_patterns(query)  # see the module's docstring

    @property
    def usable(self) -> bool:
        return self.psycopg.usable

    async def rows(
        self, conn: AsyncConnection, params: Mapping[str, Any], fast: AsyncpgConnections | None = None
    ) -> list[tuple[Any, ...]]:
        """The rows of the page for ``params``: on asyncpg when ``fast`` can serve this loop, else (or
        when asyncpg fails, ``AsyncpgConnections.run``) on psycopg under ``conn``; a statement with a
        pattern on psycopg, unprepared."""
        if self.planned_per_call:
            return await self._psycopg_rows(conn, params, prepare=False)
        if fast is None:
            return await self._psycopg_rows(conn, params)
        return await fast.run(
            self.psycopg.compiled.string,
            lambda connection: self._asyncpg_rows(connection, params),
            lambda: self._psycopg_rows(conn, params),
            read_only=True,
        )

    async def _psycopg_rows(
        self, conn: AsyncConnection, params: Mapping[str, Any], prepare: bool | None = None
    ) -> list[tuple[Any, ...]]:
        """``prepare``: psycopg's (None: prepared from the connection's fifth call of the statement;
        False: never, so PostgreSQL plans every call for its values)."""
        statement, values, _ = self.psycopg.statement(params)
        async with (await driver_connection(conn)).cursor() as cursor:
            await cursor.execute(statement, values, prepare=prepare)
            fetched: list[tuple[Any, ...]] = await cursor.fetchall()
            if self._psycopg_converters is None:
                codes = [described.type_code for described in cursor.description or []]
                self._psycopg_converters = self.psycopg.converters(codes)
        return fetched if not self._psycopg_converters else _converted(fetched, self._psycopg_converters)

    async def _asyncpg_rows(self, connection: Any, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        if self._asyncpg is None:
            form = CompiledForm(self.query, _ASYNCPG)
            if not form.usable or form.compiled.positiontup is None:
                raise ValueError("not a plain positional statement")  # psycopg runs it (and keeps it)
            self._asyncpg = form, form.converters([None] * len(form.column_types))
        form, converters = self._asyncpg
        statement, values, order = form.statement(params)
        assert order is not None
        records = await connection.fetch(statement, *[values[name] for name in order])
        return _converted(records, converters)


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
