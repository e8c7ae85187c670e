"""Firing time triggers (``domain/schedule_firing.py``, ``services/triggers.py``) with an injected "now":
jobs per StartStrategy with the trigger's linkage, a fire claimed once (also by two processes at once),
the Pending-job rule, calendars' days off, StopProcessDate, stop/kill spans, missed fires coalesced or
skipped, auto-disable after failed launches with its reason, alert and schedule.failed events.

Triggers are given a due time in 2030 by hand, so the scheduler of the test app (real clock) never
finds them due: only the rounds the tests run with their own clock fire them."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from podium.db.engine import Database
from podium.db.schema import events, jobs, robots
from podium.db.schema_process_schedules import process_schedules
from podium.domain import schedule_firing
from podium.http.state import AppState
from podium.services.triggers import fire_due_triggers
from tests.factories import listen, seed_machine
from tests.support import Api, start_app

NS = "UiPath.Server.Configuration.OData"
SCHEDULES = "/odata/ProcessSchedules"
T0 = dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC)  # a Monday, 09:00 UTC
DAY = dt.timedelta(days=1)
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


class _State:
    def __init__(self, db: Database) -> None:
        self.db = db


def fire(url: str, now: dt.datetime, processes: int = 1) -> int:
    """One scheduler round at ``now`` in each of ``processes`` "server processes" (own engines) at
    once; the fires they made together."""

    async def go() -> int:
        databases = [Database(url) for _ in range(processes)]
        try:
            rounds = [fire_due_triggers(cast(AppState, _State(db)), now) for db in databases]
            return sum(await asyncio.gather(*rounds))
        finally:
            for db in databases:
                await db.dispose()

    return asyncio.run(go())


def setup(api: Api, db: Engine, robots_count: int = 2) -> int:
    seed_machine(api, db, robots=robots_count)
    listen(api)  # the outbox keeps the events the tests look at
    return int(api.ok(api.get("/odata/Releases?$filter=Name eq 'proc'", folder="Shared"))["value"][0]["Id"])


def trigger(
    api: Api, db: Engine, release: int, due: dt.datetime | None = T0, **fields: Any
) -> dict[str, Any]:
    body = {
        "Name": "nightly",
        "ReleaseId": release,
        "StartProcessCron": "0 0 9 ? * *",
        "TimeZoneId": "UTC",
        "StartStrategy": 1,
        **fields,
    }
    created: dict[str, Any] = api.ok(api.post(SCHEDULES, body, folder="Shared"), 201)
    if due is not None:
        with db.begin() as conn:
            conn.execute(
                update(process_schedules)
                .where(process_schedules.c.id == created["Id"])
                .values(next_fire_at=due)
            )
    return created


def read(api: Api, schedule_id: int) -> dict[str, Any]:
    found: dict[str, Any] = api.ok(api.get(f"{SCHEDULES}({schedule_id})", folder="Shared"))
    return found


def jobs_of(db: Engine, schedule_id: int) -> list[dict[str, Any]]:
    with db.connect() as conn:
        rows = conn.execute(
            select(jobs).where(jobs.c.starting_schedule_id == schedule_id).order_by(jobs.c.id)
        )
        return [dict(row) for row in rows.mappings()]


def settings(api: Api, **values: str) -> None:
    body = {"settings": [{"Name": name.replace("_", "."), "Value": value} for name, value in values.items()]}
    api.ok(api.post(f"/odata/Settings/{NS}.UpdateBulk", body), 204)


def when(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_fire_creates_jobs_once_and_respects_pending(api: Api, db: Engine, database_url: str) -> None:
    release = setup(api, db)
    created = trigger(
        api,
        db,
        release,
        StartStrategy=2,
        InputArguments='{"day": "monday"}',
        JobPriority="High",
        RuntimeType="Unattended",
        StopProcessExpression="60",
        StopStrategy="SoftStop",
        KillProcessExpression="30",
    )
    assert fire(database_url, T0 - dt.timedelta(seconds=1)) == 0  # not due yet
    assert fire(database_url, T0) == 1
    made = jobs_of(db, created["Id"])
    assert len(made) == 2
    for job in made:
        assert (job["source"], job["source_type"], job["state"]) == ("nightly", 1, 0)
        assert job["input_arguments"] == '{"day": "monday"}' and job["job_priority"] == 2
        assert (job["stop_process_expression"], job["kill_process_expression"]) == ("60.0", "90.0")
    listed = api.ok(api.get(f"/odata/Jobs?$filter=StartingScheduleId eq {created['Id']}", folder="Shared"))
    assert {j["SourceType"] for j in listed["value"]} == {"Schedule"}
    after = read(api, created["Id"])
    assert when(after["StartProcessNextOccurrence"]) == T0 + DAY and when(after["LastFireTime"]) == T0
    assert fire(database_url, T0) == 0 and len(jobs_of(db, created["Id"])) == 2  # claimed once

    # its jobs are still Pending: the next fire creates none (Triggers.JobsCountStrategy PerTrigger)
    assert fire(database_url, T0 + DAY) == 0 and len(jobs_of(db, created["Id"])) == 2
    assert when(read(api, created["Id"])["StartProcessNextOccurrence"]) == T0 + 2 * DAY
    settings(api, Triggers_JobsCountStrategy="None")
    assert fire(database_url, T0 + 2 * DAY) == 1 and len(jobs_of(db, created["Id"])) == 4


def test_two_processes_fire_each_due_trigger_once(api: Api, db: Engine, database_url: str) -> None:
    release = setup(api, db)
    ids = [trigger(api, db, release, Name=f"t{n}")["Id"] for n in range(12)]
    assert fire(database_url, T0, processes=2) == 12
    with db.connect() as conn:
        made = conn.execute(select(jobs.c.starting_schedule_id)).scalars().all()
    assert sorted(made) == sorted(ids)


def test_a_failing_trigger_does_not_fail_its_batch(api: Api, db: Engine, database_url: str) -> None:
    """Triggers due together fire in one batch (one transaction): one whose launch fails (no robot may
    run it) is counted on its own trigger, the others fire; an unexpected error (a cron broken in the
    database) rolls the batch back and its triggers fire one by one, the broken one left due."""
    release = setup(api, db)
    good = [trigger(api, db, release, Name=f"good{n}")["Id"] for n in range(3)]
    failing = trigger(api, db, release, Name="all robots", StartStrategy=-1)["Id"]
    with db.begin() as conn:
        conn.execute(update(robots).values(enabled=False))
    assert fire(database_url, T0) == 3
    for schedule_id in good:
        [job] = jobs_of(db, schedule_id)
        assert (job["source"], job["source_type"], job["state"]) == (f"good{good.index(schedule_id)}", 1, 0)
        assert when(read(api, schedule_id)["StartProcessNextOccurrence"]) == T0 + DAY
    assert jobs_of(db, failing) == []
    with db.connect() as conn:
        failed = conn.execute(
            select(process_schedules.c.failed_launches, process_schedules.c.next_fire_at).where(
                process_schedules.c.id == failing
            )
        ).one()
        reasons = conn.execute(select(events.c.payload).where(events.c.type == "schedule.failed")).scalars()
        assert [orjson.loads(r)["ProcessSchedule"]["Id"] for r in reasons] == [failing]
        created = conn.execute(select(events.c.id).where(events.c.type == "job.created")).scalars().all()
    assert failed.failed_launches == 1 and failed.next_fire_at.replace(tzinfo=dt.UTC) == T0 + DAY
    assert len(created) == 3

    settings(api, Triggers_JobsCountStrategy="None")
    with db.begin() as conn:
        conn.execute(
            update(process_schedules)
            .where(process_schedules.c.id == good[0])
            .values(start_process_cron="not a cron")
        )
    assert fire(database_url, T0 + DAY) == 2
    assert [len(jobs_of(db, schedule_id)) for schedule_id in good] == [1, 2, 2]
    with db.connect() as conn:
        left = conn.execute(
            select(process_schedules.c.next_fire_at).where(process_schedules.c.id == good[0])
        ).scalar_one()
    assert left.replace(tzinfo=dt.UTC) == T0 + DAY  # still due, retried at the next round


def test_start_strategies(api: Api, db: Engine, database_url: str) -> None:
    release = setup(api, db, robots_count=2)
    with db.connect() as conn:
        robot_rows = conn.execute(select(robots.c.id, robots.c.machine_id).order_by(robots.c.id)).all()
    [(r1, m1), (r2, _)] = [(row.id, row.machine_id) for row in robot_rows]
    everyone = trigger(api, db, release, Name="all", StartStrategy=-1)
    specific = trigger(api, db, release, Name="specific", StartStrategy=0, ExecutorRobots=[{"Id": r2}])
    pairs = trigger(api, db, release, Name="pairs", MachineRobots=[{"MachineId": m1, "RobotId": r1}])
    assert fire(database_url, T0) == 3
    assert sorted(j["robot_id"] for j in jobs_of(db, everyone["Id"])) == [r1, r2]
    assert [j["robot_id"] for j in jobs_of(db, specific["Id"])] == [r2]
    assert [(j["robot_id"], j["machine_id"]) for j in jobs_of(db, pairs["Id"])] == [(r1, m1)]
    ids = api.ok(api.get(f"{SCHEDULES}/{NS}.GetRobotIdsForSchedule(key={pairs['Id']})", folder="Shared"))
    assert ids["value"] == [r1]


def test_calendar_days_off_and_stop_date(api: Api, db: Engine, database_url: str) -> None:
    release = setup(api, db)
    calendar = api.ok(
        api.post("/odata/Calendars", {"Name": "Off", "TimeZoneId": "UTC", "ExcludedDates": ["2030-01-08"]}),
        201,
    )
    with_calendar = trigger(api, db, release, Name="cal", CalendarId=calendar["Id"])
    ending = trigger(api, db, release, Name="ending", StopProcessDate="2030-01-07T20:00:00Z")
    assert fire(database_url, T0) == 2
    # the 8th is a day off: the next fire is on the 9th, and it fires as usual then
    assert when(read(api, with_calendar["Id"])["StartProcessNextOccurrence"]) == T0 + 2 * DAY
    assert read(api, ending["Id"])["StartProcessNextOccurrence"] is None
    settings(api, Triggers_JobsCountStrategy="None")
    assert fire(database_url, T0 + DAY) == 0
    assert fire(database_url, T0 + 2 * DAY) == 1 and len(jobs_of(db, with_calendar["Id"])) == 2
    assert len(jobs_of(db, ending["Id"])) == 1

    # a day off added after the fire was planned (the 10th): no fire then, and no miss recorded
    days = {"ExcludedDates": ["2030-01-08", "2030-01-10"]}
    api.ok(api.put(f"/odata/Calendars({calendar['Id']})", {"Name": "Off", **days}))
    assert when(read(api, with_calendar["Id"])["StartProcessNextOccurrence"]) == T0 + 3 * DAY
    assert fire(database_url, T0 + 3 * DAY) == 0
    after = read(api, with_calendar["Id"])
    assert when(after["StartProcessNextOccurrence"]) == T0 + 4 * DAY and after["LastMisfire"] is None


def test_missed_fires_coalesced_or_skipped(api: Api, db: Engine, database_url: str) -> None:
    release = setup(api, db)
    minutely = trigger(api, db, release, Name="minutely", StartProcessCron="0 * * ? * *")
    daily = trigger(api, db, release, Name="daily")
    now = T0 + dt.timedelta(hours=3, seconds=30)  # the servers were down for three hours
    assert fire(database_url, now) == 1
    assert len(jobs_of(db, minutely["Id"])) == 1  # 180 missed fires, one job
    coalesced = read(api, minutely["Id"])
    assert "fired once" in coalesced["LastMisfire"]
    assert when(coalesced["StartProcessNextOccurrence"]) == T0 + dt.timedelta(hours=3, minutes=1)
    skipped = read(api, daily["Id"])  # its 09:00 fire is 3 h old: too old (1 h), not made up
    assert jobs_of(db, daily["Id"]) == [] and "skipped" in skipped["LastMisfire"]
    assert when(skipped["StartProcessNextOccurrence"]) == T0 + DAY
    with db.connect() as conn:
        recorded = conn.execute(
            select(events.c.payload).where(events.c.type == "schedule.misfired")
        ).scalars()
        fired = sorted(orjson.loads(p)["Fired"] for p in recorded)
    assert fired == [False, True]


def test_failed_launches_disable_the_trigger(api: Api, db: Engine, database_url: str) -> None:
    release = setup(api, db)
    settings(api, Triggers_DisableWhenFailedCount="2")
    created = trigger(api, db, release, StartStrategy=-1)
    with db.begin() as conn:  # no robot may run it: every launch fails
        conn.execute(update(robots).values(enabled=False))
    assert fire(database_url, T0) == 0
    first = read(api, created["Id"])
    assert first["Enabled"] is True and first["DisabledReason"] is None
    assert fire(database_url, T0 + DAY) == 0
    disabled = read(api, created["Id"])
    assert disabled["Enabled"] is False and disabled["StartProcessNextOccurrence"] is None
    assert "2 failed launches" in disabled["DisabledReason"] and "no robots" in disabled["DisabledReason"]
    with db.connect() as conn:
        failed = (
            conn.execute(select(events.c.payload).where(events.c.type == "schedule.failed")).scalars().all()
        )
    assert len(failed) == 2
    assert orjson.loads(failed[0])["ProcessSchedule"]["Id"] == created["Id"]
    assert "no robots" in orjson.loads(failed[0])["Reason"]
    alerts = api.ok(api.get("/odata/Alerts?$filter=NotificationName eq 'Schedule.Disabled'"))["value"]
    assert len(alerts) == 1 and orjson.loads(alerts[0]["Data"])["ProcessScheduleId"] == created["Id"]
    logged = api.ok(api.get("/odata/AuditLogs?$filter=Component eq 'Schedules' and Action eq 'Deactivate'"))
    [entry] = logged["value"]
    assert entry["OperationText"].startswith("User System Administrator deactivated trigger nightly")
    assert entry["EntityId"] == created["Id"]

    # enabled again: the count starts afresh, a success clears it
    api.ok(
        api.post(
            f"{SCHEDULES}/{NS}.SetEnabled", {"scheduleIds": [created["Id"]], "enabled": True}, folder="Shared"
        )
    )
    again = read(api, created["Id"])
    assert again["Enabled"] is True and again["DisabledReason"] is None
    with db.begin() as conn:
        conn.execute(update(robots).values(enabled=True))
        conn.execute(
            update(process_schedules)
            .where(process_schedules.c.id == created["Id"])
            .values(next_fire_at=T0 + 3 * DAY)
        )
    assert fire(database_url, T0 + 3 * DAY) == 1
    with db.connect() as conn:
        state = conn.execute(
            select(process_schedules.c.failed_launches).where(process_schedules.c.id == created["Id"])
        ).scalar_one()
    assert state == 0


def test_fire_now_and_cli(api: Api, db: Engine) -> None:
    import io

    from podium.trigger_cli import CliError, fire_trigger, list_triggers

    release = setup(api, db)
    created = trigger(api, db, release, Name="it's nightly", StartStrategy=2)
    queue_free = trigger(api, db, release, Name="broken", StartStrategy=-1)
    out = io.StringIO()
    assert list_triggers(api.client, api.token, "Shared", out) == 2
    assert "it's nightly\tenabled\t2030-01-07T09:00:00Z\tproc\t0 0 9 ? * * (UTC)" in out.getvalue()
    ids = fire_trigger(api.client, api.token, "Shared", "it's nightly", out)
    assert len(ids) == 2 and sorted(j["id"] for j in jobs_of(db, created["Id"])) == sorted(ids)
    # firing now leaves the schedule as it was; Pending jobs do not hold back a fire asked for by hand
    assert when(read(api, created["Id"])["StartProcessNextOccurrence"]) == T0
    assert len(fire_trigger(api.client, api.token, "Shared", "it's nightly", out)) == 2
    with pytest.raises(CliError, match="No trigger named"):
        fire_trigger(api.client, api.token, "Shared", "nope", out)

    # a failed launch is answered (400) and not counted towards disabling the trigger
    with db.begin() as conn:
        conn.execute(update(robots).values(enabled=False))
    with pytest.raises(CliError, match="400"):
        fire_trigger(api.client, api.token, "Shared", "broken", out)
    assert read(api, queue_free["Id"])["Enabled"] is True
    with db.connect() as conn:
        count = conn.execute(
            select(process_schedules.c.failed_launches).where(process_schedules.c.id == queue_free["Id"])
        ).scalar_one()
    assert count == 0

    # the API's permissions: Schedules.Edit alone may not start jobs
    from tests.factories import user_with

    editor = user_with(api, "editor", ["Schedules.View", "Schedules.Edit"])
    with pytest.raises(CliError, match="403"):
        fire_trigger(api.client, editor, "Shared", "it's nightly", out)
    viewer = user_with(api, "viewer", ["Schedules.View"])
    with pytest.raises(CliError, match="403"):
        fire_trigger(api.client, viewer, "Shared", "it's nightly", out)
    assert list_triggers(api.client, viewer, "Shared", io.StringIO()) == 2


def test_daylight_saving_days_fire_once(api: Api, db: Engine, database_url: str) -> None:
    """03:30 in Athens: on 2030-03-31 that time does not exist (03:00 -> 04:00), the trigger fires once
    at 04:00 (01:00Z); on 2030-10-27 it happens twice (04:00 -> 03:00), the trigger fires at the first."""
    release = setup(api, db)
    spring_gap = dt.datetime(2030, 3, 31, 1, 0, tzinfo=dt.UTC)
    spring = trigger(
        api,
        db,
        release,
        Name="spring",
        StartProcessCron="0 30 3 ? * *",
        TimeZoneId="Europe/Athens",
        due=spring_gap,
    )
    autumn_first = dt.datetime(2030, 10, 27, 0, 30, tzinfo=dt.UTC)
    autumn = trigger(
        api,
        db,
        release,
        Name="autumn",
        StartProcessCron="0 30 3 ? * *",
        TimeZoneId="Europe/Athens",
        due=autumn_first,
    )
    assert fire(database_url, spring_gap) == 1
    assert when(read(api, spring["Id"])["StartProcessNextOccurrence"]) == dt.datetime(
        2030, 4, 1, 0, 30, tzinfo=dt.UTC
    )
    assert fire(database_url, autumn_first) == 1
    # the repeated 03:30 (01:30Z) is not a second fire: the next is the 28th, 03:30 EET
    assert when(read(api, autumn["Id"])["StartProcessNextOccurrence"]) == dt.datetime(
        2030, 10, 28, 1, 30, tzinfo=dt.UTC
    )
    assert fire(database_url, dt.datetime(2030, 10, 27, 1, 30, tzinfo=dt.UTC)) == 0
    assert len(jobs_of(db, spring["Id"])) == 1 and len(jobs_of(db, autumn["Id"])) == 1


def test_the_scheduler_wakes_for_a_new_trigger(
    database_url: str, tmp_path: Path, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's own scheduler (real clock): it sleeps until the next due time (here, with nothing due,
    two minutes), and a trigger written meanwhile wakes it, so a trigger due in two seconds fires then:
    the test would run out of its 30 s without the wake-up."""
    import time

    monkeypatch.setenv("PODIUM_TRIGGERS_MAX_WAIT", "120")
    with start_app(database_url, tmp_path) as api:
        release = setup(api, db)
        due = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)).replace(microsecond=0)
        once = f"{due.second} {due.minute} {due.hour} {due.day} {due.month} ? {due.year}"
        created = trigger(api, db, release, due=None, StartProcessCron=once)
        assert when(created["StartProcessNextOccurrence"]) == due
        deadline = time.monotonic() + 30
        while not jobs_of(db, created["Id"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        [job] = jobs_of(db, created["Id"])
        assert job["creation_time"] >= due
        assert read(api, created["Id"])["StartProcessNextOccurrence"] is None  # no later time


def test_a_batch_of_mixed_triggers(
    api: Api, db: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Triggers due together fire as one batch, set-based (their occurrences, one UPDATE, one INSERT of
    jobs, one of events): each keeps its own next occurrence (same cron, another calendar or stop date),
    strategy, robots, linkage and batch key, and one whose robot may not run its process fails alone.
    The batch itself must not fail (its triggers would then fire one by one, with the same outcome)."""
    release = setup(api, db, robots_count=2)
    with db.connect() as conn:
        robot_rows = conn.execute(select(robots.c.id, robots.c.machine_id).order_by(robots.c.id)).all()
    [(r1, m1), (r2, _)] = [(row.id, row.machine_id) for row in robot_rows]
    calendar = api.ok(
        api.post("/odata/Calendars", {"Name": "Off", "TimeZoneId": "UTC", "ExcludedDates": ["2030-01-08"]}),
        201,
    )
    made = {
        "cal": trigger(api, db, release, Name="cal", CalendarId=calendar["Id"]),
        "cal-ending": trigger(
            api,
            db,
            release,
            Name="cal-ending",
            CalendarId=calendar["Id"],
            StopProcessDate="2030-01-08T20:00:00Z",
        ),
        "three": trigger(api, db, release, Name="three", StartStrategy=3),
        "all": trigger(api, db, release, Name="all", StartStrategy=-1),
        "specific": trigger(api, db, release, Name="specific", StartStrategy=0, ExecutorRobots=[{"Id": r2}]),
        "pair": trigger(api, db, release, Name="pair", MachineRobots=[{"MachineId": m1, "RobotId": r1}]),
        "gone": trigger(api, db, release, Name="gone", StartStrategy=0, ExecutorRobots=[{"Id": r1}]),
    }
    ids = {name: created["Id"] for name, created in made.items()}
    with db.begin() as conn:  # robot 1 may run nothing now: "gone" fails, "all" gets robot 2 alone
        conn.execute(update(robots).where(robots.c.id == r1).values(enabled=False))
    one_by_one: list[int] = []
    original = schedule_firing.fire_due

    async def fire_due(conn: Any, schedule_id: int, read: dt.datetime, now: dt.datetime) -> Any:
        one_by_one.append(schedule_id)
        return await original(conn, schedule_id, read, now)

    monkeypatch.setattr(schedule_firing, "fire_due", fire_due)
    assert fire(database_url, T0) == 6
    assert one_by_one == []
    jobs_by = {name: jobs_of(db, schedule_id) for name, schedule_id in ids.items()}
    assert {name: len(found) for name, found in jobs_by.items()} == {
        "cal": 1,
        "cal-ending": 1,
        "three": 3,
        "all": 1,
        "specific": 1,
        "pair": 1,
        "gone": 0,
    }
    assert [j["robot_id"] for j in jobs_by["all"] + jobs_by["specific"]] == [r2, r2]
    assert [(j["robot_id"], j["machine_id"]) for j in jobs_by["pair"]] == [(r1, m1)]
    assert all(j["robot_id"] is None for j in jobs_by["three"] + jobs_by["cal"])
    batch_keys = set()
    for name, found in jobs_by.items():
        for job in found:
            assert (job["source"], job["source_type"], job["state"]) == (name, 1, 0)
            assert job["starting_schedule_id"] == ids[name]
        if found:
            assert len({job["batch_execution_key"] for job in found}) == 1  # a fire's jobs share it
            batch_keys.add(found[0]["batch_execution_key"])
    assert len(batch_keys) == 6  # and each fire has its own
    following = {
        name: when(read(api, schedule_id)["StartProcessNextOccurrence"]) for name, schedule_id in ids.items()
    }
    assert following == {
        "cal": T0 + 2 * DAY,  # the 8th is a day off
        "cal-ending": None,  # the 9th is past its stop date
        "three": T0 + DAY,
        "all": T0 + DAY,
        "specific": T0 + DAY,
        "pair": T0 + DAY,
        "gone": T0 + DAY,  # a failed launch still moves on
    }
    with db.connect() as conn:
        failed = conn.execute(
            select(process_schedules.c.id, process_schedules.c.failed_launches).where(
                process_schedules.c.failed_launches > 0
            )
        ).all()
        created_events = conn.execute(
            select(events.c.entity_key, events.c.payload).where(events.c.type == "job.created")
        ).all()
    assert [(row.id, row.failed_launches) for row in failed] == [(ids["gone"], 1)]
    every_job = {job["key"]: job["id"] for found in jobs_by.values() for job in found}
    assert {key: orjson.loads(payload)["JobId"] for key, payload in created_events} == every_job
