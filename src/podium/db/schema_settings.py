"""Tables of the settings store: values per tenant and per user (``domain/settings.py``).

A tenant has a row for every key of the registry (made with the tenant and, for keys added later, at
server start), so the Settings area lists them through the generic OData layer; ``is_set`` tells a
value someone set from a default, whose ``value`` is the text of the default (the server's
environment, where Podium had a variable) as of the last server start. Readers take the default from
the environment for rows not set. Values are the text Orchestrator's Settings API carries (``"true"``,
``"10"``); the registry of keys parses and checks them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, String, Table, Text, UniqueConstraint

from podium.db.schema import _id, _tenant, metadata
from podium.db.types import UTCDateTime

tenant_settings = Table(
    "tenant_settings",
    metadata,
    _id(),
    _tenant(),
    Column("name", String(256), nullable=False),
    Column("value", Text, nullable=False),
    Column("is_set", Boolean, nullable=False, default=False),
    Column("last_modification_time", UTCDateTime),
    Column("last_modifier_user_id", BigInteger),
    UniqueConstraint("tenant_id", "name"),
)

user_settings = Table(
    "user_settings",
    metadata,
    _tenant(),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("value", Text, nullable=False),
    Column("last_modification_time", UTCDateTime, nullable=False),
)
