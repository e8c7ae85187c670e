"""Robots seen across folders and changed in bulk: the conditions of FindAllAcrossFolders,
GetFolderRobots, GetRobotsFromFolder and GetRobotsForProcess (a robot is in a folder through
``folder_robots``), ToggleEnabledStatus, the robots' user names and the machines' license keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folder_robots, machines, releases, robots, users
from podium.domain import revocations
from podium.domain.enums import ProvisionType
from podium.errors import not_found


def in_folders(folder_ids: list[int]) -> ColumnElement[bool]:
    """Robots that belong to one of the folders."""
    members = select(folder_robots.c.robot_id).where(folder_robots.c.folder_id.in_(folder_ids))
    return robots.c.id.in_(members)


def on_machine(machine_id: int) -> ColumnElement[bool]:
    return robots.c.machine_id == machine_id


def provisioned_automatically() -> ColumnElement[bool]:
    """Robots declared ProvisionType Automatic (GetConfiguredRobots)."""
    return robots.c.provision_type == int(ProvisionType["Automatic"])


async def folders_running(
    conn: AsyncConnection, tenant_id: int, process_key: str, folder_ids: list[int] | None
) -> list[int]:
    """The folders (among ``folder_ids``; None: every folder) holding a release of the process: their
    robots are the ones that can run it."""
    query = select(releases.c.folder_id).where(
        releases.c.tenant_id == tenant_id, releases.c.process_key == process_key
    )
    if folder_ids is not None:
        query = query.where(releases.c.folder_id.in_(folder_ids))
    return sorted({row.folder_id for row in await conn.execute(query.distinct())})


async def _require_robots(conn: AsyncConnection, tenant_id: int, robot_ids: list[int]) -> None:
    found = {
        row.id
        for row in await conn.execute(
            select(robots.c.id).where(robots.c.tenant_id == tenant_id, robots.c.id.in_(robot_ids))
        )
    }
    unknown = [i for i in robot_ids if i not in found]
    if unknown:
        raise not_found(f"Robot {unknown[0]} does not exist.")


async def set_enabled(conn: AsyncConnection, tenant_id: int, robot_ids: list[int], enabled: bool) -> None:
    """Enables or disables the tenant's robots, all or none (404 naming the first unknown id); a
    disabled robot's tokens and its jobs' tokens are refused once this commits."""
    await _require_robots(conn, tenant_id, robot_ids)
    await conn.execute(
        update(robots)
        .where(robots.c.tenant_id == tenant_id, robots.c.id.in_(robot_ids))
        .values(enabled=enabled)
    )
    for robot_id in robot_ids:
        await revocations.note(conn, revocations.robot(robot_id))


async def usernames(conn: AsyncConnection, tenant_id: int) -> list[str]:
    query = (
        select(robots.c.username)
        .where(robots.c.tenant_id == tenant_id, robots.c.username.is_not(None), robots.c.username != "")
        .distinct()
        .order_by(robots.c.username)
    )
    return [row.username for row in await conn.execute(query)]


async def machine_license_keys(conn: AsyncConnection, tenant_id: int) -> list[dict[str, Any]]:
    """Machine name -> license key of every machine of the tenant, by name."""
    query = (
        select(machines.c.name, machines.c.license_key)
        .where(machines.c.tenant_id == tenant_id)
        .order_by(machines.c.name)
    )
    return [{"Key": row.name, "Value": row.license_key} for row in await conn.execute(query)]


async def users_of(conn: AsyncConnection, user_ids: list[int]) -> dict[int, Any]:
    """The users of robots (id -> row with type, email, full name)."""
    if not user_ids:
        return {}
    query = select(users.c.id, users.c.type, users.c.email_address, users.c.name, users.c.surname).where(
        users.c.id.in_(user_ids)
    )
    return {row.id: row for row in await conn.execute(query)}
