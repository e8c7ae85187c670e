"""Robot sessions as administrators see them (``api.sessions``): which sessions a folder or a machine
shows, the host-runtime view, and what an administrator does to them: remove inactive ones, put a host
in maintenance. The session state machine itself (connect, heartbeats, silence) is ``robot_sessions``.

*Inactive* is Orchestrator's "disconnected or unresponsive": Disconnected, or silent for four heartbeat
intervals (:func:`unresponsive_since`) while the heartbeat timeout has not yet disconnected it.

*Maintenance* belongs to a host, as in Orchestrator ("the execution capabilities for a specified
host"): setting it through one session sets it on every session of the same machine and host name,
i.e. every robot the agent on that host runs. A session in maintenance is given no new job
(``dispatch.claim_for_robot``); its Pending jobs stay Pending. Enabling it with a stop strategy stops
the host's running jobs with that strategy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folder_robots, jobs, machines, robots
from podium.db.schema_robots import robot_sessions
from podium.db.types import utcnow
from podium.domain import events, wakeups
from podium.domain.enums import RobotState, StopStrategy
from podium.domain.jobs import stop_job
from podium.domain.robot_enums import MaintenanceMode
from podium.domain.robot_sessions import ACTIVE, active_jobs, fault_jobs, set_state
from podium.errors import bad_request, not_found

MISSED_HEARTBEATS = 4  # Orchestrator: unresponsive after four heartbeats missed in a row


def unresponsive_since(interval_seconds: float, now: dt.datetime | None = None) -> dt.datetime:
    """Sessions that last reported before this instant are unresponsive."""
    return (now or utcnow()) - dt.timedelta(seconds=MISSED_HEARTBEATS * interval_seconds)


def of_folder(folder_id: int | None) -> list[ColumnElement[bool]]:
    """The sessions of the folder's robots (no condition without a folder)."""
    if folder_id is None:
        return []
    members = select(folder_robots.c.robot_id).where(folder_robots.c.folder_id == folder_id)
    return [robot_sessions.c.robot_id.in_(members)]


def of_machine(machine_id: int) -> list[ColumnElement[bool]]:
    return [robot_sessions.c.machine_id == machine_id]


async def usernames(conn: AsyncConnection, tenant_id: int, folder_id: int | None) -> list[str]:
    """The usernames of the robots with a session (of the folder's robots, given a folder), sorted."""
    query = (
        select(robots.c.username)
        .join(robot_sessions, robot_sessions.c.robot_id == robots.c.id)
        .where(robot_sessions.c.tenant_id == tenant_id, robots.c.username.is_not(None))
        .where(*of_folder(folder_id))
        .distinct()
        .order_by(robots.c.username)
    )
    return [row[0] for row in await conn.execute(query)]


def _inactive(limit: dt.datetime) -> Any:
    return or_(
        robot_sessions.c.state == int(RobotState.Disconnected), robot_sessions.c.reporting_time < limit
    )


async def delete_inactive(
    conn: AsyncConnection, tenant_id: int, session_ids: Sequence[int], interval_seconds: float
) -> int:
    """Deletes the given sessions, all or none: 404 when one is not the tenant's, 400 when one is
    connected and responsive. An unresponsive session is disconnected first (its running jobs end
    Faulted, as when the heartbeat timeout passes). Returns the number deleted."""
    ids = sorted(set(session_ids))
    rows = (
        (
            await conn.execute(
                select(robot_sessions).where(
                    robot_sessions.c.id.in_(ids), robot_sessions.c.tenant_id == tenant_id
                )
            )
        )
        .mappings()
        .all()
    )
    missing = set(ids) - {row["id"] for row in rows}
    if missing:
        raise not_found(f"Sessions {sorted(missing)} do not exist.")
    limit = unresponsive_since(interval_seconds)
    active = sorted(
        row["id"]
        for row in rows
        if row["state"] != int(RobotState.Disconnected) and row["reporting_time"] >= limit
    )
    if active:
        raise bad_request(
            f"Sessions {active} are connected and responsive: only disconnected or unresponsive "
            "sessions can be deleted."
        )
    for row in rows:
        if row["state"] != int(RobotState.Disconnected):
            info = "The robot's session was deleted while it was unresponsive; the job did not finish."
            await fault_jobs(conn, await active_jobs(conn, row["robot_id"]), info)
            await set_state(conn, row, RobotState.Disconnected, info="Session deleted while unresponsive.")
    # conditional again: a robot that reported since the read keeps its session (and the call fails)
    deleted = await conn.execute(
        delete(robot_sessions).where(
            robot_sessions.c.id.in_(ids), robot_sessions.c.tenant_id == tenant_id, _inactive(limit)
        )
    )
    if deleted.rowcount != len(ids):
        raise bad_request("A session reported while it was being deleted; nothing was deleted.")
    for row in rows:
        await events.record(
            conn,
            tenant_id,
            "session.deleted",
            str(row["id"]),
            {"SessionId": row["id"], "RobotId": row["robot_id"]},
        )
    return len(ids)


async def set_maintenance(
    conn: AsyncConnection,
    tenant_id: int,
    session_id: int,
    mode: MaintenanceMode,
    stop: StopStrategy | None,
) -> list[int]:
    """Sets ``mode`` on the host of the session (every session of its machine and host name); with
    Enabled and a stop strategy, stops the host's running jobs with it. Leaving maintenance wakes the
    host's robots, so that they take the Pending jobs at once. Returns the session ids changed."""
    session = (
        (
            await conn.execute(
                select(robot_sessions).where(
                    robot_sessions.c.id == session_id, robot_sessions.c.tenant_id == tenant_id
                )
            )
        )
        .mappings()
        .first()
    )
    if session is None:
        raise not_found(f"Session {session_id} does not exist.")
    same_host = [robot_sessions.c.tenant_id == tenant_id]
    if session["machine_id"] is None or session["host_machine_name"] is None:
        same_host.append(robot_sessions.c.id == session_id)
    else:
        same_host += [
            robot_sessions.c.machine_id == session["machine_id"],
            robot_sessions.c.host_machine_name == session["host_machine_name"],
        ]
    host = (
        await conn.execute(select(robot_sessions.c.id, robot_sessions.c.robot_id).where(*same_host))
    ).all()
    session_ids = sorted(row.id for row in host)
    robot_ids = sorted(row.robot_id for row in host)
    await conn.execute(
        update(robot_sessions).where(robot_sessions.c.id.in_(session_ids)).values(maintenance_mode=int(mode))
    )
    if mode is MaintenanceMode.Enabled and stop is not None:
        running = (
            (await conn.execute(select(jobs).where(jobs.c.robot_id.in_(robot_ids), jobs.c.state.in_(ACTIVE))))
            .mappings()
            .all()
        )
        for job in running:
            await stop_job(conn, dict(job), stop)
    if mode is MaintenanceMode.Default:
        for robot_id in robot_ids:
            await wakeups.mark(conn, wakeups.Wakeup(tenant_id, robot_id))
    await events.record(
        conn,
        tenant_id,
        "session.maintenance",
        str(session_id),
        {
            "SessionIds": session_ids,
            "MaintenanceMode": mode.name,
            "StopJobsStrategy": None if stop is None else stop.name,
        },
    )
    return session_ids


async def runtimes(
    conn: AsyncConnection,
    tenant_id: int,
    *,
    folder_id: int | None = None,
    robot_id: int | None = None,
    robot_type: int | None = None,
) -> list[RowMapping]:
    """Sessions with what a host-runtime view shows: the robot's type and user, the machine's type
    and scope, and the jobs running now (``UsedRuntimes``); of a folder's robots, of one robot, of one
    robot type when given."""
    conditions = of_folder(folder_id)
    if robot_id is not None:
        conditions.append(robot_sessions.c.robot_id == robot_id)
    if robot_type is not None:
        conditions.append(robots.c.type == robot_type)
    used = (
        select(func.count())
        .select_from(jobs)
        .where(jobs.c.robot_id == robot_sessions.c.robot_id, jobs.c.state.in_(ACTIVE))
        .scalar_subquery()
    )
    query = (
        select(
            robot_sessions,
            robots.c.type.label("robot_type"),
            robots.c.username.label("robot_username"),
            machines.c.type.label("machine_type"),
            machines.c.scope.label("machine_scope"),
            used.label("used_runtimes"),
        )
        .join(robots, robots.c.id == robot_sessions.c.robot_id)
        .outerjoin(machines, machines.c.id == robot_sessions.c.machine_id)
        .where(robot_sessions.c.tenant_id == tenant_id, *conditions)
        .order_by(robot_sessions.c.id)
    )
    return list((await conn.execute(query)).mappings().all())
