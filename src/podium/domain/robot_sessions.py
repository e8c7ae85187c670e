"""Robot sessions: the robot state machine, heartbeats, and what happens when a robot goes silent.

A robot's state (``RobotState``) is derived from its session: ``Available`` or ``Busy`` while it
reports (Busy while it holds a job), ``Disconnected`` once it has not reported for the heartbeat
timeout or has said goodbye, ``Unknown`` before it ever connected. :func:`set_state` is the one
place that changes it, recording a ``robot.<state>`` event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, and_, bindparam, exists, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs, robots
from podium.db.schema_robots import robot_sessions
from podium.db.types import utcnow
from podium.domain import alerts, events
from podium.domain.enums import JobState, RobotState
from podium.domain.job_states import transition
from podium.errors import PodiumError

ACTIVE_JOB_STATES = (JobState.Running, JobState.Stopping, JobState.Terminating)
ACTIVE = tuple(int(s) for s in ACTIVE_JOB_STATES)
STOP_REQUESTED = (int(JobState.Stopping), int(JobState.Terminating))

# The heartbeats' statements, built once (no expression building or cache-key work per beat). The
# UPDATE stamps the sessions of a batch of beats, each when the session is the beating agent's and its
# state is already the one the beat implies (``b_beats``: (robot_id, tenant_id, agent_id, state)); the
# SELECT finds which of the stamped robots have a job asked to stop (only for those are the stop
# commands looked up). Two statements, not an EXISTS in RETURNING: SQLite does not correlate a
# subquery of RETURNING with the updated row.
_STAMP = (
    update(robot_sessions)
    .where(
        tuple_(
            robot_sessions.c.robot_id,
            robot_sessions.c.tenant_id,
            robot_sessions.c.agent_id,
            robot_sessions.c.state,
        ).in_(bindparam("b_beats", expanding=True))
    )
    .values(reporting_time=bindparam("b_now"))
    .returning(
        robot_sessions.c.robot_id,
        robot_sessions.c.tenant_id,
        robot_sessions.c.agent_id,
        robot_sessions.c.state,
    )
)
_STOPPING = (  # ``b_robots``: (tenant_id, robot_id), the leading columns of ix_jobs_robot_state
    select(jobs.c.robot_id)
    .where(
        tuple_(jobs.c.tenant_id, jobs.c.robot_id).in_(bindparam("b_robots", expanding=True)),
        jobs.c.state.in_(STOP_REQUESTED),
    )
    .distinct()
)


@dataclass(frozen=True)
class Beat:
    """One heartbeat: the robot (of the token's tenant), the agent holding its session, and whether
    the agent reports running jobs (Busy) or none (Available)."""

    tenant_id: int
    robot_id: int
    agent_id: str
    busy: bool

    @property
    def state(self) -> int:
        return int(RobotState.Busy if self.busy else RobotState.Available)


async def stamp(conn: AsyncConnection, beats: Sequence[Beat]) -> list[bool | None]:
    """Heartbeats' fast path: one UPDATE for the whole batch, then one SELECT (each atomic on its own,
    so PostgreSQL runs them in autocommit). For each beat: None when nothing was stamped (its state
    changes, or the session is not this agent's: :func:`heartbeat` handles both in a transaction),
    else whether a job of the robot is asked to stop."""
    if not beats:
        return []
    rows = await conn.execute(
        _STAMP,
        {
            "b_beats": [(b.robot_id, b.tenant_id, b.agent_id, b.state) for b in beats],
            "b_now": utcnow(),
        },
    )
    stamped = set(rows.tuples().all())
    if not stamped:
        return [None] * len(beats)
    robots_ = sorted({(row[1], row[0]) for row in stamped})
    stopping = set((await conn.execute(_STOPPING, {"b_robots": robots_})).scalars().all())
    return [
        (b.robot_id in stopping) if (b.robot_id, b.tenant_id, b.agent_id, b.state) in stamped else None
        for b in beats
    ]


def session_gone() -> PodiumError:
    return PodiumError(
        "This robot has no session of this agent (it reconnected elsewhere or was removed): connect again.",
        status=409,
        code=1202,
    )


async def set_state(
    conn: AsyncConnection, session: Mapping[str, Any] | RowMapping, target: RobotState, **changes: Any
) -> None:
    """Moves a session to ``target`` (conditional on the state read) and records the event."""
    current = RobotState(session["state"])
    result = await conn.execute(
        update(robot_sessions)
        .where(robot_sessions.c.id == session["id"], robot_sessions.c.state == int(current))
        .values(state=int(target), **changes)
    )
    if result.rowcount == 1 and current is not target:
        await events.record(
            conn,
            session["tenant_id"],
            f"robot.{target.name.lower()}",
            str(session["robot_id"]),
            {"RobotId": session["robot_id"], "From": current.name, "State": target.name},
        )


async def active_jobs(conn: AsyncConnection, robot_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(select(jobs).where(jobs.c.robot_id == robot_id, jobs.c.state.in_(ACTIVE)))
    return [dict(row) for row in rows.mappings()]


async def fault_jobs(conn: AsyncConnection, job_rows: list[dict[str, Any]], info: str) -> int:
    """Ends the robot's unfinished jobs as Faulted with ``info`` (through the job state machine)."""
    for job in job_rows:
        await transition(conn, job, JobState.Faulted, info=info)
    return len(job_rows)


async def open_session(
    conn: AsyncConnection,
    robot: Mapping[str, Any],
    *,
    machine_id: int | None,
    machine_name: str | None,
    host_machine_name: str,
    agent_id: str,
    capacity: int,
    version: str | None,
) -> dict[str, Any]:
    """Starts (or takes over) the robot's session. A different agent taking over means the previous
    one died: the jobs it held cannot finish and end Faulted now."""
    now = utcnow()
    existing = (
        (await conn.execute(select(robot_sessions).where(robot_sessions.c.robot_id == robot["id"])))
        .mappings()
        .first()
    )
    values = {
        "machine_id": machine_id,
        "machine_name": machine_name,
        "host_machine_name": host_machine_name,
        "agent_id": agent_id,
        "capacity": capacity,
        "version": version,
        "reporting_time": now,
        "info": None,
    }
    if existing is None:
        session_id = (
            await conn.execute(
                insert(robot_sessions)
                .values(
                    tenant_id=robot["tenant_id"],
                    robot_id=robot["id"],
                    state=int(RobotState.Unknown),
                    connected_time=now,
                    **values,
                )
                .returning(robot_sessions.c.id)
            )
        ).scalar_one()
        session: dict[str, Any] = {
            "id": session_id,
            "tenant_id": robot["tenant_id"],
            "robot_id": robot["id"],
            "state": int(RobotState.Unknown),
        }
    else:
        session = dict(existing)
        if existing["agent_id"] != agent_id:
            orphans = await active_jobs(conn, robot["id"])
            await fault_jobs(
                conn, orphans, "The robot restarted while the job was running; the job did not finish."
            )
            values["connected_time"] = now
        await conn.execute(
            update(robot_sessions).where(robot_sessions.c.id == existing["id"]).values(**values)
        )
    busy = bool(await active_jobs(conn, robot["id"]))
    await set_state(conn, session, RobotState.Busy if busy else RobotState.Available)
    return {**session, **values}


async def heartbeat(conn: AsyncConnection, tenant_id: int, robot_id: int, agent_id: str, busy: bool) -> None:
    """Stamps the session's reporting time, moving it to Busy/Available when that changed; one UPDATE
    unless the state changes."""
    target = RobotState.Busy if busy else RobotState.Available
    condition = and_(
        robot_sessions.c.robot_id == robot_id,
        robot_sessions.c.tenant_id == tenant_id,
        robot_sessions.c.agent_id == agent_id,
    )
    now = utcnow()
    stamped = await conn.execute(
        update(robot_sessions)
        .where(condition, robot_sessions.c.state == int(target))
        .values(reporting_time=now)
    )
    if stamped.rowcount == 1:
        return
    session = (await conn.execute(select(robot_sessions).where(condition))).mappings().first()
    if session is None:
        raise session_gone()
    await set_state(conn, session, target, reporting_time=now)


async def close_session(conn: AsyncConnection, tenant_id: int, robot_id: int, agent_id: str) -> None:
    """The agent says goodbye: Disconnected now (its jobs, if any, are handled like a silent robot's)."""
    session = (
        (
            await conn.execute(
                select(robot_sessions).where(
                    robot_sessions.c.robot_id == robot_id,
                    robot_sessions.c.tenant_id == tenant_id,
                    robot_sessions.c.agent_id == agent_id,
                )
            )
        )
        .mappings()
        .first()
    )
    if session is None:
        raise session_gone()
    await fault_jobs(
        conn, await active_jobs(conn, robot_id), "The robot disconnected while the job was running."
    )
    await set_state(conn, session, RobotState.Disconnected)


async def disconnect_silent(
    conn: AsyncConnection, timeout: dt.timedelta, tenant_id: int | None = None
) -> int:
    """Robots (of the tenant, or every tenant) that have not reported within ``timeout`` become
    Disconnected; their running jobs end Faulted with an Info that says why. Returns the number of
    robots disconnected."""
    limit = utcnow() - timeout
    query = select(robot_sessions).where(
        robot_sessions.c.state != int(RobotState.Disconnected), robot_sessions.c.reporting_time < limit
    )
    if tenant_id is not None:
        query = query.where(robot_sessions.c.tenant_id == tenant_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    silent = (await conn.execute(query)).mappings().all()
    for session in silent:
        name = (await conn.execute(select(robots.c.name).where(robots.c.id == session["robot_id"]))).scalar()
        seconds = int(timeout.total_seconds())
        info = (
            f"Robot '{name}' stopped reporting (no heartbeat for more than {seconds} s) while running "
            "the job; the job was lost."
        )
        await fault_jobs(conn, await active_jobs(conn, session["robot_id"]), info)
        await set_state(conn, session, RobotState.Disconnected, info="No heartbeat within the timeout.")
        await alerts.raise_alert(
            conn,
            session["tenant_id"],
            alerts.ROBOT_OFFLINE,
            {
                "RobotId": session["robot_id"],
                "RobotName": name,
                "MachineName": session["machine_name"],
                "HostMachineName": session["host_machine_name"],
                "Reason": f"No heartbeat for more than {seconds} s.",
            },
        )
    return len(silent)


async def refresh_busy(conn: AsyncConnection, tenant_id: int, robot_id: int) -> None:
    """Busy while the robot holds an unfinished job, Available otherwise (a connected robot only): the
    session and whether it holds one in one query, and an UPDATE only when that changes its state."""
    holds = exists().where(jobs.c.robot_id == robot_id, jobs.c.state.in_(ACTIVE)).label("busy")
    session = (
        (
            await conn.execute(
                select(robot_sessions, holds).where(
                    robot_sessions.c.robot_id == robot_id, robot_sessions.c.tenant_id == tenant_id
                )
            )
        )
        .mappings()
        .first()
    )
    if session is None or session["state"] == int(RobotState.Disconnected):
        return
    target = RobotState.Busy if session["busy"] else RobotState.Available
    if session["state"] != int(target):
        await set_state(conn, session, target)
