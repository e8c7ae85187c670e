"""OData system query options: $filter $select $expand $orderby $top $skip $count."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from podium.errors import invalid_odata

MAX_TOP = 1000
KNOWN = {"$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$count", "$format"}


@dataclass
class ExpandItem:
    name: str
    select: list[str] | None = None
    expand: list[ExpandItem] = field(default_factory=list)
    filter: str | None = None
    orderby: str | None = None
    top: int | None = None


@dataclass
class QueryOptions:
    filter: str | None = None
    select: list[str] | None = None
    expand: list[ExpandItem] = field(default_factory=list)
    orderby: str | None = None
    top: int | None = None
    skip: int = 0
    count: bool = True  # Orchestrator answers @odata.count on every list; $count=false skips it


def parse_options(params: Mapping[str, str]) -> QueryOptions:
    """Reads the options from decoded query parameters; 400 for anything malformed."""
    for name in params:
        if name.startswith("$") and name not in KNOWN:
            raise invalid_odata(f"The query parameter '{name}' is not supported.")
    fmt = params.get("$format")
    if fmt is not None and fmt.strip().lower() not in ("json", "application/json"):
        raise invalid_odata("Only $format=json is supported.")
    options = QueryOptions(
        filter=_non_empty(params.get("$filter")),
        orderby=_non_empty(params.get("$orderby")),
        top=_integer(params.get("$top"), "$top"),
        skip=_integer(params.get("$skip"), "$skip") or 0,
        count=_boolean(params.get("$count")),
    )
    if options.top is not None and options.top > MAX_TOP:
        raise invalid_odata(
            f"The limit of '{MAX_TOP}' for Top query has been exceeded. "
            f"The value from the incoming request is '{options.top}'."
        )
    if "$select" in params:
        options.select = parse_select(params["$select"])
    if "$expand" in params:
        options.expand = parse_expand(params["$expand"])
    return options


def _non_empty(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def _integer(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise invalid_odata(f"The value '{value}' of {name} is not a valid non-negative integer.")
    return int(text)


def _boolean(value: str | None) -> bool:
    if value is None:
        return True
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise invalid_odata(f"The value '{value}' of $count is not valid: use true or false.")
    return text == "true"


def _identifier(text: str, option: str) -> str:
    name = text.strip()
    if not name or not all(part.isidentifier() for part in name.split("/")):
        raise invalid_odata(f"'{text}' in {option} is not a valid property name.")
    return name


MAX_SELECT = 200  # more than any DTO has properties; a longer list only costs the server


def parse_select(text: str) -> list[str]:
    parts = split_top_level(text, ",")
    if len(parts) > MAX_SELECT:
        raise invalid_odata(f"$select names at most {MAX_SELECT} properties.")
    names = [_identifier(part, "$select") for part in parts]
    if "*" in text.replace(" ", "").split(","):
        raise invalid_odata("$select=* is not supported: omit $select to get every property.")
    return list(dict.fromkeys(names))


def parse_expand(text: str, depth: int = 0) -> list[ExpandItem]:
    if depth > 3:
        raise invalid_odata("$expand is nested too deeply.")
    items: list[ExpandItem] = []
    for part in split_top_level(text, ","):
        part = part.strip()
        name, paren, rest = part.partition("(")
        item = ExpandItem(name=_identifier(name, "$expand"))
        if paren:
            if not rest.endswith(")"):
                raise invalid_odata(f"'{part}' in $expand is not valid.")
            _nested_options(item, rest[:-1], depth)
        if any(other.name.lower() == item.name.lower() for other in items):
            raise invalid_odata(f"'{item.name}' is expanded more than once.")
        items.append(item)
    return items


def _nested_options(item: ExpandItem, text: str, depth: int) -> None:
    for option in split_top_level(text, ";"):
        name, eq, value = option.strip().partition("=")
        if not eq:
            raise invalid_odata(f"'{option}' in $expand is not valid.")
        key = name.strip().lower()
        if key == "$select":
            item.select = parse_select(value)
        elif key == "$expand":
            item.expand = parse_expand(value, depth + 1)
        elif key == "$filter":
            item.filter = value
        elif key == "$orderby":
            item.orderby = value
        elif key == "$top":
            item.top = _integer(value, "$top")
        else:
            raise invalid_odata(f"The option '{name.strip()}' is not supported inside $expand.")


def split_top_level(text: str, separator: str) -> list[str]:
    """Splits on ``separator`` outside parentheses and string literals."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    in_quote = False
    for char in text:
        if char == "'":
            in_quote = not in_quote
        elif not in_quote and char == "(":
            depth += 1
        elif not in_quote and char == ")":
            depth -= 1
            if depth < 0:
                raise invalid_odata("Unbalanced parentheses in the query.")
        if char == separator and depth == 0 and not in_quote:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0 or in_quote:
        raise invalid_odata("Unbalanced parentheses or quotes in the query.")
    parts.append("".join(current))
    if any(not p.strip() for p in parts):
        raise invalid_odata("Empty item in a comma-separated query option.")
    return parts
