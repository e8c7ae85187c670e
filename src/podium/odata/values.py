"""Reading entity values from request bodies: type checks, enums by name or number, unknown properties."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from podium.domain.enums import parse_enum
from podium.errors import ErrorCode, PodiumError
from podium.odata.model import Edm, EntitySet, Field

INT64_RANGE = (-(2**63), 2**63 - 1)
# the range a column holds, by its SQLAlchemy type: a DTO's Int64 property may live in a smaller column
COLUMN_RANGES = {
    "SmallInteger": (-(2**15), 2**15 - 1),
    "Integer": (-(2**31), 2**31 - 1),
    "BigInteger": INT64_RANGE,
}


def invalid(message: str) -> PodiumError:
    return PodiumError(message, status=400, code=ErrorCode.VALIDATION)


def parse_datetime(value: Any, name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise invalid(f"The value of '{name}' must be an ISO 8601 date and time.")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"The value '{value}' of '{name}' is not an ISO 8601 date and time.") from None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def column_range(entity_set: EntitySet, field: Field) -> tuple[int, int]:
    """The integers the field's column holds (Int32 for ``Integer`` columns even where the DTO says
    Int64: PostgreSQL would refuse a larger value with an error)."""
    column = entity_set.table.c.get(str(field.column)) if field.column else None
    if column is None:
        return INT64_RANGE if field.edm is Edm.INT64 else COLUMN_RANGES["Integer"]
    return COLUMN_RANGES.get(type(column.type).__name__, INT64_RANGE)


def convert(field: Field, value: Any, bounds: tuple[int, int] = INT64_RANGE) -> Any:
    """The column value for a JSON value of a field; 400 when it does not fit the field's type (integers:
    ``bounds``, the column's range)."""
    name = field.name
    if field.parse is not None:
        return field.parse(value)
    if value is None:
        if not field.nullable:
            raise invalid(f"The field '{name}' cannot be null.")
        return None
    edm = field.edm
    if edm is Edm.STRING:
        if not isinstance(value, str):
            raise invalid(f"The value of '{name}' must be a string.")
        if field.max_length is not None and len(value) > field.max_length:
            raise invalid(f"The field '{name}' must be at most {field.max_length} characters long.")
        return value
    if edm in (Edm.INT32, Edm.INT64):
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"The value of '{name}' must be an integer.")
        if not bounds[0] <= value <= bounds[1]:
            raise invalid(f"The value of '{name}' is out of range.")
        return value
    if edm is Edm.BOOLEAN:
        if not isinstance(value, bool):
            raise invalid(f"The value of '{name}' must be true or false.")
        return value
    if edm is Edm.DOUBLE:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"The value of '{name}' must be a number.")
        return float(value)
    if edm is Edm.DATETIME:
        return parse_datetime(value, name)
    if edm is Edm.GUID:
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise invalid(f"The value of '{name}' must be a GUID.") from None
    if edm is Edm.ENUM and field.enum is not None:
        try:
            return int(parse_enum(field.enum, value))
        except ValueError as error:
            raise invalid(f"The value '{value}' of '{name}' is not valid: {error}.") from None
    raise invalid(f"The field '{name}' cannot be written.")


def values_from_body(entity_set: EntitySet, body: Any, *, creating: bool) -> dict[str, Any]:
    """Column values from a DTO body. Read-only properties and navigation objects that clients echo
    back are ignored; a property the DTO does not have is a 400."""
    if not isinstance(body, Mapping):
        raise invalid("The request body must be a JSON object.")
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name.startswith("@") or name in entity_set.nav_by_name:
            continue
        field = entity_set.field(name)
        if field is None:
            raise invalid(f"The property '{name}' does not exist on type '{entity_set.type_name}'.")
        if field.read_only or not field.stored:
            continue
        bounds = column_range(entity_set, field) if field.edm in (Edm.INT32, Edm.INT64) else INT64_RANGE
        values[str(field.column)] = convert(field, value, bounds)
    if creating:
        for field in entity_set.fields:
            if field.required and (field.column not in values or values[str(field.column)] in (None, "")):
                raise invalid(f"The field '{field.name}' is required.")
    return values
