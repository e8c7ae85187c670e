"""Tables of the host level: the host administrators, who manage tenants (``domain/host.py``).

A host user belongs to no tenant: it signs in with tenancy name ``Host`` and can use the host
operations only (``/odata/Tenants``), never a tenant's data.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, String, Table

from podium.db.schema import _id, metadata
from podium.db.types import UTCDateTime

host_users = Table(
    "host_users",
    metadata,
    _id(),
    Column("key", String(36), nullable=False, unique=True),
    Column("user_name", String(256), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("creation_time", UTCDateTime, nullable=False),
    Column("last_login_time", UTCDateTime),
)
