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
from starlette.responses import Response

from podium import inputs
from podium.auth.principal import job_token_holds
from podium.auth.tokens import TokenClaims, issue, verify
from podium.domain import dispatch, robot_identity, robot_protocol, robot_sessions
from podium.domain.enums import JobState
from podium.domain.robot_hub import Waiter
from podium.domain.settings import HEARTBEAT_PERIOD
from podium.domain.settings import value as setting_value
from podium.errors import bad_request, unauthorized
from podium.http.context import base_url, robot_claims
from podium.http.state import AppState
from podium.odata.registry import Area
from podium.robot.messages import Assignment, ConnectAnswer, HeartbeatAnswer, JobsAnswer, RobotGrant

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


def _json(payload: Any) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


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


async def robot_caller(request: Request) -> RobotCaller:
    """The robot behind a robot token, while the robot exists and is enabled (``http.context.robot_claims``:
    signature, expiry and robot checked once per token string, the robot again once it is revoked; no
    database round trip per call)."""
    claims = await robot_claims(request)
    if claims is None or claims.robot_id is None:
        raise unauthorized("A robot token is required (POST /api/robot/connect).")
    return RobotCaller(claims.tenant_id, int(claims.robot_id), claims.user_id)


def _agent_id(body: dict[str, Any]) -> str:
    return inputs.text(body.get("agentId"), "agentId", max_length=36)


def _known_jobs(body: dict[str, Any]) -> dict[str, str]:
    """``running``: job key → the state the agent knows."""
    running = inputs.json_object(body.get("running") or {}, "running")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in running.items()):
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
        return await robot_protocol.machine_of_robot(conn, int(claims.robot_id))


def _grant(state: AppState, robot: dict[str, Any], user_id: int, session: dict[str, Any]) -> RobotGrant:
    expires = int(time.time()) + state.settings.token_lifetime_seconds
    claims = TokenClaims(user_id, robot["tenant_id"], "robot", expires, robot_id=robot["id"])
    return RobotGrant(
        robot_id=robot["id"],
        robot_key=robot["key"],
        robot_name=robot["name"],
        session_id=session["id"],
        capacity=session["capacity"],
        token=issue(state.signing_key, claims),
        token_expires_at=expires,
    )


@router.post("/connect", summary="Opens a session for each robot of the machine; answers robot tokens")
async def connect(request: Request) -> Response:
    state = _state(request)
    body = await _body(request)
    agent_id = _agent_id(body)
    host = inputs.text(body.get("hostMachineName"), "hostMachineName", max_length=256)
    capacity = inputs.integer(body.get("capacity", 1), "capacity", low=1, high=64)
    name = inputs.optional_text(body.get("robotName"), "robotName")
    machine = await _machine_for(request, state, body)
    version = str(body.get("version") or "")[:64] or None
    grants = []
    async with state.db.write(robot=True) as conn:
        tenant_name = await robot_protocol.tenant_name(conn, machine["tenant_id"])
        for robot in await robot_identity.machine_robots(conn, machine, name):
            user_id = await robot_identity.provision_robot_user(conn, robot)
            session = await robot_sessions.open_session(
                conn,
                robot,
                machine_id=machine["id"],
                machine_name=machine["name"],
                host_machine_name=host,
                agent_id=agent_id,
                capacity=robot_protocol.session_capacity(robot, capacity),
                version=version,
            )
            grants.append(_grant(state, robot, user_id, session))
        # the tenant's Scalability.Heartbeat.PeriodSeconds (default PODIUM_HEARTBEAT_INTERVAL)
        heartbeat_seconds = await setting_value(conn, machine["tenant_id"], HEARTBEAT_PERIOD)
    settings = state.settings
    answer = ConnectAnswer(
        machine_id=machine["id"],
        machine_name=machine["name"],
        robots=tuple(grants),
        orchestrator_url=f"{base_url(request)}/{settings.organization_name}/{tenant_name}",
        heartbeat_seconds=heartbeat_seconds,
        long_poll_seconds=settings.long_poll_seconds,
    )
    return _json(answer.to_json())


@router.post("/heartbeat", summary="The robot is alive; answers stop requests for its jobs")
async def heartbeat(request: Request) -> Response:
    caller = await robot_caller(request)
    body = await _body(request)
    agent_id, known = _agent_id(body), _known_jobs(body)
    state = _state(request)
    busy = bool(known)
    stopping = await _state(request).heartbeats.stamp(
        robot_sessions.Beat(caller.tenant_id, caller.robot_id, agent_id, busy)
    )
    if stopping is None:  # the robot's state changes, or its session is gone (409)
        async with state.db.write(robot=True) as conn:
            await robot_sessions.heartbeat(conn, caller.tenant_id, caller.robot_id, agent_id, busy)
    if stopping is False:
        return _json(HeartbeatAnswer().to_json())
    async with state.db.read() as conn:
        commands = await dispatch.commands(conn, caller.robot_id, known)
    return _json(HeartbeatAnswer(commands).to_json())


@router.post("/disconnect", summary="The agent stops: the robot is Disconnected")
async def disconnect(request: Request) -> Response:
    caller = await robot_caller(request)
    agent_id = _agent_id(await _body(request))
    async with _state(request).db.write(robot=True) as conn:
        await robot_sessions.close_session(conn, caller.tenant_id, caller.robot_id, agent_id)
    return Response(status_code=204)


def _assignment(state: AppState, job: dict[str, Any]) -> Assignment:
    """A claimed job with a token of its own for its process (the job's robot user, folder and job)."""
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
    return robot_protocol.assignment(job, issue(state.signing_key, claims), expires)


async def _claim(state: AppState, caller: RobotCaller, agent_id: str) -> list[dict[str, Any]]:
    ack_timeout = dt.timedelta(seconds=state.settings.claim_ack_timeout_seconds)
    async with state.db.write(robot=True) as conn:
        return await robot_protocol.claim_jobs(conn, caller.tenant_id, caller.robot_id, agent_id, ack_timeout)


@router.post("/jobs/next", summary="Long poll: the robot's next jobs and stop requests")
async def next_jobs(request: Request) -> Response:
    caller = await robot_caller(request)
    body = await _body(request)
    agent_id, known = _agent_id(body), _known_jobs(body)
    state = _state(request)
    hub = state.hub
    wait = inputs.number(body.get("wait", state.settings.long_poll_seconds), "wait", low=0, high=120)
    free = inputs.integer(body.get("free", 1), "free")
    recheck = SQLITE_RECHECK_SECONDS if state.db.is_sqlite else wait
    waiter = Waiter(caller.tenant_id, caller.robot_id)
    hub.add(waiter)
    deadline = time.monotonic() + wait
    try:
        while True:
            waiter.event.clear()
            if await request.is_disconnected():  # nobody would receive a job: leave it to others
                return Response(status_code=204)
            jobs = await _claim(state, caller, agent_id) if free else []
            if jobs:
                hub.took_something(waiter, len(jobs))
                return _json(JobsAnswer(jobs=tuple(_assignment(state, j) for j in jobs)).to_json())
            hub.took_nothing(waiter)
            async with state.db.read() as conn:
                commands = await dispatch.commands(conn, caller.robot_id, known)
            remaining = deadline - time.monotonic()
            if commands or remaining <= 0:
                return _json(JobsAnswer(commands=commands).to_json())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.event.wait(), timeout=min(remaining, recheck))
    finally:
        hub.remove(waiter)


@router.post("/jobs/{job_key}/state", summary="The robot reports on the job it holds")
async def job_state(job_key: str, request: Request) -> Response:
    """``{"state": "Running", "claim": <token>}`` acknowledges a job just received (409: its claim was
    withdrawn, do not run it); other reports also acknowledge the robot's claim, and fail with 409
    once the job went back to Pending."""
    caller = await robot_caller(request)
    body = await _body(request)
    claim = body.get("claim")
    if claim is not None and (not isinstance(claim, str) or body.get("state") != "Running"):
        raise bad_request("claim (a string) goes with state Running only.")
    async with _state(request).db.write(robot=True) as conn:
        state = await robot_protocol.report(conn, caller.tenant_id, caller.robot_id, job_key, body, claim)
    return _json({"state": state.name})


@router.get("/jobs/current/stop", summary="For a job's process (job token): whether it is asked to stop")
async def should_stop(request: Request) -> Response:
    token = _bearer(request)
    claims = verify(_state(request).signing_key, token) if token else None
    if claims is None or claims.kind != "job" or claims.job_id is None:
        raise unauthorized("A job token is required (UIPATH_ACCESS_TOKEN of the job's process).")
    async with _state(request).db.read() as conn:
        if not await job_token_holds(conn, claims):  # the job has ended, or its robot may not act
            raise unauthorized("The job's token is no longer valid.")
        state = await robot_protocol.job_state(conn, claims.tenant_id, int(claims.job_id))
    stopping = state in (JobState.Stopping, JobState.Terminating)
    return _json({"shouldStop": stopping, "state": None if state is None else state.name})
