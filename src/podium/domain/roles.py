"""Roles of a tenant and their permissions.

``role_permissions`` has no tenant_id: its rows belong to a tenant through their role. Built-in roles
are static (never deleted); Administrator is also not editable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import role_permissions, roles, user_roles, users
from podium.domain.tenancy import tenant_rows
from podium.domain.users import require_users, set_tenant_roles
from podium.errors import bad_request


def permissions_of_tenant(tenant_id: int) -> list[ColumnElement[bool]]:
    """Only the permission rows of the tenant's roles."""
    return [role_permissions.c.role_id.in_(select(roles.c.id).where(roles.c.tenant_id == tenant_id))]


async def require_role(conn: AsyncConnection, tenant_id: int, role_id: int) -> None:
    """400 unless the role is one of the tenant's."""
    if not await tenant_rows(conn, roles, tenant_id, [role_id]):
        raise bad_request("The role does not exist.")


async def require_roles(conn: AsyncConnection, tenant_id: int, role_ids: list[int], name: str) -> None:
    """400 unless every id (of the request's list ``name``) is a role of the tenant."""
    if await tenant_rows(conn, roles, tenant_id, role_ids) != set(role_ids):
        raise bad_request(f"Some of {name} do not exist.")


async def role_named(conn: AsyncConnection, tenant_id: int, name: str) -> int:
    """The id of the tenant's role called ``name``; 400 without one."""
    query = select(roles.c.id).where(roles.c.name == name, roles.c.tenant_id == tenant_id)
    role_id = (await conn.execute(query)).scalar_one_or_none()
    if role_id is None:
        raise bad_request("The role does not exist.")
    return int(role_id)


async def write_permissions(conn: AsyncConnection, role_id: int, names: list[tuple[str, bool]]) -> None:
    """The role's permissions become ``names`` (name, granted); the last of a repeated name counts."""
    await conn.execute(delete(role_permissions).where(role_permissions.c.role_id == role_id))
    if names:
        rows = [{"role_id": role_id, "name": n, "is_granted": g} for n, g in dict(names).items()]
        await conn.execute(insert(role_permissions), rows)


async def edit_role(
    conn: AsyncConnection, existing: Mapping[str, Any] | None, names: list[tuple[str, bool]] | None
) -> None:
    """Before a role is written: a role that is not editable refuses; an edit that names permissions
    replaces them (a new role gets its permissions once it has an id)."""
    if existing is not None and not existing["is_editable"]:
        raise bad_request("This role cannot be edited.")
    if existing is not None and names is not None:
        await write_permissions(conn, existing["id"], names)


def require_deletable(row: Mapping[str, Any]) -> None:
    if row["is_static"]:
        raise bad_request("A built-in role cannot be deleted.")


async def set_role_users(
    conn: AsyncConnection, tenant_id: int, role_id: int, added: list[int], removed: list[int]
) -> None:
    """Gives the tenant role to the users ``added`` and takes it from ``removed`` (400 for a user that
    is not the tenant's)."""
    await require_users(conn, tenant_id, added, "addedUserIds")
    for user_id in added:
        await set_tenant_roles(conn, user_id, [role_id], [])
    await require_users(conn, tenant_id, removed, "removedUserIds")
    for user_id in removed:
        await set_tenant_roles(conn, user_id, [], [role_id])


def holders(role_id: int) -> ColumnElement[bool]:
    """Users holding the role (as a tenant or folder role)."""
    return users.c.id.in_(select(user_roles.c.user_id).where(user_roles.c.role_id == role_id))


async def role_user_ids(conn: AsyncConnection, role_id: int) -> list[int]:
    """The users holding the role (as a tenant or folder role), in id order."""
    query = select(user_roles.c.user_id).where(user_roles.c.role_id == role_id)
    return sorted({row.user_id for row in await conn.execute(query)})
