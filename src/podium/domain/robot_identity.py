"""Who a connecting agent is: its machine (by machine key) and the robots that run on that machine.

Each robot acts as a user of type Robot holding the built-in ``Robot`` role; a robot created without
one gets it on its first connection, so that its job tokens carry a principal.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import machines, robots, roles, user_roles, users
from podium.db.types import utcnow
from podium.domain.enums import UserType
from podium.errors import PodiumError, bad_request


def unknown_machine() -> PodiumError:
    return PodiumError("Unknown machine key.", status=401, code=1202)


async def machine_by_key(conn: AsyncConnection, key: str) -> dict[str, Any]:
    """The machine whose ``Key`` or ``LicenseKey`` is ``key``; 401 otherwise."""
    if not key or len(key) > 64:
        raise unknown_machine()
    row = (
        (
            await conn.execute(
                select(machines).where(or_(machines.c.key == key, machines.c.license_key == key))
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


async def ensure_robot_user(conn: AsyncConnection, robot: Mapping[str, Any]) -> int:
    """The robot's user id, creating a Robot user with the Robot role if it has none."""
    if robot["user_id"] is not None:
        return int(robot["user_id"])
    user_id = (
        await conn.execute(
            insert(users)
            .values(
                tenant_id=robot["tenant_id"],
                key=str(uuid.uuid4()),
                user_name=f"robot-{robot['key']}",
                name=robot["name"],
                is_active=True,
                type=int(UserType.Robot),
                creation_time=utcnow(),
            )
            .returning(users.c.id)
        )
    ).scalar_one()
    role_id = (
        await conn.execute(
            select(roles.c.id).where(roles.c.tenant_id == robot["tenant_id"], roles.c.name == "Robot")
        )
    ).scalar()
    if role_id is not None:
        await conn.execute(insert(user_roles).values(user_id=user_id, role_id=role_id, folder_id=None))
    await conn.execute(update(robots).where(robots.c.id == robot["id"]).values(user_id=user_id))
    return int(user_id)
