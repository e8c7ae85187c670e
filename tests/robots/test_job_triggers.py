"""Suspended jobs and what resumes them (``domain.job_triggers``), called directly on a real database
(both backends): a robot's Suspended report with its waits; a task's completion, another job's end, a
time and a delivered payload each resume the job (Resumed, back to dispatch, for its own robot only
with ResumeOnSameContext); what fired is handed to the resumed run; bad input changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from podium.db.schema import folder_robots, jobs
from podium.db.schema_job_triggers import job_triggers
from podium.db.schema_robots import job_claims
from podium.db.schema_tasks import tasks
from podium.db.types import utcnow
from podium.domain import dispatch, job_results, job_states
from podium.domain import job_claims as claims_domain
from podium.domain import job_triggers as triggers_domain
from podium.domain import jobs as jobs_domain
from podium.domain.enums import JobState, RobotState
from podium.errors import PodiumError
from tests.robots.domain_support import Seed, add_job, add_session, event_types, in_transaction, job_row, seed

S = JobState


def _report(url: str, where: Seed, job: dict[str, Any], body: dict[str, Any]) -> JobState:
    return in_transaction(
        url, lambda conn: job_results.report(conn, where.tenant_id, where.robot_id, job["key"], body)
    )


def _suspend(url: str, where: Seed, job: dict[str, Any], *waits: dict[str, Any], **extra: Any) -> JobState:
    return _report(url, where, job, {"state": "Suspended", "resumeTriggers": list(waits), **extra})


def _triggers(db: Engine, job_id: int) -> list[dict[str, Any]]:
    with db.connect() as conn:
        query = select(job_triggers).where(job_triggers.c.job_id == job_id).order_by(job_triggers.c.id)
        return [dict(row) for row in conn.execute(query).mappings()]


def test_a_job_waits_for_another_job_and_resumes_with_its_output(db: Engine, database_url: str) -> None:
    where = seed(db)
    parent, child = add_job(db, where, S.Running), add_job(db, where, S.Running, robot_id=None)
    wait = {
        "interruptId": "i-1",
        "triggerType": "Job",
        "itemKey": child["key"].upper(),
        "folderPath": "Shared",
    }
    assert _suspend(database_url, where, parent, wait, runtimeState="c3RhdGU=") is S.Suspended
    suspended = job_row(db, parent["id"])
    assert suspended["state"] == int(S.Suspended) and suspended["persistence_id"]
    [trigger] = _triggers(db, parent["id"])
    assert (trigger["trigger_type"], trigger["status"], trigger["item_id"]) == (2, 0, child["id"])

    output = '{"answer": 42}'
    in_transaction(
        database_url, lambda conn: job_states.transition(conn, child, S.Successful, output_arguments=output)
    )
    resumed = job_row(db, parent["id"])
    assert resumed["state"] == int(S.Resumed) and resumed["resume_version"] == 1
    assert resumed["robot_id"] is None and resumed["resume_time"] is not None  # any robot may take it
    assert event_types(db, where, parent["key"]) == ["job.suspended", "job.resumed"]
    given = in_transaction(database_url, lambda conn: triggers_domain.resume_data(conn, [parent["id"]]))
    assert given[parent["id"]]["values"] == {
        "i-1": {"key": child["key"], "state": "Successful", "output": {"answer": 42}, "info": None}
    }
    assert given[parent["id"]]["state"] == b"state"


def test_a_resumed_job_is_dispatched_again_keeping_its_start(db: Engine, database_url: str) -> None:
    """ResumeOnSameContext: back to its own robot; the claim moves Resumed → Running, start time kept;
    a claim not acknowledged goes back to Resumed, not Pending."""
    where = seed(db)
    with db.begin() as conn:
        conn.execute(insert(folder_robots).values(folder_id=where.folder_id, robot_id=where.robot_id))
    add_session(db, where, RobotState.Available)
    job = add_job(db, where, S.Running)
    started = utcnow() - dt.timedelta(minutes=5)
    with db.begin() as conn:
        conn.execute(
            update(jobs).where(jobs.c.id == job["id"]).values(resume_on_same_context=True, start_time=started)
        )
    job = job_row(db, job["id"])
    later = (utcnow() + dt.timedelta(hours=1)).isoformat()
    _suspend(database_url, where, job, {"interruptId": "t", "triggerType": "Timer", "resumeTime": later})
    assert in_transaction(database_url, triggers_domain.timers_due) is False  # job-timers' probe
    assert in_transaction(database_url, lambda conn: triggers_domain.fire_due_timers(conn)) == 0
    with db.begin() as conn:
        conn.execute(update(job_triggers).values(timer=utcnow() - dt.timedelta(seconds=1)))
    assert in_transaction(database_url, triggers_domain.timers_due) is True
    assert in_transaction(database_url, lambda conn: triggers_domain.fire_due_timers(conn)) == 1
    assert in_transaction(database_url, triggers_domain.timers_due) is False  # fired: nothing left due
    assert job_row(db, job["id"])["robot_id"] == where.robot_id  # the same robot, so the same machine

    [claimed] = in_transaction(
        database_url, lambda conn: dispatch.claim_for_robot(conn, where.tenant_id, where.robot_id, "agent-1")
    )
    assert claimed["id"] == job["id"] and claimed["state"] == int(S.Running)
    assert abs((job_row(db, job["id"])["start_time"] - started).total_seconds()) < 1
    with db.begin() as conn:
        conn.execute(update(job_claims).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert in_transaction(database_url, claims_domain.withdraw_expired) == 1
    withdrawn = job_row(db, job["id"])
    assert withdrawn["state"] == int(S.Resumed) and withdrawn["start_time"] is not None


def _task(db: Engine, where: Seed, status: int = 1, data: str = "{}") -> dict[str, Any]:
    with db.begin() as conn:
        row = conn.execute(
            insert(tasks)
            .values(
                tenant_id=where.tenant_id,
                folder_id=where.folder_id,
                key=str(uuid.uuid4()),
                title="Approve",
                type=1,
                status=status,
                is_completed=status == 2,
                data=data,
                creation_time=utcnow(),
            )
            .returning(*tasks.c)
        )
        return dict(row.mappings().one())


def test_a_task_completion_resumes_its_waiting_job(db: Engine, database_url: str) -> None:
    where = seed(db)
    job, task = add_job(db, where, S.Running), _task(db, where)
    wait = {"interruptId": "task", "triggerType": "Task", "itemKey": task["key"].upper()}
    _suspend(database_url, where, job, wait)
    [trigger] = _triggers(db, job["id"])
    assert (trigger["item_id"], trigger["item_name"]) == (task["id"], "Approve")
    with db.connect() as conn:
        assert (
            conn.execute(select(tasks.c.wait_job_key).where(tasks.c.id == task["id"])).scalar() == job["key"]
        )
    tid = task["id"]
    in_transaction(
        database_url, lambda conn: triggers_domain.task_completed(conn, where.tenant_id + 1, tid, {})
    )
    assert job_row(db, job["id"])["state"] == int(S.Suspended)  # not this tenant's task
    in_transaction(
        database_url, lambda conn: triggers_domain.task_completed(conn, where.tenant_id, tid, {"ok": 1})
    )
    assert job_row(db, job["id"])["state"] == int(S.Resumed)
    given = in_transaction(database_url, lambda conn: triggers_domain.resume_data(conn, [job["id"]]))
    assert given[job["id"]] == {"values": {"task": {"ok": 1}}, "state": None}
    in_transaction(
        database_url, lambda conn: triggers_domain.task_completed(conn, where.tenant_id, tid, {"x": 1})
    )
    assert orjson.loads(_triggers(db, job["id"])[0]["payload"]) == {"ok": 1}  # fired once


def test_the_jobs_waiting_for_one_task_resume_together_each_once(db: Engine, database_url: str) -> None:
    """One UPDATE resumes them all (``job_states.resume_suspended``): the one with ResumeOnSameContext
    keeps its robot, the other goes to any robot; each gets the next ResumeVersion and one event."""
    where = seed(db)
    task = _task(db, where)
    same, other = add_job(db, where, S.Running), add_job(db, where, S.Running)
    with db.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == same["id"]).values(resume_on_same_context=True))
    wait = {"interruptId": "task", "triggerType": "Task", "itemKey": task["key"]}
    for job in (same, other):
        _suspend(database_url, where, job_row(db, job["id"]), wait)
    tid = task["id"]
    for _ in range(2):  # the second completion finds nothing left to fire
        in_transaction(
            database_url, lambda conn: triggers_domain.task_completed(conn, where.tenant_id, tid, {"ok": 1})
        )
    kept, released = job_row(db, same["id"]), job_row(db, other["id"])
    assert (kept["state"], kept["robot_id"], kept["resume_version"]) == (int(S.Resumed), where.robot_id, 1)
    assert (released["state"], released["robot_id"], released["resume_version"]) == (int(S.Resumed), None, 1)
    assert kept["resume_time"] is not None and released["resume_time"] is not None
    for job in (same, other):
        assert event_types(db, where, job["key"]) == ["job.suspended", "job.resumed"]


def test_a_wait_already_met_resumes_at_once(db: Engine, database_url: str) -> None:
    where = seed(db)
    ended = add_job(db, where, S.Faulted)
    job = add_job(db, where, S.Running)
    assert _suspend(database_url, where, job, {"triggerType": "Job", "itemKey": ended["key"]}) is S.Resumed
    given = in_transaction(database_url, lambda conn: triggers_domain.resume_data(conn, [job["id"]]))
    [outcome] = given[job["id"]]["values"].values()
    assert (outcome["key"], outcome["state"], outcome["output"]) == (ended["key"], "Faulted", None)
    past = add_job(db, where, S.Running)
    earlier = (utcnow() - dt.timedelta(minutes=1)).isoformat()
    assert _suspend(database_url, where, past, {"triggerType": "Timer", "resumeTime": earlier}) is S.Resumed
    done, waiting = _task(db, where, status=2, data='{"Action": "approve"}'), add_job(db, where, S.Running)
    assert _suspend(database_url, where, waiting, {"triggerType": "Task", "itemId": done["id"]}) is S.Resumed
    given = in_transaction(database_url, lambda conn: triggers_domain.resume_data(conn, [waiting["id"]]))
    assert list(given[waiting["id"]]["values"].values()) == [{"Action": "approve"}]


def test_a_payload_delivered_to_the_inbox_resumes_the_job(db: Engine, database_url: str) -> None:
    where = seed(db)
    job = add_job(db, where, S.Running)
    api = {"interruptId": "api", "triggerType": "Api", "apiResume": {"inboxId": "ABC-1", "request": {"q": 1}}}
    _suspend(database_url, where, job, api)
    [trigger] = _triggers(db, job["id"])
    assert (trigger["trigger_type"], trigger["item_key"], trigger["trigger_message"]) == (
        5,
        "abc-1",
        '{"q":1}',
    )

    async def deliver(conn: Any, inbox_id: str, body: str) -> None:
        found = await triggers_domain.inbox(conn, where.tenant_id, inbox_id)
        await triggers_domain.deliver_payload(conn, found, body)

    with pytest.raises(PodiumError) as unknown:
        in_transaction(database_url, lambda conn: deliver(conn, "nope", "{}"))
    assert unknown.value.status == 404
    in_transaction(database_url, lambda conn: deliver(conn, "abc-1", '{"payload": 5}'))
    assert job_row(db, job["id"])["state"] == int(S.Resumed)
    with pytest.raises(PodiumError) as again:
        in_transaction(database_url, lambda conn: deliver(conn, "ABC-1", '{"payload": 6}'))
    assert again.value.status == 409 and _triggers(db, job["id"])[0]["payload"] == '{"payload": 5}'


@pytest.mark.parametrize(
    "waits",
    [
        [],
        [{"triggerType": "DeepRag", "itemKey": "x"}],
        [{"triggerType": "Job"}],
        [{"triggerType": "Job", "itemKey": "00000000-0000-0000-0000-000000000000"}],
        [{"triggerType": "Timer"}],
        [{"triggerType": "Timer", "resumeTime": "soon"}],
        [{"triggerType": "Api", "apiResume": {}}],
        [{"triggerType": "Task", "itemId": "x"}],
    ],
    ids=[
        "none",
        "unknown-type",
        "job-unnamed",
        "job-unknown",
        "timer-no-time",
        "timer-bad",
        "api-no-inbox",
        "task-id",
    ],
)
def test_bad_waits_change_nothing(db: Engine, database_url: str, waits: list[dict[str, Any]]) -> None:
    where = seed(db)
    job = add_job(db, where, S.Running)
    with pytest.raises(PodiumError) as refused:
        _suspend(database_url, where, job, *waits)
    assert refused.value.status in (400, 404)
    assert job_row(db, job["id"])["state"] == int(S.Running) and _triggers(db, job["id"]) == []


def test_only_a_suspended_job_is_resumed_by_hand(db: Engine, database_url: str) -> None:
    where = seed(db)
    for state in (S.Running, S.Pending, S.Resumed, S.Successful):
        job = add_job(db, where, state)
        with pytest.raises(PodiumError) as refused:
            in_transaction(database_url, lambda conn, job=job: jobs_domain.resume_job(conn, job))
        assert refused.value.status == 400 and job_row(db, job["id"])["state"] == int(state)
    job = add_job(db, where, S.Suspended)
    in_transaction(database_url, lambda conn: jobs_domain.resume_job(conn, job))
    assert job_row(db, job["id"])["state"] == int(S.Resumed)
