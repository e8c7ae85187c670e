"""Machines seen from a folder (GetAssignedMachines, GetRuntimesForFolder). A machine serves a folder
when it is assigned to it (``folder_machines``: to the folder, or to a folder above it that propagates
its machines to subfolders) or when one of its robots belongs to the folder (``folder_robots``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folder_robots, folders, jobs, machines, robots
from podium.db.schema_folders import folder_machines
from podium.db.schema_robots import robot_sessions
from podium.domain import licensing
from podium.domain.enums import RobotState, RobotType
from podium.domain.robot_sessions import ACTIVE

# the runtime types a machine's slots hold: RobotType's name -> the machines' column of its slots
SLOTS = {"Unattended": "unattended_slots", "NonProduction": "non_production_slots"}


def _ancestor_paths(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:n]) for n in range(1, len(parts))]


def assigned_to(folder_id: int, folder_path: str, robot_id: int | None = None) -> ColumnElement[bool]:
    """Machines serving the folder (``folder_path`` is its path): assigned to it, or above it with
    propagation, or holding one of its robots; with ``robot_id``, only that robot's machine."""
    robot_machines = select(robots.c.machine_id).where(
        robots.c.id.in_(select(folder_robots.c.robot_id).where(folder_robots.c.folder_id == folder_id)),
        robots.c.machine_id.is_not(None),
    )
    ancestors = select(folders.c.id).where(
        folders.c.fully_qualified_name.in_(_ancestor_paths(folder_path)),
        folders.c.tenant_id == select(folders.c.tenant_id).where(folders.c.id == folder_id).scalar_subquery(),
    )
    assigned = select(folder_machines.c.machine_id).where(
        or_(
            folder_machines.c.folder_id == folder_id,
            and_(
                folder_machines.c.folder_id.in_(ancestors),
                folder_machines.c.propagate_to_subfolders.is_(True),
            ),
        )
    )
    condition = or_(machines.c.id.in_(robot_machines), machines.c.id.in_(assigned))
    if robot_id is not None:
        condition = and_(
            condition, machines.c.id.in_(select(robots.c.machine_id).where(robots.c.id == robot_id))
        )
    return condition


async def runtimes_of_folder(
    conn: AsyncConnection, tenant_id: int, folder_id: int, folder_path: str
) -> list[dict[str, Any]]:
    """Per runtime type, the slots of the folder's machines (``Total``), of those with a robot connected
    now (``Connected``), and of those less the jobs running on them (``Available``; none where the type
    is disabled for licensing: ``LicensesRuntime ToggleEnabled``)."""
    off = await licensing.disabled(conn, tenant_id)
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
            ).where(machines.c.tenant_id == tenant_id, assigned_to(folder_id, folder_path))
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
                if (row.id, robot_type) not in off:
                    available += max(0, slots - running.get((row.id, robot_type), 0))
        answer.append(
            {"Type": type_name, "Total": total, "Connected": connected_slots, "Available": available}
        )
    return answer
