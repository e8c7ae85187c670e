"""Builds one SELECT per page from an entity set's declaration and the request's query options.

Navigation properties used in ``$filter``/``$orderby``/``$expand`` become LEFT OUTER JOINs (an ``or``
over a missing robot must not drop the job); collection-valued expansions are loaded with one extra
query per page. No query per row.

A field shown only with a permission (``Field.visible_with``) the caller lacks (``withheld``) is read
as null and compared and ordered as null: its column is never answered to that caller, whichever
option names it. Cached statements and projections are kept per set of withheld permissions.

A field of ``EntitySet.sealed`` (stored encrypted: the items of encrypted queues) is read as stored, with
the columns its opener needs, and opened once the page is read (``Shape.open_sealed``); $filter and
$orderby refuse it.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    ColumnElement,
    FromClause,
    Index,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    cast,
    func,
    literal,
    null,
    select,
)
from sqlalchemy.sql.elements import Label

from podium.db.types import UTCDateTime
from podium.errors import invalid_odata
from podium.odata.filter import Node, Slots, compile_filter, parse_orderby, parsed_template
from podium.odata.model import Edm, EntitySet, Field, Navigation, ResolvedField
from podium.odata.options import ExpandItem, QueryOptions
from podium.odata.registry import Registry
from podium.odata.serialize import Converter, converter, identity

if TYPE_CHECKING:
    from podium.http.context import RequestContext
    from podium.odata.lexer import Literal

DEFAULT_PAGE = 1000


@dataclass
class _Join:
    alias: FromClause
    entity_set: EntitySet
    nav: Navigation
    parent: FromClause


@dataclass
class Shape:
    """How to read one entity (and its single-valued expansions) out of a result row."""

    entity_set: EntitySet
    columns: list[tuple[str, str, Converter]]  # DTO name, row label, converter
    constants: list[tuple[str, Any]]
    key_label: str
    nested: list[tuple[str, Shape]] = field(default_factory=list)
    collections: list[tuple[Navigation, ExpandItem]] = field(default_factory=list)
    null_when: str | None = None  # label of the key column of a joined entity: NULL -> no entity
    # sealed fields read (stored values, opened by open_sealed) and the labels of their row's context
    sealed: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))
    # the entity of one result row: a generated function once the Shape is bound (see _reader)
    read: Callable[[Any], dict[str, Any] | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.read = self._read_fields
        self.has_sealed = False  # this entity or an expanded one reads sealed fields (set by bind)

    def bind(self, labels: list[Label[Any]]) -> Shape:
        """Turns column labels into positions in the result row (tuple access is the fast path)."""
        position = {label.name: index for index, label in enumerate(labels)}
        self._bind(position)
        return self

    def _bind(self, position: dict[str, int]) -> None:
        self._columns = [(name, position[label], convert) for name, label, convert in self.columns]
        self._key = position[self.key_label]
        self._context = [position[label] for label in self.sealed[1]]
        for _name, nested in self.nested:
            nested._bind(position)
        self.has_sealed = bool(self.sealed[0]) or any(nested.has_sealed for _, nested in self.nested)
        self.read = self._reader()

    def open_sealed(
        self, ctx: RequestContext, rows: Sequence[Any], dtos: Sequence[dict[str, Any] | None]
    ) -> None:
        """Opens, in place, the sealed fields of the entities read from ``rows`` (``Sealed``)."""
        names = self.sealed[0]
        if names and self.entity_set.sealed is not None:
            read = self.entity_set.sealed.opener(ctx)
            for row, dto in zip(rows, dtos, strict=True):
                if dto is not None:
                    context = tuple(row[index] for index in self._context)
                    for name in names:
                        dto[name] = read(name, dto[name], context)
        for name, nested in self.nested:
            if nested.has_sealed:
                nested.open_sealed(ctx, rows, [dto.get(name) if dto else None for dto in dtos])

    def _reader(self) -> Callable[[Any], dict[str, Any] | None]:
        """``read`` as one generated function returning a dict display: rows are read field by field
        for every row of every page, and a loop over (name, index, converter) triples cost three
        times as much."""
        namespace: dict[str, Any] = {}
        items: list[str] = []
        for number, (name, index, convert) in enumerate(self._columns):
            if convert is identity:
                items.append(f"{name!r}: row[{index}]")
            else:
                namespace[f"c{number}"] = convert
                items.append(f"{name!r}: c{number}(row[{index}])")
        for number, (name, value) in enumerate(self.constants):
            namespace[f"k{number}"] = value
            items.append(f"{name!r}: k{number}")
        for number, (name, shape) in enumerate(self.nested):
            namespace[f"n{number}"] = shape.read
            items.append(f"{name!r}: n{number}(row)")
        body = "{" + ", ".join(items) + "}"
        guard = ""
        if self.null_when is not None:
            guard = f"    if row[{self._key}] is None:\n        return None\n"
        exec(f"def read(row):\n{guard}    return {body}\n", namespace)  # names and indexes are ours
        reader: Callable[[Any], dict[str, Any] | None] = namespace["read"]
        return reader

    def key(self, row: Any) -> Any:
        return row[self._key]

    def _read_fields(self, row: Any) -> dict[str, Any] | None:
        if self.null_when is not None and row[self._key] is None:
            return None
        dto: dict[str, Any] = {}
        for name, index, convert in self._columns:
            dto[name] = convert(row[index])
        for name, value in self.constants:
            dto[name] = value
        for name, shape in self.nested:
            dto[name] = shape.read(row)
        return dto


class EntityQuery:
    """The joins, columns and conditions of a query over one entity set."""

    def __init__(
        self,
        registry: Registry,
        entity_set: EntitySet,
        dialect: str,
        withheld: frozenset[str] = frozenset(),
        tenant_id: int | None = None,
    ) -> None:
        self.registry = registry
        self.root = entity_set
        self.dialect = dialect
        self.withheld = withheld  # permissions the caller lacks: the fields they guard read as null
        # the caller's tenant, whose rows the query is limited to: $filter may find a navigation's
        # row by a property unique in it (key_lookup)
        self.tenant_id = tenant_id
        self.table = entity_set.table
        self._joins: dict[tuple[str, ...], _Join] = {}
        self._filter_paths: set[tuple[str, ...]] = set()  # joins $filter/$orderby need (the count's)

    # -- property paths -------------------------------------------------------------------------
    def _join(self, path: tuple[str, ...]) -> tuple[FromClause, EntitySet]:
        if not path:
            return self.table, self.root
        existing = self._joins.get(path)
        if existing is not None:
            return existing.alias, existing.entity_set
        parent, parent_set = self._join(path[:-1])
        last = path[-1]
        # "~Name": a lookup of Field.through (no $filter path can spell "~")
        if last.startswith("~"):
            nav = parent_set.lookup_by_name.get(last[1:])
        else:
            nav = parent_set.nav_by_name.get(last)
        if nav is None or nav.many:
            raise invalid_odata(f"'{'/'.join(path)}' is not a navigation property of {parent_set.type_name}.")
        target = self.registry.get(nav.target)
        if target is None:
            raise invalid_odata(f"'{'/'.join(path)}' cannot be navigated.")
        alias = target.table.alias(f"j{len(self._joins)}")
        self._joins[path] = _Join(alias, target, nav, parent)
        return alias, target

    def resolve(self, path: list[str]) -> ResolvedField:
        """Maps ``["Robot", "Id"]`` to SQL, adding the outer join it needs."""
        shortcut = self._foreign_key(path)
        if shortcut is not None:
            return shortcut
        *navs, last = path
        table, entity_set = self._join(tuple(navs))
        self._filter_paths.update(tuple(navs[:depth]) for depth in range(1, len(navs) + 1))
        found = entity_set.field(last)
        if found is None:
            nav = entity_set.nav_by_name.get(last)
            if nav is not None and not nav.many:  # "Robot eq null"
                return ResolvedField(table.c[nav.local], Edm.INT64)
            raise invalid_odata(f"Could not find a property named '{last}' on type '{entity_set.type_name}'.")
        if not found.stored:
            return ResolvedField(literal(found.constant), found.edm, found.enum)
        if found.write_only:
            raise invalid_odata(f"The property '{last}' cannot be used in a query.")
        if found.through is not None:
            lookup = (*navs, "~" + found.through)
            table, _ = self._join(lookup)
            self._filter_paths.add(lookup)
        column = table.c[str(found.column)]
        if self.hides(found):
            return ResolvedField(cast(null(), column.type), found.edm, found.enum)
        if entity_set.sealed is not None and found.name in entity_set.sealed.fields:
            raise invalid_odata(
                f"The property '{last}' cannot be used in $filter or $orderby: it may be stored encrypted."
            )
        return ResolvedField(column, found.edm, found.enum)

    def _sealed(self, entity_set: EntitySet, found: Field) -> bool:
        """Whether the field's value is read sealed, to be opened (``Sealed``)."""
        return (
            entity_set.sealed is not None and found.name in entity_set.sealed.fields and not self.hides(found)
        )

    def hides(self, found: Field) -> bool:
        """Whether the caller is served null for the field (it lacks the permission the field needs)."""
        return found.visible_with is not None and found.visible_with in self.withheld

    def _navigated(self, path: list[str]) -> tuple[Navigation, EntitySet, Field] | None:
        """``Nav/Property`` on one of the root's single-valued navigations, the property visible to the
        caller: the navigation, its target and the property; None for any other path."""
        if len(path) != 2:
            return None
        nav = self.root.nav_by_name.get(path[0])
        target = self.registry.get(nav.target) if nav is not None and not nav.many else None
        found = target.field(path[1]) if target is not None else None
        if nav is None or target is None or found is None or self.hides(found):
            return None
        return nav, target, found

    def _foreign_key(self, path: list[str]) -> ResolvedField | None:
        """``Robot/Id`` is this row's own ``robot_id``: no join needed (the foreign key guarantees the
        robot exists, and a missing robot is NULL either way)."""
        navigated = self._navigated(path)
        if navigated is None or navigated[2].column != navigated[0].remote:
            return None
        nav, _, found = navigated
        return ResolvedField(self.table.c[nav.local], found.edm, found.enum)

    def key_lookup(
        self, path: list[str]
    ) -> tuple[ResolvedField, Callable[[ColumnElement[Any]], ColumnElement[bool]]] | None:
        """``Robot/Name`` when a robot's name is unique in its tenant (``KeyLookup``): the condition
        ``jobs.robot_id = (SELECT id FROM robots WHERE tenant_id = <the caller's> AND name = <value>)``.
        The subquery gives at most one row (a unique constraint or a full unique index on the property,
        alone or with ``tenant_id``; ``=`` compares as that index does), and names no column of the outer
        query, so the database runs it once. Only for a query limited to one tenant (``tenant_id``),
        whose rows' navigations lead into that tenant, as the join's would."""
        navigated = self._navigated(path)
        if self.tenant_id is None or navigated is None or "tenant_id" not in self.table.c:
            return None
        nav, target, found = navigated
        if (
            not found.stored
            or found.write_only
            or found.through is not None
            or found.column == nav.remote  # Robot/Id: the row's own foreign key (_foreign_key)
            or (target.sealed is not None and found.name in target.sealed.fields)
            or "tenant_id" not in target.table.c
            or not unique_in_tenant(target.table, str(found.column))
        ):
            return None
        row = target.table.alias(f"key_{path[0].lower()}")
        column = row.c[str(found.column)]
        local = self.table.c[nav.local]
        tenant_id = self.tenant_id

        def condition(value: ColumnElement[Any]) -> ColumnElement[bool]:
            key = select(row.c[nav.remote]).where(row.c.tenant_id == tenant_id, column == value)
            equal: ColumnElement[bool] = local == key.correlate(None).scalar_subquery()
            return equal

        return ResolvedField(column, found.edm, found.enum), condition

    def from_clause(self, only: set[tuple[str, ...]] | None = None) -> FromClause:
        """The table with its outer joins (all of them, or those of the paths in ``only``)."""
        clause: FromClause = self.table
        for path, join in self._joins.items():
            if only is not None and path not in only:
                continue
            clause = clause.outerjoin(
                join.alias, join.alias.c[join.nav.remote] == join.parent.c[join.nav.local]
            )
        return clause

    # -- options -------------------------------------------------------------------------------------
    def where_filter(self, node: Node | None, slots: Slots | None = None) -> list[ColumnElement[bool]]:
        if node is None:
            return []
        return [compile_filter(node, self.resolve, self.dialect, slots, self.key_lookup)]

    def order_by(self, text: str | None) -> list[ColumnElement[Any]]:
        key = self.table.c[self.root.key_column]
        if text is None:
            return [key.asc()]
        clauses: list[ColumnElement[Any]] = []
        for path, descending in parse_orderby(text):
            expr = self.resolve(path).expr
            clause = expr.desc() if descending else expr.asc()
            if self.dialect == "postgresql" and self._may_be_null(expr):
                # null sorts lowest, as on SQL Server (Orchestrator) and SQLite; PostgreSQL's own
                # default is the other way round
                clause = clause.nulls_last() if descending else clause.nulls_first()
            clauses.append(clause)
        clauses.append(key.asc())
        return clauses

    def _may_be_null(self, expr: ColumnElement[Any]) -> bool:
        """False only for a NOT NULL column of the list's own table: its ORDER BY keeps the plain form
        an index serves. A column of a joined table (an outer join) may always be null."""
        return not (isinstance(expr, Column) and expr.table is self.table and not expr.nullable)

    def shape(
        self, select_names: list[str] | None, expand: list[ExpandItem], path: tuple[str, ...] = ()
    ) -> tuple[Shape, list[Label[Any]]]:
        """The columns to select for the entity at ``path`` and the Shape that reads them back."""
        table, entity_set = self._join(path)
        prefix = "_".join(path)
        labels: list[Label[Any]] = []
        key_label = f"{prefix}__key" if prefix else "__key"
        labels.append(table.c[entity_set.key_column].label(key_label))
        expanded = {item.name for item in expand}
        wanted = _selected_fields(entity_set, select_names, expanded)
        columns: list[tuple[str, str, Converter]] = []
        constants: list[tuple[str, Any]] = []
        sealed: list[str] = []
        for wanted_field in wanted:
            if wanted_field.stored:
                column = str(wanted_field.column)
                source = table
                if wanted_field.through is not None:
                    source, _ = self._join((*path, "~" + wanted_field.through))
                    column_label = f"{wanted_field.through}__{column}"
                else:
                    column_label = column
                label = f"{prefix}__{column_label}" if prefix else column_label
                stored = source.c[column]
                text_column = isinstance(stored.type, String)
                convert = converter(wanted_field, text_column)
                selected: ColumnElement[Any] = stored
                if self.hides(wanted_field):
                    convert = _withheld_value
                elif self._sealed(entity_set, wanted_field):
                    convert = identity  # the stored value, for open_sealed
                    sealed.append(wanted_field.name)
                elif wanted_field.edm is Edm.DATETIME and isinstance(stored.type, UTCDateTime):
                    selected = cast(stored, Text)  # read as the database writes it (format_stored_datetime)
                labels.append(selected.label(label))
                columns.append((wanted_field.name, label, convert))
            else:
                constants.append((wanted_field.name, wanted_field.constant))
        context: list[str] = []
        if sealed and entity_set.sealed is not None:
            context = [f"{prefix}__sealed__{column}" for column in entity_set.sealed.context]
            labels += [table.c[c].label(n) for c, n in zip(entity_set.sealed.context, context, strict=True)]
        shape = Shape(entity_set, columns, constants, key_label, null_when=key_label if path else None)
        shape.sealed = (sealed, context)
        for item in expand:
            nav = entity_set.nav_by_name.get(item.name)
            if nav is None:
                raise invalid_odata(
                    f"Could not find a navigation property named '{item.name}' "
                    f"on type '{entity_set.type_name}'."
                )
            if nav.many:
                shape.collections.append((nav, item))
                continue
            nested, nested_labels = self.shape(item.select, item.expand, (*path, item.name))
            shape.nested.append((item.name, nested))
            labels.extend(nested_labels)
        return shape, labels

    def page(
        self, options: QueryOptions, conditions: list[ColumnElement[bool]]
    ) -> tuple[Select[Any], Select[Any] | None, Shape, dict[str, Any]]:
        """The page query, the count query (with $count=true), the shape of the rows and the parameter
        values to execute both with.

        With $count the page query also carries the count, as its last column (an uncorrelated scalar
        subquery, evaluated once): one statement and one round trip answer both. The separate count
        query is only needed when the page is empty (``$skip`` past the end, ``$top=0``).

        Statements are kept per template (the filter without its literal values, the other options and
        the scope conditions with their values): a request of a known template only converts its
        literals, which spares building the statement and SQLAlchemy's cache key for it, most of a
        request's Python time.
        """
        node: Node | None = None
        shape_of_filter: Any = None
        literals: list[Literal] = []
        if options.filter is not None:
            node, shape_of_filter, kept_literals = parsed_template(options.filter)
            literals = list(kept_literals)
        key = _page_key(
            self.root.name, self.dialect, shape_of_filter, options, conditions, self.withheld, self.tenant_id
        )
        cached = _PAGES.get(key) if key is not None else None
        if cached is not None:
            params = cached.slots.values(literals)
            if params is not None:
                return cached.query, cached.count_query, cached.shape, params
        slots = Slots(literals)
        shape, labels = self._projection(options)  # first: the filter's joins continue its alias numbering
        where = conditions + self.where_filter(node, slots)
        count_query = None
        columns: list[Any] = list(labels)
        if options.count:
            count_from = self.from_clause(self._filter_paths)
            count_query = select(func.count()).select_from(count_from).where(and_(*where))
            columns.append(count_query.correlate(None).scalar_subquery().label("__count"))
        order = self.order_by(options.orderby)
        limit = options.top if options.top is not None else DEFAULT_PAGE
        query = select(*columns).select_from(self.from_clause()).where(and_(*where)).order_by(*order)
        query = query.limit(limit).offset(options.skip or None)
        if key is not None and slots.complete:
            if len(_PAGES) >= MAX_CACHED_PAGES:
                _PAGES.popitem(last=False)
            _PAGES[key] = _CachedPage(query, count_query, shape, slots)
        return query, count_query, shape, {}  # this statement's parameters hold this request's values

    def _projection(self, options: QueryOptions) -> tuple[Shape, list[Label[Any]]]:
        """The columns and Shape for $select/$expand, built once per distinct combination: they do not
        depend on the filter, and building them is most of a request's Python time."""
        key = (
            self.root.name,
            tuple(options.select) if options.select is not None else None,
            repr(options.expand),
            self.withheld,
        )
        cached = _PROJECTIONS.get(key)
        if cached is None:
            if len(_PROJECTIONS) > 512:
                _PROJECTIONS.clear()
            builder = EntityQuery(self.registry, self.root, self.dialect, self.withheld)
            shape, labels = builder.shape(options.select, options.expand)
            cached = _PROJECTIONS[key] = (dict(builder._joins), shape.bind(labels), labels)
        joins, shape, labels = cached
        self._joins = dict(joins)
        return shape, labels


_PROJECTIONS: dict[tuple[Any, ...], tuple[dict[tuple[str, ...], _Join], Shape, list[Label[Any]]]] = {}


@dataclass(frozen=True)
class _CachedPage:
    query: Select[Any]
    count_query: Select[Any] | None
    shape: Shape
    slots: Slots


MAX_CACHED_PAGES = 1024
_PAGES: OrderedDict[tuple[Any, ...], _CachedPage] = OrderedDict()  # oldest first; statements are immutable


def _page_key(
    entity_set: str,
    dialect: str,
    filter_template: Any,
    options: QueryOptions,
    conditions: list[ColumnElement[bool]],
    withheld: frozenset[str],
    tenant_id: int | None,
) -> tuple[Any, ...] | None:
    """What makes two requests' statements the same but for the filter's literals; None when a
    condition cannot be keyed (then nothing is cached)."""
    keyed: list[Any] = []
    for condition in conditions:
        cache_key = condition._generate_cache_key()  # SQLAlchemy's own statement cache key
        if cache_key is None:
            return None
        values = tuple(
            tuple(value) if isinstance(value, list) else value
            for value in (param.effective_value for param in cache_key.bindparams)
        )
        keyed.append((cache_key.key, values))
    select_names = tuple(options.select) if options.select is not None else None
    key = (
        entity_set,
        dialect,
        filter_template,
        select_names,
        repr(options.expand),
        options.orderby,
        options.top,
        options.skip,
        options.count,
        tuple(keyed),
        withheld,
        tenant_id,  # in the statement when $filter finds a row by a key (EntityQuery.key_lookup)
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


@functools.cache
def unique_in_tenant(table: Table, column: str) -> bool:
    """Whether no two rows of one tenant hold the same non-null ``column``: a unique constraint (or
    primary key), or a unique index on plain columns with no WHERE, on ``column`` or ``(tenant_id,
    column)``."""
    wanted = ({column}, {"tenant_id", column})
    for constraint in table.constraints:
        if (
            isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint)
            and {c.name for c in constraint.columns} in wanted
        ):
            return True
    return any(
        _full_unique_index(index) and {c.name for c in index.columns} in wanted for index in table.indexes
    )


def _full_unique_index(index: Index) -> bool:
    """A unique index on plain columns only (no expression) and over every row (no WHERE)."""
    partial = any(
        value is not None for name, value in index.dialect_kwargs.items() if name.endswith("_where")
    )
    return bool(index.unique) and not partial and len(index.expressions) == len(index.columns)


def _withheld_value(_value: Any) -> None:
    """The converter of a field the caller may not see."""
    return None


def _selected_fields(entity_set: EntitySet, names: list[str] | None, expanded: set[str]) -> list[Field]:
    """Fields named in $select (a navigation property named there is served by $expand)."""
    if names is None:
        return list(entity_set.fields)
    chosen: list[Field] = []
    for name in names:
        found = entity_set.field(name)
        if found is not None:
            chosen.append(found)
        elif name not in entity_set.nav_by_name:
            raise invalid_odata(f"Could not find a property named '{name}' on type '{entity_set.type_name}'.")
    return chosen
