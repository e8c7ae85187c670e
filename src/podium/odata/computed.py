"""Query options over rows a handler computes in Python instead of reading a table: licence use per
machine or per user, a bucket's files and directories, a folder's users with their roles, session
runtimes, what a job waits for, a folder's runtimes per type, machines' licence keys, the caller's
permissions.

``$filter`` and ``$orderby`` are compiled by the one compiler (``odata/filter.py``) and run by SQLite on
an in-memory table of those rows, so that they mean on these lists exactly what they mean on a stored
entity set (null handling, functions, enums, dates), without a second evaluator to keep in step. Then
``$skip``, ``$top``, ``$count`` and ``$select`` as the generic layer answers them. ``$expand`` has
nothing to expand here and is refused. The lists are small (a tenant's machines, a directory's files):
each call gets a fresh in-memory database, gone when the call ends. Strings sort by code point, as on
SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from podium.db.engine import configure_sqlite
from podium.db.types import UTCDateTime
from podium.errors import invalid_odata
from podium.odata.filter import compile_filter, parse_filter, parse_orderby
from podium.odata.model import Edm, EntitySet, Field, ResolvedField
from podium.odata.options import QueryOptions

_SQL_TYPES: dict[Edm, sa.types.TypeEngine[Any]] = {
    Edm.STRING: sa.String(),
    Edm.GUID: sa.String(),
    Edm.INT32: sa.BigInteger(),
    Edm.INT64: sa.BigInteger(),
    Edm.BOOLEAN: sa.Boolean(),
    Edm.DATETIME: UTCDateTime(),
    Edm.DOUBLE: sa.Float(),
    Edm.ENUM: sa.Integer(),
}
_POSITION = "_position"  # the row's place in the handler's list: the order when $orderby ties or is absent


@dataclass(frozen=True)
class ComputedPage:
    rows: list[dict[str, Any]]
    count: int | None  # None with $count=false


@dataclass(frozen=True)
class RowType:
    """The DTO of the computed rows: its name (in error messages) and its properties."""

    name: str
    fields: Sequence[Field]

    @classmethod
    def of(cls, entity_set: EntitySet) -> RowType:
        return cls(entity_set.type_name, entity_set.fields)

    def field(self, name: str) -> Field | None:
        return next((field for field in self.fields if field.name == name), None)


def query_rows(row_type: RowType, rows: list[dict[str, Any]], options: QueryOptions) -> ComputedPage:
    """The page of ``rows`` (DTOs of ``row_type``, in their natural order) that ``options`` ask for."""
    if options.expand:
        raise invalid_odata(f"$expand is not supported on this list of {row_type.name}.")
    names = _selected(row_type, options.select)
    matching = rows
    if options.filter is not None or options.orderby is not None:
        matching = [rows[i] for i in _positions(row_type, rows, options)]
    count = len(matching) if options.count else None
    end = None if options.top is None else options.skip + options.top
    page = matching[options.skip : end]
    if names is not None:
        page = [{name: row.get(name) for name in names} for row in page]
    return ComputedPage(page, count)


def _selected(row_type: RowType, select: list[str] | None) -> list[str] | None:
    """The DTO names $select keeps, spelled as the DTO spells them; 400 for a name it does not have."""
    if select is None:
        return None
    names: list[str] = []
    for name in select:
        found = row_type.field(name)
        if found is None:
            raise invalid_odata(f"Could not find a property named '{name}' on type '{row_type.name}'.")
        names.append(found.name)
    return names


def _positions(row_type: RowType, rows: list[dict[str, Any]], options: QueryOptions) -> list[int]:
    """The positions of the rows that pass $filter, in $orderby's order (then the list's own). The table
    holds only the properties the options name (found while they compile), so that a list of many rows
    is not converted whole."""
    position = sa.Column(_POSITION, sa.Integer, primary_key=True)
    used: dict[str, tuple[Field, sa.Column[Any]]] = {}

    def resolve(path: list[str]) -> ResolvedField:
        known = row_type.field(path[0]) if len(path) == 1 else None
        if known is None:
            name = "/".join(path)
            raise invalid_odata(f"Could not find a property named '{name}' on type '{row_type.name}'.")
        if known.write_only:
            raise invalid_odata(f"The property '{known.name}' cannot be used in a query.")
        if known.edm not in _SQL_TYPES:  # a JSON value: the compiler refuses to compare it
            return ResolvedField(sa.null(), known.edm)
        if known.name not in used:
            used[known.name] = (known, sa.Column(f"c{len(used)}", _SQL_TYPES[known.edm]))
        column = used[known.name][1]
        return ResolvedField(column, known.edm, known.enum)

    statement = sa.select(position)
    if options.filter is not None:
        statement = statement.where(compile_filter(parse_filter(options.filter), resolve, "sqlite"))
    if options.orderby is not None:
        for path, descending in parse_orderby(options.orderby):
            expr = resolve(path).expr
            statement = statement.order_by(expr.desc() if descending else expr.asc())
    statement = statement.order_by(position.asc())
    table = sa.Table("computed_rows", sa.MetaData(), position, *(column for _, column in used.values()))
    converters = [(column.name, field.name, _converter(field)) for field, column in used.values()]
    values = [
        {_POSITION: place, **{column: convert(row.get(name)) for column, name, convert in converters}}
        for place, row in enumerate(rows)
    ]
    with _engine().connect() as conn:
        table.create(conn)
        if values:
            conn.execute(table.insert(), values)
        return list(conn.scalars(statement))


def _converter(field: Field) -> Callable[[Any], Any]:
    """How a DTO value is stored in its column: an enum by its number (its name, any case), a date as a
    datetime; anything else as it is."""
    if field.edm is Edm.ENUM and field.enum is not None:
        numbers = {member.name.lower(): int(member) for member in field.enum}
        return lambda value: numbers.get(value.lower()) if isinstance(value, str) else value
    if field.edm is Edm.DATETIME:
        return lambda value: dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return lambda value: value


_ENGINE: sa.Engine | None = None


def _engine() -> sa.Engine:
    """One engine; NullPool gives every connection its own in-memory database, dropped on close."""
    global _ENGINE
    if _ENGINE is None:
        engine = sa.create_engine("sqlite://", poolclass=NullPool)

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            configure_sqlite(dbapi_connection, immediate=False)  # LIKE as on the database: case-sensitive

        _ENGINE = engine
    return _ENGINE
