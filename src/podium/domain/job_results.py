"""What a robot reports about the job it holds: Running, then Successful, Faulted, Stopped, or
Suspended with what the job waits for (``resumeTriggers``, ``runtimeState``: ``domain.job_triggers``).

Only the robot holding the job may report on it. Every change goes through the job state machine.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs
from podium.domain import job_triggers
from podium.domain.enums import JobState
from podium.domain.job_states import FINAL, invalid_transition, transition
from podium.domain.robot_sessions import refresh_busy
from podium.errors import PodiumError, bad_request, not_found

REPORTABLE = {
    s.name: s
    for s in (JobState.Running, JobState.Successful, JobState.Faulted, JobState.Stopped, JobState.Suspended)
}
MAX_OUTPUT = 1_000_000
MAX_INFO = 100_000


def output_arguments(value: Any) -> str | None:
    """OutputArguments as stored: a JSON object serialized as a string."""
    if value is None:
        return None
    if isinstance(value, dict):
        text = orjson.dumps(value).decode()
    elif isinstance(value, str):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise bad_request("outputArguments is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise bad_request("outputArguments must be a JSON object.")
        text = value
    else:
        raise bad_request("outputArguments must be a JSON object (or its text).")
    if len(text) > MAX_OUTPUT:
        raise bad_request(f"outputArguments is longer than {MAX_OUTPUT} characters.")
    return text


def parse_report(body: dict[str, Any]) -> tuple[JobState, str | None, str | None]:
    state = REPORTABLE.get(str(body.get("state")))
    if state is None:
        raise bad_request(f"state must be one of {', '.join(REPORTABLE)}.")
    info = body.get("info")
    if info is not None and (not isinstance(info, str) or len(info) > MAX_INFO):
        raise bad_request(f"info must be a string of at most {MAX_INFO} characters.")
    return state, output_arguments(body.get("outputArguments")), info


async def report(
    conn: AsyncConnection,
    tenant_id: int,
    robot_id: int,
    job_key: str,
    body: dict[str, Any],
    *,
    job: Mapping[str, Any] | None = None,
) -> JobState:
    """Applies the robot's report on job ``job_key`` (``job``: its row, when read in this transaction
    already); returns the job's state afterwards."""
    state, output, info = parse_report(body)
    if job is None:
        query = select(jobs).where(jobs.c.key == job_key.lower(), jobs.c.tenant_id == tenant_id)
        found = (await conn.execute(query)).mappings().first()
        job = None if found is None else dict(found)
    if job is None:
        raise not_found("Job does not exist.")
    if job["robot_id"] != robot_id:
        raise PodiumError("The job is assigned to a different robot.", status=403, code=1202)
    current = JobState(job["state"])
    if current is state or (
        state is JobState.Running and current in (JobState.Stopping, JobState.Terminating)
    ):
        return current  # already so (a repeated report, or a stop asked meanwhile)
    if current in FINAL:
        raise PodiumError(f"The job is already {current.name}.", status=409, code=1201)
    if state is JobState.Suspended:
        return await _suspend(conn, tenant_id, robot_id, dict(job), body)
    changes: dict[str, Any] = {}
    if output is not None:
        changes["output_arguments"] = output
    if info is not None:
        changes["info"] = info
    await transition(conn, dict(job), state, **changes)
    if state in FINAL:
        await refresh_busy(conn, tenant_id, robot_id)
    return state


def runtime_state(value: Any) -> bytes | None:
    """``runtimeState``: the base64 of a tar.gz of the runtime's state folder, or null."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise bad_request("runtimeState must be base64 text.") from None


async def _suspend(
    conn: AsyncConnection, tenant_id: int, robot_id: int, job: dict[str, Any], body: dict[str, Any]
) -> JobState:
    """The job's process asked to wait: Suspended with its triggers (Resumed at once when one is met
    already); a job asked to stop meanwhile ends Stopped instead."""
    current = JobState(job["state"])
    if current in (JobState.Stopping, JobState.Terminating):
        await transition(conn, job, JobState.Stopped, info="The job was stopped while it suspended.")
    else:
        waits = job_triggers.parse_waits(body.get("resumeTriggers"))
        state = runtime_state(body.get("runtimeState"))
        if current is not JobState.Running:
            raise invalid_transition(current, JobState.Suspended)
        info = body.get("info")
        after = await job_triggers.suspend(conn, job, waits, state, info if isinstance(info, str) else None)
        await refresh_busy(conn, tenant_id, robot_id)
        return after
    await refresh_busy(conn, tenant_id, robot_id)
    return JobState.Stopped
