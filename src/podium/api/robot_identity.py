"""How machines and robots authenticate: a machine's client id/secret and a robot's own user.

A machine gets a client id (its Key) and a secret, shown once in the create response
(``ClientId``/``ClientSecret``) and kept as an argon2 hash; ``/identity_/connect/token`` exchanges
them for a robot token (``api/account.py``). A robot gets a robot-type user (``robot:<robot key>``)
holding the built-in "Robot" role in every folder the robot belongs to, so a robot token has the
permissions of that role there and nowhere else. Whatever adds or removes a robot from a folder calls
``sync_robot_roles`` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.passwords import hash_password, new_secret
from podium.db.schema import folder_robots, machines, robots, roles, user_roles
from podium.domain.enums import UserType
from podium.domain.tenancy import create_user
from podium.http.context import RequestContext

ROBOT_ROLE = "Robot"


async def machine_credentials(
    ctx: RequestContext,
    conn: AsyncConnection,
    machine_id: int,
    values: dict[str, Any],
    body: Mapping[str, Any],
) -> dict[str, str]:
    """Gives a new machine its client credentials; the secret is answered this once only."""
    secret = new_secret(32)
    client_id = str(values["key"])
    await conn.execute(
        update(machines)
        .where(machines.c.id == machine_id)
        .values(client_id=client_id, client_secret_hash=hash_password(secret))
    )
    return {"ClientId": client_id, "ClientSecret": secret}


async def provision_robot_user(conn: AsyncConnection, tenant_id: int, robot_id: int) -> int:
    """Creates the robot's user (once) and gives it the Robot role in the robot's folders."""
    row = (await conn.execute(select(robots.c.key, robots.c.user_id).where(robots.c.id == robot_id))).one()
    user_id = row.user_id
    if user_id is None:
        user_id = await create_user(conn, tenant_id, f"robot:{row.key}", None, user_type=int(UserType.Robot))
        await conn.execute(update(robots).where(robots.c.id == robot_id).values(user_id=user_id))
    await sync_robot_roles(conn, tenant_id, robot_id)
    return int(user_id)


async def sync_robot_roles(conn: AsyncConnection, tenant_id: int, robot_id: int) -> None:
    """Makes the robot user's Robot-role folders equal to the robot's folders (``folder_robots``)."""
    user_id = (await conn.execute(select(robots.c.user_id).where(robots.c.id == robot_id))).scalar()
    role_id = (
        await conn.execute(
            select(roles.c.id).where(roles.c.tenant_id == tenant_id, roles.c.name == ROBOT_ROLE)
        )
    ).scalar()
    if user_id is None or role_id is None:
        return
    member_of = {
        r.folder_id
        for r in await conn.execute(
            select(folder_robots.c.folder_id).where(folder_robots.c.robot_id == robot_id)
        )
    }
    granted = {
        r.folder_id
        for r in await conn.execute(
            select(user_roles.c.folder_id).where(
                and_(
                    user_roles.c.user_id == user_id,
                    user_roles.c.role_id == role_id,
                    user_roles.c.folder_id.is_not(None),
                )
            )
        )
    }
    if member_of - granted:
        await conn.execute(
            insert(user_roles),
            [{"user_id": user_id, "role_id": role_id, "folder_id": f} for f in sorted(member_of - granted)],
        )
    if granted - member_of:
        await conn.execute(
            delete(user_roles).where(
                user_roles.c.user_id == user_id,
                user_roles.c.role_id == role_id,
                user_roles.c.folder_id.in_(granted - member_of),
            )
        )
