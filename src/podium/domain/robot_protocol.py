"""What the robot protocol's calls read and write (``api.robot_protocol``): the machine behind a
client-credentials token, the tenant's name, the claim of a robot's next jobs as assignments, a job's
state for its own process, and a robot's report on the job it holds.

The job and session state machines themselves live in ``dispatch``, ``job_claims``, ``job_results``
and ``robot_sessions``; this module puts their steps together in the transactions the calls need.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs, machines, robots, tenants
from podium.domain import dispatch, job_claims, job_results, job_triggers, robot_identity
from podium.domain.enums import JobState
from podium.robot.messages import Assignment


async def machine_of_robot(conn: AsyncConnection, robot_id: int) -> dict[str, Any]:
    """The machine of the robot a client-credentials token names; 401 when it has none."""
    machine_id = (await conn.execute(select(robots.c.machine_id).where(robots.c.id == robot_id))).scalar()
    row = (await conn.execute(select(machines).where(machines.c.id == machine_id))).mappings().first()
    if row is None:
        raise robot_identity.unknown_machine()
    return dict(row)


async def tenant_name(conn: AsyncConnection, tenant_id: int) -> str | None:
    name: str | None = (await conn.execute(select(tenants.c.name).where(tenants.c.id == tenant_id))).scalar()
    return name


def session_capacity(robot: Mapping[str, Any], capacity: int) -> int:
    """How many jobs the robot runs at once: one when it is limited to one, else the agent's capacity."""
    return 1 if robot["limit_concurrent_execution"] else capacity


async def claim_jobs(
    conn: AsyncConnection, tenant_id: int, robot_id: int, agent_id: str, ack_timeout: dt.timedelta
) -> list[dict[str, Any]]:
    """Claims the robot's next jobs (``dispatch.claim_for_robot``) in this transaction; answers each
    with what the robot needs to run it (``dispatch.job_details``) and its ``claim`` token."""
    claimed = await dispatch.claim_for_robot(conn, tenant_id, robot_id, agent_id, ack_timeout=ack_timeout)
    if not claimed:
        return []
    tokens = {job["id"]: job["claim"] for job in claimed}
    resumed = [job["id"] for job in claimed if job["resume_version"]]
    given = await job_triggers.resume_data(conn, resumed)
    return [
        {**job, "claim": tokens[job["id"]], "resume": _resume(job, given.get(job["id"]))}
        for job in await dispatch.job_details(conn, list(tokens))
    ]


def _resume(job: Mapping[str, Any], given: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a resumed job's run needs (``Assignment.resume``): its ResumeVersion, what fired (by the
    runtime's interrupt id) and the state its process left (base64)."""
    if given is None:
        return None
    state = given["state"]
    return {
        "version": job["resume_version"],
        "values": given["values"],
        "state": None if state is None else base64.b64encode(state).decode(),
    }


def assignment(job: Mapping[str, Any], access_token: str, token_expires_at: int) -> Assignment:
    """A claimed job (a row of :func:`claim_jobs`) as the robot receives it, with the job's token."""
    return Assignment(
        id=job["id"],
        key=job["key"],
        release_key=job["release_key"],
        release_name=job["release_name"],
        process_key=job["process_key"],
        process_version=job["process_version"],
        entry_point_path=job["entry_point_path"],
        input_arguments=job["input_arguments"],
        folder_id=job["folder_id"],
        folder_key=job["folder_key"],
        folder_path=job["folder_path"],
        robot_key=job["robot_key"],
        robot_name=job["robot_name"],
        access_token=access_token,
        token_expires_at=token_expires_at,
        stop_process_expression=job["stop_process_expression"],
        kill_process_expression=job["kill_process_expression"],
        claim=job["claim"],
        resume=job.get("resume"),
    )


async def report(
    conn: AsyncConnection,
    tenant_id: int,
    robot_id: int,
    job_key: str,
    body: dict[str, Any],
    claim: str | None,
) -> JobState:
    """The robot's report on job ``job_key``: with a ``claim`` token, the acknowledgement of a job just
    received (``job_claims.acknowledge``); else a state report, which acknowledges the robot's claim
    too (``job_claims.settle``) before ``job_results.report`` applies it. Answers the job's state."""
    if claim is not None:
        return await job_claims.acknowledge(conn, tenant_id, robot_id, job_key, claim)
    job = await job_claims.settle(conn, tenant_id, robot_id, job_key)
    return await job_results.report(conn, tenant_id, robot_id, job_key, body, job=job)


async def job_state(conn: AsyncConnection, tenant_id: int, job_id: int) -> JobState | None:
    """The state of the tenant's job ``job_id`` (None when there is none)."""
    state = (
        await conn.execute(select(jobs.c.state).where(jobs.c.id == job_id, jobs.c.tenant_id == tenant_id))
    ).scalar()
    return None if state is None else JobState(state)
