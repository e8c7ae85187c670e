"""Jobs that wait: a job whose process asks to wait ends its run Suspended (its robot is free), with
one trigger row per thing it waits for; when one of them is met the trigger is Fired and the job
becomes Resumed, to be dispatched again like a Pending job (to the same robot, so the same machine,
when ``ResumeOnSameContext``).

What a job waits for is reported by its robot in the ``uipath`` runtime's own shape (the
``resumeTriggers`` of ``__uipath/output.json``, which ``podium.runtime`` writes too)::

    {"interruptId", "triggerType": "Task"|"Job"|"Timer"|"Api"|"Inbox", "itemKey", "folderPath",
     "folderKey", "resumeTime", "apiResume": {"inboxId", "request"}, "integrationResume": {"inboxId"}}

and met by: a task's completion (:func:`task_completed`, called by the tasks area in its own
transaction), another job's end (:func:`job_ended`, called by the job state machine for every final
state), a time (:func:`fire_due_timers`, the ``job-timers`` service) or a payload delivered to the
trigger's inbox (:func:`deliver_payload`). Everything here runs in the caller's transaction.

Only the triggers of the job's latest suspension count: a new suspension replaces the rows of the one
before (a runtime re-reports the waits it still has), so a trigger fires at most once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.db.schema import jobs, users
from podium.db.schema_job_triggers import job_runtime_states, job_triggers
from podium.db.schema_tasks import tasks
from podium.db.types import utcnow
from podium.domain.enums import JobState, JobTriggerStatus, JobTriggerType
from podium.domain.folders import with_folder_path
from podium.domain.job_states import FINAL, resume_suspended, transition
from podium.domain.task_enums import TaskStatus
from podium.errors import ErrorCode, PodiumError, bad_request, not_found

NONE, JOB, TASK, TIMER, INBOX = (
    int(JobTriggerType[name]) for name in ("None", "Job", "Task", "Timer", "Inbox")
)
NEW, FIRED = int(JobTriggerStatus.New), int(JobTriggerStatus.Fired)
# The runtime's trigger types (uipath.core.triggers.UiPathResumeTriggerType) → Orchestrator's JobTriggerType
KINDS = {"task": TASK, "job": JOB, "timer": TIMER, "api": INBOX, "inbox": INBOX}
MAX_TRIGGERS = 100
MAX_STATE_BYTES = 8 * 1024 * 1024
TIMER_BATCH = 500


@dataclass(frozen=True)
class Wait:
    """One reported wait, checked."""

    kind: int  # JobTriggerType
    interrupt_id: str | None
    item_id: int | None = None
    item_key: str | None = None
    folder_path: str | None = None
    timer: dt.datetime | None = None
    inbox_id: str | None = None
    message: str | None = None


def _text(value: Any, name: str, max_length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool) or len(str(value)) > max_length:
        raise bad_request(f"{name} must be a text of at most {max_length} characters.")
    return str(value)


def _time(value: Any, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{name} must be an ISO 8601 date and time.") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def parse_waits(value: Any) -> list[Wait]:
    """The ``resumeTriggers`` of a Suspended report; 400 for anything Podium could never fire."""
    if not isinstance(value, list) or not value or len(value) > MAX_TRIGGERS:
        raise bad_request(f"resumeTriggers must list 1 to {MAX_TRIGGERS} triggers.")
    waits = []
    for number, raw in enumerate(value):
        name = f"resumeTriggers[{number}]"
        if not isinstance(raw, Mapping):
            raise bad_request(f"{name} must be a JSON object.")
        kind = KINDS.get(str(raw.get("triggerType", "Api")).lower())
        if kind is None:
            raise bad_request(
                f"{name}.triggerType {raw.get('triggerType')!r} is not one Podium resumes "
                "(Task, Job, Timer, Api, Inbox)."
            )
        interrupt = _text(raw.get("interruptId"), f"{name}.interruptId", 128)
        folder = _text(raw.get("folderPath"), f"{name}.folderPath", 512)
        message = (
            raw.get("apiResume", {}).get("request") if isinstance(raw.get("apiResume"), Mapping) else None
        )
        if kind in (TASK, JOB):
            key = _text(raw.get("itemKey"), f"{name}.itemKey", 64)
            item_id = None if raw.get("itemId") is None else inputs.entity_id(raw["itemId"], f"{name}.itemId")
            if not key and item_id is None:
                what = "task" if kind == TASK else "job"
                raise bad_request(f"{name}.itemKey (or itemId) names the {what} to wait for.")
            waits.append(Wait(kind, interrupt, item_id, key.lower() if key else None, folder_path=folder))
        elif kind == TIMER:
            if raw.get("resumeTime") is None:
                raise bad_request(f"{name}.resumeTime is required for a Timer trigger.")
            waits.append(Wait(kind, interrupt, timer=_time(raw["resumeTime"], f"{name}.resumeTime")))
        else:
            resume = raw.get("apiResume") or raw.get("integrationResume")
            inbox = _text(
                resume.get("inboxId") if isinstance(resume, Mapping) else None, f"{name}.inboxId", 64
            )
            if not inbox:
                raise bad_request(f"{name} needs apiResume.inboxId.")
            text = None if message is None else orjson.dumps(message).decode()
            waits.append(Wait(kind, interrupt, inbox_id=inbox.lower(), message=text))
    return waits


async def suspend(
    conn: AsyncConnection,
    job: Mapping[str, Any],
    waits: Sequence[Wait],
    state: bytes | None = None,
    info: str | None = None,
) -> JobState:
    """Running → Suspended with ``waits``; the runtime ``state`` (a tar.gz of its state folder) is kept
    for the resumed run. A wait already met (a job that has ended, a time that has passed) resumes
    the job at once. Answers the job's state afterwards (Suspended or Resumed)."""
    if state is not None and len(state) > MAX_STATE_BYTES:
        raise bad_request(f"runtimeState is larger than {MAX_STATE_BYTES} bytes.")
    version = int(job["resume_version"] or 0)
    rows = [await _row(conn, job, wait, version) for wait in waits]
    changes: dict[str, Any] = {"persistence_id": job["persistence_id"] or str(uuid.uuid4())}
    if info is not None:
        changes["info"] = info
    suspended = await transition(conn, job, JobState.Suspended, **changes)
    await conn.execute(delete(job_triggers).where(job_triggers.c.job_id == job["id"]))
    inserted = (await conn.execute(insert(job_triggers).returning(*job_triggers.c), rows)).mappings().all()
    await conn.execute(delete(job_runtime_states).where(job_runtime_states.c.job_id == job["id"]))
    if state is not None:
        await conn.execute(
            insert(job_runtime_states).values(
                job_id=job["id"],
                tenant_id=job["tenant_id"],
                resume_version=version,
                data=state,
                modified_time=utcnow(),
            )
        )
    met = [row for row in inserted if row["status"] == FIRED]
    if met:
        await _resume(conn, [suspended["id"]])
        return JobState.Resumed
    return JobState.Suspended


async def _row(conn: AsyncConnection, job: Mapping[str, Any], wait: Wait, version: int) -> dict[str, Any]:
    """The trigger row of ``wait``: the job it waits for is found (and may have ended already)."""
    now = utcnow()
    row: dict[str, Any] = {
        "tenant_id": job["tenant_id"],
        "job_id": job["id"],
        "folder_id": job["folder_id"],
        "trigger_type": wait.kind,
        "status": NEW,
        "resume_version": version,
        "interrupt_id": wait.interrupt_id,
        "item_id": wait.item_id,
        "item_key": wait.item_key or wait.inbox_id,  # the SDK's jobs.resume reads an inbox as ItemKey
        "item_name": None,
        "item_folder_path": wait.folder_path,
        "timer": wait.timer,
        "inbox_id": wait.inbox_id,
        "trigger_message": wait.message,
        "payload": None,
        "creation_time": now,
        "modified_time": now,
    }
    if wait.kind == JOB:
        named = jobs.c.key == wait.item_key if wait.item_key else jobs.c.id == wait.item_id
        columns = (jobs.c.id, jobs.c.key, jobs.c.state, jobs.c.release_name, jobs.c.output_arguments)
        query = select(*columns, jobs.c.info).where(named, jobs.c.tenant_id == job["tenant_id"])
        other = (await conn.execute(query)).mappings().first()
        if other is None:
            raise not_found(f"The job {wait.item_key or wait.item_id} to wait for does not exist.")
        if other["id"] == job["id"]:
            raise bad_request("A job cannot wait for itself.")
        row.update(item_id=other["id"], item_key=other["key"], item_name=other["release_name"])
        if JobState(other["state"]) in FINAL:
            row.update(status=FIRED, payload=_job_outcome(other))
    elif wait.kind == TASK:
        await _task_row(conn, job, wait, row)
    elif wait.kind == TIMER and wait.timer is not None and wait.timer <= now:
        row.update(status=FIRED, payload=_timer_payload(wait.timer))
    return row


async def _task_row(conn: AsyncConnection, job: Mapping[str, Any], wait: Wait, row: dict[str, Any]) -> None:
    """A wait for a task: the task (by key, as the ``uipath`` runtime names it, or by id) notes the job
    waiting for it (``waitJobKey``); a task completed already fires at once with its data."""
    named = func.lower(tasks.c.key) == wait.item_key if wait.item_key else tasks.c.id == wait.item_id
    query = select(tasks.c.id, tasks.c.key, tasks.c.title, tasks.c.status, tasks.c.data).where(
        named, tasks.c.tenant_id == job["tenant_id"]
    )
    task = (await conn.execute(query)).mappings().first()
    if task is None:
        raise not_found(f"The task {wait.item_key or wait.item_id} to wait for does not exist.")
    row.update(item_id=task["id"], item_key=task["key"], item_name=task["title"])
    await conn.execute(update(tasks).where(tasks.c.id == task["id"]).values(wait_job_key=job["key"]))
    if task["status"] == int(TaskStatus.Completed):
        row.update(status=FIRED, payload=task["data"] or "{}")


def _job_outcome(job: Mapping[Any, Any]) -> str:
    """What a wait on ``job`` receives; its key too (``invoke_process`` knows only the release name)."""
    output = job["output_arguments"]
    return orjson.dumps(
        {
            "key": str(job["key"]),
            "state": JobState(job["state"]).name,
            "output": orjson.loads(output) if output else None,
            "info": job["info"],
        }
    ).decode()


def _timer_payload(moment: dt.datetime) -> str:
    return orjson.dumps({"resumeTime": moment.isoformat()}).decode()


async def _fire(conn: AsyncConnection, condition: ColumnElement[bool], payload: str | None) -> None:
    """Marks the triggers ``condition`` selects Fired (each only if still New) and resumes their
    Suspended jobs: on PostgreSQL in ONE statement (the triggers' UPDATE a CTE of the jobs' one), on
    SQLite in two; the jobs' events, revocations and wake-ups aside."""
    firing = (
        update(job_triggers)
        .where(condition, job_triggers.c.status == NEW)
        .values(status=FIRED, payload=payload, modified_time=utcnow())
        .returning(job_triggers.c.job_id)
    )
    if conn.dialect.name == "postgresql":
        fired = firing.cte("fired")
        await resume_suspended(conn, jobs.c.id.in_(select(fired.c.job_id)))
        return
    job_ids = (await conn.execute(firing)).scalars().all()
    if job_ids:
        await _resume(conn, sorted(set(job_ids)))


async def _resume(conn: AsyncConnection, job_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Suspended → Resumed (``job_states.resume_suspended``): back to dispatch, for its own robot when
    ResumeOnSameContext, else for any robot that may run it; the robots are woken."""
    only = job_ids[0] if len(job_ids) == 1 else None
    return await resume_suspended(conn, jobs.c.id == only if only is not None else jobs.c.id.in_(job_ids))


async def resume_now(conn: AsyncConnection, job: Mapping[str, Any]) -> dict[str, Any]:
    """ResumeJob: a Suspended job resumes without its condition (its process reads what there is)."""
    if JobState(job["state"]) is not JobState.Suspended:
        raise PodiumError(
            f"Only a suspended job can be resumed; the job is {JobState(job['state']).name}.",
            status=400,
            code=ErrorCode.INVALID_JOB_STATE,
        )
    resumed = await _resume(conn, [job["id"]])
    if not resumed:
        raise PodiumError(
            "The job changed meanwhile; try again.", status=409, code=ErrorCode.INVALID_JOB_STATE
        )
    return resumed[0]


def _waiting(kind: int, item_id: int) -> ColumnElement[bool]:
    return and_(job_triggers.c.trigger_type == kind, job_triggers.c.item_id == item_id)


async def task_completed(conn: AsyncConnection, tenant_id: int, task_id: int, data: dict[str, Any]) -> None:
    """The task ``task_id`` was completed with ``data``: the jobs waiting for it resume (in the caller's
    transaction; nothing happens when no job waits for it)."""
    condition = and_(_waiting(TASK, task_id), job_triggers.c.tenant_id == tenant_id)
    await _fire(conn, condition, orjson.dumps(data).decode())


async def job_ended(conn: AsyncConnection, job: Mapping[str, Any]) -> None:
    """``job`` reached a final state: the jobs waiting for it resume with its outcome (one UPDATE,
    which finds nothing when no job waits for it: as cheap as looking)."""
    await _fire(conn, _waiting(JOB, job["id"]), _job_outcome(job))


def _due_timers() -> ColumnElement[bool]:
    return and_(
        job_triggers.c.status == NEW,
        job_triggers.c.timer <= utcnow(),
        job_triggers.c.trigger_type == TIMER,
    )


async def timers_due(conn: AsyncConnection) -> bool:
    """Whether a Timer trigger's time has come (the ``job-timers`` service looks before it writes)."""
    return (await conn.execute(select(job_triggers.c.id).where(_due_timers()).limit(1))).first() is not None


async def fire_due_timers(conn: AsyncConnection, limit: int = TIMER_BATCH) -> int:
    """Fires the Timer triggers whose time has come (oldest first); answers how many fired."""
    query = select(job_triggers).where(_due_timers()).order_by(job_triggers.c.timer).limit(limit)
    due = (await conn.execute(query)).mappings().all()
    for row in due:
        await _fire(conn, job_triggers.c.id == row["id"], _timer_payload(row["timer"]))
    return len(due)


async def inbox(conn: AsyncConnection, tenant_id: int, inbox_id: str) -> dict[str, Any]:
    """The trigger of inbox ``inbox_id`` with its job's folder path (the caller checks permissions)."""
    row = (
        (
            await conn.execute(
                with_folder_path(job_triggers).where(
                    job_triggers.c.tenant_id == tenant_id,
                    job_triggers.c.inbox_id == inbox_id.lower(),
                    job_triggers.c.trigger_type == INBOX,
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found(f"No job waits on inbox {inbox_id}.")
    return dict(row)


async def deliver_payload(conn: AsyncConnection, trigger: Mapping[str, Any], body: str) -> None:
    """A payload for the inbox of ``trigger`` (from :func:`inbox`): its job resumes. 409 when the
    inbox already received one or its job no longer waits (nothing changes)."""
    if trigger["status"] == FIRED:
        raise PodiumError(
            "This inbox already received its payload.", status=409, code=ErrorCode.INVALID_JOB_STATE
        )
    state = (await conn.execute(select(jobs.c.state).where(jobs.c.id == trigger["job_id"]))).scalar_one()
    if JobState(state) is not JobState.Suspended:
        raise PodiumError(
            f"The job waiting on this inbox is {JobState(state).name}, not Suspended.",
            status=409,
            code=ErrorCode.INVALID_JOB_STATE,
        )
    await _fire(conn, job_triggers.c.id == trigger["id"], body)


async def resume_data(conn: AsyncConnection, job_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """For resumed jobs being handed to a robot: what fired (``{interruptId: value}``) and the runtime
    state their process left (bytes or None), by job id."""
    if not job_ids:
        return {}
    found: dict[int, dict[str, Any]] = {job_id: {"values": {}, "state": None} for job_id in job_ids}
    rows = await conn.execute(
        select(job_triggers.c.job_id, job_triggers.c.interrupt_id, job_triggers.c.id, job_triggers.c.payload)
        .where(job_triggers.c.job_id.in_(list(job_ids)), job_triggers.c.status == FIRED)
        .order_by(job_triggers.c.id)
    )
    for job_id, interrupt_id, trigger_id, payload in rows:
        found[job_id]["values"][interrupt_id or str(trigger_id)] = (
            orjson.loads(payload) if payload is not None else None
        )
    states = await conn.execute(
        select(job_runtime_states.c.job_id, job_runtime_states.c.data).where(
            job_runtime_states.c.job_id.in_(list(job_ids))
        )
    )
    for job_id, data in states:
        found[job_id]["state"] = bytes(data)
    return found


async def job_folder_path(conn: AsyncConnection, tenant_id: int, job_id: int) -> str:
    """The folder path of the tenant's job ``job_id`` (the caller checks permissions); 404 if none."""
    query = with_folder_path(jobs).where(jobs.c.id == job_id, jobs.c.tenant_id == tenant_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found("Job does not exist.")
    return str(row["folder_path"])


async def with_wait_events(conn: AsyncConnection, job_id: int) -> list[dict[str, Any]]:
    """The job's triggers, each with the waited-for task's assignee (``assignee_*``) when a task."""
    assignee = users.alias("assignee")
    query = (
        select(
            job_triggers,
            tasks.c.assigned_to_user_id,
            assignee.c.name.label("assignee_name"),
            assignee.c.surname.label("assignee_surname"),
            assignee.c.user_name.label("assignee_user_name"),
            assignee.c.email_address.label("assignee_email"),
        )
        .outerjoin(tasks, and_(job_triggers.c.trigger_type == TASK, tasks.c.id == job_triggers.c.item_id))
        .outerjoin(assignee, assignee.c.id == tasks.c.assigned_to_user_id)
        .where(job_triggers.c.job_id == job_id)
        .order_by(job_triggers.c.id)
    )
    return [dict(row) for row in (await conn.execute(query)).mappings()]


def payload_text(body: Any) -> str:
    """A delivered payload as stored and answered back: the body as sent (the SDK sends
    ``{"payload": …}`` and reads ``payload`` of the answer)."""
    return orjson.dumps(body).decode()


async def save_external(
    conn: AsyncConnection, tenant_id: int, job_id: int, kind: str, external_id: str
) -> int:
    """SaveExternalTrigger: a wait on a service outside Podium, noted for the job (TriggerType None);
    Podium never fires it."""
    job = (
        await conn.execute(select(jobs.c.folder_id, jobs.c.resume_version).where(jobs.c.id == job_id))
    ).first()
    if job is None:
        raise not_found("Job does not exist.")
    now = utcnow()
    row = {
        "tenant_id": tenant_id,
        "job_id": job_id,
        "folder_id": job.folder_id,
        "trigger_type": NONE,
        "status": NEW,
        "resume_version": int(job.resume_version or 0),
        "item_key": external_id,
        "trigger_message": kind,
        "creation_time": now,
        "modified_time": now,
    }
    return int(
        (await conn.execute(insert(job_triggers).values(**row).returning(job_triggers.c.id))).scalar_one()
    )
