"""Users of a tenant: which exist, their tenant roles (``user_roles`` rows without a folder) and whether
they are active. Folder roles are the folders' (``podium.domain.folders``)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs, robots, roles, user_roles, users
from podium.domain.enums import JobState
from podium.domain.tenancy import tenant_rows
from podium.errors import bad_request


def with_id(user_id: int) -> ColumnElement[bool]:
    return users.c.id == user_id


async def require_user(conn: AsyncConnection, tenant_id: int, user_id: int) -> None:
    """400 unless the user is one of the tenant's."""
    if not await tenant_rows(conn, users, tenant_id, [user_id]):
        raise bad_request("The user does not exist.")


async def require_users(conn: AsyncConnection, tenant_id: int, user_ids: list[int], name: str) -> None:
    """400 unless every id (of the request's list ``name``) is a user of the tenant."""
    if await tenant_rows(conn, users, tenant_id, user_ids) != set(user_ids):
        raise bad_request(f"Some of {name} do not exist.")


async def tenant_role_ids(conn: AsyncConnection, user_id: int) -> list[int]:
    query = select(user_roles.c.role_id).where(
        user_roles.c.user_id == user_id, user_roles.c.folder_id.is_(None)
    )
    return [row.role_id for row in await conn.execute(query)]


async def set_tenant_roles(conn: AsyncConnection, user_id: int, add: list[int], remove: list[int]) -> None:
    """Gives the user the tenant roles ``add`` (kept when held already) and takes ``remove`` away."""
    for role_id in add:
        exists = select(user_roles.c.id).where(
            user_roles.c.user_id == user_id, user_roles.c.role_id == role_id, user_roles.c.folder_id.is_(None)
        )
        if (await conn.execute(exists)).first() is None:
            await conn.execute(insert(user_roles).values(user_id=user_id, role_id=role_id, folder_id=None))
    if remove:
        await conn.execute(
            delete(user_roles).where(
                user_roles.c.user_id == user_id,
                user_roles.c.role_id.in_(remove),
                user_roles.c.folder_id.is_(None),
            )
        )


async def assign_tenant_roles(conn: AsyncConnection, user_id: int, role_ids: list[int]) -> None:
    """The user's tenant roles become exactly ``role_ids``."""
    current = await tenant_role_ids(conn, user_id)
    await set_tenant_roles(conn, user_id, role_ids, [r for r in current if r not in role_ids])


async def set_active(conn: AsyncConnection, user_id: int, active: bool) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(is_active=active))


async def require_an_admin(conn: AsyncConnection, tenant_id: int, leaving: int | None = None) -> None:
    """400 unless an active user other than ``leaving`` holds the tenant's Administrator role across
    the tenant: called after a change in its transaction (or before deleting ``leaving``), so that the
    last administrator is never deleted, deactivated or stripped of the role (nothing is changed)."""
    admin_role = select(roles.c.id).where(roles.c.tenant_id == tenant_id, roles.c.name == "Administrator")
    query = (
        select(user_roles.c.user_id)
        .join(users, users.c.id == user_roles.c.user_id)
        .where(
            users.c.tenant_id == tenant_id,
            users.c.is_active.is_(True),
            user_roles.c.folder_id.is_(None),
            user_roles.c.role_id.in_(admin_role.scalar_subquery()),
        )
    )
    if leaving is not None:
        query = query.where(users.c.id != leaving)
    if (await conn.execute(query.limit(1))).first() is None:
        raise bad_request("The tenant's last administrator cannot be deleted, deactivated or lose the role.")


async def busy_users(conn: AsyncConnection, tenant_id: int, user_ids: list[int]) -> set[int]:
    """Which of the users have a robot running a job."""
    query = (
        select(robots.c.user_id)
        .join(jobs, jobs.c.robot_id == robots.c.id)
        .where(
            robots.c.tenant_id == tenant_id,
            robots.c.user_id.in_(user_ids),
            jobs.c.state == int(JobState.Running),
        )
        .distinct()
    )
    return {int(row.user_id) for row in await conn.execute(query)}
