"""Reading values out of request bodies and parameters: ids, id lists, bounded numbers and text, enums,
JSON objects. Each function returns the checked value or raises a 400 with Orchestrator's error body
naming the field, so handlers and domain code never repeat ``isinstance`` checks.

JSON booleans are never integers here (Python's ``True`` is an ``int``), ids are positive Int64s
(``1 … 2**63-1``: the databases' BIGINT), and counts of things are Int32s unless said otherwise.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from podium.errors import bad_request

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

E = TypeVar("E", bound=enum.IntEnum)


def is_integer(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def integer(value: Any, name: str, *, low: int = 0, high: int = INT32_MAX) -> int:
    """An integer from ``low`` to ``high`` (default: a non-negative Int32)."""
    if not is_integer(value) or not low <= value <= high:
        raise bad_request(f"{name} must be an integer from {low} to {high}.")
    return int(value)


def number(value: Any, name: str, *, low: float, high: float) -> float:
    """An integer or a decimal number from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise bad_request(f"{name} must be a number from {low:g} to {high:g}.")
    return float(value)


def entity_id(value: Any, name: str = "Id") -> int:
    """A positive Int64 key."""
    if not is_integer(value) or not 0 < value <= INT64_MAX:
        raise bad_request(f"{name} must be a positive integer id.")
    return int(value)


def url_integer(value: Any) -> Any:
    """Digits given as text in a URL (a path segment, the query string; quotes around them allowed) as
    an int; any other value unchanged, for the readers here to check."""
    if isinstance(value, str):
        digits = value.strip().strip("'")
        if digits.isascii() and digits.isdigit() and len(digits) <= len(str(INT64_MAX)):
            return int(digits)
    return value


def url_id(value: Any, name: str) -> int:
    """An id given in a URL: an integer literal of a function call, or its digits as text."""
    return entity_id(url_integer(value), name)


def optional_id(value: Any, name: str) -> int | None:
    return None if value is None else entity_id(value, name)


def id_list(value: Any, name: str, *, allow_empty: bool = False, what: str = "ids") -> list[int]:
    """A JSON list of positive Int64 ids, duplicates dropped (first occurrence kept); ``None`` counts as
    an empty list."""
    if value is None:
        value = []
    if not isinstance(value, list) or not all(is_integer(v) and 0 < v <= INT64_MAX for v in value):
        raise bad_request(f"{name} must be a list of {what}.")
    if not value and not allow_empty:
        raise bad_request(f"{name} must be a non-empty list of {what}.")
    return list(dict.fromkeys(int(v) for v in value))


def text(value: Any, name: str, *, max_length: int = 256, required: bool = True) -> str:
    """A string of 1 to ``max_length`` characters without NUL (empty allowed when not required)."""
    if not isinstance(value, str) or len(value) > max_length or "\x00" in value or (required and not value):
        low = 1 if required else 0
        raise bad_request(f"{name} must be a text of {low} to {max_length} characters.")
    return value


def optional_text(value: Any, name: str, *, max_length: int = 256) -> str | None:
    return None if value is None else text(value, name, max_length=max_length, required=False)


def boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be true or false.")
    return value


def choice(value: Any, name: str, enum_type: type[E]) -> E:
    """An enum member by name (any case), by number, or by number as text, as Orchestrator accepts."""
    if isinstance(value, str):
        for member in enum_type:
            if member.name.lower() == value.lower():
                return member
        if value.lstrip("-").isdigit():
            value = int(value)
    if is_integer(value):
        try:
            return enum_type(value)
        except ValueError:
            pass
    names = ", ".join(member.name for member in enum_type)
    raise bad_request(f"{name} must be one of {names}.")


def json_object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise bad_request(f"{name} must be a JSON object.")
    return dict(value)


def json_list(value: Any, name: str, *, max_items: int | None = None) -> list[Any]:
    if not isinstance(value, list) or (max_items is not None and len(value) > max_items):
        limit = f" of at most {max_items} entries" if max_items is not None else ""
        raise bad_request(f"{name} must be a JSON list{limit}.")
    return value
