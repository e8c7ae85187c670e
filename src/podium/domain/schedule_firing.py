"""Firing triggers: a due time trigger's claim, its jobs, its failures, missed fires; and the launch
both kinds of trigger share (:func:`launch`).

Exactly once: a fire is claimed by the UPDATE that moves the trigger's ``next_fire_at`` from the value
read to the next occurrence (``WHERE next_fire_at = :read``), and its jobs are created in that same
transaction. Of two server processes reading one due trigger, the second's UPDATE waits for the first
(PostgreSQL row lock) and then matches no row; on SQLite writers take turns. A process killed mid-fire
rolls its transaction back: the fire is still due and another process (or this one, restarted) fires
it. Nothing is leased and every process may fire: the claim is the whole mechanism. The scheduler
claims a batch of due triggers at once (:func:`fire_batch`: their rows locked ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so two processes take different triggers instead of waiting on each other).

Missed fires (no server ran at the due time): when a due trigger is claimed, what counts is its latest
occurrence up to now. Within ``Triggers.MissedFireMaxAgeSeconds`` (1 h) of now, the trigger fires once,
however many occurrences it missed (coalesced); older, it fires nothing and goes on with its next
occurrence. Either way a miss of more than the one fire is written on the trigger (``LastMisfire``)
and recorded as a ``schedule.misfired`` event. All times come from the caller's ``now`` (tests use a
frozen one).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import BigInteger, Select, bindparam, func, literal, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db import bulk
from podium.db.schema import jobs, releases
from podium.db.schema_process_schedules import process_schedules
from podium.domain import alerts, audit_logs, calendars, events, keys, settings
from podium.domain.enums import JobPriority, JobSourceType, JobState, StartStrategy, StopStrategy
from podium.domain.job_limits import parse_time_span
from podium.domain.jobs import StartRequest, create_jobs, job_targets, start_jobs
from podium.domain.process_schedules import fire_after, occurrence_after, robot_ids
from podium.errors import PodiumError

log = logging.getLogger("podium.triggers")

BATCH = 500  # due triggers claimed per transaction; a backlog is worked off batch after batch
# what a batch reads of its triggers (the fire, its jobs, a failure): a claimed row is a third narrower
# than the whole (descriptions, cron details, queue thresholds, alerts, ... are not read)
FIRING_COLUMNS = (
    "id",
    "tenant_id",
    "folder_id",
    "key",
    "name",
    "enabled",
    "release_id",
    "job_priority",
    "specific_priority_value",
    "runtime_type",
    "start_process_cron",
    "start_strategy",
    "executor_robots",
    "machine_robots",
    "stop_process_expression",
    "stop_strategy",
    "kill_process_expression",
    "time_zone_id",
    "calendar_id",
    "stop_process_date",
    "input_arguments",
    "resume_on_same_context",
    "next_fire_at",
    "last_fire_time",
    "failed_launches",
    "failing_since",
    "last_misfire",
)
SCHEDULE_SOURCE = int(JobSourceType["Schedule"])
QUEUE_SOURCE = int(JobSourceType["Queue"])


@dataclass
class Launch:
    job_ids: list[int]
    skipped: str | None = None  # why no job was created without failing (a Pending one exists)
    failure: str | None = None  # why the launch failed


async def next_due_time(conn: AsyncConnection) -> dt.datetime | None:
    """When the next enabled trigger is due (the scheduler sleeps until then)."""
    found: dt.datetime | None = (
        await conn.execute(
            select(func.min(process_schedules.c.next_fire_at)).where(process_schedules.c.enabled.is_(True))
        )
    ).scalar()
    return found


async def fire_due(
    conn: AsyncConnection, schedule_id: int, read: dt.datetime, now: dt.datetime
) -> Launch | None:
    """Fires the trigger if it is still due at ``read`` and this transaction wins its claim; None when
    another process took it (or it changed meanwhile)."""
    query = select(process_schedules).where(
        process_schedules.c.id == schedule_id,
        process_schedules.c.next_fire_at == read,
        process_schedules.c.enabled.is_(True),
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        return None
    trigger = dict(row)
    tenant_id = trigger["tenant_id"]
    max_age = dt.timedelta(
        seconds=await settings.cached_value(conn, tenant_id, settings.TRIGGERS_MISSED_SECONDS)
    )
    # the latest occurrence up to now: the first one in (now - max_age, now], if any, proves one is recent
    recent = await fire_after(conn, tenant_id, trigger, now - max_age - dt.timedelta(microseconds=1))
    fires = recent is not None and recent <= now
    following = await fire_after(conn, tenant_id, trigger, read)
    missed = following is not None and following <= now  # more than the one occurrence went by
    # a day off added to the calendar after this fire was planned: not a fire, and not a miss either
    planned = await fire_after(conn, tenant_id, trigger, read - dt.timedelta(microseconds=1)) == read
    upcoming = await fire_after(conn, tenant_id, trigger, now)
    changes: dict[str, Any] = {"next_fire_at": upcoming}
    if fires:
        changes["last_fire_time"] = now
    if planned and (missed or not fires):
        changes["last_misfire"] = _misfire_text(read, now, fires)
    claimed = await conn.execute(
        update(process_schedules)
        .where(process_schedules.c.id == schedule_id, process_schedules.c.next_fire_at == read)
        .values(**changes)
    )
    if claimed.rowcount != 1:
        return None
    if "last_misfire" in changes:
        await events.record(
            conn,
            tenant_id,
            "schedule.misfired",
            trigger["key"],
            {"ProcessScheduleId": schedule_id, "MissedSince": read, "Fired": fires, "At": now},
            trigger["folder_id"],
        )
    if not fires:
        return Launch([], skipped="missed")
    return await launch(conn, trigger, now)


async def fire_batch(conn: AsyncConnection, now: dt.datetime, limit: int = BATCH) -> tuple[int, int, int]:
    """Claims up to ``limit`` due triggers in this transaction and fires them together; (claimed,
    handled, fired): how many were claimed, how many were dealt with (fired, skipped, failed), how many
    created jobs.

    The claim is the SELECT itself: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (another process's batch
    takes other rows, and a row it holds is skipped, not waited for), SQLite's single writer
    (``BEGIN IMMEDIATE``) elsewhere; the UPDATE that moves each ``next_fire_at`` still names the value
    read. A fire costs a dozen statements one at a time; a batch costs about as many whatever its size
    (:func:`_fire_claimed`). Oldest due first: the claim reads ``ix_process_schedules_due`` in order
    and stops at ``limit`` rows (ordered by the due time alone: a tie broken by id would sort every due
    row, all 10,000 of them when they are due together, at each batch); the batch is then worked in
    (due time, id) order.
    A trigger whose launch fails (no robots, its process gone) is counted on its own trigger as alone;
    if the batch itself fails (an unexpected error), it is rolled back to its savepoint and its triggers
    are fired one by one, each in a savepoint, so one bad trigger holds up none of the others."""
    query = (
        select(*(process_schedules.c[name] for name in FIRING_COLUMNS))
        .where(process_schedules.c.next_fire_at <= now, process_schedules.c.enabled.is_(True))
        .order_by(process_schedules.c.next_fire_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = [row._asdict() for row in await conn.execute(query)]
    claimed.sort(key=lambda trigger: (trigger["next_fire_at"], trigger["id"]))
    if not claimed:
        return 0, 0, 0
    try:
        async with conn.begin_nested():
            fired = await _fire_claimed(conn, claimed, now)
        return len(claimed), len(claimed), fired
    except Exception:
        log.exception("a batch of %d triggers failed; firing them one by one", len(claimed))
    handled = fired = 0
    for trigger in claimed:
        try:
            async with conn.begin_nested():
                launched = await fire_due(conn, trigger["id"], trigger["next_fire_at"], now)
        except Exception:  # left due, retried at the next round
            log.exception("trigger %s could not be fired", trigger["id"])
            continue
        handled += 1
        fired += launched is not None and bool(launched.job_ids)
    return len(claimed), handled, fired


class _Occurrences:
    """:func:`fire_after` for a batch: each calendar read once, and each occurrence (cron, zone,
    calendar, stop date, after) computed once however many triggers share it."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._calendars: dict[tuple[int, int], calendars.ExcludedDates] = {}
        self._found: dict[tuple[Any, ...], dt.datetime | None] = {}

    async def after(self, trigger: Mapping[str, Any], after: dt.datetime) -> dt.datetime | None:
        tenant_id, calendar_id = trigger["tenant_id"], trigger["calendar_id"]
        memo = (
            trigger["start_process_cron"],
            trigger["time_zone_id"],
            tenant_id,
            calendar_id,
            trigger["stop_process_date"],
            after,
        )
        if memo in self._found:
            return self._found[memo]
        excluded = None
        if calendar_id is not None:
            excluded = self._calendars.get((tenant_id, calendar_id))
            if excluded is None:
                excluded = await calendars.excluded_dates(self.conn, tenant_id, calendar_id)
                self._calendars[(tenant_id, calendar_id)] = excluded
        found = self._found[memo] = occurrence_after(trigger, after, excluded)
        return found


async def _fire_claimed(conn: AsyncConnection, claimed: list[dict[str, Any]], now: dt.datetime) -> int:
    """:func:`fire_due` for a batch of claimed triggers, set-based: the triggers moved on with one
    UPDATE, their jobs one INSERT, the jobs' events one more (``db/bulk.py``); the calendars, releases,
    robots and pending-job rule read once for the batch. How many created jobs."""
    occurrences = _Occurrences(conn)
    claims: list[dict[str, Any]] = []
    firing: list[dict[str, Any]] = []
    misfires: list[tuple[int, str, str | None, dict[str, Any], int | None]] = []
    tick = dt.timedelta(microseconds=1)
    max_ages: dict[int, dt.timedelta] = {}
    for trigger in claimed:
        tenant_id, read = trigger["tenant_id"], trigger["next_fire_at"]
        max_age = max_ages.get(tenant_id)
        if max_age is None:
            seconds = await settings.cached_value(conn, tenant_id, settings.TRIGGERS_MISSED_SECONDS)
            max_age = max_ages[tenant_id] = dt.timedelta(seconds=seconds)
        following = await occurrences.after(trigger, read)
        planned = await occurrences.after(trigger, read - tick) == read
        if planned and read > now - max_age and (following is None or following > now):
            # the usual case, on time: ``read`` is the one recent occurrence, nothing was missed, and
            # the next occurrence after ``read`` is the next one after ``now``
            fires, misfire, upcoming = True, None, following
        else:
            recent = await occurrences.after(trigger, now - max_age - tick)
            fires = recent is not None and recent <= now
            missed = following is not None and following <= now
            misfire = _misfire_text(read, now, fires) if planned and (missed or not fires) else None
            upcoming = await occurrences.after(trigger, now)
        claims.append(
            {
                "b_id": trigger["id"],
                "b_read": read,
                "b_next": upcoming,
                "b_last_fire": now if fires else trigger["last_fire_time"],
                "b_misfire": misfire if misfire is not None else trigger["last_misfire"],
            }
        )
        if misfire is not None:
            misfires.append(
                (
                    tenant_id,
                    "schedule.misfired",
                    trigger["key"],
                    {"ProcessScheduleId": trigger["id"], "MissedSince": read, "Fired": fires, "At": now},
                    trigger["folder_id"],
                )
            )
        if fires:
            firing.append(trigger)
    await bulk.update_rows(
        conn,
        process_schedules,
        claims,
        match={"id": "b_id", "next_fire_at": "b_read"},
        changes={"next_fire_at": "b_next", "last_fire_time": "b_last_fire", "last_misfire": "b_misfire"},
    )
    await events.record_many(conn, misfires)
    if not firing:
        return 0
    blocked, per_release = await _pending_among(conn, firing)
    release_ids = {trigger["release_id"] for trigger in firing}
    found = await conn.execute(select(releases).where(releases.c.id.in_(release_ids)))
    known = {int(row["id"]): dict(row) for row in found.mappings()}
    eligible: dict[int, list[int]] = {}  # robots of a release, read once for the batch
    starts: list[tuple[dict[str, Any], Any, list[tuple[int | None, int | None]]]] = []
    launching: list[dict[str, Any]] = []
    started: set[tuple[int, int]] = set()  # (tenant, release) launched in this batch
    batch_keys = iter(keys.new_keys(len(firing)))
    for trigger in firing:
        place = (trigger["tenant_id"], trigger["release_id"])
        if trigger["id"] in blocked or (trigger["tenant_id"] in per_release and place in started):
            log.info("trigger %s: a job it started is still Pending, no new job", trigger["id"])
            continue
        release = known.get(trigger["release_id"])
        try:
            if release is None:
                raise PodiumError("The trigger's process no longer exists.")
            request = start_request(trigger, SCHEDULE_SOURCE, batch_key=next(batch_keys))
            pairs = await job_targets(conn, release, request, eligible)
        except PodiumError as error:  # this trigger's failure, nothing of it written: the others go on
            await _failed(conn, trigger, now, error.message)
            continue
        starts.append((release, request, pairs))
        launching.append(trigger)
        started.add(place)
    created = await create_jobs(conn, starts, None)
    recovered = [trigger["id"] for trigger in launching if trigger["failed_launches"]]
    if recovered:
        await conn.execute(
            update(process_schedules)
            .where(process_schedules.c.id.in_(recovered))
            .values(failed_launches=0, failing_since=None)
        )
    return sum(1 for ids in created if ids)


async def _pending_among(conn: AsyncConnection, triggers: list[dict[str, Any]]) -> tuple[set[int], set[int]]:
    """Ids of the triggers the pending-job rule keeps from firing (one query per tenant), and the
    tenants whose rule is per process (there a second trigger of a process launched in the same batch
    waits, as it would behind the first one's Pending job)."""
    blocked: set[int] = set()
    per_release: set[int] = set()
    by_tenant: dict[int, list[dict[str, Any]]] = {}
    for trigger in triggers:
        by_tenant.setdefault(trigger["tenant_id"], []).append(trigger)
    for tenant_id, group in by_tenant.items():
        rule = await settings.cached_value(conn, tenant_id, settings.TRIGGERS_JOBS_COUNT)
        if rule == "None":
            continue
        pending = jobs.c.state == int(JobState.Pending)
        if rule == "PerTrigger":
            rows = await conn.execute(_pending_of_triggers(conn, [trigger["id"] for trigger in group]))
            blocked.update(int(row[0]) for row in rows)
        else:
            per_release.add(tenant_id)
            release_ids = {trigger["release_id"] for trigger in group}
            rows = await conn.execute(
                select(jobs.c.release_id)
                .where(jobs.c.tenant_id == tenant_id, pending, jobs.c.release_id.in_(release_ids))
                .distinct()
            )
            held = {int(row[0]) for row in rows}
            blocked.update(trigger["id"] for trigger in group if trigger["release_id"] in held)
    return blocked, per_release


def _pending_of_triggers(conn: AsyncConnection, ids: list[int]) -> Select[Any]:
    """Which of the triggers ``ids`` have a Pending job (ids are the tenant's own: no tenant condition).

    On PostgreSQL one lookup per trigger on ``ix_jobs_schedule_state`` (a LATERAL subquery with LIMIT
    1 for each id of an array), whatever the planner believes of the table: as ``starting_schedule_id
    = ANY(:ids)``, the plan it prepared after a few batches (statistics taken while the table was
    nearly empty) walked every Pending job and compared it to each id, 30-70 ms a batch of 500 with
    10,000 Pending jobs."""
    pending = jobs.c.state == int(JobState.Pending)
    if conn.dialect.name != "postgresql":
        return (
            select(jobs.c.starting_schedule_id)
            .where(pending, jobs.c.starting_schedule_id.in_(ids))
            .distinct()
        )
    given = (
        func.unnest(bindparam("schedule_ids", ids, type_=ARRAY(BigInteger)))
        .table_valued("id")
        .render_derived()
    )
    held = (
        select(literal(1).label("held"))
        .where(jobs.c.starting_schedule_id == given.c.id, pending)
        .limit(1)
        .lateral()
    )
    return select(given.c.id).select_from(given.join(held, true()))


def _misfire_text(read: dt.datetime, now: dt.datetime, fired: bool) -> str:
    since = read.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    at = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if fired:
        return f"Fires due since {since} were missed; fired once at {at} for all of them."
    return f"Fires due since {since} were missed; too old at {at}, skipped to the next occurrence."


async def _pending_exists(conn: AsyncConnection, trigger: Mapping[str, Any]) -> bool:
    rule = await settings.cached_value(conn, trigger["tenant_id"], settings.TRIGGERS_JOBS_COUNT)
    if rule == "None":
        return False
    condition = (
        jobs.c.starting_schedule_id == trigger["id"]
        if rule == "PerTrigger"
        else jobs.c.release_id == trigger["release_id"]
    )
    found = await conn.execute(
        select(jobs.c.id)
        .where(jobs.c.tenant_id == trigger["tenant_id"], jobs.c.state == int(JobState.Pending), condition)
        .limit(1)
    )
    return found.first() is not None


def _stop_and_kill(trigger: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The job's own (stop, kill) spans from the trigger's: SoftStop stops after StopProcessExpression
    and kills KillProcessExpression later; Kill kills after StopProcessExpression."""
    stop = parse_time_span(trigger["stop_process_expression"])
    if stop is None:
        return None, None
    if trigger["stop_strategy"] == int(StopStrategy.Kill):
        return None, str(stop.total_seconds())
    grace = parse_time_span(trigger["kill_process_expression"])
    return str(stop.total_seconds()), None if grace is None else str((stop + grace).total_seconds())


def start_request(
    trigger: Mapping[str, Any], source_type: int, count: int | None = None, batch_key: str | None = None
) -> StartRequest:
    """The StartJobs request of a fire: the trigger's StartStrategy (-1 all robots, 0 its ExecutorRobots,
    N jobs, or one job per MachineRobots pair), arguments, priority, runtime type and limits; the jobs'
    BatchExecutionKey is ``batch_key`` (a new one when not given)."""
    strategy_value = trigger["start_strategy"] if count is None else count
    pairs = [(p.get("RobotId"), p.get("MachineId")) for p in orjson.loads(trigger["machine_robots"] or "[]")]
    if strategy_value == -1:
        strategy, jobs_count = StartStrategy.All, 0
    elif strategy_value == 0:
        strategy, jobs_count = StartStrategy.Specific, 0
    else:
        strategy, jobs_count = StartStrategy.ModernJobsCount, strategy_value
    stop, kill = _stop_and_kill(trigger)
    priority = trigger["job_priority"]
    return StartRequest(
        strategy=strategy,
        robot_ids=robot_ids({**trigger, "machine_robots": "[]"})
        if strategy is StartStrategy.Specific
        else [],
        jobs_count=jobs_count,
        no_of_robots=0,
        input_arguments=trigger["input_arguments"],
        source=trigger["name"][:128],
        priority=JobPriority(priority) if priority is not None else None,
        specific_priority=trigger["specific_priority_value"],
        reference=None,
        entry_point_path=None,
        batch_key=batch_key or str(uuid.uuid4()),
        stop_expression=stop,
        kill_expression=kill,
        resume_on_same_context=bool(trigger["resume_on_same_context"]),
        source_type=source_type,
        starting_schedule_id=trigger["id"],
        runtime_type=trigger["runtime_type"],
        machine_robots=pairs if pairs and count is None else None,
    )


async def launch(
    conn: AsyncConnection,
    trigger: Mapping[str, Any],
    now: dt.datetime,
    *,
    source_type: int = SCHEDULE_SOURCE,
    count: int | None = None,
    check_pending: bool = True,
    count_failures: bool = True,
) -> Launch:
    """Creates the fire's jobs (in a savepoint: a failed launch leaves nothing) and keeps the trigger's
    failure count: a success clears it, a failure adds one, records ``schedule.failed`` and, at
    ``Triggers.DisableWhenFailedCount`` failures within ``DisableWhenFailingSinceDays``, disables the
    trigger with its reason and an alert."""
    if check_pending and await _pending_exists(conn, trigger):
        log.info("trigger %s: a job it started is still Pending, no new job", trigger["id"])
        return Launch([], skipped="pending")
    found = (
        (await conn.execute(select(releases).where(releases.c.id == trigger["release_id"])))
        .mappings()
        .first()
    )
    release = dict(found) if found is not None else None
    try:
        if release is None:
            raise PodiumError("The trigger's process no longer exists.")
        async with conn.begin_nested():
            job_ids = await start_jobs(conn, release, start_request(trigger, source_type, count), None)
    except PodiumError as error:
        if count_failures:
            await _failed(conn, trigger, now, error.message)
        return Launch([], failure=error.message)
    if trigger["failed_launches"]:
        await conn.execute(
            update(process_schedules)
            .where(process_schedules.c.id == trigger["id"])
            .values(failed_launches=0, failing_since=None)
        )
    return Launch(job_ids)


async def _failed(conn: AsyncConnection, trigger: Mapping[str, Any], now: dt.datetime, reason: str) -> None:
    tenant_id = trigger["tenant_id"]
    days = await settings.cached_value(conn, tenant_id, settings.TRIGGERS_FAILING_DAYS)
    limit = await settings.cached_value(conn, tenant_id, settings.TRIGGERS_FAILED_COUNT)
    since = trigger["failing_since"]
    count = trigger["failed_launches"] + 1
    if since is None or now - since > dt.timedelta(days=days):
        since, count = now, 1  # the earlier failures are too old to count
    changes: dict[str, Any] = {"failed_launches": count, "failing_since": since}
    disabled = limit > 0 and count >= limit
    if disabled:
        changes.update(
            enabled=False,
            next_fire_at=None,
            disabled_reason=(
                f"Disabled by the system at {now.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ} after {count} failed "
                f"launches in a row: {reason}"
            )[:1024],
        )
    await conn.execute(
        update(process_schedules).where(process_schedules.c.id == trigger["id"]).values(**changes)
    )
    summary = {
        "Id": trigger["id"],
        "Key": trigger["key"],
        "Name": trigger["name"],
        "Enabled": not disabled and bool(trigger["enabled"]),
        "StartProcessCron": trigger["start_process_cron"],
        "TimeZoneId": trigger["time_zone_id"],
        "CalendarId": trigger["calendar_id"],
        "Release": {"Id": trigger["release_id"]},
    }
    await events.record(
        conn,
        tenant_id,
        "schedule.failed",
        trigger["key"],
        {"ProcessSchedule": summary, "Reason": reason},
        trigger["folder_id"],
    )
    log.warning("trigger %s failed to launch (%d in a row): %s", trigger["id"], count, reason)
    if disabled:
        await audit_logs.write(
            conn,
            audit_logs.Entry(
                actor=audit_logs.Actor(tenant_id, None, "System Administrator"),
                component="Schedules",
                action="Deactivate",
                service_name="ProcessSchedules",
                method_name="SetEnabled",
                entity_name="trigger",
                parameters={"scheduleIds": [trigger["id"]], "enabled": False, "reason": reason},
                entity_id=trigger["id"],
                display_name=trigger["name"],
                text=f"User System Administrator deactivated trigger {trigger['name']}: "
                f"{changes['disabled_reason']}",
                details=[audit_logs.Detail("ProcessSchedule", trigger["id"], "Deactivate")],
            ),
            now,
        )
        await alerts.raise_alert(
            conn,
            tenant_id,
            alerts.TRIGGER_DISABLED,
            {
                "ProcessScheduleId": trigger["id"],
                "Name": trigger["name"],
                "Reason": changes["disabled_reason"],
            },
            folder_id=trigger["folder_id"],
        )


async def fire_now(conn: AsyncConnection, trigger: Mapping[str, Any], now: dt.datetime) -> Launch:
    """Fires the trigger at once whatever its schedule (``podium triggers fire``), its next occurrence
    unchanged; a failure is answered, not counted towards disabling the trigger."""
    if trigger["queue_definition_id"] is not None:
        from podium.domain import queue_triggers  # it launches through this module

        created = await queue_triggers.evaluate(conn, trigger["id"], now)
        return Launch(created)
    return await launch(conn, trigger, now, check_pending=False, count_failures=False)
