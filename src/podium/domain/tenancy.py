"""Creating a tenant with what a fresh Orchestrator tenant has: built-in roles, an administrator and
the ``Shared`` folder."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.passwords import hash_password, new_secret
from podium.auth.permissions import BUILTIN_ROLES
from podium.db.schema import folders, role_permissions, roles, tenants, user_roles, users
from podium.db.types import utcnow
from podium.domain.credential_stores import ensure_builtin_store
from podium.domain.settings import sync_defaults


@dataclass
class TenantSeed:
    tenant_id: int
    admin_user_id: int
    shared_folder_id: int
    admin_password: str | None  # set only when it was generated here


async def find_tenant(conn: AsyncConnection, name: str) -> int | None:
    row = (await conn.execute(select(tenants.c.id).where(tenants.c.name == name))).first()
    return None if row is None else int(row.id)


async def tenant_ids(conn: AsyncConnection, active_only: bool = True) -> list[int]:
    """The tenants (the active ones unless asked otherwise), by id."""
    query = select(tenants.c.id).order_by(tenants.c.id)
    if active_only:
        query = query.where(tenants.c.is_active.is_(True))
    return [int(row.id) for row in await conn.execute(query)]


async def tenant_rows(conn: AsyncConnection, table: Table, tenant_id: int, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` are rows of ``table`` in the tenant."""
    query = select(table.c.id).where(table.c.id.in_(list(ids)), table.c.tenant_id == tenant_id)
    return {int(row.id) for row in await conn.execute(query)}


async def create_role(
    conn: AsyncConnection, tenant_id: int, name: str, role_type: int, perms: tuple[str, ...]
) -> int:
    role_id = (
        await conn.execute(
            insert(roles)
            .values(
                tenant_id=tenant_id,
                name=name,
                display_name=name,
                type=role_type,
                is_static=True,
                is_editable=name != "Administrator",
                creation_time=utcnow(),
            )
            .returning(roles.c.id)
        )
    ).scalar_one()
    if perms:
        await conn.execute(
            insert(role_permissions), [{"role_id": role_id, "name": p, "is_granted": True} for p in perms]
        )
    return int(role_id)


async def create_user(
    conn: AsyncConnection, tenant_id: int, user_name: str, password: str | None, *, user_type: int = 0
) -> int:
    return int(
        (
            await conn.execute(
                insert(users)
                .values(
                    tenant_id=tenant_id,
                    key=str(uuid.uuid4()),
                    user_name=user_name,
                    name=user_name,
                    password_hash=hash_password(password) if password else None,
                    is_active=True,
                    type=user_type,
                    creation_time=utcnow(),
                )
                .returning(users.c.id)
            )
        ).scalar_one()
    )


@dataclass(frozen=True)
class AdminSpec:
    """The administrator a new tenant gets (user ``admin``): TenantDto's Admin* properties."""

    password: str | None = None  # None: generated, and answered once in TenantSeed.admin_password
    email_address: str | None = None
    name: str | None = None
    surname: str | None = None


async def create_tenant(
    conn: AsyncConnection,
    name: str,
    admin_password: str | None = None,
    *,
    display_name: str | None = None,
    admin: AdminSpec | None = None,
) -> TenantSeed:
    """Creates the tenant, its built-in roles, user ``admin`` (Administrator) and folder ``Shared``: what
    the first start makes for ``Default`` and the host's Tenants create (``domain/tenants.py``)."""
    tenant_id = (
        await conn.execute(
            insert(tenants)
            .values(
                key=str(uuid.uuid4()),
                name=name,
                display_name=display_name or name,
                is_active=True,
                creation_time=utcnow(),
            )
            .returning(tenants.c.id)
        )
    ).scalar_one()
    return await seed_tenant(conn, int(tenant_id), admin or AdminSpec(password=admin_password))


async def seed_tenant(conn: AsyncConnection, tenant_id: int, admin: AdminSpec) -> TenantSeed:
    """What a fresh tenant (its row just inserted) holds: built-in roles, the administrator, ``Shared``,
    the built-in credential store and a row for every settings key."""
    now = utcnow()
    role_ids = {
        role: await create_role(conn, tenant_id, role, role_type, perms)
        for role, (role_type, perms) in BUILTIN_ROLES.items()
    }
    generated = None
    password = admin.password
    if not password:
        password = generated = new_secret(12)
    admin_id = await create_user(conn, tenant_id, "admin", password)
    admin_key = (await conn.execute(select(users.c.key).where(users.c.id == admin_id))).scalar_one()
    await conn.execute(
        update(users)
        .where(users.c.id == admin_id)
        .values(email_address=admin.email_address, name=admin.name or "admin", surname=admin.surname)
    )
    await conn.execute(update(tenants).where(tenants.c.id == tenant_id).values(admin_user_key=admin_key))
    await conn.execute(
        insert(user_roles).values(user_id=admin_id, role_id=role_ids["Administrator"], folder_id=None)
    )
    shared = (
        await conn.execute(
            insert(folders)
            .values(
                tenant_id=tenant_id,
                key=str(uuid.uuid4()),
                display_name="Shared",
                fully_qualified_name="Shared",
                provision_type=1,
                permission_model=1,
                feed_type=1,
                creation_time=now,
            )
            .returning(folders.c.id)
        )
    ).scalar_one()
    await ensure_builtin_store(conn, tenant_id)  # the "Orchestrator Database" credential store
    await sync_defaults(conn, tenant_id)  # a row for every settings key (domain/settings.py)
    return TenantSeed(tenant_id, admin_id, int(shared), generated)
