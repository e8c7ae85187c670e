"""The host's Tenants area: checks of a tenant's name, creating one with its administrator, activating
and deactivating, and deleting a tenant with every row it owns.

A tenant's name is its tenancy name (sign-in, cloud URLs): a letter, then letters, digits, ``_`` or
``-`` (ABP's rule), at most 64 characters, unique without regard to case, never ``Host`` (the host
level's, ``domain/host.py``). At least one tenant stays active: deactivating or deleting the last
active one is a 400 and changes nothing. Deactivating or deleting notes a tenant revocation
(``domain/revocations.py``): every server process forgets cached principals and robot tokens at once,
and the tenant's tokens are refused from then on (``auth/principal.py`` checks the tenant is active).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.db.schema import tenants
from podium.db.tables import metadata
from podium.domain import revocations, settings
from podium.domain.host import is_host_tenancy
from podium.domain.tenancy import AdminSpec, TenantSeed, create_tenant, seed_tenant
from podium.errors import bad_request

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def check_name(value: Any) -> str:
    name = inputs.text(value, "Name", max_length=64).strip()
    if not NAME.fullmatch(name):
        raise bad_request(
            "Name must start with a letter and hold only letters, digits, '_' and '-' (at most 64)."
        )
    if is_host_tenancy(name):
        raise bad_request("Name 'Host' is the host's: a tenant cannot take it.")
    return name


async def check_unique(conn: AsyncConnection, name: str, exclude: int | None = None) -> None:
    query = select(tenants.c.id).where(func.lower(tenants.c.name) == name.lower())
    if exclude is not None:
        query = query.where(tenants.c.id != exclude)
    if (await conn.execute(query.limit(1))).first() is not None:
        raise bad_request(f"Tenant '{name}' already exists.")


def admin_spec(body: Mapping[str, Any], *, password_required: bool) -> AdminSpec:
    """The administrator's properties of a TenantDto body."""
    password = inputs.optional_text(body.get("AdminPassword"), "AdminPassword", max_length=128)
    if password_required and not password:
        raise bad_request("AdminPassword is required: the password of the tenant's user 'admin'.")
    email = inputs.optional_text(body.get("AdminEmailAddress"), "AdminEmailAddress", max_length=256)
    if email is not None and email.strip() and "@" not in email:
        raise bad_request("AdminEmailAddress must be an email address.")
    return AdminSpec(
        password=password or None,
        email_address=email.strip() if email and email.strip() else None,
        name=inputs.optional_text(body.get("AdminName"), "AdminName", max_length=64),
        surname=inputs.optional_text(body.get("AdminSurname"), "AdminSurname", max_length=64),
    )


async def seed(conn: AsyncConnection, tenant_id: int, admin: AdminSpec) -> TenantSeed:
    """Fills a tenant row just inserted (``tenancy.seed_tenant``); the administrator's password must
    meet the new tenant's password policy (its default settings)."""
    made = await seed_tenant(conn, tenant_id, admin)
    if admin.password:
        await settings.check_password(conn, tenant_id, admin.password)
    return made


async def _active_others(conn: AsyncConnection, tenant_ids: list[int]) -> int:
    query = select(func.count()).where(tenants.c.is_active.is_(True), tenants.c.id.not_in(tenant_ids))
    return int((await conn.execute(query)).scalar_one())


async def check_may_end(conn: AsyncConnection, tenant_ids: list[int]) -> None:
    """400 when no active tenant would be left without these."""
    if await _active_others(conn, tenant_ids) == 0:
        raise bad_request("At least one tenant must stay active: this is the last active one.")


async def set_active(conn: AsyncConnection, tenant_ids: list[int], active: bool) -> None:
    """SetActive: every id must be a tenant's (400 otherwise, nothing changed)."""
    found = {int(r.id) for r in await conn.execute(select(tenants.c.id).where(tenants.c.id.in_(tenant_ids)))}
    missing = [i for i in tenant_ids if i not in found]
    if missing:
        raise bad_request(f"Tenant {missing[0]} does not exist.")
    if not active:
        await check_may_end(conn, tenant_ids)
    await conn.execute(update(tenants).where(tenants.c.id.in_(tenant_ids)).values(is_active=active))
    for tenant_id in tenant_ids:
        await revocations.note(conn, revocations.tenant(tenant_id))


async def create(
    conn: AsyncConnection, name: Any, admin: AdminSpec, display_name: str | None = None
) -> TenantSeed:
    """A new tenant with everything it starts with (``podium admin tenant create``); 400 for a bad or
    taken name or a password the policy refuses."""
    checked = check_name(name)
    await check_unique(conn, checked)
    made = await create_tenant(conn, checked, display_name=display_name, admin=admin)
    if admin.password:
        await settings.check_password(conn, made.tenant_id, admin.password)
    return made


async def listing(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every tenant: id, name, display name, active, creation and last login time."""
    query = select(
        tenants.c.id,
        tenants.c.name,
        tenants.c.display_name,
        tenants.c.is_active,
        tenants.c.creation_time,
        tenants.c.last_login_time,
    ).order_by(tenants.c.id)
    return [dict(row) for row in (await conn.execute(query)).mappings()]


async def id_by_name(conn: AsyncConnection, name: str) -> int:
    found = (
        await conn.execute(select(tenants.c.id).where(func.lower(tenants.c.name) == name.lower()))
    ).first()
    if found is None:
        raise bad_request(f"Tenant '{name}' does not exist.")
    return int(found.id)


def _owned(table: Table, tenant_id: int) -> Any:
    """The condition on ``table`` selecting the tenant's rows: its ``tenant_id``, or for a table without
    one, its reference to a table that has one (followed as far as needed)."""
    if "tenant_id" in table.c:
        return table.c.tenant_id == tenant_id
    for fk in table.foreign_keys:
        parent = fk.column.table
        if parent is tenants:
            return fk.parent == tenant_id
        if parent is not table:
            return fk.parent.in_(select(fk.column).where(_owned(parent, tenant_id)))
    return None


def owned_tables() -> list[Table]:
    """Every table holding rows of a tenant, children before their parents."""
    return [t for t in reversed(metadata.sorted_tables) if t is not tenants and _owned(t, 1) is not None]


async def delete_data(conn: AsyncConnection, tenant_id: int) -> None:
    """Deletes every row the tenant owns, in every table, children first (the tenant row stays for the
    caller to delete)."""
    for table in owned_tables():
        await conn.execute(delete(table).where(_owned(table, tenant_id)))


async def count_owned(conn: AsyncConnection, tenant_id: int) -> dict[str, int]:
    """Rows the tenant owns per table (tests: nothing is left after a delete)."""
    counts = {}
    for table in owned_tables():
        counts[table.name] = int(
            (
                await conn.execute(select(func.count()).select_from(table).where(_owned(table, tenant_id)))
            ).scalar_one()
        )
    return counts
