"""From the event outbox to webhook deliveries: Orchestrator's event types and payloads.

The domain records its own events in the outbox (``domain/events.py``) in the transaction of each change
(``job.running``, ``queueitem.successful``, ``task.completed``…). :func:`fan_out` reads the events not yet
dispatched, oldest first, turns each into Orchestrator's webhook event (``job.started`` with
``Job{…}``, ``queueItem.transactionCompleted`` with ``QueueItem{…}`` and ``Queue{…}``…), and writes one
delivery per enabled webhook subscribed to it, marking the events dispatched, in one transaction: an
event is handed to every subscriber exactly once, whatever crashes (on PostgreSQL the rows are taken
with ``SKIP LOCKED``, so two processes never take the same event; SQLite has one writer).

Payloads are built when the event is fanned out, typically within a second of the change: the entity
is read then, and the state the event recorded (``State``, ``Status``) is the one sent, so a job that
already finished is still announced as started in ``job.started``. Entities created, updated or deleted
through the generic layer (queues, robots, processes) carry their whole row in the event, so a deleted
one is still described. ``EventId`` is the outbox id as a string (Orchestrator's newer numeric ids).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import events, folders, jobs, releases, robots
from podium.db.schema_queues import queue_definitions, queue_items
from podium.db.schema_tasks import tasks
from podium.db.schema_webhooks import webhook_deliveries, webhooks
from podium.domain.enums import JobSourceType, JobState, JobType, RobotType
from podium.domain.events import heard_tenants, record
from podium.domain.queue_enums import ProcessingExceptionType, QueueItemPriority, QueueItemStatus
from podium.domain.task_enums import TaskPriority, TaskStatus, TaskType
from podium.domain.webhooks import DeliveryStatus, subscribed
from podium.odata.serialize import format_datetime

BATCH = 500

JOB_TYPES = {
    "running": "job.started",
    "successful": "job.completed",
    "faulted": "job.faulted",
    "stopping": "job.stopping",
    "terminating": "job.terminating",
    "stopped": "job.stopped",
    "suspended": "job.suspended",
    "resumed": "job.resumed",
}
ITEM_TYPES = {
    "inprogress": "queueItem.transactionStarted",
    "successful": "queueItem.transactionCompleted",
    "failed": "queueItem.transactionFailed",
    "abandoned": "queueItem.transactionAbandoned",
}
TASK_TYPES = {
    "created": "task.created",
    "assigned": "task.assignmentChanged",
    "reassigned": "task.assignmentChanged",
    "unassigned": "task.assignmentChanged",
    "forwarded": "task.forwarded",
    "saved": "task.saved",
    "completed": "task.completed",
    "deleted": "task.deleted",
}
# entity sets of the generic layer whose writes are events: (type prefix, payload list, row -> DTO)
ENTITY_SETS = {"QueueDefinitions": "queue", "Robots": "robot", "Releases": "process"}
ACTIONS = {"Create": "created", "Update": "updated", "Delete": "deleted"}


def timestamp(value: Any) -> str:
    """Orchestrator's ``Timestamp``: ISO UTC with 7 fraction digits."""
    return str(value.strftime("%Y-%m-%dT%H:%M:%S.%f")) + "0Z"


def _when(value: Any) -> str | None:
    return None if value is None else format_datetime(value)


def _name(kind: type[enum.IntEnum], value: Any) -> str | None:
    if value is None:
        return None
    try:
        return kind(value).name
    except ValueError:
        return str(value)


def _json(text: Any) -> Any:
    return None if text is None else orjson.loads(text)


# ---- the DTOs of the payloads -------------------------------------------------------------------


def queue_dto(row: Mapping[str, Any]) -> dict[str, Any]:
    """QueueDefinitionEventDto."""
    return {
        "Id": row["id"],
        "Key": row["key"],
        "Name": row["name"],
        "Description": row.get("description"),
        "MaxNumberOfRetries": row.get("max_number_of_retries"),
        "AcceptAutomaticallyRetry": row.get("accept_automatically_retry"),
        "EnforceUniqueReference": row.get("enforce_unique_reference"),
        "SlaInMinutes": row.get("sla_in_minutes"),
        "RiskSlaInMinutes": row.get("risk_sla_in_minutes"),
    }


def robot_dto(row: Mapping[str, Any]) -> dict[str, Any]:
    """WrappedRobotDto."""
    return {
        "Id": row["id"],
        "Key": row.get("key"),
        "Name": row.get("name"),
        "MachineId": row.get("machine_id"),
        "MachineName": row.get("machine_name"),
        "Description": row.get("description"),
        "UserName": row.get("username"),
        "Type": _name(RobotType, row.get("type")),
    }


def release_dto(row: Mapping[str, Any]) -> dict[str, Any]:
    """WrappedReleaseDto."""
    return {
        "Id": row["id"],
        "Key": row.get("key"),
        "ProcessKey": row.get("process_key"),
        "ProcessVersion": row.get("process_version"),
        "Name": row.get("name"),
        "Description": row.get("description"),
        "IsLatestVersion": row.get("is_latest_version"),
        "EnvironmentId": row.get("environment_id"),
        "InputArguments": _json(row.get("input_arguments")),
    }


ENTITY_DTOS = {
    "queue": ("Queues", queue_dto),
    "robot": ("Robots", robot_dto),
    "process": ("Releases", release_dto),
}


async def entity_written(
    conn: AsyncConnection, entity_set: str, action: str, row: Mapping[str, Any], user_id: int | None
) -> None:
    """The event of a create, update or delete made through the generic layer (in its transaction)."""
    prefix = ENTITY_SETS.get(entity_set)
    if prefix is None or action not in ACTIONS:
        return
    field, dto = ENTITY_DTOS[prefix]
    await record(
        conn,
        row["tenant_id"],
        f"{prefix}.{ACTIONS[action]}",
        None if row.get("key") is None else str(row["key"]),
        {field: [dto(row)], "UserId": user_id},
        row.get("folder_id"),
    )


def _job(row: Mapping[str, Any], state: str | None) -> dict[str, Any]:
    """SimpleJobEventDto, in the state the event recorded."""
    return {
        "Id": row["id"],
        "Key": row["key"],
        "Type": _name(JobType, row["type"]),
        "State": state or _name(JobState, row["state"]),
        "StartTime": _when(row["start_time"]),
        "ResumeTime": _when(row["resume_time"]),
        "EndTime": _when(row["end_time"]),
        "CreationTime": _when(row["creation_time"]),
        "Info": row["info"],
        "SpecificPriorityValue": row["specific_priority_value"],
        "RuntimeType": _name(RobotType, row["runtime_type"]),
        "SourceType": _name(JobSourceType, row["source_type"]),
        "Source": row["source"],
        "InputArguments": _json(row["input_arguments"]),
        "OutputArguments": _json(row["output_arguments"]),
        "HostMachineName": row["host_machine_name"],
        "Robot": None
        if row["robot_id"] is None
        else {
            "Id": row["robot_id"],
            "Key": row["robot_key"],
            "Name": row["robot_name"],
            "Type": _name(RobotType, row["robot_type"]),
            "MachineName": row["robot_machine_name"],
        },
        "Release": None
        if row["release_id"] is None
        else {
            "Id": row["release_id"],
            "Key": row["release_key"],
            "ProcessKey": row["process_key"],
            "Name": row["release_name"],
        },
    }


async def _job_row(conn: AsyncConnection, key: str | None) -> Mapping[str, Any] | None:
    rows = await _job_rows(conn, [key])
    return rows.get(key) if key is not None else None


async def _job_rows(conn: AsyncConnection, keys: Sequence[str | None]) -> dict[str, Mapping[str, Any]]:
    """The jobs of ``keys`` (with their robot and release), by key: one query for a batch of events."""
    wanted = sorted({key for key in keys if key is not None})
    if not wanted:
        return {}
    query = (
        select(
            jobs,
            robots.c.key.label("robot_key"),
            robots.c.name.label("robot_name"),
            robots.c.type.label("robot_type"),
            robots.c.machine_name.label("robot_machine_name"),
            releases.c.key.label("release_key"),
            releases.c.process_key,
        )
        .outerjoin(robots, robots.c.id == jobs.c.robot_id)
        .outerjoin(releases, releases.c.id == jobs.c.release_id)
        .where(jobs.c.key.in_(wanted))
    )
    return {str(row["key"]): dict(row) for row in (await conn.execute(query)).mappings()}


def _item(row: Mapping[str, Any], status: str | None, encrypted: bool) -> dict[str, Any]:
    """QueueItemSimpleEventDto, in the status the event recorded (no item data of encrypted queues)."""
    exception = _json(row["processing_exception"])
    if isinstance(exception, dict) and exception.get("Type") is None:
        exception["Type"] = _name(ProcessingExceptionType, row["processing_exception_type"])
    return {
        "Id": row["id"],
        "Key": row["key"],
        "UniqueKey": row["unique_key"],
        "Reference": row["reference"],
        "QueueDefinitionId": row["queue_definition_id"],
        "Status": status or _name(QueueItemStatus, row["status"]),
        "Priority": _name(QueueItemPriority, row["priority"]),
        "ProcessingException": exception,
        "DueDate": _when(row["due_date"]),
        "DeferDate": _when(row["defer_date"]),
        "RiskSlaDate": _when(row["risk_sla_date"]),
        "CreationTime": _when(row["creation_time"]),
        "StartProcessing": _when(row["start_processing"]),
        "EndProcessing": _when(row["end_processing"]),
        "SecondsInPreviousAttempts": row["seconds_in_previous_attempts"],
        "AncestorId": row["ancestor_id"],
        "RetryNumber": row["retry_number"],
        "SpecificContent": None if encrypted else _json(row["specific_content"]),
        "Output": None if encrypted else _json(row["output"]),
        "Progress": None if encrypted else row["progress"],
        "Robot": None if row["robot_id"] is None else {"Id": row["robot_id"]},
        "Source": row["source"],
    }


async def _queue(conn: AsyncConnection, queue_id: Any) -> Mapping[str, Any] | None:
    query = select(queue_definitions).where(queue_definitions.c.id == queue_id)
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else dict(row)


async def _items(conn: AsyncConnection, ids: Sequence[Any]) -> list[Mapping[str, Any]]:
    rows = await conn.execute(
        select(queue_items).where(queue_items.c.id.in_(list(ids))).order_by(queue_items.c.id)
    )
    return [dict(row) for row in rows.mappings()]


def _task(row: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Id": row["id"],
        "Title": row["title"],
        "Type": _name(TaskType, row["type"]),
        "Priority": _name(TaskPriority, row["priority"]),
        "Status": payload.get("Status") or _name(TaskStatus, row["status"]),
        "CreationTime": _when(row["creation_time"]),
        "TaskCatalogName": row["task_catalog_name"],
        "OrganizationUnitId": row["folder_id"],
        "AssignedToUserId": payload.get("AssignedToUserId", row["assigned_to_user_id"]),
    }


# ---- outbox event -> webhook event ----------------------------------------------------------------


def webhook_type(internal: str) -> str | None:
    """The webhook event type of an outbox event type, or None when webhooks have no such event."""
    group, _, what = internal.partition(".")
    if group == "job":
        return "job.created" if what == "created" else JOB_TYPES.get(what)
    if group == "queueitems":
        return "queueItem.added" if what == "added" else None
    if group == "queueitem":
        return ITEM_TYPES.get(what)
    if group == "task":
        return TASK_TYPES.get(what)
    if group == "robot":
        return f"robot.{what}" if what in ("created", "updated", "deleted") else "robot.status"
    if group in ("queue", "process") and what in ("created", "updated", "deleted"):
        return internal
    if internal == "release.version_changed":
        return "process.updated"
    if internal in ("schedule.failed", "alert.raised", "custom"):
        return internal
    return None


async def body(
    conn: AsyncConnection,
    event: Mapping[str, Any],
    kind: str,
    job_rows: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """The event-specific part of the payload, or None when its entity is gone (nothing to describe).
    ``job_rows``: the jobs of a batch read beforehand (by key), else the job is read here."""
    payload: dict[str, Any] = orjson.loads(event["payload"])
    group = kind.partition(".")[0]
    if group == "job":
        if job_rows is None:
            job = await _job_row(conn, event["entity_key"])
        else:
            job = job_rows.get(event["entity_key"])
        if job is None:
            return None
        if kind == "job.created":
            start = {
                "ReleaseKey": job["release_key"],
                "Strategy": "ModernJobsCount",
                "RobotIds": [] if job["robot_id"] is None else [job["robot_id"]],
                "JobsCount": 1,
                "Source": job["source"],
            }
            return {"StartInfo": start, "Jobs": [_job(job, "Pending")]}
        dto = _job(job, payload.get("State"))
        return {"Jobs": [dto]} if kind == "job.stopped" else {"Job": dto}
    if group == "queueItem":
        queue = await _queue(conn, payload.get("QueueDefinitionId"))
        if queue is None:
            return None
        encrypted = bool(queue["encrypted"])
        if kind == "queueItem.added":
            rows = await _items(conn, payload.get("QueueItemIds") or [])
            return {"Queue": queue_dto(queue), "QueueItems": [_item(r, None, encrypted) for r in rows]}
        rows = await _items(conn, [payload.get("QueueItemId")])
        if not rows:
            return None
        item = _item(rows[0], payload.get("Status"), encrypted)
        if kind == "queueItem.transactionAbandoned":
            return {"Queue": queue_dto(queue), "QueueItems": [item]}
        return {"QueueItem": item, "Queue": queue_dto(queue)}
    if group == "task":
        row = (await conn.execute(select(tasks).where(tasks.c.key == event["entity_key"]))).mappings().first()
        if row is None:
            return None
        task = _task(dict(row), payload)
        if kind == "task.completed":
            task["Action"] = payload.get("Action")
        return {"Tasks": [task]}
    if kind == "robot.status":
        return {
            "Sessions": [
                {
                    "RobotId": payload.get("RobotId"),
                    "State": payload.get("State"),
                    "ReportingTime": timestamp(event["creation_time"]),
                    "IsUnresponsive": False,
                }
            ]
        }
    if kind == "process.updated" and event["type"] == "release.version_changed":
        row = (
            (await conn.execute(select(releases).where(releases.c.key == event["entity_key"])))
            .mappings()
            .first()
        )
        return None if row is None else {"Releases": [release_dto(dict(row))]}
    if kind == "custom":
        return {"EventData": payload.get("EventData")}
    if kind == "alert.raised":
        return {"Alert": payload}
    return {k: v for k, v in payload.items() if k != "UserId"}  # queue/robot/process rows, schedule.failed


async def _folder_keys(conn: AsyncConnection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await conn.execute(select(folders.c.id, folders.c.key).where(folders.c.id.in_(ids)))
    return {int(row.id): str(row.key) for row in rows}


def envelope(kind: str, event: Mapping[str, Any], folder_key: str | None, user_id: Any) -> dict[str, Any]:
    """The fields every event carries, in Orchestrator's order."""
    head: dict[str, Any] = {
        "Type": kind,
        "EventId": str(event["id"]),
        "EntityKey": event["entity_key"],
        "Timestamp": timestamp(event["creation_time"]),
        "EventTime": timestamp(event["creation_time"]),
        "TenantId": event["tenant_id"],
    }
    if event["folder_id"] is not None:
        head["OrganizationUnitId"] = event["folder_id"]
        head["OrganizationUnitKey"] = folder_key
    if user_id is not None:
        head["UserId"] = user_id  # omitted when a robot or a trigger caused the event
    return head


async def render(
    conn: AsyncConnection,
    event: Mapping[str, Any],
    kind: str,
    folder_key: str | None,
    job_rows: Mapping[str, Mapping[str, Any]] | None = None,
) -> bytes | None:
    """The exact body of the webhook event, or None when there is nothing to send."""
    part = await body(conn, event, kind, job_rows)
    if part is None:
        return None
    user_id = orjson.loads(event["payload"]).get("UserId")
    return orjson.dumps({**envelope(kind, event, folder_key, user_id), **part}, default=str)


async def _subscribers(
    conn: AsyncConnection, tenant_ids: set[int]
) -> dict[int, list[tuple[int, frozenset[str] | None]]]:
    rows = await conn.execute(
        select(
            webhooks.c.id, webhooks.c.tenant_id, webhooks.c.subscribe_to_all_events, webhooks.c.events
        ).where(webhooks.c.tenant_id.in_(tenant_ids), webhooks.c.enabled.is_(True))
    )
    found: dict[int, list[tuple[int, frozenset[str] | None]]] = {}
    for row in rows.mappings():
        found.setdefault(int(row["tenant_id"]), []).append((int(row["id"]), subscribed(dict(row))))
    return found


async def pending(conn: AsyncConnection) -> bool:
    """Whether any event waits (read first: most rounds find nothing, and take no write lock)."""
    query = select(events.c.id).where(events.c.dispatched.is_(False)).limit(1)
    return (await conn.execute(query)).first() is not None


async def _dispatch_unheard(conn: AsyncConnection, heard: set[int], limit: int) -> int:
    """Marks up to ``limit`` pending events of tenants outside ``heard`` dispatched, in one statement
    (nobody subscribes to them: they become no delivery, and none of their rows comes to Python).

    The outbox holds no event of a tenant without an enabled webhook (``domain/events.py``), but one
    may be left over: written just before the tenant's last webhook was disabled or deleted, or before
    that rule. An event of a tenant whose first webhook is created meanwhile is missed, as any event
    that happened before the subscription."""
    pending = events.alias("unheard")
    pick = select(pending.c.id).where(pending.c.dispatched.is_(False))
    if heard:
        pick = pick.where(pending.c.tenant_id.not_in(heard))
    pick = pick.order_by(pending.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    done = await conn.execute(update(events).where(events.c.id.in_(pick)).values(dispatched=True))
    return int(done.rowcount)


async def fan_out(conn: AsyncConnection, limit: int = BATCH) -> tuple[int, int]:
    """One batch of outbox events turned into deliveries (see the module's docstring), the events
    marked dispatched in the same transaction. Returns (events taken, deliveries written).

    The events of tenants without an enabled webhook are marked dispatched first, without being read
    (:func:`_dispatch_unheard`); a batch of the others is then read and rendered."""
    heard = await heard_tenants(conn)
    unheard = await _dispatch_unheard(conn, heard, limit)
    if not heard:
        return unheard, 0
    query = (
        select(events)
        .where(events.c.dispatched.is_(False), events.c.tenant_id.in_(heard))
        .order_by(events.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    pending = [dict(row) for row in (await conn.execute(query)).mappings()]
    if not pending:
        return unheard, 0
    subscribers = await _subscribers(conn, {int(e["tenant_id"]) for e in pending})
    folder_keys = await _folder_keys(
        conn,
        {
            int(e["folder_id"])
            for e in pending
            if e["folder_id"] is not None and e["tenant_id"] in subscribers
        },
    )
    work: list[tuple[dict[str, Any], str, list[int]]] = []  # (event, webhook type, subscribers)
    for event in pending:
        kind = webhook_type(event["type"])
        targets = [
            webhook_id
            for webhook_id, types in subscribers.get(int(event["tenant_id"]), [])
            if kind is not None and (types is None or kind in types)
        ]
        if targets and kind is not None:
            work.append((event, kind, targets))
    job_rows = await _job_rows(conn, [e["entity_key"] for e, kind, _ in work if kind.startswith("job.")])
    rows: list[dict[str, Any]] = []
    for event, kind, targets in work:
        rendered = await render(conn, event, kind, folder_keys.get(event["folder_id"]), job_rows)
        if rendered is None:
            continue
        text = rendered.decode()
        rows += [
            {
                "tenant_id": event["tenant_id"],
                "webhook_id": webhook_id,
                "event_id": str(event["id"]),
                "event_type": kind,
                "event_time": event["creation_time"],
                "body": text,
                "status": int(DeliveryStatus.Pending),
                "attempts": 0,
            }
            for webhook_id in targets
        ]
    if rows:
        await conn.execute(insert(webhook_deliveries), rows)
    await conn.execute(
        update(events).where(events.c.id.in_([e["id"] for e in pending])).values(dispatched=True)
    )
    return unheard + len(pending), len(rows)
