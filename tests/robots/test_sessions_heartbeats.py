"""Heartbeats stamped in batches: one UPDATE for the beats of a window, each answered as if alone."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from podium.auth.tokens import TokenClaims, issue
from podium.auth.verified_tokens import VerifiedTokens
from podium.db.engine import Database
from podium.db.schema_robots import robot_sessions
from podium.domain import revocations
from podium.domain.heartbeat_batches import HeartbeatBatcher
from podium.domain.robot_sessions import Beat
from tests.factories import seed_machine, start_jobs
from tests.robots.helpers import FOLDER, connect
from tests.support import Api, assert_error


async def _beat_together(url: str, beats: list[Beat]) -> tuple[list[bool | None], list[str]]:
    db = Database(url)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(db.write_engine.sync_engine, "before_cursor_execute", seen)
    try:
        batcher = HeartbeatBatcher(db, window=0.2)
        answers = await asyncio.gather(*(batcher.stamp(beat) for beat in beats))
    finally:
        await db.dispose()
    return list(answers), statements


def test_one_statement_stamps_a_batch(api: Api, db: Engine, database_url: str) -> None:
    robots = connect(api, seed_machine(api, db, robots=4))
    idle, stopping, stranger, busy = robots
    job_id = start_jobs(api)[0]["Id"]
    assert [j["id"] for j in stopping.next()["jobs"]] == [job_id]
    api.ok(
        api.post(
            f"/odata/Jobs({job_id})/UiPath.Server.Configuration.OData.StopJob",
            {"strategy": "SoftStop"},
            folder=FOLDER,
        )
    )
    tenant = api.tenant.tenant_id
    with db.begin() as conn:
        before = dict(
            conn.execute(select(robot_sessions.c.robot_id, robot_sessions.c.reporting_time)).tuples().all()
        )

    beats = [
        Beat(tenant, idle.robot_id, idle.agent_id, busy=False),  # stamped, nothing to stop
        Beat(tenant, stopping.robot_id, stopping.agent_id, busy=True),  # stamped, a job to stop
        Beat(tenant, stranger.robot_id, "another-agent", busy=False),  # not this agent's session
        Beat(tenant, busy.robot_id, busy.agent_id, busy=True),  # Available -> Busy: a state change
        Beat(tenant + 1, idle.robot_id, idle.agent_id, busy=False),  # another tenant's token
    ]
    answers, statements = asyncio.run(_beat_together(database_url, beats))
    assert answers == [False, True, None, None, None]
    assert sum(1 for s in statements if s.lstrip().upper().startswith("UPDATE ROBOT_SESSIONS")) == 1

    with db.begin() as conn:
        after = dict(
            conn.execute(select(robot_sessions.c.robot_id, robot_sessions.c.reporting_time)).tuples().all()
        )
    assert after[idle.robot_id] > before[idle.robot_id]
    assert after[stopping.robot_id] > before[stopping.robot_id]
    assert after[stranger.robot_id] == before[stranger.robot_id]
    assert after[busy.robot_id] == before[busy.robot_id]  # left to the state-changing path


def test_heartbeat_answers_through_the_batch(api: Api, db: Engine) -> None:
    idle, busy = connect(api, seed_machine(api, db, robots=2))
    assert api.ok(idle.heartbeat()) == {"commands": []}
    busy.running = {"x" * 36: "Running"}
    assert api.ok(busy.heartbeat()) == {"commands": []}  # the state change goes the slow path
    states = {s["RobotId"]: s["State"] for s in api.ok(api.get("/odata/Sessions"))["value"]}
    assert states == {idle.robot_id: "Available", busy.robot_id: "Busy"}
    idle.agent_id = "not-the-session-agent"
    assert_error(idle.heartbeat(), 409)


def test_verified_tokens_keep_claims_until_expiry_or_revocation() -> None:
    asyncio.run(_verified_tokens())


async def _verified_tokens() -> None:
    tokens = VerifiedTokens(max_entries=2)
    tokens.hears_everyone = True  # every process's revocations reach it: no periodic re-check
    key = "k" * 40
    allowed, admitted = {7}, []

    async def admit(claims: TokenClaims) -> bool:
        admitted.append(claims.robot_id)
        return claims.robot_id in allowed

    live = issue(key, TokenClaims(1, 1, "robot", 2**31 - 1, robot_id=7))
    claims = await tokens.verify(key, live, admit)
    assert claims is not None and claims.robot_id == 7
    assert await tokens.verify(key, live, admit) == claims and admitted == [7]  # its robot checked once
    assert await tokens.verify("other-key-" + "x" * 30, live, admit) is None  # same string, other key
    assert await tokens.verify(key, live + "x", admit) is None
    expired = issue(key, TokenClaims(1, 1, "robot", 1, robot_id=7))
    assert await tokens.verify(key, expired, admit) is None
    tokens.forget(revocations.robot(8))  # another robot's revocation changes nothing for this one
    assert await tokens.verify(key, live, admit) == claims and admitted == [7]
    allowed.clear()  # the robot is disabled, and its revocation heard: refused, and not kept refused
    tokens.forget(revocations.robot(7))
    assert await tokens.verify(key, live, admit) is None and admitted == [7, 7]
    allowed.add(7)
    assert await tokens.verify(key, live, admit) == claims and admitted == [7, 7, 7]

    async def overlapped(claims: TokenClaims) -> bool:  # a revocation arrives while the robot is read
        tokens.forget(revocations.robot(7))
        return True

    other = issue(key, TokenClaims(1, 1, "robot", 2**31 - 2, robot_id=7))
    assert await tokens.verify(key, other, overlapped) is not None
    assert await tokens.verify(key, other, admit) is not None and admitted == [7, 7, 7, 7]  # not kept
    tokens.hears_everyone, tokens.recheck_seconds = False, 0  # revocations of others may be missed
    await tokens.verify(key, live, admit)
    await tokens.verify(key, live, admit)
    assert admitted == [7, 7, 7, 7, 7, 7]
