"""Job claims: a job handed to a robot by ``jobs/next`` is the robot's only once the robot says so.

The claim (``dispatch.claim_for_robot``) moves the job Pending → Running at once, so that no other
robot can take it, and records a claim row with a token and a deadline. The robot acknowledges the
claim with that token (its first ``Running`` report) before it starts anything. If the answer never
reached the robot (the connection dropped while the job was handed over), nobody acknowledges: the
sweep (``withdraw_expired``, run by the process holding the robots' lease) returns the job to Pending,
for the robot it was started for or for any robot (a resumed job goes back to Resumed), and wakes the
waiting robots. A late
acknowledgement of a withdrawn claim fails (409), so a robot never runs a job whose claim was
withdrawn, and the job runs once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs
from podium.db.schema_robots import job_claims
from podium.db.types import utcnow
from podium.domain import wakeups
from podium.domain.enums import JobState
from podium.domain.job_states import FINAL, transition
from podium.domain.robot_sessions import refresh_busy
from podium.errors import PodiumError, not_found

HELD = (JobState.Running, JobState.Stopping, JobState.Terminating)
WITHDRAWN = 1201  # Orchestrator's "invalid job state" family
REPLACED = ("tenant_id", "robot_id", "assigned_robot_id", "assigned_machine_id", "token", "expires_at")


def withdrawn() -> PodiumError:
    return PodiumError(
        "The job's claim was withdrawn (not acknowledged in time); the robot must not run it.",
        status=409,
        code=WITHDRAWN,
    )


async def record(
    conn: AsyncConnection,
    tenant_id: int,
    robot_id: int,
    claimed: list[tuple[int, int | None, int | None]],
    timeout: dt.timedelta,
) -> dict[int, str]:
    """Claim rows for the jobs just claimed (job id, its robot and its machine before the claim);
    answers the tokens."""
    if not claimed:
        return {}
    tokens = {job_id: str(uuid.uuid4()) for job_id, _, _ in claimed}
    expires = utcnow() + timeout
    # a resumed job has the claim of its run before (acknowledged, kept while the job was unfinished):
    # replaced (one upsert, the same statement in both dialects)
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(job_claims)
    replaced = {name: statement.excluded[name] for name in REPLACED}
    await conn.execute(
        statement.on_conflict_do_update(index_elements=[job_claims.c.job_id], set_=replaced),
        [
            {
                "job_id": job_id,
                "tenant_id": tenant_id,
                "robot_id": robot_id,
                "assigned_robot_id": assigned,
                "assigned_machine_id": machine,
                "token": tokens[job_id],
                "expires_at": expires,
            }
            for job_id, assigned, machine in claimed
        ],
    )
    return tokens


async def _job(conn: AsyncConnection, tenant_id: int, job_key: str) -> dict[str, Any]:
    row = (
        (await conn.execute(select(jobs).where(jobs.c.key == job_key.lower(), jobs.c.tenant_id == tenant_id)))
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("Job does not exist.")
    return dict(row)


async def acknowledge(
    conn: AsyncConnection, tenant_id: int, robot_id: int, job_key: str, token: str
) -> JobState:
    """The robot confirms it received the job (idempotent); 409 when the claim was withdrawn."""
    job = await _job(conn, tenant_id, job_key)
    acknowledged = await conn.execute(
        update(job_claims)
        .where(
            job_claims.c.job_id == job["id"],
            job_claims.c.robot_id == robot_id,
            job_claims.c.token == token,
        )
        .values(expires_at=None)
    )
    state = JobState(job["state"])
    if acknowledged.rowcount != 1 or state not in HELD or job["robot_id"] != robot_id:
        raise withdrawn()
    return state


async def settle(conn: AsyncConnection, tenant_id: int, robot_id: int, job_key: str) -> dict[str, Any]:
    """Before a report without a token: a report on a job the robot holds acknowledges its claim; a
    report on a job that went back to Pending is refused (409). Answers the job as read (for the
    report, which need not read it again)."""
    job = await _job(conn, tenant_id, job_key)
    if job["robot_id"] == robot_id and JobState(job["state"]) in HELD:
        held = await conn.execute(
            update(job_claims)
            .where(job_claims.c.job_id == job["id"], job_claims.c.robot_id == robot_id)
            .values(expires_at=None)
        )
        if held.rowcount == 1:
            return job
        job = await _job(conn, tenant_id, job_key)  # a withdrawal may have committed meanwhile
    if JobState(job["state"]) in (JobState.Pending, JobState.Resumed) and job["robot_id"] in (robot_id, None):
        raise withdrawn()
    return job


async def withdraw_expired(conn: AsyncConnection) -> int:
    """Returns the jobs of claims not acknowledged in time to Pending (a stop asked meanwhile ends them
    Stopped) and wakes robots; drops the claims of ended jobs. Answers how many went back."""
    now = utcnow()
    expired = (
        await conn.execute(
            delete(job_claims)
            .where(job_claims.c.expires_at < now)
            .returning(
                job_claims.c.job_id,
                job_claims.c.robot_id,
                job_claims.c.assigned_robot_id,
                job_claims.c.assigned_machine_id,
            )
        )
    ).all()
    returned = 0
    for job_id, robot_id, assigned, machine in expired:
        row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).mappings().first()
        if row is None or row["robot_id"] != robot_id or JobState(row["state"]) not in HELD:
            continue
        job = dict(row)
        if JobState(job["state"]) is JobState.Running:
            await transition(
                conn,
                job,
                JobState.Resumed if job["resume_version"] else JobState.Pending,  # as it was claimed
                robot_id=assigned,
                machine_id=machine,  # a MachineRobots pair's machine stays required
                host_machine_name=None,
                **({} if job["resume_version"] else {"start_time": None}),
            )
            await wakeups.mark(conn, wakeups.Wakeup(job["tenant_id"], assigned, 0 if assigned else 1))
            returned += 1
        else:  # Stopping / Terminating: stopped before its robot ever had it
            info = "The job was stopped before its robot received it."
            await transition(conn, job, JobState.Stopped, info=info)
        await refresh_busy(conn, job["tenant_id"], robot_id)
    ended = (
        select(jobs.c.id)
        .where(jobs.c.id == job_claims.c.job_id, jobs.c.state.in_([int(s) for s in FINAL]))
        .exists()
    )
    await conn.execute(delete(job_claims).where(and_(job_claims.c.expires_at.is_(None), ended)))
    return returned
