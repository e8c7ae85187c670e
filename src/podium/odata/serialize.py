"""Turning rows into Orchestrator's DTO shapes (PascalCase, enums by name, ISO 8601 UTC with Z)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import orjson

from podium.odata.model import Edm, Field

Converter = Callable[[Any], Any]


def format_datetime(value: dt.datetime) -> str:
    """``2018-01-15T18:18:02.79Z``: UTC, trailing zeros of the fraction dropped, as Orchestrator does.

    Naive values are taken as UTC. The database's values are aware UTC (``datetime.UTC``): their
    ISO text ends in ``+00:00``, cut off instead of building a naive copy (a page of jobs formats
    dozens of them)."""
    tzinfo = value.tzinfo
    if tzinfo is None:
        text = value.isoformat()  # C code, several times faster than strftime
    else:
        if tzinfo is not dt.UTC:
            value = value.astimezone(dt.UTC)
        text = value.isoformat()[:-6]  # "+00:00"
    return (text.rstrip("0") if value.microsecond else text) + "Z"


def format_stored_datetime(text: str) -> str:
    """A datetime column's text as the database writes it, in Orchestrator's form: PostgreSQL's
    ``2018-01-15 18:18:02.79+00`` (ISO DateStyle, session in UTC) or SQLite's stored
    ``2018-01-15 18:18:02.790000`` (UTC) → ``2018-01-15T18:18:02.79Z``.

    List pages read their datetime columns this way (``query.EntityQuery.shape``): slicing the text
    costs a fifth of decoding a ``datetime`` and formatting it again, and a page of ten jobs holds
    fifty of them. Any other form (another offset, a ``T`` separator) is parsed and formatted."""
    if text[-3:] == "+00" and text[-4:-3] != "0" and text[10:11] == " ":
        return f"{text[:10]}T{text[11:-3]}Z"  # no zero to trim (PostgreSQL trims the fraction's own)
    if len(text) >= 19 and text[10] == " " and text[4] == "-":
        fraction = text[19:]  # "", ".79", ".790000", with PostgreSQL's "+00"
        if fraction[-3:] == "+00":
            fraction = fraction[:-3]
        if not fraction or (fraction[0] == "." and fraction[1:].isdigit()):
            return f"{text[:10]}T{text[11:19]}{fraction.rstrip('0').rstrip('.')}Z"
    return format_datetime(dt.datetime.fromisoformat(text))


def _datetime(value: Any) -> Any:
    """A stored datetime: a ``datetime``, or the column's text (``format_stored_datetime``)."""
    if value is None:
        return None
    if value.__class__ is str:
        return format_stored_datetime(value)
    return format_datetime(value)


def _json(value: Any) -> Any:
    return None if value is None else orjson.loads(value)


def identity(value: Any) -> Any:
    return value


def _text(value: Any) -> Any:
    """A text property stored in a non-text column (an id the SDK reads as a string)."""
    return value if value is None or isinstance(value, str) else str(value)


class _EnumNames(dict[Any, Any]):
    """An enum's names by value; None stays None and an unknown value reads as its text. Its bound
    ``__getitem__`` is the converter: a known value costs no Python call."""

    def __missing__(self, value: Any) -> Any:
        return None if value is None else str(value)


def converter(field: Field, text_column: bool = False) -> Converter:
    """How a stored value of ``field`` becomes its DTO value; ``text_column``: the column holds text
    (a String property read from it needs no conversion)."""
    if field.write_only:
        return lambda _value: None
    if field.edm is Edm.DATETIME:
        return _datetime
    if field.edm is Edm.ENUM and field.enum is not None:
        return _EnumNames({member.value: member.name for member in field.enum}).__getitem__
    if field.edm is Edm.STRING:
        return identity if text_column else _text
    if field.edm is Edm.BOOLEAN:
        return lambda value: None if value is None else bool(value)
    if field.edm is Edm.UNTYPED:
        return _json
    return identity


def dumps(payload: Any) -> bytes:
    return orjson.dumps(payload, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")
