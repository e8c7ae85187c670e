"""Job dispatch: which Pending jobs a robot may take, the atomic claim, and the stop commands it owes.

A robot takes the Pending (and Resumed: ``domain.job_triggers``) jobs assigned to it, and the
unassigned ones (JobsCount strategy, or resumed without ResumeOnSameContext) of the releases it may
run: the robots of the release's environment, or, for a release without an environment, the robots
of its folder (as ``domain.jobs.eligible_robot_ids``). It runs at most its
session's capacity at once (one job unless configured otherwise). A robot whose machine has the runtimes
of its type disabled for licensing (``LicensesRuntime ToggleEnabled``, ``domain/licensing.py``) takes
nothing, like a disabled robot or one in maintenance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import environment_robots, folder_robots, folders, jobs, releases, robots
from podium.db.schema_licensing import disabled_runtimes
from podium.db.schema_robots import robot_sessions
from podium.domain import job_claims
from podium.domain.enums import JobState, RobotState
from podium.domain.job_states import claim_pending
from podium.domain.robot_sessions import ACTIVE, session_gone, set_state
from podium.robot.messages import Command

DEFAULT_ACK_TIMEOUT = dt.timedelta(seconds=15)


def _eligible_releases(robot_id: int) -> Select[Any]:
    environments_of_robot = select(environment_robots.c.environment_id).where(
        environment_robots.c.robot_id == robot_id
    )
    folders_of_robot = select(folder_robots.c.folder_id).where(folder_robots.c.robot_id == robot_id)
    return select(releases.c.id).where(
        or_(
            releases.c.environment_id.in_(environments_of_robot),
            and_(releases.c.environment_id.is_(None), releases.c.folder_id.in_(folders_of_robot)),
        )
    )


DISPATCHED = (int(JobState.Pending), int(JobState.Resumed))


def candidates(
    tenant_id: int,
    robot_id: int,
    limit: int | ColumnElement[int],
    dialect: str,
    machine_id: int | None = None,
) -> Select[Any]:
    """Ids, robot (if started or resumed for one), state and machine of the Pending and Resumed jobs the
    robot may take, highest priority and oldest first. A Pending job started for a machine (a MachineRobots
    pair of StartJobs or of a trigger) goes only to a robot connected from that machine (``machine_id``,
    its session's); a Resumed one keeps the machine of its first run only as a record."""
    query = (
        select(jobs.c.id, jobs.c.robot_id, jobs.c.state, jobs.c.machine_id)
        .where(
            jobs.c.tenant_id == tenant_id,
            jobs.c.state.in_(DISPATCHED),
            or_(
                jobs.c.robot_id == robot_id,
                and_(jobs.c.robot_id.is_(None), jobs.c.release_id.in_(_eligible_releases(robot_id))),
            ),
            or_(
                jobs.c.machine_id.is_(None),
                jobs.c.state != int(JobState.Pending),
                jobs.c.machine_id == machine_id,
            ),
        )
        .order_by(jobs.c.job_priority.desc(), jobs.c.id)
        .limit(limit)
    )
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=jobs)
    return query


async def claim_for_robot(
    conn: AsyncConnection,
    tenant_id: int,
    robot_id: int,
    agent_id: str,
    ack_timeout: dt.timedelta = DEFAULT_ACK_TIMEOUT,
) -> list[dict[str, Any]]:
    """Claims (Pending → Running) as many jobs as the robot has free capacity, in this transaction;
    each job answered carries ``claim``, the token the robot acknowledges it with (``job_claims``).
    A robot that took a job is Busy.

    The robot's session row is locked first, so that two long-polls of one robot cannot both fill
    the same free slot; the candidates are locked (``SKIP LOCKED`` on PostgreSQL) and claimed by one
    UPDATE that checks the state again.
    """
    runtime_disabled = (
        exists()
        .where(
            disabled_runtimes.c.machine_id == robot_sessions.c.machine_id,
            disabled_runtimes.c.robot_type == robots.c.type,
        )
        .label("runtime_disabled")
    )
    query = (
        select(robot_sessions, robots.c.enabled, robots.c.name.label("robot_name"), runtime_disabled)
        .join(robots, robots.c.id == robot_sessions.c.robot_id)
        .where(
            robot_sessions.c.robot_id == robot_id,
            robot_sessions.c.tenant_id == tenant_id,
            robot_sessions.c.agent_id == agent_id,
        )
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=robot_sessions)
    session = (await conn.execute(query)).mappings().first()
    if session is None:
        raise session_gone()
    if not session["enabled"] or session["maintenance_mode"] or session["runtime_disabled"]:  # no new jobs
        return []
    # the free slots, counted by the candidates' own query (its LIMIT), after the lock is held: a count
    # in the locking query would be of its snapshot, taken before a concurrent claim of this robot
    # committed
    running = (
        select(func.count())
        .select_from(jobs)
        .where(jobs.c.robot_id == robot_id, jobs.c.state.in_(ACTIVE))
        .scalar_subquery()
    )
    capacity = int(session["capacity"])
    free = case((running < capacity, capacity - running), else_=0)
    query = candidates(tenant_id, robot_id, free, conn.dialect.name, session["machine_id"])
    rows = (await conn.execute(query)).tuples().all()
    if not rows:
        return []
    picked = {job_id: (assigned, machine) for job_id, assigned, _, machine in rows}
    claimed = []
    for source in (JobState.Pending, JobState.Resumed):
        ids = [job_id for job_id, _, state, _ in rows if state == int(source)]
        if ids:
            claimed += await claim_pending(
                conn,
                select(jobs.c.id).where(jobs.c.id.in_(ids)),
                source=source,
                robot_id=robot_id,
                machine_id=session["machine_id"],
                host_machine_name=session["host_machine_name"],
            )
    tokens = await job_claims.record(
        conn, tenant_id, robot_id, [(job["id"], *picked[job["id"]]) for job in claimed], ack_timeout
    )
    if claimed and session["state"] not in (int(RobotState.Busy), int(RobotState.Disconnected)):
        await set_state(conn, session, RobotState.Busy)  # what refresh_busy would find, read under lock
    return [{**job, "claim": tokens[job["id"]]} for job in claimed]


async def job_details(conn: AsyncConnection, job_ids: list[int]) -> list[dict[str, Any]]:
    """What a robot needs to run the claimed jobs: the release's package and the folder."""
    if not job_ids:
        return []
    rows = await conn.execute(
        select(
            jobs,
            releases.c.key.label("release_key"),
            releases.c.process_key,
            releases.c.process_version,
            folders.c.key.label("folder_key"),
            folders.c.fully_qualified_name.label("folder_path"),
            robots.c.key.label("robot_key"),
            robots.c.name.label("robot_name"),
            robots.c.user_id.label("robot_user_id"),
        )
        .join(releases, releases.c.id == jobs.c.release_id)
        .join(folders, folders.c.id == jobs.c.folder_id)
        .join(robots, robots.c.id == jobs.c.robot_id)
        .where(jobs.c.id.in_(job_ids))
        .order_by(jobs.c.id)
    )
    return [dict(row) for row in rows.mappings()]


async def commands(conn: AsyncConnection, robot_id: int, known: Mapping[str, str]) -> tuple[Command, ...]:
    """Stop/Kill requests the agent has not seen yet: its jobs whose state here differs from what the
    agent reports (``known``: job key → state name as the agent last saw it)."""
    rows = await conn.execute(
        select(jobs.c.key, jobs.c.state).where(
            jobs.c.robot_id == robot_id,
            jobs.c.state.in_((int(JobState.Stopping), int(JobState.Terminating))),
        )
    )
    wanted = []
    for key, state in rows:
        name = JobState(state).name
        if known.get(key) != name:
            wanted.append(Command(key, name, "Kill" if name == "Terminating" else "Stop"))
    return tuple(wanted)
