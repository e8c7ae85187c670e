"""Shorthands for declaring DTO fields."""

from __future__ import annotations

import enum
from typing import Any

from podium.domain import tags
from podium.odata.model import Edm, Field


def text(name: str, column: str | None = None, **kw: Any) -> Field:
    return Field(name, Edm.STRING, column, **kw)


def integer(name: str, column: str | None = None, **kw: Any) -> Field:
    return Field(name, Edm.INT64, column, **kw)


def boolean(name: str, column: str | None = None, **kw: Any) -> Field:
    return Field(name, Edm.BOOLEAN, column, **kw)


def when(name: str, column: str | None = None, **kw: Any) -> Field:
    return Field(name, Edm.DATETIME, column, **kw)


def guid(name: str, column: str | None = None, **kw: Any) -> Field:
    return Field(name, Edm.GUID, column, **kw)


def choice(name: str, enum_type: type[enum.IntEnum], column: str | None = None, **kw: Any) -> Field:
    return Field(name, Edm.ENUM, column, enum=enum_type, **kw)


def constant(name: str, value: Any, edm: Edm = Edm.STRING) -> Field:
    """A DTO property Podium does not store: always answered as ``value``."""
    return Field(name, edm, None, constant=value, read_only=True)


def tag_list() -> Field:
    """``Tags`` (TagDto list) in the ``tags`` JSON column, checked and kept as sent (``domain/tags.py``)."""
    return Field("Tags", Edm.UNTYPED, "tags", parse=tags.to_json)


def key_id() -> Field:
    return Field("Id", Edm.INT64, "id", read_only=True, nullable=False)


def entity_key() -> Field:
    return Field("Key", Edm.GUID, "key", read_only=True)


def audit(creation: bool = True) -> list[Field]:
    fields = [
        when("LastModificationTime", "last_modification_time", read_only=True),
        integer("LastModifierUserId", "last_modifier_user_id", read_only=True),
    ]
    if creation:
        fields += [
            when("CreationTime", "creation_time", read_only=True),
            integer("CreatorUserId", "creator_user_id", read_only=True),
        ]
    return fields
