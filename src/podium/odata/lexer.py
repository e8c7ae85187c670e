"""The syntax of OData ``$filter`` and ``$orderby``: tokens, literal values, the AST and its parser.

:mod:`podium.odata.filter` is the public face (``parse_filter``, ``compile_filter``, ``parse_orderby``);
this module turns (already URL-decoded) text into the AST. Every problem raises ``invalid_odata`` (400).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from dataclasses import dataclass

from podium.errors import PodiumError, invalid_odata

MAX_LENGTH = 4000  # characters of $filter / $orderby text
MAX_DEPTH = 100  # nesting levels
MAX_NODES = 500  # AST nodes
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class Tok(enum.Enum):
    STRING = "a string"
    ENUM = "an enum literal"  # Namespace.Type'Member'
    DATETIME = "a datetime"
    DATE = "a date"
    GUID = "a GUID"
    NUMBER = "a number"
    IDENT = "a name"
    LPAREN = "'('"
    RPAREN = "')'"
    COMMA = "','"
    SLASH = "'/'"
    MINUS = "'-'"
    EOF = "the end of the expression"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Tok
    text: str
    pos: int


_HEX = "[0-9A-Fa-f]"
_STRING = r"'[^']*(?:''[^']*)*'"
_DATETIME = r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?([Zz]|[+-]\d\d:\d\d)?"
_DATETIME_TOKEN = r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[Zz]|[+-]\d\d:\d\d)?(?![\w.:])"
# First matching alternative wins, so the order matters: a GUID may start with digits, a date is a
# prefix of a datetime, a qualified name followed by a quote is an enum literal.
_RULES: tuple[tuple[str, str], ...] = (
    ("WS", r"[ \t\r\n]+"),
    ("STRING", _STRING),
    ("ENUM", rf"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+{_STRING}"),
    ("DATETIME", _DATETIME_TOKEN),
    ("GUID", rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}(?![\w-])"),
    ("DATE", r"\d{4}-\d\d-\d\d(?![\w.:-])"),
    ("NUMBER", r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])"),
    ("IDENT", r"[A-Za-z_]\w*"),
    ("LPAREN", r"\("),
    ("RPAREN", r"\)"),
    ("COMMA", ","),
    ("SLASH", "/"),
    ("MINUS", "-"),
)
_TOKEN_RE = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in _RULES), re.ASCII)
_DATETIME_RE = re.compile(_DATETIME, re.ASCII)
_DATE_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)", re.ASCII)


def check_text(text: str, what: str = "$filter") -> None:
    """Reject text that is too long or cannot be sent to a database."""
    if len(text) > MAX_LENGTH:
        raise invalid_odata(f"The {what} expression is too long (at most {MAX_LENGTH} characters).")
    if "\x00" in text:
        raise invalid_odata(f"The {what} expression contains a NUL character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_odata(f"The {what} expression is not valid Unicode.") from None
    if not text.strip():
        raise invalid_odata(f"The {what} expression is empty.")


def tokenize(text: str, what: str = "$filter") -> list[Token]:
    """Split ``text`` into tokens (whitespace dropped); the list always ends with an EOF token."""
    check_text(text, what)
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.lastgroup is None:
            raise _bad_character(text, pos)
        if match.lastgroup != "WS":
            tokens.append(Token(Tok[match.lastgroup], match.group(), pos))
        pos = match.end()
    tokens.append(Token(Tok.EOF, "", pos))
    return tokens


def _bad_character(text: str, pos: int) -> PodiumError:
    if text[pos] == "'":
        return invalid_odata(f"Syntax error at position {pos}: unterminated string literal.")
    return invalid_odata(f"Syntax error at position {pos}: unexpected {text[pos : pos + 12]!r}.")


def string_value(text: str) -> str:
    """``'O''Reilly'`` -> ``O'Reilly``."""
    return text[1:-1].replace("''", "'")


def enum_value(text: str) -> tuple[str, str]:
    """``NS.JobState'Faulted'`` -> ``("NS.JobState", "Faulted")``."""
    quote = text.index("'")
    return text[:quote], string_value(text[quote:])


def number_value(text: str) -> int | float:
    if text.isdigit():
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise invalid_odata(f"The number {text[:40]} is out of range.")
    return value


def datetime_value(text: str) -> dt.datetime:
    """An aware UTC datetime; an offset-less value is taken as UTC. Fractions beyond µs are cut."""
    match = _DATETIME_RE.fullmatch(text)
    if match is None:  # pragma: no cover - the token rule guarantees the shape
        raise invalid_odata(f"Invalid datetime literal {text!r}.")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        tz = dt.UTC
        if offset and offset not in "Zz":
            sign = -1 if offset[0] == "-" else 1
            delta = dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            tz = dt.timezone(sign * delta)
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        value = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=tz
        )
        return value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise invalid_odata(f"Invalid datetime literal {text!r}.") from None


def date_value(text: str) -> dt.date:
    match = _DATE_RE.fullmatch(text)
    try:
        if match is None:  # pragma: no cover - the token rule guarantees the shape
            raise ValueError(text)
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise invalid_odata(f"Invalid date literal {text!r}.") from None


# ------------------------------------------------------------------------------------ AST and parser


class LitKind(enum.Enum):
    STRING = "string"
    INT = "integer"
    DECIMAL = "decimal"
    BOOL = "boolean"
    NULL = "null"
    DATETIME = "datetime"
    DATE = "date"
    GUID = "GUID"
    ENUM = "enum"


@dataclass(frozen=True)
class Literal:
    kind: LitKind
    value: str | int | float | bool | dt.datetime | dt.date | None
    type_name: str | None = None  # the qualifier of an enum literal: UiPath...JobState'Faulted'


@dataclass(frozen=True)
class Path:
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    name: str  # lower case
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary:
    op: str  # "not" | "-"
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str  # eq ne gt ge lt le has add sub mul div mod
    left: Node
    right: Node


@dataclass(frozen=True)
class In:
    operand: Node
    items: tuple[Node, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"; chains are flattened
    operands: tuple[Node, ...]


Node = Literal | Path | Call | Unary | Binary | In | BoolOp

FUNCTIONS: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("contains", "startswith", "endswith", "indexof", "concat"), (2, 2)),
    **dict.fromkeys(("length", "tolower", "toupper", "trim", "date"), (1, 1)),
    **dict.fromkeys(("year", "month", "day", "hour", "minute", "second"), (1, 1)),
    "substring": (2, 3),
}
_INFIX = {"or": 1, "and": 2, **dict.fromkeys(("eq", "ne", "gt", "ge", "lt", "le", "has", "in"), 4)}
_INFIX |= {"add": 5, "sub": 5, "mul": 6, "div": 6, "mod": 6}
_NOT_BP, _NEG_BP = 3, 7  # `not` binds looser than comparisons, unary minus tighter than mul
_KEYWORDS = {
    "true": Literal(LitKind.BOOL, True),
    "false": Literal(LitKind.BOOL, False),
    "null": Literal(LitKind.NULL, None),
}


class Parser:
    """Pratt parser; recursion grows only with parentheses, calls, `not` and unary minus (bounded)."""

    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._i = 0
        self._depth = 0

    def peek(self) -> Token:
        return self._tokens[self._i]

    def next(self) -> Token:
        token = self._tokens[self._i]
        if token.kind is not Tok.EOF:
            self._i += 1
        return token

    def accept(self, kind: Tok) -> bool:
        if self.peek().kind is kind:
            self.next()
            return True
        return False

    def expect(self, kind: Tok) -> Token:
        token = self.next()
        if token.kind is not kind:
            raise _syntax(token, f"expected {kind.value}")
        return token

    def expr(self, min_bp: int) -> Node:
        left = self._prefix()
        while (op := self._infix(min_bp)) is not None:
            self.next()
            left = In(left, self._list()) if op == "in" else _combine(op, left, self.expr(_INFIX[op] + 1))
        return left

    def _infix(self, min_bp: int) -> str | None:
        token = self.peek()
        op = token.text.lower()
        return op if token.kind is Tok.IDENT and _INFIX.get(op, -1) >= min_bp else None

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise invalid_odata(f"The $filter expression is nested too deeply (at most {MAX_DEPTH} levels).")

    def _prefix(self) -> Node:
        token = self.next()
        word = token.text.lower() if token.kind is Tok.IDENT else ""
        if token.kind is Tok.LPAREN:
            self._enter()
            node = self.expr(0)
            self.expect(Tok.RPAREN)
            self._depth -= 1
            return node
        if token.kind is Tok.MINUS or word == "not":
            self._enter()
            node = _negate(self.expr(_NEG_BP)) if word == "" else Unary("not", self.expr(_NOT_BP))
            self._depth -= 1
            return node
        if word and self.peek().kind is Tok.LPAREN:  # a function call (3 frames a level, like parens)
            return _call(token, self._list())
        if word in _KEYWORDS:
            return _KEYWORDS[word]
        return self._path(token) if word else _literal(token)

    def _path(self, token: Token) -> Path:
        segments = [token.text]
        while self.accept(Tok.SLASH):
            segments.append(self.expect(Tok.IDENT).text)
        return Path(tuple(segments))

    def _list(self) -> tuple[Node, ...]:
        self.expect(Tok.LPAREN)
        self._enter()
        items = [self.expr(0)]
        while self.accept(Tok.COMMA):
            items.append(self.expr(0))
        self.expect(Tok.RPAREN)
        self._depth -= 1
        return tuple(items)


def _call(token: Token, args: tuple[Node, ...]) -> Call:
    name = token.text.lower()
    if name not in FUNCTIONS:
        raise invalid_odata(f"Unknown function '{token.text[:40]}' in $filter.")
    low, high = FUNCTIONS[name]
    if not low <= len(args) <= high:
        count = str(low) if low == high else f"{low} or {high}"
        raise invalid_odata(f"The function '{name}' takes {count} arguments, not {len(args)}.")
    return Call(name, args)


def _syntax(token: Token, problem: str) -> PodiumError:
    found = Tok.EOF.value if token.kind is Tok.EOF else repr(token.text[:40])
    return invalid_odata(f"Syntax error at position {token.pos}: {problem}, found {found}.")


def _literal(token: Token) -> Literal:
    text = token.text
    if token.kind is Tok.STRING:
        return Literal(LitKind.STRING, string_value(text))
    if token.kind is Tok.NUMBER:
        value = number_value(text)
        return Literal(LitKind.INT if isinstance(value, int) else LitKind.DECIMAL, value)
    if token.kind is Tok.DATETIME:
        return Literal(LitKind.DATETIME, datetime_value(text))
    if token.kind is Tok.DATE:
        return Literal(LitKind.DATE, date_value(text))
    if token.kind is Tok.GUID:
        return Literal(LitKind.GUID, text.lower())
    if token.kind is Tok.ENUM:
        type_name, member = enum_value(text)
        return Literal(LitKind.ENUM, member, type_name)
    raise _syntax(token, "expected an operand")


def _negate(node: Node) -> Node:
    if isinstance(node, Literal) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return Literal(node.kind, -node.value)
    return Unary("-", node)


def _combine(op: str, left: Node, right: Node) -> Node:
    if op in ("and", "or"):
        return BoolOp(op, (*_flat(op, left), *_flat(op, right)))
    return Binary(op, left, right)


def _flat(op: str, node: Node) -> tuple[Node, ...]:
    return node.operands if isinstance(node, BoolOp) and node.op == op else (node,)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, In):
        return (node.operand, *node.items)
    if isinstance(node, Call):
        return node.args
    return node.operands if isinstance(node, BoolOp) else ()


def check_size(root: Node) -> None:
    """Bound the AST (iteratively) so that compiling it stays shallow and small."""
    stack, count = [(root, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise invalid_odata(f"The $filter expression is too complex (at most {MAX_NODES} terms).")
        if depth > MAX_DEPTH:
            raise invalid_odata(f"The $filter expression is nested too deeply (at most {MAX_DEPTH} levels).")
        stack.extend((child, depth + 1) for child in _children(node))
