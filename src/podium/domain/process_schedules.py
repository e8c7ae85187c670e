"""Triggers (``ProcessScheduleDto``): the checks of a written trigger, its next occurrence, the queue it
is bound to, SetEnabled, GetRobotIdsForSchedule and ValidateProcessSchedule. Firing is in
``schedule_firing.py`` (time) and ``queue_triggers.py`` (queue).

A write is checked whole before anything is stored: the release must be one of the trigger's folder,
the cron Quartz (a Unix 5-field expression is refused with its Quartz spelling), the zone a Windows or
IANA id (``TimeZoneIana`` is filled from it), the calendar one of the tenant's, the robots the tenant's,
the thresholds of a queue trigger not negative, and a queue may have only one trigger. The cron is
stored verbatim and ``StartProcessCronDetails`` as sent (Orchestrator does the same, even when the two
disagree). ``next_fire_at`` (answered as ``StartProcessNextOccurrence``) is computed here on every
write: the first occurrence after now that is not a day off of the calendar and not after
``StopProcessDate``; NULL for a disabled or queue trigger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.db.schema import releases, robots
from podium.db.schema_process_schedules import process_schedules
from podium.db.schema_queues import queue_definition_folders, queue_definitions
from podium.db.types import utcnow
from podium.domain import after_commit, calendars, cron
from podium.domain.job_limits import parse_time_span
from podium.domain.jobs import validate_input_arguments
from podium.domain.timezones import resolve_zone
from podium.errors import PodiumError, bad_request

# the after_commit notes of a written trigger, which wake this process's scheduler (services/triggers.py)
SCHEDULES_CHANGED = "podium.schedules.changed"
MAX_JOBS = 10_000  # StartStrategy N: the UI accepts 1-10000
# a queue trigger carries a cron Orchestrator never fires; this is the one its UI writes
QUEUE_DUMMY_CRON = "0 0/30 * 1/1 * ? *"


def canonical_zone(name: Any) -> tuple[str, str]:
    """(the id as stored: a Windows id as Windows spells it, else the IANA id; the IANA id)."""
    resolved = resolve_zone(name, "TimeZoneId")
    if (
        isinstance(name, str)
        and resolved.windows_id is not None
        and name.strip().lower() == resolved.windows_id.lower()
    ):
        return resolved.windows_id, resolved.iana
    return resolved.iana, resolved.iana


def _merged(values: Mapping[str, Any], existing: Mapping[str, Any] | None, column: str) -> Any:
    if column in values:
        return values[column]
    return existing[column] if existing is not None else None


def _non_negative(values: dict[str, Any], existing: Mapping[str, Any] | None, column: str, name: str) -> None:
    value = _merged(values, existing, column)
    if value is not None and value < 0:
        raise bad_request(f"{name} must not be negative.")


async def check_write(
    conn: AsyncConnection,
    tenant_id: int,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> None:
    """Fills and checks a trigger's column values from a ProcessScheduleDto body (create: ``existing``
    None); 400 naming the field for anything wrong, before anything is written."""
    folder_id = values.get("folder_id") or (existing or {}).get("folder_id")
    if "name" in values:
        name = values["name"]
        if not isinstance(name, str) or not name.strip():
            raise bad_request("Name must not be empty.")
        values["name"] = name.strip()
    await _check_release(conn, tenant_id, folder_id, _merged(values, existing, "release_id"))
    queue_id = _merged(values, existing, "queue_definition_id")
    if queue_id is not None:
        await _check_queue(conn, tenant_id, folder_id, queue_id, existing)
    _check_cron(values, existing, queue_id is not None)
    if "start_process_cron_details" in values and values["start_process_cron_details"] not in (None, ""):
        try:
            orjson.loads(values["start_process_cron_details"])
        except orjson.JSONDecodeError:
            raise bad_request("StartProcessCronDetails must be a string holding JSON.") from None
    if "time_zone_id" in values or existing is None:
        values["time_zone_id"], values["time_zone_iana"] = canonical_zone(values.get("time_zone_id"))
    calendar_id = _merged(values, existing, "calendar_id")
    if calendar_id is not None:
        await calendars.calendar_in_tenant(conn, tenant_id, calendar_id)
    if "input_arguments" in values:
        values["input_arguments"] = validate_input_arguments(values["input_arguments"])
    for column, name in (
        ("stop_process_expression", "StopProcessExpression"),
        ("kill_process_expression", "KillProcessExpression"),
    ):
        text = values.get(column)
        if text not in (None, "") and parse_time_span(text) is None:
            raise bad_request(f"{name} must be a number of seconds (or a time span such as 00:10:00).")
        if text == "":
            values[column] = None
    await _check_strategy(conn, tenant_id, values, existing, body)
    for column, name in (
        ("items_activation_threshold", "ItemsActivationThreshold"),
        ("items_per_job_activation_target", "ItemsPerJobActivationTarget"),
        ("max_jobs_for_activation", "MaxJobsForActivation"),
        ("specific_priority_value", "SpecificPriorityValue"),
        ("consecutive_job_failures_threshold", "ConsecutiveJobFailuresThreshold"),
        ("job_failures_grace_period_in_hours", "JobFailuresGracePeriodInHours"),
    ):
        _non_negative(values, existing, column, name)
    if values.get("enabled") is True and existing is not None and not existing["enabled"]:
        values.update(failed_launches=0, failing_since=None, disabled_reason=None)
    values["next_fire_at"] = await next_occurrence(conn, tenant_id, {**(existing or {}), **values}, now)
    after_commit.note(conn, SCHEDULES_CHANGED, True)  # wakes this process's scheduler after the commit


async def _check_release(conn: AsyncConnection, tenant_id: int, folder_id: Any, release_id: Any) -> None:
    if release_id is None:
        raise bad_request("ReleaseId is required: the process the trigger starts.")
    found = await conn.execute(
        select(releases.c.id).where(
            releases.c.id == release_id, releases.c.tenant_id == tenant_id, releases.c.folder_id == folder_id
        )
    )
    if found.first() is None:
        raise bad_request(f"ReleaseId: process {release_id} does not exist in this folder.")


async def _check_queue(
    conn: AsyncConnection, tenant_id: int, folder_id: Any, queue_id: int, existing: Mapping[str, Any] | None
) -> None:
    visible = await conn.execute(
        select(queue_definitions.c.id, queue_definitions.c.process_schedule_id)
        .join(
            queue_definition_folders,
            queue_definition_folders.c.queue_definition_id == queue_definitions.c.id,
        )
        .where(
            queue_definitions.c.id == queue_id,
            queue_definitions.c.tenant_id == tenant_id,
            queue_definition_folders.c.folder_id == folder_id,
        )
    )
    row = visible.first()
    if row is None:
        raise bad_request(f"QueueDefinitionId: queue {queue_id} does not exist in this folder.")
    other = await conn.execute(
        select(process_schedules.c.name).where(
            process_schedules.c.queue_definition_id == queue_id,
            process_schedules.c.id != (existing["id"] if existing is not None else -1),
        )
    )
    taken = other.first()
    if taken is not None:
        raise bad_request(
            f"QueueDefinitionId: queue {queue_id} already has a trigger ('{taken.name}'); "
            "a queue may have only one."
        )


def _check_cron(values: dict[str, Any], existing: Mapping[str, Any] | None, queue: bool) -> None:
    expression = _merged(values, existing, "start_process_cron")
    if queue and (expression is None or not str(expression).strip()):
        values["start_process_cron"] = QUEUE_DUMMY_CRON
        expression = QUEUE_DUMMY_CRON
    if expression is None:
        raise bad_request(
            "StartProcessCron is required: a Quartz cron expression such as '0 0 9 ? * MON-FRI'."
        )
    parsed = cron.parse_quartz(expression, "StartProcessCron")
    values["start_process_cron_summary"] = parsed.summary()[:512]


def _ids_of(value: Any, name: str) -> list[int]:
    items = inputs.json_list(value, name, max_items=MAX_JOBS) if value is not None else []
    ids: list[int] = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("Id")
        ids.append(inputs.entity_id(item, f"{name}.Id"))
    return list(dict.fromkeys(ids))


def _pairs_of(value: Any) -> list[dict[str, Any]]:
    items = inputs.json_list(value, "MachineRobots", max_items=MAX_JOBS) if value is not None else []
    pairs = []
    for item in items:
        if not isinstance(item, Mapping):
            raise bad_request("MachineRobots must be a list of {MachineId, RobotId} objects.")
        machine = inputs.optional_id(item.get("MachineId"), "MachineRobots.MachineId")
        robot = inputs.optional_id(item.get("RobotId"), "MachineRobots.RobotId")
        if machine is None and robot is None:
            raise bad_request("MachineRobots: each entry needs a MachineId or a RobotId.")
        pairs.append({"MachineId": machine, "RobotId": robot})
    return pairs


async def _check_strategy(
    conn: AsyncConnection,
    tenant_id: int,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    strategy = _merged(values, existing, "start_strategy")
    if strategy is None:
        strategy = values["start_strategy"] = 1
    if strategy < -1 or strategy > MAX_JOBS:
        raise bad_request(f"StartStrategy must be -1 (all robots), 0 (specific robots) or 1 to {MAX_JOBS}.")
    if "ExecutorRobots" in body or existing is None:
        ids = _ids_of(body.get("ExecutorRobots"), "ExecutorRobots")
        if ids and strategy != 0:
            raise bad_request("ExecutorRobots must be empty unless StartStrategy is 0 (specific robots).")
        values["executor_robots"] = orjson.dumps([{"Id": i} for i in ids]).decode()
    else:
        ids = [item["Id"] for item in orjson.loads(existing["executor_robots"] or "[]")]
    if strategy == 0 and not ids:
        raise bad_request("ExecutorRobots is required with StartStrategy 0 (specific robots).")
    if "MachineRobots" in body or existing is None:
        pairs = _pairs_of(body.get("MachineRobots"))
        values["machine_robots"] = orjson.dumps(pairs).decode()
        ids = ids + [p["RobotId"] for p in pairs if p["RobotId"] is not None]
    if ids:
        found = await conn.execute(
            select(robots.c.id).where(robots.c.id.in_(ids), robots.c.tenant_id == tenant_id)
        )
        unknown = sorted(set(ids) - {row.id for row in found})
        if unknown:
            raise bad_request(f"ExecutorRobots/MachineRobots: robots {unknown} do not exist.")


async def next_occurrence(
    conn: AsyncConnection, tenant_id: int, row: Mapping[str, Any], now: dt.datetime | None = None
) -> dt.datetime | None:
    """The trigger's next due fire after ``now``: None when disabled, bound to a queue, or past its
    StopProcessDate."""
    if not row.get("enabled", True) or row.get("queue_definition_id") is not None:
        return None
    after = now or utcnow()
    found = await fire_after(conn, tenant_id, row, after)
    return found


async def fire_after(
    conn: AsyncConnection, tenant_id: int, row: Mapping[str, Any], after: dt.datetime
) -> dt.datetime | None:
    """The first occurrence of the trigger's cron after ``after`` in its zone, its calendar's days off
    skipped, None past StopProcessDate."""
    excluded = None
    if row.get("calendar_id") is not None:
        excluded = await calendars.excluded_dates(conn, tenant_id, row["calendar_id"])
    return occurrence_after(row, after, excluded)


def occurrence_after(
    row: Mapping[str, Any], after: dt.datetime, excluded: calendars.ExcludedDates | None
) -> dt.datetime | None:
    """:func:`fire_after` with the trigger's calendar already read (``excluded``; None: no calendar)."""
    parsed = cron.parse_quartz(row["start_process_cron"], "StartProcessCron")
    zone = resolve_zone(row["time_zone_id"], "TimeZoneId").zone
    found = cron.next_fire(parsed, zone, after, excluded)
    stop = row.get("stop_process_date")
    if found is not None and stop is not None and found > stop:
        return None
    return found


async def bind_queue(conn: AsyncConnection, schedule_id: int, queue_id: int | None) -> None:
    """The queue's ProcessScheduleId follows the trigger bound to it (read-only on QueueDefinitions)."""
    await conn.execute(
        update(queue_definitions)
        .where(
            queue_definitions.c.process_schedule_id == schedule_id,
            queue_definitions.c.id != (queue_id if queue_id is not None else -1),
        )
        .values(process_schedule_id=None)
    )
    if queue_id is not None:
        await conn.execute(
            update(queue_definitions)
            .where(queue_definitions.c.id == queue_id)
            .values(process_schedule_id=schedule_id)
        )


async def schedules_where(
    conn: AsyncConnection, conditions: list[ColumnElement[bool]], ids: list[int]
) -> list[dict[str, Any]]:
    """The triggers of ``ids`` that the scope ``conditions`` (the caller's tenant and folders) let in."""
    rows = await conn.execute(select(process_schedules).where(process_schedules.c.id.in_(ids), *conditions))
    return [dict(row) for row in rows.mappings()]


async def set_enabled(
    conn: AsyncConnection,
    tenant_id: int,
    rows: Sequence[Mapping[str, Any]],
    enabled: bool,
    now: dt.datetime | None = None,
) -> None:
    """SetEnabled: each trigger enabled (its next occurrence computed afresh, its failure count reset)
    or disabled (no next occurrence)."""
    for row in rows:
        changes: dict[str, Any] = {"enabled": enabled, "last_modification_time": utcnow()}
        if enabled:
            changes.update(failed_launches=0, failing_since=None, disabled_reason=None)
        changes["next_fire_at"] = await next_occurrence(conn, tenant_id, {**row, **changes}, now)
        await conn.execute(
            update(process_schedules).where(process_schedules.c.id == row["id"]).values(**changes)
        )
    after_commit.note(conn, SCHEDULES_CHANGED, True)


def robot_ids(row: Mapping[str, Any]) -> list[int]:
    """GetRobotIdsForSchedule: the ExecutorRobots' ids, then the robots of MachineRobots."""
    ids = [int(item["Id"]) for item in orjson.loads(row["executor_robots"] or "[]")]
    ids += [int(p["RobotId"]) for p in orjson.loads(row["machine_robots"] or "[]") if p.get("RobotId")]
    return list(dict.fromkeys(ids))


async def validate(
    conn: AsyncConnection, tenant_id: int, folder_id: int, values: dict[str, Any], body: Mapping[str, Any]
) -> dict[str, Any]:
    """ValidateProcessSchedule: the checks of a create, nothing written; ``{IsValid, Errors, ErrorCodes}``."""
    try:
        await check_write(conn, tenant_id, {**values, "folder_id": folder_id}, None, body)
    except PodiumError as error:
        code = "RobotNotFound" if "robots" in error.message else None
        return {"IsValid": False, "Errors": [error.message], "ErrorCodes": [code] if code else []}
    return {"IsValid": True, "Errors": [], "ErrorCodes": []}
