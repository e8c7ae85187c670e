"""The job state machine: one table of allowed transitions, applied by one function.

Every path that changes a job's state (the API, the robot protocol, the scheduler, the triggers that
resume suspended jobs) calls :func:`transition` (or :func:`claim_pending`, the robots' bulk claim, or
:func:`resume_suspended`, the triggers' bulk resume); nothing else writes ``jobs.state``. A job that
ends resumes the jobs waiting for it (``domain.job_triggers``), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs
from podium.db.types import utcnow
from podium.domain import after_commit, alerts, events, revocations, wakeups
from podium.domain.enums import JobState
from podium.errors import ErrorCode, PodiumError

S = JobState
FINAL = frozenset({S.Faulted, S.Successful, S.Stopped})

ALLOWED: dict[JobState, frozenset[JobState]] = {
    S.Pending: frozenset({S.Running, S.Stopped, S.Faulted}),
    # Running -> Pending (Resumed, for a job resumed before): only a robot's claim that was never
    # acknowledged (domain.job_claims)
    S.Running: frozenset(
        {S.Pending, S.Resumed, S.Stopping, S.Terminating, S.Successful, S.Faulted, S.Stopped, S.Suspended}
    ),
    S.Stopping: frozenset({S.Terminating, S.Stopped, S.Successful, S.Faulted}),
    S.Terminating: frozenset({S.Stopped, S.Faulted}),
    S.Suspended: frozenset({S.Resumed, S.Stopped, S.Faulted}),
    S.Resumed: frozenset({S.Running, S.Stopping, S.Terminating, S.Stopped, S.Faulted}),
    S.Faulted: frozenset(),
    S.Successful: frozenset(),
    S.Stopped: frozenset(),
}


def invalid_transition(current: JobState, target: JobState) -> PodiumError:
    return PodiumError(
        f"The job is {current.name} and cannot become {target.name}.",
        status=400,
        code=ErrorCode.INVALID_JOB_STATE,
    )


async def transition(
    conn: AsyncConnection, job: Mapping[str, Any], target: JobState, **changes: Any
) -> dict[str, Any]:
    """Moves ``job`` (a row of ``jobs``) to ``target``, stamping times, and records the event.

    The UPDATE is conditional on the state read, so two concurrent transitions of one job cannot
    both apply: the loser gets a 409.
    """
    current = JobState(job["state"])
    if target not in ALLOWED[current]:
        raise invalid_transition(current, target)
    now = utcnow()
    values: dict[str, Any] = {"state": int(target), "last_modification_time": now, **changes}
    if target is S.Running and job.get("start_time") is None:
        values.setdefault("start_time", now)
    if target in FINAL:
        values.setdefault("end_time", now)
    result = await conn.execute(
        update(jobs).where(jobs.c.id == job["id"], jobs.c.state == int(current)).values(**values)
    )
    if result.rowcount != 1:
        raise PodiumError(
            "The job changed meanwhile; try again.", status=409, code=ErrorCode.INVALID_JOB_STATE
        )
    await events.record(
        conn,
        job["tenant_id"],
        f"job.{target.name.lower()}",
        job["key"],
        {"JobId": job["id"], "Key": job["key"], "From": current.name, "State": target.name},
        job["folder_id"],
    )
    if target is S.Faulted:
        await alerts.raise_alert(
            conn,
            job["tenant_id"],
            alerts.JOB_FAULTED,
            {
                "JobId": job["id"],
                "JobKey": job["key"],
                "ReleaseName": job.get("release_name"),
                "RobotId": job.get("robot_id"),
                "Info": values.get("info", job.get("info")),
            },
            folder_id=job["folder_id"],
        )
    if target in (S.Stopping, S.Terminating) and job.get("robot_id") is not None:
        await wakeups.mark(conn, wakeups.Wakeup(job["tenant_id"], job["robot_id"]))
    if target in FINAL or target in (S.Pending, S.Suspended, S.Resumed):
        # its token ends with it (or with the robot's claim, or its process)
        await revocations.note(conn, revocations.job(job["id"]))
    moved = {**job, **values}
    if target in FINAL:
        from podium.domain import job_triggers  # it applies transitions itself: imported when used

        await job_triggers.job_ended(conn, moved)
        if moved.get("starting_schedule_id") is not None:
            from podium.domain import queue_triggers  # it starts jobs: imported when used

            await queue_triggers.job_ended(conn, moved)
    return moved


async def claim_pending(
    conn: AsyncConnection, candidates: Select[Any], *, source: JobState = S.Pending, **changes: Any
) -> list[dict[str, Any]]:
    """Moves the Pending jobs (or, with ``source``, the Resumed ones) ``candidates`` selects (ids) to
    Running in ONE statement, and records the same events as :func:`transition`. A resumed job keeps
    the start time of its first run.

    On PostgreSQL ``candidates`` should lock with ``FOR UPDATE SKIP LOCKED``, so that robots claiming
    at the same time on several server processes never take the same job; on SQLite the write
    transaction already holds the database lock (BEGIN IMMEDIATE). The state is checked again by
    the UPDATE itself.
    """
    assert S.Running in ALLOWED[source]
    now = utcnow()
    values: dict[str, Any] = {"state": int(S.Running), "last_modification_time": now, **changes}
    if source is S.Pending:
        values.setdefault("start_time", now)
    chosen = candidates.cte("claimable")  # evaluated once (an IN subquery with LIMIT may be re-run)
    claimed = (
        (
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == chosen.c.id, jobs.c.state == int(source))
                .values(**values)
                .returning(*jobs.c)
            )
        )
        .mappings()
        .all()
    )
    for job in claimed:
        await events.record(
            conn,
            job["tenant_id"],
            "job.running",
            job["key"],
            {"JobId": job["id"], "Key": job["key"], "From": source.name, "State": S.Running.name},
            job["folder_id"],
        )
    return [dict(job) for job in claimed]


async def resume_suspended(conn: AsyncConnection, condition: ColumnElement[bool]) -> list[dict[str, Any]]:
    """Suspended → Resumed for the Suspended jobs ``condition`` selects, in ONE statement: back to
    dispatch, for the robot of their run when ResumeOnSameContext, else for any robot that may run them,
    with the next ResumeVersion. Records the events :func:`transition` would (one INSERT), and revokes
    their tokens and wakes the robots with one ``pg_notify`` statement. Answers the jobs resumed (a job
    no longer Suspended is left alone: the caller checks it is there when it must be)."""
    now = utcnow()
    resumed = (
        (
            await conn.execute(
                update(jobs)
                .where(condition, jobs.c.state == int(S.Suspended))
                .values(
                    state=int(S.Resumed),
                    last_modification_time=now,
                    resume_time=now,
                    robot_id=case((jobs.c.resume_on_same_context.is_(True), jobs.c.robot_id), else_=None),
                    resume_version=func.coalesce(jobs.c.resume_version, 0) + 1,
                )
                .returning(*jobs.c)
            )
        )
        .mappings()
        .all()
    )
    if not resumed:
        return []
    moved = [dict(job) for job in resumed]
    entries = [
        (
            job["tenant_id"],
            "job.resumed",
            job["key"],
            {"JobId": job["id"], "Key": job["key"], "From": S.Suspended.name, "State": S.Resumed.name},
            job["folder_id"],
        )
        for job in moved
    ]
    await events.record_many(conn, entries)
    notes = [revocations.broadcast_of(revocations.job(job["id"])) for job in moved]
    by_tenant: dict[int, list[int | None]] = {}
    for job in moved:
        by_tenant.setdefault(job["tenant_id"], []).append(job["robot_id"])
    for tenant_id, robot_ids in by_tenant.items():
        notes += wakeups.announcements(tenant_id, robot_ids)
    await after_commit.broadcast(conn, notes)
    return moved
