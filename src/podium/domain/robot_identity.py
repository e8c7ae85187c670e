"""How machines and robots authenticate: a machine's key and client credentials, a robot's own user.

A machine has a machine key (its ``Key``, answered as ``LicenseKey`` too) and client credentials whose
client id is that key (``domain/machines.py`` issues them): ``/api/robot/connect`` takes the key,
``/identity_/connect/token`` exchanges the credentials for a robot token (``api/account.py``).

A robot acts as its own robot-type user (``robot:<robot key>``) holding the built-in ``Robot`` role in
every folder the robot belongs to (``folder_robots``) and nowhere else: never tenant-wide, so a robot
token has the permissions of that role in the robot's folders only. :func:`provision_robot_user` is the
one place that creates that user and aligns its grants; every path that creates a robot or connects
one calls it, and whatever adds or removes a robot from a folder calls :func:`sync_robot_roles` in the
same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folder_robots, machines, robots, roles, tenants, user_roles
from podium.domain import revocations
from podium.domain.enums import UserType
from podium.domain.tenancy import create_user
from podium.errors import PodiumError, bad_request

ROBOT_ROLE = "Robot"


def unknown_machine() -> PodiumError:
    return PodiumError("Unknown machine key.", status=401, code=1202)


async def machine_by_key(conn: AsyncConnection, key: str) -> dict[str, Any]:
    """The machine of an active tenant whose ``Key`` or ``LicenseKey`` is ``key``; 401 otherwise."""
    if not key or len(key) > 64:
        raise unknown_machine()
    row = (
        (
            await conn.execute(
                select(machines)
                .join(tenants, tenants.c.id == machines.c.tenant_id)
                .where(
                    or_(machines.c.key == key, machines.c.license_key == key), tenants.c.is_active.is_(True)
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise unknown_machine()
    return dict(row)


async def machine_robots(
    conn: AsyncConnection, machine: Mapping[str, Any], name: str | None
) -> list[dict[str, Any]]:
    """Enabled robots of the machine (by MachineId, or by MachineName for robots without one)."""
    query = select(robots).where(
        robots.c.tenant_id == machine["tenant_id"],
        robots.c.enabled.is_(True),
        or_(
            robots.c.machine_id == machine["id"],
            and_(robots.c.machine_id.is_(None), robots.c.machine_name == machine["name"]),
        ),
    )
    if name:
        query = query.where(robots.c.name == name)
    rows = [dict(r) for r in (await conn.execute(query.order_by(robots.c.id))).mappings()]
    if not rows:
        which = f"robot '{name}'" if name else "enabled robots"
        raise bad_request(f"Machine '{machine['name']}' has no {which}.")
    return rows


async def provision_robot_user(conn: AsyncConnection, robot: Mapping[str, Any]) -> int:
    """The robot's user id: creates the user (once) and gives it the Robot role in the robot's folders,
    taking it away anywhere else (a tenant-wide grant included).

    ``robot`` holds the robot's ``id``, ``tenant_id``, ``key`` and ``user_id`` (None: no user yet).
    """
    user_id = robot["user_id"]
    if user_id is None:
        user_id = await create_user(
            conn, robot["tenant_id"], f"robot:{robot['key']}", None, user_type=int(UserType.Robot)
        )
        await conn.execute(update(robots).where(robots.c.id == robot["id"]).values(user_id=user_id))
    await sync_robot_roles(conn, robot["tenant_id"], robot["id"], int(user_id))
    return int(user_id)


async def sync_robot_roles(conn: AsyncConnection, tenant_id: int, robot_id: int, user_id: int) -> None:
    """Makes the folders where the robot's user holds the Robot role equal to the robot's folders
    (``folder_robots``); a tenant-wide Robot grant (``folder_id`` NULL) is removed. When they change,
    every process loads the principals of the robot's tokens afresh (``domain/revocations.py``)."""
    role_id = (
        await conn.execute(
            select(roles.c.id).where(roles.c.tenant_id == tenant_id, roles.c.name == ROBOT_ROLE)
        )
    ).scalar()
    if role_id is None:
        return
    member_of: set[int | None] = {
        r.folder_id
        for r in await conn.execute(
            select(folder_robots.c.folder_id).where(folder_robots.c.robot_id == robot_id)
        )
    }
    granted: set[int | None] = {
        r.folder_id
        for r in await conn.execute(
            select(user_roles.c.folder_id).where(
                user_roles.c.user_id == user_id, user_roles.c.role_id == role_id
            )
        )
    }
    missing = sorted(f for f in member_of - granted if f is not None)
    if missing:
        await conn.execute(
            insert(user_roles), [{"user_id": user_id, "role_id": role_id, "folder_id": f} for f in missing]
        )
    extra = granted - member_of
    if extra:
        where = [user_roles.c.folder_id.in_(sorted(f for f in extra if f is not None))]
        if None in extra:
            where.append(user_roles.c.folder_id.is_(None))
        await conn.execute(
            delete(user_roles).where(
                user_roles.c.user_id == user_id, user_roles.c.role_id == role_id, or_(*where)
            )
        )
    if missing or extra:
        await revocations.note(conn, revocations.robot(robot_id))
