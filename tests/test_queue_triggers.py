"""Queue triggers (``domain/queue_triggers.py``): the formula (job k+1 at threshold + k x target New
items, at most MaxJobsForActivation Pending and Running), evaluated when items are added, when a job
of the trigger ends, on Activate and by the re-check; deferred items not counted; one trigger per
queue; the queue's ProcessScheduleId; SourceType Queue."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, cast

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from podium.db.engine import Database
from podium.db.schema import jobs
from podium.domain import job_states, queue_triggers
from podium.domain.enums import JobState
from podium.http.state import AppState
from podium.services.queue_triggers import recheck
from tests.factories import create_queue, seed_machine
from tests.queue_helpers import add_item
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"
SCHEDULES = "/odata/ProcessSchedules"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


@pytest.mark.parametrize(
    ("new", "threshold", "per_job", "maximum", "wanted"),
    [
        (0, 1, 1, 5, 0),
        (1, 1, 1, 5, 1),
        (1, 2, 3, 5, 0),
        (2, 2, 3, 5, 1),
        (4, 2, 3, 5, 1),
        (5, 2, 3, 5, 2),
        (100, 2, 3, 5, 5),
        (10, 1, 0, 3, 3),
        (10, 0, 5, 3, 2),
        (10, 1, 1, 0, 0),
    ],
)
def test_formula(new: int, threshold: int, per_job: int, maximum: int, wanted: int) -> None:
    assert queue_triggers.wanted_jobs(new, threshold, per_job, maximum) == wanted


def queue_jobs(db: Engine, schedule_id: int) -> list[dict[str, Any]]:
    with db.connect() as conn:
        rows = conn.execute(
            select(jobs).where(jobs.c.starting_schedule_id == schedule_id).order_by(jobs.c.id)
        )
        return [dict(row) for row in rows.mappings()]


def end_job(url: str, job_id: int) -> None:
    """The job runs and succeeds, through the job state machine (as the robot protocol would)."""

    async def go() -> None:
        database = Database(url)
        try:
            for target in (JobState.Running, JobState.Successful):
                async with database.write() as conn:
                    row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).mappings().one()
                    await job_states.transition(conn, dict(row), target)
        finally:
            await database.dispose()

    asyncio.run(go())


def run_recheck(url: str) -> None:
    class _State:
        def __init__(self, db: Database) -> None:
            self.db = db

    async def go() -> None:
        database = Database(url)
        try:
            await recheck(cast(AppState, _State(database)))
        finally:
            await database.dispose()

    asyncio.run(go())


def test_queue_trigger_starts_jobs_as_items_arrive(api: Api, db: Engine, database_url: str) -> None:
    seed_machine(api, db)
    release = api.ok(api.get("/odata/Releases?$filter=Name eq 'proc'", folder="Shared"))["value"][0]["Id"]
    queue = create_queue(api)
    body = {
        "Name": "on invoices",
        "ReleaseId": release,
        "TimeZoneId": "UTC",
        "QueueDefinitionId": queue["Id"],
        "ItemsActivationThreshold": 2,
        "ItemsPerJobActivationTarget": 3,
        "MaxJobsForActivation": 2,
    }
    created = api.ok(api.post(SCHEDULES, body, folder="Shared"), 201)
    assert created["QueueDefinitionName"] == "invoices" and created["StartProcessNextOccurrence"] is None
    assert created["StartProcessCron"]  # a queue trigger carries a dummy cron, never fired
    schedule_id = created["Id"]
    queue_read = api.ok(api.get(f"/odata/QueueDefinitions({queue['Id']})", folder="Shared"))
    assert queue_read["ProcessScheduleId"] == schedule_id

    # one trigger per queue
    second = {**body, "Name": "again"}
    assert "only one" in assert_error(api.post(SCHEDULES, second, folder="Shared"), 400)["message"]

    add_item(api, Reference="1")
    assert queue_jobs(db, schedule_id) == []  # 1 New item < threshold 2
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    add_item(api, Reference="deferred", DeferDate=later)
    assert queue_jobs(db, schedule_id) == []  # a deferred item does not count
    add_item(api, Reference="2")
    made = queue_jobs(db, schedule_id)
    assert len(made) == 1 and made[0]["source_type"] == 3 and made[0]["source"] == "on invoices"
    for reference in ("3", "4"):
        add_item(api, Reference=reference)
    assert len(queue_jobs(db, schedule_id)) == 1  # 4 New: the second job needs 2 + 1 x 3 = 5
    add_item(api, Reference="5")
    assert len(queue_jobs(db, schedule_id)) == 2
    for reference in range(6, 20):
        add_item(api, Reference=str(reference))
    assert len(queue_jobs(db, schedule_id)) == 2  # MaxJobsForActivation

    # a job of the trigger ends: its place is taken at once (ActivateOnJobComplete)
    end_job(database_url, made[0]["id"])
    states = [j["state"] for j in queue_jobs(db, schedule_id)]
    assert states.count(int(JobState.Pending)) == 2 and len(states) == 3

    # jobs ended behind the state machine's back: the re-check (or Activate) catches up
    with db.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.starting_schedule_id == schedule_id).values(state=5))
    run_recheck(database_url)
    assert len(queue_jobs(db, schedule_id)) == 5
    with db.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.starting_schedule_id == schedule_id).values(state=5))
    api.ok(api.post(f"{SCHEDULES}({schedule_id})/{NS}.Activate", folder="Shared"), 204)
    assert len(queue_jobs(db, schedule_id)) == 7

    # disabled: no jobs; deleted: the queue no longer names it
    api.ok(
        api.post(
            f"{SCHEDULES}/{NS}.SetEnabled", {"scheduleIds": [schedule_id], "enabled": False}, folder="Shared"
        )
    )
    add_item(api, Reference="after")
    assert len(queue_jobs(db, schedule_id)) == 7
    api.ok(api.delete(f"{SCHEDULES}({schedule_id})", folder="Shared"), 204)
    queue_read = api.ok(api.get(f"/odata/QueueDefinitions({queue['Id']})", folder="Shared"))
    assert queue_read["ProcessScheduleId"] is None
