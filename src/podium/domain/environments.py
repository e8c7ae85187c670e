"""Environments: folder-scoped groups of robots a release may name (its jobs then run on those robots).

Each robot's ``RobotEnvironments`` (the comma-separated names of its environments) is kept current by
whatever changes the membership, in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import environment_robots, environments, robots
from podium.domain.folders import tenant_row_with_folder_path
from podium.errors import bad_request


async def environment(conn: AsyncConnection, tenant_id: int, environment_id: int) -> dict[str, Any]:
    """The tenant's environment, with its folder's path as ``folder_path``; 404 when there is none."""
    return await tenant_row_with_folder_path(
        conn, environments, tenant_id, environment_id, "Environment does not exist."
    )


async def tenant_robot_ids(conn: AsyncConnection, tenant_id: int, ids: list[int]) -> set[int]:
    """``ids``, all robots of the tenant; 400 naming those that are not."""
    if not ids:
        return set()
    found = {
        r.id
        for r in await conn.execute(
            select(robots.c.id).where(robots.c.id.in_(ids), robots.c.tenant_id == tenant_id)
        )
    }
    missing = set(ids) - found
    if missing:
        raise bad_request(f"Robots {sorted(missing)} do not exist.")
    return found


async def change_robots(
    conn: AsyncConnection, environment_id: int, added: set[int], removed: set[int]
) -> None:
    """Adds and removes robots (of the environment's tenant: see :func:`tenant_robot_ids`)."""
    existing = {
        r.robot_id
        for r in await conn.execute(
            select(environment_robots.c.robot_id).where(environment_robots.c.environment_id == environment_id)
        )
    }
    new = added - existing
    if new:
        await conn.execute(
            insert(environment_robots),
            [{"environment_id": environment_id, "robot_id": r} for r in sorted(new)],
        )
    if removed:
        await conn.execute(
            delete(environment_robots).where(
                environment_robots.c.environment_id == environment_id,
                environment_robots.c.robot_id.in_(sorted(removed)),
            )
        )
    await _environment_names(conn, new | removed)


async def _environment_names(conn: AsyncConnection, robot_ids: set[int]) -> None:
    """Keeps each robot's ``RobotEnvironments`` (comma-separated environment names) current: one read
    for all the robots, one batched update."""
    if not robot_ids:
        return
    rows = await conn.execute(
        select(environment_robots.c.robot_id, environments.c.name)
        .join(environment_robots, environment_robots.c.environment_id == environments.c.id)
        .where(environment_robots.c.robot_id.in_(sorted(robot_ids)))
        .order_by(environment_robots.c.robot_id, environments.c.name)
    )
    names: dict[int, list[str]] = {robot_id: [] for robot_id in robot_ids}
    for row in rows:
        names[row.robot_id].append(row.name)
    await conn.execute(
        update(robots).where(robots.c.id == bindparam("robot")).values(robot_environments=bindparam("names")),
        [{"robot": robot_id, "names": ",".join(found)} for robot_id, found in sorted(names.items())],
    )


async def robot_ids(conn: AsyncConnection, environment_id: int) -> list[int]:
    return [
        r.robot_id
        for r in await conn.execute(
            select(environment_robots.c.robot_id)
            .where(environment_robots.c.environment_id == environment_id)
            .order_by(environment_robots.c.robot_id)
        )
    ]


def robots_of(environment_id: int) -> ColumnElement[bool]:
    """Robots of the environment (a condition on the Robots entity set)."""
    members = select(environment_robots.c.robot_id).where(
        environment_robots.c.environment_id == environment_id
    )
    return robots.c.id.in_(members)
