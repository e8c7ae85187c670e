"""Query options over rows a handler computes in Python instead of reading a table: a tenant's licence
use per machine or per user, a bucket's files.

``$filter`` and ``$orderby`` are compiled by the one compiler (``odata/filter.py``) and run by SQLite on
an in-memory table of those rows, so that they mean on these lists exactly what they mean on a stored
entity set (null handling, functions, enums, dates), without a second evaluator to keep in step. Then
``$skip``, ``$top``, ``$count`` and ``$select`` as the generic layer answers them. ``$expand`` has
nothing to expand here and is refused. The lists are small (a tenant's machines, a directory's files):
each call gets a fresh in-memory database, gone when the call ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
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

_SQL_TYPES: dict[Edm, type[sa.types.TypeEngine[Any]] | sa.types.TypeEngine[Any]] = {
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


def _queryable(field: Field) -> bool:
    return field.edm in _SQL_TYPES and not field.write_only


def _positions(row_type: RowType, rows: list[dict[str, Any]], options: QueryOptions) -> list[int]:
    """The positions of the rows that pass $filter, in $orderby's order (then the list's own)."""
    fields = [field for field in row_type.fields if _queryable(field)]
    table = sa.Table(
        "computed_rows",
        sa.MetaData(),
        sa.Column(_POSITION, sa.Integer, primary_key=True),
        *(sa.Column(f"c{i}", _SQL_TYPES[field.edm]) for i, field in enumerate(fields)),
    )
    columns = {field.name: (field, table.c[f"c{i}"]) for i, field in enumerate(fields)}

    def resolve(path: list[str]) -> ResolvedField:
        known = row_type.field(path[0]) if len(path) == 1 else None
        if known is None:
            name = "/".join(path)
            raise invalid_odata(f"Could not find a property named '{name}' on type '{row_type.name}'.")
        if known.write_only:
            raise invalid_odata(f"The property '{known.name}' cannot be used in a query.")
        found = columns.get(known.name)
        if found is None:  # a JSON value: the compiler refuses to compare it
            return ResolvedField(sa.null(), known.edm)
        field, column = found
        return ResolvedField(column, field.edm, field.enum)

    statement = sa.select(table.c[_POSITION])
    if options.filter is not None:
        statement = statement.where(compile_filter(parse_filter(options.filter), resolve, "sqlite"))
    if options.orderby is not None:
        for path, descending in parse_orderby(options.orderby):
            expr = resolve(path).expr
            statement = statement.order_by(expr.desc() if descending else expr.asc())
    statement = statement.order_by(table.c[_POSITION].asc())
    values = [
        {_POSITION: position, **{f"c{i}": _stored(f, row.get(f.name)) for i, f in enumerate(fields)}}
        for position, row in enumerate(rows)
    ]
    with _engine().connect() as conn:
        table.create(conn)
        if values:
            conn.execute(table.insert(), values)
        return list(conn.scalars(statement))


def _stored(field: Field, value: Any) -> Any:
    """A DTO value as its column holds it: an enum by its number, a date as a datetime."""
    if value is None:
        return None
    if field.edm is Edm.ENUM and field.enum is not None and isinstance(value, str):
        member = {m.name.lower(): m for m in field.enum}.get(value.lower())
        return None if member is None else int(member)
    if field.edm is Edm.DATETIME and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


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
