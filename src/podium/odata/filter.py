"""OData ``$filter``: the one parser and its SQL compiler; and the ``$orderby`` parser.

``parse_filter`` turns the (already URL-decoded) text into a small AST of frozen dataclasses (defined
with the tokenizer and parser in :mod:`podium.odata.lexer`); ``compile_filter`` turns the AST into a
SQLAlchemy condition for SQLite or PostgreSQL, resolving property paths through the caller's
:data:`~podium.odata.model.FieldResolver`. User values are always bound parameters. Every problem in the
user's text raises ``invalid_odata`` (HTTP 400).

Semantics worth knowing:

* ``eq``/``ne`` on a property are null-aware: ``Info ne 'x'`` keeps rows whose Info is null (OData's
  ``null ne 'x'`` is true) and ``Info eq Robot/Name`` holds when both are null; on computed values
  (``indexof(Info,'x') ne -1``) they are plain SQL. ``eq null`` / ``ne null`` are IS [NOT] NULL.
* ``not`` reads a comparison that OData calls false on a null operand (``eq``, ``in``, ``gt``/``ge``/
  ``lt``/``le``) as false, where SQL's would be unknown: ``not (Robot/Name eq 'X')`` keeps the jobs
  without a robot, as ``Robot/Name ne 'X'`` does (MS-ODATA 2.2.3.6.1.1.5, lifted operators).
* enum properties (``Edm.ENUM`` with an ``IntEnum``) accept member names (any case), numeric strings and
  integers, and qualified enum literals; anything else is a 400 naming the allowed values.
* date parts and ``date()`` are taken in UTC whatever the session time zone is.
* arithmetic runs on ``numeric`` on PostgreSQL (no overflow errors) and ``div``/``mod`` by zero is null.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import operator
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.sql.elements import BindParameter, Cast, Grouping, UnaryExpression
from sqlalchemy.sql.functions import FunctionElement

from podium.db.types import UTCDateTime
from podium.errors import invalid_odata
from podium.odata.lexer import (
    INT64_MAX,
    INT64_MIN,
    Binary,
    BoolOp,
    Call,
    In,
    Literal,
    LitKind,
    Node,
    Parser,
    Path,
    Tok,
    Unary,
    check_size,
    tokenize,
)
from podium.odata.model import Edm, FieldResolver, KeyLookup, ResolvedField

__all__ = ["Node", "Slots", "compile_filter", "parse_filter", "parse_orderby", "parsed_template", "template"]


def parse_filter(text: str) -> Node:
    """Parse a ``$filter`` value into an AST; 400 on any problem."""
    parser = Parser(tokenize(text))
    node = parser.expr(0)
    parser.expect(Tok.EOF)
    check_size(node)
    return node


Template = tuple[Any, ...]
_STRUCTURAL = (LitKind.NULL, LitKind.BOOL)  # literals whose value is part of the template


def template(node: Node) -> tuple[Template, list[Literal]]:
    """The filter with its literal values taken out, and those literals in order.

    Two filters with the same template compile to the same SQL but for their parameters' values:
    ``Robot/Id eq 7 and State eq 'Successful'`` and ``Robot/Id eq 9 and State eq 'Faulted'`` share one.
    ``null``/``true``/``false`` stay in the template (they decide the SQL's shape).
    """
    literals: list[Literal] = []

    def walk(item: Node) -> Any:
        if isinstance(item, Literal):
            if item.kind in _STRUCTURAL:
                return ("L", item.kind, item.value)
            literals.append(item)
            return ("L", item.kind, item.type_name)
        if isinstance(item, Path):
            return ("P", item.segments)
        if isinstance(item, BoolOp):
            return ("O", item.op, tuple(walk(part) for part in item.operands))
        if isinstance(item, Binary):
            test = _indexof_test(item)
            if test is not None:  # compiled as [NOT] LIKE: its -1/0 is part of the SQL's shape
                return ("X", test[2], walk(test[0].args[0]), walk(test[1]))
            return ("B", item.op, walk(item.left), walk(item.right))
        if isinstance(item, Call):
            return ("C", item.name, tuple(walk(arg) for arg in item.args))
        if isinstance(item, Unary):
            return ("U", item.op, walk(item.operand))
        return ("I", walk(item.operand), tuple(walk(part) for part in item.items))

    return walk(node), literals


PARSED_FILTERS = 4096
"""Filter texts whose parse is kept (``parsed_template``)."""


@functools.lru_cache(maxsize=PARSED_FILTERS)
def parsed_template(text: str) -> tuple[Node, Template, tuple[Literal, ...]]:
    """The AST of a ``$filter`` text, its template and its literals, kept for the texts seen last.

    Clients send the same filter texts again and again (a robot or the SDK polling a job by its id, a
    dashboard refreshing its lists); tokenizing, parsing and bounding one costs ~40 µs, a twentieth of
    a list request. The nodes are frozen, so one parse serves every request of that text. A text that
    does not parse raises each time (nothing is kept for it)."""
    node = parse_filter(text)
    shape, literals = template(node)
    return node, shape, tuple(literals)


KNOWN_VALUES = 4096  # converted literal values kept per filter template (Slots.values)


class Slots:
    """Records, while one filter compiles, which literal became which named parameter and how its value
    was converted (an enum name to its number, a GUID to lower case...), so that a later filter of the
    same template needs only the conversions, not a new compile.

    A literal whose value is used any other way (``contains`` patterns, ``substring`` bounds, ``has``)
    is not recorded, and the template is then not reusable: ``complete`` says so.
    """

    def __init__(self, literals: list[Literal]) -> None:
        self._literals = len(literals)
        self._position = {id(lit): index for index, lit in enumerate(literals)}
        self._converters: dict[int, tuple[Callable[[Literal], ColumnElement[Any]], type[Any]]] = {}
        self._spoiled = False
        # converted values by (slot, literal): a conversion builds a SQLAlchemy literal only to read
        # its value back, ~25 us each; the same values come again (states, ids, names)
        self._known: dict[tuple[Any, ...], Any] = {}

    def record(
        self, lit: Literal, sql: ColumnElement[Any], convert: Callable[[Literal], ColumnElement[Any]]
    ) -> ColumnElement[Any]:
        if lit.kind in _STRUCTURAL:
            return sql
        index = self._position.get(id(lit))
        if index is None or index in self._converters or not isinstance(sql, BindParameter):
            self._spoiled = True
            return sql
        self._converters[index] = (convert, type(sql.type))
        return sa.bindparam(self.name(index), sql.value, type_=sql.type)

    @property
    def complete(self) -> bool:
        return not self._spoiled and len(self._converters) == self._literals

    @staticmethod
    def name(index: int) -> str:
        return f"odata_filter_{index}"

    def values(self, literals: list[Literal]) -> dict[str, Any] | None:
        """The parameters for another filter of the same template (400 for a bad literal, as a compile
        would); None when a conversion took another path than the recorded one."""
        params: dict[str, Any] = {}
        for index, (convert, type_class) in self._converters.items():
            lit = literals[index]
            key = (index, lit.kind, type(lit.value), lit.value)
            try:
                params[self.name(index)] = self._known[key]
                continue
            except (KeyError, TypeError):  # TypeError: a value that cannot be a key
                pass
            sql = convert(lit)
            if not isinstance(sql, BindParameter) or type(sql.type) is not type_class:
                return None
            params[self.name(index)] = sql.value
            if len(self._known) >= KNOWN_VALUES:
                self._known.clear()
            with contextlib.suppress(TypeError):
                self._known[key] = sql.value
        return params


def parse_orderby(text: str) -> list[tuple[list[str], bool]]:
    """``"Robot/Name desc, Id"`` -> ``[(["Robot", "Name"], True), (["Id"], False)]``; 400 on errors."""
    parser = Parser(tokenize(text, "$orderby"))
    result: list[tuple[list[str], bool]] = []
    while True:
        path = [parser.expect(Tok.IDENT).text]
        while parser.accept(Tok.SLASH):
            path.append(parser.expect(Tok.IDENT).text)
        word = parser.peek().text.lower()
        if parser.peek().kind is Tok.IDENT and word in ("asc", "desc"):
            parser.next()
        result.append((path, word == "desc"))
        if parser.accept(Tok.EOF):
            return result
        parser.expect(Tok.COMMA)


def compile_filter(
    node: Node,
    resolve: FieldResolver,
    dialect: str,
    slots: Slots | None = None,
    key_lookup: KeyLookup | None = None,
) -> ColumnElement[bool]:
    """Compile a parsed ``$filter`` to a condition; ``dialect`` is ``"sqlite"`` or ``"postgresql"``.

    With ``slots`` (from :func:`template`), each literal becomes a *named* parameter and ``slots``
    records how its value was converted, so that the compiled condition can serve every later filter
    of the same template with new values (see ``Slots.values``). With ``key_lookup``, ``Nav/Property eq
    <value>`` on a property unique in the tenant becomes the condition it gives (see ``KeyLookup``)."""
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported dialect {dialect!r}")
    try:
        value = _Compiler(resolve, dialect == "postgresql", slots, key_lookup).value(node)
    except RecursionError:  # pragma: no cover - parse_filter bounds the depth
        raise invalid_odata("The $filter expression is too complex.") from None
    if value.kind is not Kind.BOOL:
        raise invalid_odata(f"The $filter expression must be a condition, not {value.kind.value}.")
    _check_sql_shape(value.sql, sqlite=dialect == "sqlite")
    return cast("ColumnElement[bool]", value.sql)


MAX_SQL_DEPTH = 120
"""Deepest SQL expression tree compile_filter returns. SQLAlchemy renders SQL recursively, about 3.5
stack frames a level, so this keeps rendering far from Python's recursion limit (1000) even when the
caller is deep in a stack. A function call is about 3 levels (with grouping and argument list)."""

SQLITE_MAX_PENDING = 60
"""SQLite (before 3.46) parses with a fixed stack of 100 entries ("parser stack overflow"). An entry
is held by each token still open on the way to the deepest token: ``(``, ``f(``, ``CAST(``, ``x -``,
``a OR b AND (``... This bounds their number, leaving room for the query around the condition."""


def _check_sql_shape(root: ColumnElement[Any], sqlite: bool) -> None:
    stack: list[tuple[Any, int, int]] = [(root, 1, 0)]
    while stack:
        element, depth, pending = stack.pop()
        if depth > MAX_SQL_DEPTH or (sqlite and pending > SQLITE_MAX_PENDING):
            raise invalid_odata("The $filter expression is nested too deeply.")
        pending += _opening_tokens(element)
        for index, child in enumerate(element.get_children()):
            stack.append((child, depth + 1, pending + (2 if index else 0)))  # `left op` / `a,`


def _opening_tokens(element: Any) -> int:
    if isinstance(element, Grouping | UnaryExpression):
        return 1  # `(`, `NOT`
    if isinstance(element, FunctionElement | Cast):
        return 2  # `f` and an empty `distinct`, `CAST (`; the function's `(` is a Grouping
    return 0


class Kind(enum.Enum):
    """The OData type of a compiled expression."""

    STRING = "a string"
    INT = "an integer"
    NUMBER = "a number"
    BOOL = "a boolean"
    DATETIME = "a datetime"
    DATE = "a date"
    GUID = "a GUID"
    ENUM = "an enum"
    NULL = "null"


_EDM_KIND = {
    Edm.STRING: Kind.STRING,
    Edm.INT32: Kind.INT,
    Edm.INT64: Kind.INT,
    Edm.BOOLEAN: Kind.BOOL,
    Edm.DATETIME: Kind.DATETIME,
    Edm.GUID: Kind.GUID,
    Edm.DOUBLE: Kind.NUMBER,
    Edm.ENUM: Kind.ENUM,
}
_FAMILY = {Kind.GUID: Kind.STRING, Kind.NUMBER: Kind.INT, Kind.ENUM: Kind.INT}  # comparable kinds
_ACCEPTS = {  # literal kinds an expression of a kind can be compared with
    Kind.STRING: (LitKind.STRING, LitKind.GUID),
    Kind.INT: (LitKind.INT, LitKind.DECIMAL),
    Kind.NUMBER: (LitKind.INT, LitKind.DECIMAL),
    Kind.BOOL: (LitKind.BOOL,),
    Kind.DATETIME: (LitKind.DATETIME, LitKind.DATE),
    Kind.DATE: (LitKind.DATE,),
    Kind.GUID: (LitKind.GUID,),
}
_LITERAL_TYPES: dict[LitKind, tuple[Kind, Callable[[], sa.types.TypeEngine[Any]]]] = {
    LitKind.STRING: (Kind.STRING, sa.String),
    LitKind.DECIMAL: (Kind.NUMBER, sa.Float),
    LitKind.BOOL: (Kind.BOOL, sa.Boolean),
    LitKind.DATETIME: (Kind.DATETIME, UTCDateTime),
    LitKind.DATE: (Kind.DATE, sa.Date),
    LitKind.GUID: (Kind.GUID, sa.String),
}
_Op = Callable[[Any, Any], ColumnElement[Any]]
_ORDERING: dict[str, _Op] = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
_ARITHMETIC: dict[str, _Op] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "mod": operator.mod,
    "div": lambda x, y: x.op("/", precedence=8)(y),  # plain SQL `/`: integer division on integers
}
_NUMBERS = (Kind.INT, Kind.NUMBER)
_DATE_PARTS = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M", "second": "%S"}
_STRING_FUNCTIONS = {"tolower": sa.func.lower, "toupper": sa.func.upper, "trim": sa.func.trim}
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_GUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class _Value:
    sql: ColumnElement[Any]
    kind: Kind
    enum: type[enum.IntEnum] | None = None
    # A condition whose SQL is null where OData's answer is false: `Info eq 'x'` or `EndTime lt …` on a
    # null property (OData: equality with null is false, so is ordering). At the top of a WHERE, null
    # and false both drop the row; under `not` they differ, so `not` reads null as false there.
    null_means_false: bool = False


_Operand = _Value | Literal  # a literal stays unbound until the other side's type is known


class _Compiler:
    def __init__(
        self,
        resolve: FieldResolver,
        pg: bool,
        slots: Slots | None = None,
        key_lookup: KeyLookup | None = None,
    ) -> None:
        self._resolve = resolve
        self._pg = pg
        self._slots = slots
        self._key_lookup = key_lookup

    def _param(
        self, lit: Literal, sql: ColumnElement[Any], convert: Callable[[Literal], ColumnElement[Any]]
    ) -> ColumnElement[Any]:
        """The literal's bound value, as a named parameter when slots are being recorded."""
        return sql if self._slots is None else self._slots.record(lit, sql, convert)

    def _bound(self, lit: Literal) -> _Value:
        bound = _bind(lit)
        return _Value(self._param(lit, bound.sql, _bound_sql), bound.kind, bound.enum)

    def _typed_pair(self, left: _Operand, right: _Operand) -> tuple[_Value, _Value]:
        if isinstance(left, Literal):
            if isinstance(right, Literal):
                return self._bound(left), self._bound(right)
            convert_left = _coercer(right)
            return _Value(self._param(left, convert_left(left), convert_left), right.kind, right.enum), right
        if isinstance(right, Literal):
            convert_right = _coercer(left)
            return left, _Value(self._param(right, convert_right(right), convert_right), left.kind, left.enum)
        return left, right

    def value(self, node: Node) -> _Value:
        if isinstance(node, Literal):
            return self._bound(node)
        if isinstance(node, Path):
            return self._path(node)
        if isinstance(node, BoolOp):
            parts = [_expect(self.value(part), (Kind.BOOL,), f"'{node.op}'") for part in node.operands]
            sql = [part.sql for part in parts]
            joined = sa.and_(*sql) if node.op == "and" else sa.or_(*sql)
            return _Value(joined, Kind.BOOL, null_means_false=any(part.null_means_false for part in parts))
        if isinstance(node, Unary):
            return self._unary(node)
        if isinstance(node, In):
            return self._in(node)
        if isinstance(node, Call):
            return self._call(node)
        if node.op in _ARITHMETIC:
            return self._arithmetic(node)
        return self._has(node) if node.op == "has" else self._compare(node)

    def operand(self, node: Node) -> _Operand:
        return node if isinstance(node, Literal) else self.value(node)

    def _path(self, node: Path) -> _Value:
        return self._field(self._resolve(list(node.segments)), node)

    def _field(self, field: ResolvedField, node: Path) -> _Value:
        kind = _EDM_KIND.get(field.edm)
        if kind is None:
            raise invalid_odata(f"The property '{'/'.join(node.segments)}' cannot be used in $filter.")
        if kind is Kind.ENUM and field.enum is None:
            kind = Kind.INT
        return _Value(field.expr, kind, field.enum)

    def _unary(self, node: Unary) -> _Value:
        if node.op == "not":
            value = _expect(self.value(node.operand), (Kind.BOOL,), "'not'")
            operand = sa.func.coalesce(value.sql, sa.false()) if value.null_means_false else value.sql
            return _Value(sa.not_(operand), Kind.BOOL)
        value = _expect(self.value(node.operand), _NUMBERS, "'-'")
        return _Value(sa.literal_column("0") - self._num(value), value.kind)  # never renders `--`

    def _compare(self, node: Binary) -> _Value:
        test = _indexof_test(node) if self._pg else None
        if test is not None:
            call, pattern, found = test
            subject = _expect(self.value(call.args[0]), (Kind.STRING,), "indexof()").sql
            like = self._like_literal("contains", subject, pattern)
            # as the generic comparison below would say: only `ne` keeps a null unknown
            return _Value(like if found else sa.not_(like), Kind.BOOL, null_means_false=node.op != "ne")
        by_key = self._by_key(node) if node.op == "eq" else None
        if by_key is not None:
            return by_key
        left, right = self.operand(node.left), self.operand(node.right)
        if _is_null(left) or _is_null(right):
            return _Value(_null_compare(node.op, left, right), Kind.BOOL)
        # A property may be null, and OData's `null ne 'x'` is true: eq/ne on properties are null-aware.
        null_aware = isinstance(node.left, Path) or isinstance(node.right, Path)
        with_literal = isinstance(left, Literal) or isinstance(right, Literal)
        a, b = self._typed_pair(left, right)
        _check_comparable(node.op, a, b)
        if node.op == "eq":
            plain = not null_aware or with_literal
            sql = a.sql == b.sql if plain else a.sql.is_not_distinct_from(b.sql)
            return _Value(sql, Kind.BOOL, null_means_false=plain)
        if node.op == "ne":
            # on computed values plain SQL: null stays unknown (see the module's docstring)
            return _Value(a.sql.is_distinct_from(b.sql) if null_aware else a.sql != b.sql, Kind.BOOL)
        return _Value(_ORDERING[node.op](a.sql, b.sql), Kind.BOOL, null_means_false=True)

    def _by_key(self, node: Binary) -> _Value | None:
        """``Robot/Name eq 'X'`` as the condition of ``KeyLookup`` (the row's foreign key equals the one
        robot's id, found by a subquery), not through a join: a join's row count is a guess to the
        planner, which then walked the jobs in page order until ten matched (~11,000 rows a page on
        1,000,000 jobs), where one robot id lets it read that robot's jobs from an index. Equal to the
        join's answer: a row without a robot, or whose robot is not named so, fails both."""
        if isinstance(node.left, Path) and isinstance(node.right, Literal):
            path, lit = node.left, node.right
        elif isinstance(node.right, Path) and isinstance(node.left, Literal):
            path, lit = node.right, node.left
        else:
            return None
        if lit.kind is LitKind.NULL or self._key_lookup is None:
            return None
        found = self._key_lookup(list(path.segments))
        if found is None:
            return None
        field, condition = found
        target = self._field(field, path)
        convert = _coercer(target)
        value = _Value(self._param(lit, convert(lit), convert), target.kind, target.enum)
        _check_comparable("eq", target, value)
        return _Value(condition(value.sql), Kind.BOOL, null_means_false=True)

    def _in(self, node: In) -> _Value:
        first = self.operand(node.operand)
        left = self._bound(first) if isinstance(first, Literal) else first
        if left.kind is Kind.NULL:
            raise invalid_odata("'null in (...)' is not supported; use 'eq null'.")
        values: list[ColumnElement[Any]] = []
        clauses: list[ColumnElement[bool]] = []
        for item in node.items:
            operand = self.operand(item)
            if _is_null(operand):
                clauses = [left.sql.is_(None)]
                continue
            value = self._typed_pair(left, operand)[1]
            _check_comparable("eq", left, value)
            values.append(value.sql)
        if values:
            clauses.append(left.sql.in_(values))
        return _Value(sa.or_(*clauses), Kind.BOOL, null_means_false=bool(values))

    def _has(self, node: Binary) -> _Value:
        left = self.operand(node.left)
        if isinstance(left, Literal) or left.kind is not Kind.ENUM or not isinstance(node.right, Literal):
            raise invalid_odata("'has' needs an enum property on the left and an enum value on the right.")
        flag = _coerce(node.right, left)
        return _Value(left.sql.op("&")(flag) == _coerce(node.right, left), Kind.BOOL)

    def _arithmetic(self, node: Binary) -> _Value:
        a = _expect(self.value(node.left), _NUMBERS, f"'{node.op}'")
        b = _expect(self.value(node.right), _NUMBERS, f"'{node.op}'")
        kind = Kind.INT if a.kind is Kind.INT and b.kind is Kind.INT else Kind.NUMBER
        x, y = self._num(a), self._num(b)
        if node.op in ("div", "mod"):
            y = sa.func.nullif(y, sa.literal_column("0"), type_=y.type)  # x/0 is null, as on SQLite
        if node.op == "div" and self._pg and kind is Kind.INT:
            return _Value(sa.func.div(x, y, type_=sa.Numeric()), kind)  # integer division on numeric
        return _Value(_ARITHMETIC[node.op](x, y), kind)

    def _num(self, value: _Value) -> ColumnElement[Any]:
        return sa.cast(value.sql, sa.Numeric()) if self._pg else value.sql

    def _call(self, node: Call) -> _Value:
        name, args = node.name, node.args
        if name in ("contains", "startswith", "endswith"):
            return self._like(name, args[0], args[1])
        if name in _DATE_PARTS:
            return self._date_part(name, args[0])
        if name == "date":
            return self._date(args[0])
        if name == "substring":
            return self._substring(args)
        strings = [_expect(self.value(arg), (Kind.STRING,), f"{name}()").sql for arg in args]
        if name == "indexof":
            position = sa.func.strpos if self._pg else sa.func.instr
            return _Value(position(*strings, type_=sa.Integer()) - 1, Kind.INT)
        if name == "length":
            return _Value(sa.func.length(strings[0], type_=sa.Integer()), Kind.INT)
        if name == "concat":
            return _Value(strings[0].concat(strings[1]), Kind.STRING)
        return _Value(_STRING_FUNCTIONS[name](strings[0], type_=sa.String()), Kind.STRING)

    def _substring(self, args: tuple[Node, ...]) -> _Value:
        """OData positions are 0-based, SQL's 1-based: substring(s, i[, n]) is substr(s, i + 1[, n])."""
        subject = _expect(self.value(args[0]), (Kind.STRING,), "substring()").sql
        bounds = [self._index(arg, offset) for arg, offset in zip(args[1:], (1, 0), strict=False)]
        return _Value(sa.func.substr(subject, *bounds, type_=sa.String()), Kind.STRING)

    def _date(self, node: Node) -> _Value:
        value = _expect(self.value(node), (Kind.DATETIME,), "date()")
        if self._pg:
            return _Value(sa.cast(self._utc(value), sa.Date()), Kind.DATE)
        return _Value(sa.func.date(value.sql, type_=sa.Date()), Kind.DATE)

    def _like(self, name: str, subject_node: Node, pattern_node: Node) -> _Value:
        subject = _expect(self.value(subject_node), (Kind.STRING,), f"{name}()").sql
        if isinstance(pattern_node, Literal) and pattern_node.kind is LitKind.STRING:
            return _Value(self._like_literal(name, subject, pattern_node), Kind.BOOL)
        pattern = _expect(self.value(pattern_node), (Kind.STRING,), f"{name}()").sql
        for char in ("/", "%", "_"):  # escape in SQL: the pattern is an expression
            pattern = sa.func.replace(pattern, char, "/" + char, type_=sa.String())
        percent = sa.literal("%", sa.String())
        if name != "startswith":
            pattern = percent.concat(pattern)
        if name != "endswith":
            pattern = pattern.concat(percent)
        return _Value(subject.like(pattern, escape="/"), Kind.BOOL)

    def _like_literal(self, name: str, subject: ColumnElement[Any], lit: Literal) -> ColumnElement[bool]:
        """``subject LIKE :pattern ESCAPE '/'`` with the whole pattern (``%`` included) one parameter, so
        that PostgreSQL's trigram indexes (migration 0013) serve it and the template stays reusable."""

        def pattern(item: Literal) -> ColumnElement[Any]:
            text = str(item.value).replace("/", "//").replace("%", "/%").replace("_", "/_")
            head = "" if name == "startswith" else "%"
            tail = "" if name == "endswith" else "%"
            return sa.literal(head + text + tail, sa.String())

        return subject.like(self._param(lit, pattern(lit), pattern), escape="/")

    def _index(self, node: Node, offset: int) -> ColumnElement[Any]:
        """A 0-based position/length, clamped to [0, 2**31 - 1) (both backends read int4) + ``offset``."""
        if isinstance(node, Literal) and node.kind is LitKind.INT and isinstance(node.value, int):
            return sa.literal(min(max(node.value, 0), _INT32_MAX - 1) + offset, sa.Integer())
        value = _expect(self.value(node), (Kind.INT,), "substring()").sql
        if self._pg:  # least/greatest skip nulls: keep a null position null, as SQLite's min/max do
            clamped = sa.func.least(sa.func.greatest(value, 0), _INT32_MAX - 1)
            value = sa.case((value.is_not(None), sa.cast(clamped, sa.Integer())))
        else:
            value = sa.func.min(sa.func.max(value, 0), _INT32_MAX - 1, type_=sa.Integer())
        return value + offset if offset else value

    def _date_part(self, name: str, node: Node) -> _Value:
        kinds = (Kind.DATETIME, Kind.DATE) if name in ("year", "month", "day") else (Kind.DATETIME,)
        value = _expect(self.value(node), kinds, f"{name}()")
        if self._pg:
            part = sa.func.floor(sa.extract(name, self._utc(value)))
        else:
            part = sa.func.strftime(_DATE_PARTS[name], value.sql)
        return _Value(sa.cast(part, sa.Integer()), Kind.INT)

    def _utc(self, value: _Value) -> ColumnElement[Any]:
        """PostgreSQL: the wall-clock UTC timestamp of a timestamptz (not the session time zone's)."""
        if self._pg and value.kind is Kind.DATETIME:
            return sa.func.timezone(sa.literal_column("'UTC'"), value.sql)
        return value.sql


_MIRRORED = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_FOUND_TESTS = {  # (operator, integer) -> whether the test means "found"
    ("ne", -1): True,
    ("gt", -1): True,
    ("ge", 0): True,
    ("eq", -1): False,
    ("lt", 0): False,
    ("le", -1): False,
}


def _indexof_test(node: Binary) -> tuple[Call, Literal, bool] | None:
    """``indexof(s,'text') ne -1`` (or ``ge 0``, ``gt -1``; mirrored too) -> (call, 'text', True);
    ``eq -1`` / ``lt 0`` / ``le -1`` -> (call, 'text', False); anything else None. On PostgreSQL such a
    test is ``s [NOT] LIKE '%text%'``, which a trigram index serves (``strpos`` cannot use an index);
    both are case-sensitive and null for a null ``s``. SQLite keeps ``instr``: its LIKE ignores case."""
    left, right, op = node.left, node.right, node.op
    if isinstance(left, Literal):
        left, right, op = right, left, _MIRRORED.get(op, op)
    if not (isinstance(left, Call) and left.name == "indexof" and isinstance(right, Literal)):
        return None
    pattern = left.args[1]
    if (
        right.kind is not LitKind.INT
        or not isinstance(pattern, Literal)
        or pattern.kind is not LitKind.STRING
    ):
        return None
    found = _FOUND_TESTS.get((op, right.value)) if isinstance(right.value, int) else None
    return None if found is None else (left, pattern, found)


def _expect(value: _Value, kinds: tuple[Kind, ...], what: str) -> _Value:
    if value.kind not in kinds:
        wanted = " or ".join(kind.value for kind in kinds)
        raise invalid_odata(f"{what} expects {wanted}, not {value.kind.value}.")
    return value


def _is_null(operand: _Operand) -> bool:
    return isinstance(operand, Literal) and operand.kind is LitKind.NULL


def _null_compare(op: str, left: _Operand, right: _Operand) -> ColumnElement[bool]:
    other = right if _is_null(left) else left
    if op not in ("eq", "ne"):
        return sa.false()  # OData: ordering comparisons with null are false
    if isinstance(other, Literal):
        return sa.true() if (other.kind is LitKind.NULL) == (op == "eq") else sa.false()
    return other.sql.is_(None) if op == "eq" else other.sql.is_not(None)


def _bound_sql(lit: Literal) -> ColumnElement[Any]:
    return _bind(lit).sql


def _coercer(target: _Value) -> Callable[[Literal], ColumnElement[Any]]:
    return lambda lit: _coerce(lit, target)


def _check_comparable(op: str, a: _Value, b: _Value) -> None:
    same_family = _FAMILY.get(a.kind, a.kind) is _FAMILY.get(b.kind, b.kind)
    if not same_family or (a.enum and b.enum and a.enum is not b.enum):
        raise invalid_odata(f"Wrong type: cannot compare {a.kind.value} with {b.kind.value}.")
    if op in _ORDERING and a.kind is Kind.BOOL:
        raise invalid_odata("Booleans can only be compared with 'eq' and 'ne'.")


def _bind(lit: Literal) -> _Value:
    """A literal as a bound parameter of its own type."""
    if lit.kind is LitKind.INT:
        return _Value(_int(lit.value), Kind.INT)
    if lit.kind is LitKind.NULL:
        return _Value(sa.null(), Kind.NULL)
    if lit.kind is LitKind.ENUM:
        raise invalid_odata(f"The enum value '{lit.value}' can only be compared with an enum property.")
    kind, type_ = _LITERAL_TYPES[lit.kind]
    return _Value(sa.literal(lit.value, type_()), kind)


def _coerce(lit: Literal, target: _Value) -> ColumnElement[Any]:
    """A literal as a bound parameter comparable with ``target``; 400 when the types do not fit."""
    kind, value = target.kind, lit.value
    if kind is Kind.ENUM and target.enum is not None:
        return _int(_enum_number(lit, target.enum))
    if lit.kind is LitKind.STRING and isinstance(value, str):  # lenient: quoted numbers and GUIDs
        if kind is Kind.INT and _INT_TEXT.fullmatch(value):
            return _int(int(value))
        if kind is Kind.NUMBER and _NUMBER_TEXT.fullmatch(value):
            return _bind(Literal(LitKind.DECIMAL, float(value))).sql
        if kind is Kind.GUID and _GUID_TEXT.fullmatch(value):
            return _guid(value, target)
    if lit.kind not in _ACCEPTS.get(kind, ()):
        shown = "null" if value is None else repr(value)[:60]
        raise invalid_odata(f"Wrong literal type: cannot compare {kind.value} with {lit.kind.value} {shown}.")
    if kind is Kind.GUID:
        return _guid(str(value), target)
    if kind is Kind.DATETIME and lit.kind is LitKind.DATE and isinstance(value, dt.date):
        return sa.literal(dt.datetime.combine(value, dt.time(), dt.UTC), UTCDateTime())
    return _bind(lit).sql


def _int(value: object) -> ColumnElement[Any]:
    if not isinstance(value, int) or not INT64_MIN <= value <= INT64_MAX:
        raise invalid_odata(f"The integer {str(value)[:40]} is out of range.")
    return sa.literal(value, sa.BigInteger())


def _guid(text: str, target: _Value) -> ColumnElement[Any]:
    """GUIDs compare as lower-case text (or as UUIDs when the column is a ``Uuid``)."""
    text = text.lower()
    column_type = target.sql.type
    if isinstance(column_type, sa.Uuid):
        return sa.literal(uuid.UUID(text) if column_type.as_uuid else text, column_type)
    return sa.literal(text, sa.String())


def _enum_number(lit: Literal, enum_type: type[enum.IntEnum]) -> int:
    value, number = lit.value, None
    if lit.kind in (LitKind.STRING, LitKind.ENUM) and isinstance(value, str):
        text = value.strip()
        for member in enum_type:
            if member.name.lower() == text.lower():
                return int(member)
        number = int(text) if _INT_TEXT.fullmatch(text) else None
    elif lit.kind is LitKind.INT and isinstance(value, int):
        number = value
    if number is not None and any(number == member for member in enum_type):
        return number
    allowed = ", ".join(member.name for member in enum_type)
    shown = "null" if value is None else repr(value)[:60]
    raise invalid_odata(f"Invalid value {shown} for {enum_type.__name__}; allowed values are: {allowed}.")
