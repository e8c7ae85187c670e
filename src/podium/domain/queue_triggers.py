"""Queue triggers: a trigger with a QueueDefinitionId starts jobs as its queue fills.

With ``k`` of its jobs Pending or Running, job ``k+1`` is started while the queue's New items (deferred
ones not counted) reach ``ItemsActivationThreshold + k x ItemsPerJobActivationTarget``, and never more
than ``MaxJobsForActivation`` jobs at once (Pending and Running together). Orchestrator's formula counts
running jobs; Podium counts the jobs it started that have not ended (Pending too), so that an evaluation
right after another does not start the same job twice (docs/decisions.md).

Evaluated when items are added (in the adding transaction), when a job of the trigger ends (with
ActivateOnJobComplete), on Activate, and by the periodic re-check of the ``queue-triggers`` service
(30 s). The trigger's row is locked while it is evaluated (PostgreSQL ``FOR UPDATE``; SQLite writers
take turns), so two concurrent evaluations never start more jobs than the formula allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs
from podium.db.schema_process_schedules import process_schedules
from podium.db.schema_queues import queue_items
from podium.db.types import utcnow
from podium.domain.enums import JobState
from podium.domain.queue_enums import QueueItemStatus
from podium.domain.schedule_firing import QUEUE_SOURCE, launch

ACTIVE = (JobState.Pending, JobState.Running, JobState.Stopping, JobState.Terminating, JobState.Resumed)


def wanted_jobs(new_items: int, threshold: int, per_job: int, maximum: int) -> int:
    """How many jobs the queue warrants: job k+1 while new >= threshold + k x per_job, at most
    ``maximum``."""
    threshold = max(threshold, 1)
    if new_items < threshold or maximum <= 0:
        return 0
    if per_job <= 0:
        return maximum
    return min(maximum, 1 + (new_items - threshold) // per_job)


async def new_items(conn: AsyncConnection, queue_id: int, now: dt.datetime) -> int:
    count: int = (
        await conn.execute(
            select(func.count())
            .select_from(queue_items)
            .where(
                queue_items.c.queue_definition_id == queue_id,
                queue_items.c.status == int(QueueItemStatus.New),
                or_(queue_items.c.defer_date.is_(None), queue_items.c.defer_date <= now),
            )
        )
    ).scalar_one()
    return count


async def active_jobs(conn: AsyncConnection, trigger: Mapping[str, Any]) -> int:
    count: int = (
        await conn.execute(
            select(func.count())
            .select_from(jobs)
            .where(
                jobs.c.tenant_id == trigger["tenant_id"],
                jobs.c.starting_schedule_id == trigger["id"],
                jobs.c.state.in_([int(s) for s in ACTIVE]),
            )
        )
    ).scalar_one()
    return count


async def evaluate(conn: AsyncConnection, schedule_id: int, now: dt.datetime | None = None) -> list[int]:
    """Starts the jobs the trigger's queue warrants now; the new jobs' ids."""
    query = select(process_schedules).where(process_schedules.c.id == schedule_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    found = (await conn.execute(query)).mappings().first()
    row = dict(found) if found is not None else None
    if row is None or not row["enabled"] or row["queue_definition_id"] is None:
        return []
    moment = now or utcnow()
    wanted = wanted_jobs(
        await new_items(conn, row["queue_definition_id"], moment),
        row["items_activation_threshold"] or 1,
        row["items_per_job_activation_target"] or 1,
        row["max_jobs_for_activation"] if row["max_jobs_for_activation"] is not None else 1,
    )
    missing = wanted - await active_jobs(conn, row) if wanted else 0
    if missing <= 0:
        return []
    started = await launch(conn, row, moment, source_type=QUEUE_SOURCE, count=missing, check_pending=False)
    return started.job_ids


async def items_added(conn: AsyncConnection, queue: Mapping[str, Any]) -> None:
    """Called in the transaction that added items to ``queue`` (a queue_definitions row)."""
    schedule_id = queue.get("process_schedule_id")
    if schedule_id is not None:
        await evaluate(conn, schedule_id)


async def job_ended(conn: AsyncConnection, job: Mapping[str, Any]) -> None:
    """Called in the transaction that ended a job: a job a queue trigger started frees a place."""
    if job.get("starting_schedule_id") is None or job.get("source_type") != QUEUE_SOURCE:
        return
    flag = (
        await conn.execute(
            select(process_schedules.c.activate_on_job_complete).where(
                process_schedules.c.id == job["starting_schedule_id"]
            )
        )
    ).scalar()
    if flag:
        await evaluate(conn, job["starting_schedule_id"])


async def queue_trigger_ids(conn: AsyncConnection) -> list[int]:
    rows = await conn.execute(
        select(process_schedules.c.id)
        .where(process_schedules.c.enabled.is_(True), process_schedules.c.queue_definition_id.is_not(None))
        .order_by(process_schedules.c.id)
    )
    return [int(row.id) for row in rows]
