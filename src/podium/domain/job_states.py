"""The job state machine: one table of allowed transitions, applied by one function.

Every path that changes a job's state (the API, the robot protocol, the scheduler) calls
:func:`transition`; nothing else writes ``jobs.state``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs
from podium.db.types import utcnow
from podium.domain import events
from podium.domain.enums import JobState
from podium.errors import ErrorCode, PodiumError

S = JobState
FINAL = frozenset({S.Faulted, S.Successful, S.Stopped})

ALLOWED: dict[JobState, frozenset[JobState]] = {
    S.Pending: frozenset({S.Running, S.Stopped, S.Faulted}),
    S.Running: frozenset({S.Stopping, S.Terminating, S.Successful, S.Faulted, S.Stopped, S.Suspended}),
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
        raise PodiumError("The job changed meanwhile; try again.", status=409, code=ErrorCode.INVALID_JOB_STATE)
    await events.record(
        conn,
        job["tenant_id"],
        f"job.{target.name.lower()}",
        job["key"],
        {"JobId": job["id"], "Key": job["key"], "From": current.name, "State": target.name},
        job["folder_id"],
    )
    return {**job, **values}
