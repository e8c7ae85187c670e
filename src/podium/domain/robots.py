"""Robots: the machine a robot runs on, the folders it belongs to (``folder_robots``), and what a new
robot is given (its folder and its user, ``domain/robot_identity.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folder_robots, machines, robots
from podium.domain import revocations, robot_identity
from podium.errors import bad_request


async def machine_name(conn: AsyncConnection, tenant_id: int, machine_id: int) -> str:
    """The name of the tenant's machine a robot names by ``MachineId``; 400 when there is none."""
    row = (
        await conn.execute(
            select(machines.c.name).where(machines.c.id == machine_id, machines.c.tenant_id == tenant_id)
        )
    ).first()
    if row is None:
        raise bad_request(f"Machine {machine_id} does not exist.")
    return str(row.name)


def in_folder(folder_id: int) -> ColumnElement[bool]:
    """Robots that belong to the folder."""
    members = select(folder_robots.c.robot_id).where(folder_robots.c.folder_id == folder_id)
    return robots.c.id.in_(members)


async def settle_new_robot(conn: AsyncConnection, robot: Mapping[str, Any], folder_id: int | None) -> None:
    """A robot just created (in the folder of the request, if any) joins that folder and gets its user,
    with the Robot role in its folders."""
    if folder_id is not None:
        await conn.execute(insert(folder_robots).values(folder_id=folder_id, robot_id=robot["id"]))
    await robot_identity.provision_robot_user(conn, robot)


async def revoke_tokens(conn: AsyncConnection, robot: Mapping[str, Any]) -> None:
    """The robot is edited or deleted (in this transaction): every process checks its token and its
    jobs' tokens again once it commits, so that a disabled or deleted robot's are refused at once."""
    await revocations.note(conn, revocations.robot(robot["id"]))
