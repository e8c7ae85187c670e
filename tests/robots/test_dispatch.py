"""Dispatch: many robots claiming at once never take a job twice; eligibility; the waiters' hub."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from podium.db.engine import Database
from podium.db.schema import environment_robots, environments, folder_robots, jobs, machines, releases, robots
from podium.db.schema_robots import job_claims, robot_sessions
from podium.db.types import utcnow
from podium.domain import dispatch
from podium.domain import job_claims as claims
from podium.domain.robot_hub import Hub, Waiter
from podium.domain.wakeups import Wakeup
from tests.support import create_tenant_sync

ROBOTS = 8
JOBS = 40


def _seed(db: Engine, url: str) -> tuple[int, list[int], int]:
    """A tenant with ROBOTS robots (capacity 3 each) in its Shared folder, JOBS unassigned Pending jobs of
    a folder release, and one Pending job of a release whose environment holds no robot."""
    tenant = create_tenant_sync(url, "Dispatch")
    now = utcnow()
    with db.begin() as conn:
        robot_ids = []
        for index in range(ROBOTS):
            robot_id = conn.execute(
                insert(robots)
                .values(
                    tenant_id=tenant.tenant_id,
                    key=str(uuid.uuid4()),
                    name=f"r{index}",
                    creation_time=now,
                )
                .returning(robots.c.id)
            ).scalar_one()
            conn.execute(insert(folder_robots).values(folder_id=tenant.shared_folder_id, robot_id=robot_id))
            conn.execute(
                insert(robot_sessions).values(
                    tenant_id=tenant.tenant_id,
                    robot_id=robot_id,
                    state=0,
                    reporting_time=now,
                    connected_time=now,
                    agent_id="agent",
                    capacity=3,
                    host_machine_name="h",
                )
            )
            robot_ids.append(robot_id)
        environment = conn.execute(
            insert(environments)
            .values(
                tenant_id=tenant.tenant_id,
                folder_id=tenant.shared_folder_id,
                name="empty",
                creation_time=now,
            )
            .returning(environments.c.id)
        ).scalar_one()
        release_ids = [
            conn.execute(
                insert(releases)
                .values(
                    tenant_id=tenant.tenant_id,
                    folder_id=tenant.shared_folder_id,
                    key=str(uuid.uuid4()),
                    name=name,
                    process_key=name,
                    environment_id=env,
                    creation_time=now,
                )
                .returning(releases.c.id)
            ).scalar_one()
            for name, env in (("open", None), ("closed", environment))
        ]
        rows = [
            {
                "tenant_id": tenant.tenant_id,
                "folder_id": tenant.shared_folder_id,
                "key": str(uuid.uuid4()),
                "release_id": release_ids[0],
                "state": 0,
                "batch_execution_key": str(uuid.uuid4()),
                "creation_time": now,
            }
            for _ in range(JOBS)
        ]
        rows.append({**rows[0], "key": str(uuid.uuid4()), "release_id": release_ids[1]})
        conn.execute(insert(jobs), rows)
        closed = conn.execute(select(jobs.c.id).where(jobs.c.release_id == release_ids[1])).scalar_one()
    return tenant.tenant_id, robot_ids, closed


def test_concurrent_claims_never_take_a_job_twice(db: Engine, database_url: str) -> None:
    tenant_id, robot_ids, closed = _seed(db, database_url)

    async def claim_all() -> list[int]:
        database = Database(database_url)
        claimed: list[int] = []

        async def robot_loop(robot_id: int) -> None:
            for _ in range(4):  # more attempts than capacity: the cap holds
                async with database.write() as conn:
                    taken = await dispatch.claim_for_robot(conn, tenant_id, robot_id, "agent")
                claimed.extend(job["id"] for job in taken)

        try:
            await asyncio.gather(*(robot_loop(r) for r in robot_ids for _ in range(2)))
        finally:
            await database.dispose()
        return claimed

    claimed = asyncio.run(claim_all())
    counts = Counter(claimed)
    assert max(counts.values()) == 1  # never twice
    assert len(counts) == min(JOBS, ROBOTS * 3) and closed not in counts
    with db.connect() as conn:
        per_robot = Counter(
            r.robot_id for r in conn.execute(select(jobs.c.robot_id).where(jobs.c.state == 1))
        )
        assert max(per_robot.values()) <= 3  # each robot's capacity
        assert conn.execute(select(jobs.c.state).where(jobs.c.id == closed)).scalar_one() == 0


def test_environment_robots_take_their_release(db: Engine, database_url: str) -> None:
    tenant_id, robot_ids, closed = _seed(db, database_url)
    with db.begin() as conn:
        environment_id = conn.execute(
            select(releases.c.environment_id).where(releases.c.name == "closed")
        ).scalar()
        conn.execute(insert(environment_robots).values(environment_id=environment_id, robot_id=robot_ids[0]))
        conn.execute(jobs.update().where(jobs.c.id != closed).values(state=6))

    async def claim(robot_id: int) -> list[int]:
        database = Database(database_url)
        try:
            async with database.write() as conn:
                return [j["id"] for j in await dispatch.claim_for_robot(conn, tenant_id, robot_id, "agent")]
        finally:
            await database.dispose()

    assert asyncio.run(claim(robot_ids[1])) == []
    assert asyncio.run(claim(robot_ids[0])) == [closed]


def test_hub_wakes_few_and_passes_offers_on() -> None:
    async def scenario() -> None:
        hub = Hub()
        waiters = [Waiter(1, robot) for robot in range(5)]
        for waiter in waiters:
            hub.add(waiter)
        hub.deliver(Wakeup(1, None, 2))  # two unassigned jobs: two robots woken, not five
        assert [w.event.is_set() for w in waiters] == [True, True, False, False, False]
        hub.took_nothing(waiters[0])  # not eligible: its offer moves on to a robot that has not seen it
        assert waiters[2].event.is_set()
        hub.took_something(waiters[1])
        assert not waiters[3].event.is_set()
        hub.deliver(Wakeup(1, 4))  # a robot's own news wakes that robot
        assert waiters[4].event.is_set()
        hub.deliver(Wakeup(2, None, 1))  # another tenant: nobody here
        hub.remove(waiters[2])  # leaving with an offer: it goes on
        assert waiters[3].event.is_set()

    asyncio.run(scenario())


def test_a_job_started_for_a_machine_goes_to_a_robot_of_that_machine(db: Engine, database_url: str) -> None:
    """MachineRobots pairs (StartJobs, triggers) with a machine and no robot: the job waits for a robot
    connected from that machine; a robot of another machine (or of none) does not take it."""
    tenant_id, robot_ids, closed = _seed(db, database_url)
    now = utcnow()
    with db.begin() as conn:
        m1, m2 = (
            conn.execute(
                insert(machines)
                .values(tenant_id=tenant_id, key=str(uuid.uuid4()), name=name, creation_time=now)
                .returning(machines.c.id)
            ).scalar_one()
            for name in ("M1", "M2")
        )
        for robot_id, machine_id in ((robot_ids[0], m1), (robot_ids[1], m2)):
            conn.execute(
                robot_sessions.update()
                .where(robot_sessions.c.robot_id == robot_id)
                .values(machine_id=machine_id)
            )
        conn.execute(jobs.update().where(jobs.c.id != closed).values(state=6))  # out of the way: Stopped
        row = conn.execute(select(jobs).where(jobs.c.id != closed).limit(1)).mappings().one()
        pinned = conn.execute(
            insert(jobs)
            .values(
                {
                    **{k: v for k, v in row.items() if k != "id"},
                    "key": str(uuid.uuid4()),
                    "state": 0,
                    "machine_id": m2,
                }
            )
            .returning(jobs.c.id)
        ).scalar_one()

    async def claim(robot_id: int) -> list[int]:
        database = Database(database_url)
        try:
            async with database.write() as conn:
                return [j["id"] for j in await dispatch.claim_for_robot(conn, tenant_id, robot_id, "agent")]
        finally:
            await database.dispose()

    assert asyncio.run(claim(robot_ids[0])) == []  # machine M1
    assert asyncio.run(claim(robot_ids[2])) == []  # no machine
    assert asyncio.run(claim(robot_ids[1])) == [pinned]  # machine M2

    # M2's robot never acknowledges: the job goes back to Pending still for machine M2 only
    with db.begin() as conn:
        conn.execute(job_claims.update().values(expires_at=now - dt.timedelta(seconds=1)))

    async def withdraw() -> int:
        database = Database(database_url)
        try:
            async with database.write() as conn:
                return await claims.withdraw_expired(conn)
        finally:
            await database.dispose()

    assert asyncio.run(withdraw()) == 1
    with db.connect() as conn:
        back = conn.execute(select(jobs.c.state, jobs.c.machine_id).where(jobs.c.id == pinned)).one()
    assert tuple(back) == (0, m2)
    assert asyncio.run(claim(robot_ids[0])) == []
    assert asyncio.run(claim(robot_ids[2])) == []
    assert asyncio.run(claim(robot_ids[1])) == [pinned]
