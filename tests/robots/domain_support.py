"""Domain-level tests of the state machines: rows inserted directly (a tenant with one folder, release,
robot and an enabled webhook, as many as a test needs; jobs and a session in any state), and one domain
call run in a write transaction of its own on the test database (both backends), committed unless it
raises."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.engine import Database
from podium.db.schema import events, jobs, releases, robots
from podium.db.schema_robots import robot_sessions
from podium.db.types import utcnow
from podium.domain.enums import JobState, RobotState
from tests.factories import listen_rows, tenant_rows

T = TypeVar("T")
AGENT = "agent-1"


@dataclass(frozen=True)
class Seed:
    tenant_id: int
    folder_id: int
    release_id: int
    robot_id: int


def seed(db: Engine) -> Seed:
    now = utcnow()
    with db.begin() as conn:
        tenant_id, folder_id = tenant_rows(conn, f"states-{uuid.uuid4()}", now)
        listen_rows(conn, tenant_id, now)  # the outbox keeps the events the tests look at
        release_id = conn.execute(
            insert(releases)
            .values(
                tenant_id=tenant_id,
                folder_id=folder_id,
                key=str(uuid.uuid4()),
                name="proc",
                process_key="proc",
                creation_time=now,
            )
            .returning(releases.c.id)
        ).scalar_one()
        robot_id = conn.execute(
            insert(robots)
            .values(tenant_id=tenant_id, key=str(uuid.uuid4()), name="robot", creation_time=now)
            .returning(robots.c.id)
        ).scalar_one()
    return Seed(tenant_id, folder_id, release_id, robot_id)


def add_job(db: Engine, where: Seed, state: JobState, robot_id: int | None = -1) -> dict[str, Any]:
    """A job of the seed's release in ``state``, held by the seed's robot (``robot_id`` -1) or another."""
    with db.begin() as conn:
        row = (
            conn.execute(
                insert(jobs)
                .values(
                    tenant_id=where.tenant_id,
                    folder_id=where.folder_id,
                    key=str(uuid.uuid4()),
                    release_id=where.release_id,
                    release_name="proc",
                    robot_id=where.robot_id if robot_id == -1 else robot_id,
                    state=int(state),
                    batch_execution_key=str(uuid.uuid4()),
                    creation_time=utcnow(),
                )
                .returning(*jobs.c)
            )
            .mappings()
            .one()
        )
    return dict(row)


def add_session(db: Engine, where: Seed, state: RobotState, agent_id: str = AGENT) -> dict[str, Any]:
    now = utcnow()
    with db.begin() as conn:
        row = (
            conn.execute(
                insert(robot_sessions)
                .values(
                    tenant_id=where.tenant_id,
                    robot_id=where.robot_id,
                    state=int(state),
                    reporting_time=now,
                    connected_time=now,
                    agent_id=agent_id,
                    host_machine_name="host",
                )
                .returning(*robot_sessions.c)
            )
            .mappings()
            .one()
        )
    return dict(row)


def job_row(db: Engine, job_id: int) -> dict[str, Any]:
    with db.connect() as conn:
        return dict(conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one())


def session_state(db: Engine, where: Seed) -> RobotState | None:
    with db.connect() as conn:
        state = conn.execute(
            select(robot_sessions.c.state).where(robot_sessions.c.robot_id == where.robot_id)
        ).scalar()
    return None if state is None else RobotState(state)


def event_types(db: Engine, where: Seed, entity_key: str | None = None) -> list[str]:
    """The events recorded in the seed's tenant (about one entity, given its key)."""
    query = select(events.c.type).where(events.c.tenant_id == where.tenant_id).order_by(events.c.id)
    if entity_key is not None:
        query = query.where(events.c.entity_key == entity_key)
    with db.connect() as conn:
        return list(conn.execute(query).scalars())


def in_transaction(url: str, call: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """``call`` in a write transaction of its own: committed, or rolled back when it raises."""

    async def run() -> T:
        database = Database(url)
        try:
            async with database.write() as conn:
                return await call(conn)
        finally:
            await database.dispose()

    return asyncio.run(run())
