"""Tables of the Calendars area (``domain/calendars.py``): a tenant's calendars of days off, which
triggers name so that they do not fire on those days.

``excluded_dates`` is a JSON list of days as answered (``"2025-12-25T00:00:00Z"``: the day at
midnight), sorted, each a day in the calendar's own ``time_zone_id`` (a Windows or IANA id, checked).
A calendar holds a few hundred days at most and is read whole, so a list beats a row per day.
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text, UniqueConstraint

from podium.db.schema import _id, _tenant, metadata

calendars = Table(
    "calendars",
    metadata,
    _id(),
    _tenant(),
    Column("key", String(36), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("time_zone_id", String(64), nullable=False),
    Column("excluded_dates", Text, nullable=False, default="[]"),
    UniqueConstraint("tenant_id", "name"),
)
