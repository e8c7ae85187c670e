"""Podium's robot protocol (documented in the README): connect, heartbeat, next job, job state.

Robots authenticate with their machine key (or a client-credentials token) at ``connect`` and get
one robot token per robot of the machine; the other calls carry that token. ``jobs/next`` is a long
poll: it answers at once when the robot has a job or a stop request, else waits until woken (see
``domain.wakeups``) or until the poll time ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from podium.auth.tokens import TokenClaims, issue, verify
from podium.auth.verified_tokens import robot_tokens
from podium.db.schema import jobs as jobs_table
from podium.db.schema import machines, robots, tenants
from podium.domain import dispatch, job_claims, job_results, robot_identity, robot_sessions
from podium.domain.enums import JobState
from podium.domain.robot_hub import Waiter
from podium.errors import bad_request, unauthorized
from podium.http.context import base_url
from podium.http.state import AppState
from podium.odata.registry import Area

router = APIRouter(prefix="/api/robot", tags=["Robot protocol"])
area = Area("Robot protocol", router)
JOB_TOKEN_SECONDS = 24 * 3600
SQLITE_RECHECK_SECONDS = 5.0  # other processes' jobs on SQLite (no NOTIFY): looked for this often


@dataclass(frozen=True)
class RobotCaller:
    tenant_id: int
    robot_id: int
    user_id: int


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.podium
    return state


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise bad_request("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    return body


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def robot_caller(request: Request) -> RobotCaller:
    """The robot behind a robot token (signature and expiry checked, the signature once per token
    string: ``auth.verified_tokens``; no database round trip)."""
    token = _bearer(request)
    claims = robot_tokens.verify(_state(request).signing_key, token) if token else None
    if claims is None or claims.kind != "robot" or claims.robot_id is None:
        raise unauthorized("A robot token is required (POST /api/robot/connect).")
    return RobotCaller(claims.tenant_id, int(claims.robot_id), claims.user_id)


def _agent_id(body: dict[str, Any]) -> str:
    agent = body.get("agentId")
    if not isinstance(agent, str) or not 0 < len(agent) <= 36:
        raise bad_request("agentId (the agent's id, at most 36 characters) is required.")
    return agent


def _known_jobs(body: dict[str, Any]) -> dict[str, str]:
    running = body.get("running") or {}
    if not isinstance(running, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in running.items()
    ):
        raise bad_request("running must map job keys to the state the agent knows.")
    return running


async def _machine_for(request: Request, state: AppState, body: dict[str, Any]) -> dict[str, Any]:
    """By machine key in the body, else by a client-credentials robot token."""
    async with state.db.read() as conn:
        key = body.get("machineKey")
        if isinstance(key, str):
            return await robot_identity.machine_by_key(conn, key)
        token = _bearer(request)
        claims = verify(state.signing_key, token) if token else None
        if claims is None or claims.kind != "robot" or claims.robot_id is None:
            raise robot_identity.unknown_machine()
        machine_id = (
            await conn.execute(select(robots.c.machine_id).where(robots.c.id == claims.robot_id))
        ).scalar()
        row = (await conn.execute(select(machines).where(machines.c.id == machine_id))).mappings().first()
        if row is None:
            raise robot_identity.unknown_machine()
        return dict(row)


@router.post("/connect", summary="Opens a session for each robot of the machine; answers robot tokens")
async def connect(request: Request) -> Response:
    state = _state(request)
    body = await _body(request)
    agent_id = _agent_id(body)
    host = body.get("hostMachineName")
    capacity = body.get("capacity", 1)
    name = body.get("robotName")
    if not isinstance(host, str) or not 0 < len(host) <= 256:
        raise bad_request("hostMachineName is required (at most 256 characters).")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= 64:
        raise bad_request("capacity must be an integer from 1 to 64.")
    if name is not None and not isinstance(name, str):
        raise bad_request("robotName must be a string.")
    machine = await _machine_for(request, state, body)
    version = str(body.get("version") or "")[:64] or None
    answered = []
    async with state.db.write() as conn:
        tenant_name = (
            await conn.execute(select(tenants.c.name).where(tenants.c.id == machine["tenant_id"]))
        ).scalar()
        for robot in await robot_identity.machine_robots(conn, machine, name):
            user_id = await robot_identity.provision_robot_user(conn, robot)
            robot_capacity = 1 if robot["limit_concurrent_execution"] else capacity
            session = await robot_sessions.open_session(
                conn,
                robot,
                machine_id=machine["id"],
                machine_name=machine["name"],
                host_machine_name=host,
                agent_id=agent_id,
                capacity=robot_capacity,
                version=version,
            )
            expires = int(time.time()) + state.settings.token_lifetime_seconds
            token = issue(
                state.signing_key,
                TokenClaims(user_id, robot["tenant_id"], "robot", expires, robot_id=robot["id"]),
            )
            answered.append(
                {
                    "robotId": robot["id"],
                    "robotKey": robot["key"],
                    "robotName": robot["name"],
                    "sessionId": session["id"],
                    "capacity": robot_capacity,
                    "token": token,
                    "tokenExpiresAt": expires,
                }
            )
    settings = state.settings
    return _json(
        {
            "machineId": machine["id"],
            "machineName": machine["name"],
            "robots": answered,
            "orchestratorUrl": f"{base_url(request)}/{settings.organization_name}/{tenant_name}",
            "heartbeatSeconds": settings.heartbeat_interval_seconds,
            "longPollSeconds": settings.long_poll_seconds,
        }
    )


@router.post("/heartbeat", summary="The robot is alive; answers stop requests for its jobs")
async def heartbeat(request: Request) -> Response:
    caller = robot_caller(request)
    body = await _body(request)
    agent_id, known = _agent_id(body), _known_jobs(body)
    state = _state(request)
    busy = bool(known)
    stopping = await _state(request).heartbeats.stamp(
        robot_sessions.Beat(caller.tenant_id, caller.robot_id, agent_id, busy)
    )
    if stopping is None:  # the robot's state changes, or its session is gone (409)
        async with state.db.write() as conn:
            await robot_sessions.heartbeat(conn, caller.tenant_id, caller.robot_id, agent_id, busy)
    if stopping is False:
        return _json({"commands": []})
    async with state.db.read() as conn:
        commands = await dispatch.commands(conn, caller.robot_id, known)
    return _json({"commands": commands})


@router.post("/disconnect", summary="The agent stops: the robot is Disconnected")
async def disconnect(request: Request) -> Response:
    caller = robot_caller(request)
    agent_id = _agent_id(await _body(request))
    async with _state(request).db.write() as conn:
        await robot_sessions.close_session(conn, caller.tenant_id, caller.robot_id, agent_id)
    return Response(status_code=204)


def _assignment(state: AppState, job: dict[str, Any]) -> dict[str, Any]:
    expires = int(time.time()) + JOB_TOKEN_SECONDS
    claims = TokenClaims(
        int(job["robot_user_id"]),
        job["tenant_id"],
        "job",
        expires,
        robot_id=job["robot_id"],
        folder_id=job["folder_id"],
        job_id=job["id"],
    )
    return {
        "id": job["id"],
        "key": job["key"],
        "releaseKey": job["release_key"],
        "releaseName": job["release_name"],
        "processKey": job["process_key"],
        "processVersion": job["process_version"],
        "entryPointPath": job["entry_point_path"],
        "inputArguments": job["input_arguments"],
        "folderId": job["folder_id"],
        "folderKey": job["folder_key"],
        "folderPath": job["folder_path"],
        "robotKey": job["robot_key"],
        "robotName": job["robot_name"],
        "accessToken": issue(state.signing_key, claims),
        "tokenExpiresAt": expires,
        "stopProcessExpression": job["stop_process_expression"],
        "killProcessExpression": job["kill_process_expression"],
        "claim": job["claim"],
    }


async def _claim(state: AppState, caller: RobotCaller, agent_id: str) -> list[dict[str, Any]]:
    ack_timeout = dt.timedelta(seconds=state.settings.claim_ack_timeout_seconds)
    async with state.db.write() as conn:
        claimed = await dispatch.claim_for_robot(
            conn, caller.tenant_id, caller.robot_id, agent_id, ack_timeout=ack_timeout
        )
        if not claimed:
            return []
        await robot_sessions.refresh_busy(conn, caller.tenant_id, caller.robot_id)
        tokens = {job["id"]: job["claim"] for job in claimed}
        return [{**job, "claim": tokens[job["id"]]} for job in await dispatch.job_details(conn, list(tokens))]


@router.post("/jobs/next", summary="Long poll: the robot's next jobs and stop requests")
async def next_jobs(request: Request) -> Response:
    caller = robot_caller(request)
    body = await _body(request)
    agent_id, known = _agent_id(body), _known_jobs(body)
    state = _state(request)
    hub = state.hub
    wait = body.get("wait", state.settings.long_poll_seconds)
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not 0 <= wait <= 120:
        raise bad_request("wait must be a number of seconds from 0 to 120.")
    free = body.get("free", 1)
    recheck = SQLITE_RECHECK_SECONDS if state.db.is_sqlite else float(wait)
    waiter = Waiter(caller.tenant_id, caller.robot_id)
    hub.add(waiter)
    deadline = time.monotonic() + float(wait)
    try:
        while True:
            waiter.event.clear()
            if await request.is_disconnected():  # nobody would receive a job: leave it to others
                return Response(status_code=204)
            jobs = await _claim(state, caller, agent_id) if free else []
            if jobs:
                hub.took_something(waiter, len(jobs))
                return _json({"jobs": [_assignment(state, j) for j in jobs], "commands": []})
            hub.took_nothing(waiter)
            async with state.db.read() as conn:
                commands = await dispatch.commands(conn, caller.robot_id, known)
            remaining = deadline - time.monotonic()
            if commands or remaining <= 0:
                return _json({"jobs": [], "commands": commands})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.event.wait(), timeout=min(remaining, recheck))
    finally:
        hub.remove(waiter)


@router.post("/jobs/{job_key}/state", summary="The robot reports on the job it holds")
async def job_state(job_key: str, request: Request) -> Response:
    """``{"state": "Running", "claim": <token>}`` acknowledges a job just received (409: its claim was
    withdrawn, do not run it); other reports also acknowledge the robot's claim, and fail with 409
    once the job went back to Pending."""
    caller = robot_caller(request)
    body = await _body(request)
    claim = body.get("claim")
    if claim is not None and (not isinstance(claim, str) or body.get("state") != "Running"):
        raise bad_request("claim (a string) goes with state Running only.")
    async with _state(request).db.write() as conn:
        if claim is not None:
            state = await job_claims.acknowledge(conn, caller.tenant_id, caller.robot_id, job_key, claim)
        else:
            await job_claims.settle(conn, caller.tenant_id, caller.robot_id, job_key)
            state = await job_results.report(conn, caller.tenant_id, caller.robot_id, job_key, body)
    return _json({"state": state.name})


@router.get("/jobs/current/stop", summary="For a job's process (job token): whether it is asked to stop")
async def should_stop(request: Request) -> Response:
    token = _bearer(request)
    claims = verify(_state(request).signing_key, token) if token else None
    if claims is None or claims.kind != "job" or claims.job_id is None:
        raise unauthorized("A job token is required (UIPATH_ACCESS_TOKEN of the job's process).")
    async with _state(request).db.read() as conn:
        state = (
            await conn.execute(
                select(jobs_table.c.state).where(
                    jobs_table.c.id == claims.job_id, jobs_table.c.tenant_id == claims.tenant_id
                )
            )
        ).scalar()
    stopping = state is not None and JobState(state) in (JobState.Stopping, JobState.Terminating)
    return _json({"shouldStop": stopping, "state": None if state is None else JobState(state).name})
