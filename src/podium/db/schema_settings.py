"""Tables of the settings store: values set per tenant and per user (``domain/settings.py``).

Only values someone set are stored; a key without a row has its default (the environment's, where
Podium had one). Values are the text Orchestrator's Settings API carries (``"true"``, ``"10"``); the
registry of keys parses and checks them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, String, Table, Text

from podium.db.schema import _tenant, metadata
from podium.db.types import UTCDateTime

tenant_settings = Table(
    "tenant_settings",
    metadata,
    Column(
        "tenant_id",
        BigInteger,
        ForeignKey("tenants.id", ondelete="CASCADE"),
        primary_key=True,
        nullable=False,
    ),
    Column("name", String(256), primary_key=True),
    Column("value", Text, nullable=False),
    Column("last_modification_time", UTCDateTime, nullable=False),
    Column("last_modifier_user_id", BigInteger),
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
