"""The host level: host administrators, who manage tenants and nothing else.

A host user belongs to no tenant (table ``host_users``). It signs in like a tenant's user, with the
tenancy name ``Host`` (which no tenant may take), and its token (kind ``host``, tenant id 0) is good for
the host operations only: ``/odata/Tenants`` (``Tenants.*``) and ``/odata/HostLicenses`` (``License.*``:
the sum of the tenants' licence use). Every other route refuses it (``http/context.py``), so a host
administrator never reads or writes a tenant's data.

The first start creates the host administrator ``admin`` (``podium serve``, ``cli._bootstrap``), with
the password of ``PODIUM_HOST_ADMIN_PASSWORD`` or a generated one printed once to the console.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.passwords import hash_password, new_secret, verify_password
from podium.db.engine import Database
from podium.db.schema_host import host_users
from podium.db.types import utcnow

HOST_TENANCY = "Host"  # the tenancy name a host user signs in with
HOST_ADMIN = "admin"
HOST_PERMISSIONS = frozenset(
    {"Tenants.View", "Tenants.Create", "Tenants.Edit", "Tenants.Delete", "License.View", "License.Edit"}
)


@dataclass(frozen=True)
class HostUser:
    id: int
    key: str
    user_name: str


def is_host_tenancy(name: str) -> bool:
    return name.strip().lower() == HOST_TENANCY.lower()


async def ensure_host_admin(conn: AsyncConnection, password: str | None) -> str | None:
    """Creates the host administrator when there is no host user yet; returns its password when it was
    generated here (to be shown once), else None."""
    if (await conn.execute(select(host_users.c.id).limit(1))).first() is not None:
        return None
    generated = None
    if not password:
        password = generated = new_secret(12)
    await create_host_user(conn, HOST_ADMIN, password)
    return generated


async def create_host_user(conn: AsyncConnection, user_name: str, password: str) -> int:
    return int(
        (
            await conn.execute(
                insert(host_users)
                .values(
                    key=str(uuid.uuid4()),
                    user_name=user_name,
                    password_hash=hash_password(password),
                    is_active=True,
                    creation_time=utcnow(),
                )
                .returning(host_users.c.id)
            )
        ).scalar_one()
    )


async def check_host_user(db: Database, login: str, password: str) -> HostUser | None:
    """The active host user for valid credentials (its last login time set); None otherwise. Unknown
    names cost as long as a wrong password (``verify_password``)."""
    if "\x00" in login + password:
        return None
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(host_users).where(
                    func.lower(host_users.c.user_name) == login.lower(), host_users.c.is_active.is_(True)
                )
            )
        ).first()
    if not verify_password(None if row is None else row.password_hash, password) or row is None:
        return None
    async with db.write() as conn:
        stamp = update(host_users).where(host_users.c.id == row.id).values(last_login_time=utcnow())
        await conn.execute(stamp)
    return HostUser(int(row.id), str(row.key), str(row.user_name))


async def load_host_user(conn: AsyncConnection, user_id: int) -> HostUser | None:
    """The active host user of a host token."""
    row = (
        await conn.execute(
            select(host_users.c.id, host_users.c.key, host_users.c.user_name).where(
                host_users.c.id == user_id, host_users.c.is_active.is_(True)
            )
        )
    ).first()
    return None if row is None else HostUser(int(row.id), str(row.key), str(row.user_name))
