"""Machines seen from a folder (GetAssignedMachines, GetRuntimesForFolder). A machine serves a folder
through its robots: a machine is assigned to a folder when one of its robots belongs to the folder
(``folder_robots``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folder_robots, jobs, machines, robots
from podium.db.schema_robots import robot_sessions
from podium.domain.enums import RobotState, RobotType
from podium.domain.robot_sessions import ACTIVE

# the runtime types a machine's slots hold: RobotType's name -> the machines' column of its slots
SLOTS = {"Unattended": "unattended_slots", "NonProduction": "non_production_slots"}


def assigned_to(folder_id: int, robot_id: int | None = None) -> ColumnElement[bool]:
    """Machines with a robot in the folder (that robot's machine, when one is given)."""
    query = select(robots.c.machine_id).where(
        robots.c.id.in_(select(folder_robots.c.robot_id).where(folder_robots.c.folder_id == folder_id)),
        robots.c.machine_id.is_not(None),
    )
    if robot_id is not None:
        query = query.where(robots.c.id == robot_id)
    return machines.c.id.in_(query)


async def runtimes_of_folder(conn: AsyncConnection, tenant_id: int, folder_id: int) -> list[dict[str, Any]]:
    """Per runtime type, the slots of the folder's machines (``Total``), of those with a robot connected
    now (``Connected``), and of those less the jobs running on them (``Available``)."""
    connected = (
        select(robot_sessions.c.machine_id)
        .where(
            robot_sessions.c.tenant_id == tenant_id,
            robot_sessions.c.state.in_((int(RobotState.Available), int(RobotState.Busy))),
        )
        .scalar_subquery()
    )
    rows = (
        await conn.execute(
            select(
                machines.c.id,
                machines.c.unattended_slots,
                machines.c.non_production_slots,
                machines.c.id.in_(connected).label("connected"),
            ).where(machines.c.tenant_id == tenant_id, assigned_to(folder_id))
        )
    ).all()
    running_query = (
        select(robots.c.machine_id, robots.c.type, func.count().label("n"))
        .select_from(jobs.join(robots, robots.c.id == jobs.c.robot_id))
        .where(
            jobs.c.tenant_id == tenant_id,
            jobs.c.state.in_(ACTIVE),
            robots.c.machine_id.in_([r.id for r in rows]),
        )
        .group_by(robots.c.machine_id, robots.c.type)
    )
    running = {(r.machine_id, r.type): r.n for r in await conn.execute(running_query)} if rows else {}
    answer = []
    for type_name, column in SLOTS.items():
        robot_type = int(RobotType[type_name])
        total = connected_slots = available = 0
        for row in rows:
            slots = int(getattr(row, column) or 0)
            total += slots
            if row.connected:
                connected_slots += slots
                available += max(0, slots - running.get((row.id, robot_type), 0))
        answer.append(
            {"Type": type_name, "Total": total, "Connected": connected_slots, "Available": available}
        )
    return answer
