"""``/odata/ProcessSchedules``: triggers (ProcessScheduleDto), folder-scoped, with the Schedules
permissions (View, Create, Edit, Delete); SetEnabled, GetRobotIdsForSchedule, ValidateProcessSchedule
and Activate. The checks of a written trigger are ``domain/process_schedules.py``; firing is
``domain/schedule_firing.py`` and ``domain/queue_triggers.py``.

ReleaseName, ReleaseKey, PackageName, EnvironmentName/Id, CalendarName/Key and QueueDefinitionName are
read from their own tables when answered (``Field.through``), so a rename shows at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.db import schema_process_schedules
from podium.db.types import utcnow
from podium.domain import calendars, process_schedules, queue_triggers, schedule_firing
from podium.domain.cron import next_fire, parse_quartz
from podium.domain.enums import JobPriority, RobotType, StopStrategy
from podium.domain.timezones import resolve_zone
from podium.errors import PodiumError, bad_request, forbidden, not_found
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import boolean, choice, constant, integer, key_id, tag_list, text, when
from podium.odata.model import Edm, EntitySet, Field, Navigation, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import param, require_body
from podium.odata.values import values_from_body

area = Area("ProcessSchedules")


async def _before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    await process_schedules.check_write(conn, ctx.tenant_id, values, existing, body)
    if existing is not None and "queue_definition_id" in values:
        await process_schedules.bind_queue(conn, existing["id"], values["queue_definition_id"])


async def _after_insert(
    ctx: RequestContext, conn: AsyncConnection, new_id: int, values: dict[str, Any], body: Mapping[str, Any]
) -> None:
    if values.get("queue_definition_id") is not None:
        await process_schedules.bind_queue(conn, new_id, values["queue_definition_id"])
        await queue_triggers.evaluate(conn, new_id)  # a queue trigger fires on creation


async def _before_delete(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    await process_schedules.bind_queue(conn, row["id"], None)


def _via(lookup: str, name: str, column: str, edm: Edm = Edm.STRING) -> Field:
    return Field(name, edm, column, read_only=True, through=lookup)


PROCESS_SCHEDULES = area.add(
    EntitySet(
        name="ProcessSchedules",
        type_name="ProcessScheduleDto",
        table=schema_process_schedules.process_schedules,
        scope=Scope.FOLDER,
        permission="Schedules",
        unique=("name",),
        before_write=_before_write,
        after_insert=_after_insert,
        before_delete=_before_delete,
        lookups=[
            Navigation("Release", "Releases", "release_id"),
            Navigation("Calendar", "Calendars", "calendar_id"),
            Navigation("Queue", "QueueDefinitions", "queue_definition_id"),
        ],
        fields=[
            text("Key", "key", read_only=True),
            boolean("Enabled", "enabled", nullable=False),
            text("Name", "name", required=True, nullable=False, max_length=256),
            integer("ReleaseId", "release_id", required=True, nullable=False),
            _via("Release", "ReleaseKey", "key"),
            _via("Release", "ReleaseName", "name"),
            _via("Release", "PackageName", "process_key"),
            _via("Release", "EnvironmentName", "environment_name"),
            _via("Release", "EnvironmentId", "environment_id"),
            choice("JobPriority", JobPriority, "job_priority"),
            integer("SpecificPriorityValue", "specific_priority_value"),
            choice("RuntimeType", RobotType, "runtime_type"),
            text("StartProcessCron", "start_process_cron", max_length=256),
            text("StartProcessCronDetails", "start_process_cron_details", max_length=10_000),
            text("StartProcessCronSummary", "start_process_cron_summary", read_only=True),
            when("StartProcessNextOccurrence", "next_fire_at", read_only=True),
            integer("StartStrategy", "start_strategy"),
            # lists, read and checked by domain/process_schedules.check_write
            Field("ExecutorRobots", Edm.UNTYPED, "executor_robots", read_only=True),
            text("StopProcessExpression", "stop_process_expression", max_length=64),
            choice("StopStrategy", StopStrategy, "stop_strategy"),
            text("KillProcessExpression", "kill_process_expression", max_length=64),
            text("ExternalJobKey", "external_job_key", max_length=256),
            text("ExternalJobKeyScheduler", "external_job_key_scheduler", max_length=256),
            text("TimeZoneId", "time_zone_id", required=True, nullable=False, max_length=64),
            text("TimeZoneIana", "time_zone_iana", read_only=True),
            constant("UseCalendar", None, Edm.BOOLEAN),  # deprecated: CalendarId says it
            integer("CalendarId", "calendar_id"),
            _via("Calendar", "CalendarName", "name"),
            _via("Calendar", "CalendarKey", "key"),
            when("StopProcessDate", "stop_process_date"),
            text("InputArguments", "input_arguments"),
            integer("QueueDefinitionId", "queue_definition_id"),
            _via("Queue", "QueueDefinitionName", "name"),
            boolean("ActivateOnJobComplete", "activate_on_job_complete", nullable=False),
            integer("ItemsActivationThreshold", "items_activation_threshold"),
            integer("ItemsPerJobActivationTarget", "items_per_job_activation_target"),
            integer("MaxJobsForActivation", "max_jobs_for_activation"),
            boolean("ResumeOnSameContext", "resume_on_same_context", nullable=False),
            text("Description", "description", max_length=500),
            Field("MachineRobots", Edm.UNTYPED, "machine_robots", read_only=True),
            tag_list(),
            text("AlertPendingExpression", "alert_pending_expression", max_length=64),
            text("AlertRunningExpression", "alert_running_expression", max_length=64),
            boolean("RunAsMe", "run_as_me", nullable=False),
            integer("ConsecutiveJobFailuresThreshold", "consecutive_job_failures_threshold"),
            integer("JobFailuresGracePeriodInHours", "job_failures_grace_period_in_hours"),
            constant("IsConnected", False, Edm.BOOLEAN),
            # Podium's: why the system disabled the trigger, and its last missed fires
            text("DisabledReason", "disabled_reason", read_only=True),
            text("LastMisfire", "last_misfire", read_only=True),
            when("LastFireTime", "last_fire_time", read_only=True),
            key_id(),
        ],
    )
)


@area.operation(
    "ProcessSchedules",
    "SetEnabled",
    summary="Enables/disables a group of schedules",
    returns="Edm.Boolean",
    body_schema={
        "type": "object",
        "properties": {
            "scheduleIds": {"type": "array", "items": {"type": "integer"}},
            "enabled": {"type": "boolean"},
            "multistatusEnabled": {"type": "boolean"},
        },
        "required": ["scheduleIds", "enabled"],
    },
)
async def set_enabled(ctx: RequestContext, call: ActionCall) -> Any:
    body = require_body(call)
    ids = inputs.id_list(body.get("scheduleIds"), "scheduleIds", what="schedule ids")
    enabled = inputs.boolean(body.get("enabled"), "enabled")
    async with ctx.state.db.write() as conn:
        conditions = await service.scope_conditions(ctx, conn, PROCESS_SCHEDULES, "Edit")
        rows = await process_schedules.schedules_where(conn, conditions, ids)
        missing = sorted(set(ids) - {row["id"] for row in rows})
        if missing:
            raise not_found(f"Schedules {missing} do not exist.")
        await process_schedules.set_enabled(conn, ctx.tenant_id, rows, enabled)
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Edm.Boolean", "value": True}


@area.operation(
    "ProcessSchedules",
    "GetRobotIdsForSchedule",
    method="GET",
    parameters=("key",),
    summary="The ids of the robots of a schedule (its ExecutorRobots and MachineRobots)",
    returns="Collection(Edm.Int64)",
)
async def get_robot_ids(ctx: RequestContext, call: ActionCall) -> Any:
    key = inputs.url_id(param(call, "key"), "key")
    async with ctx.state.db.read() as conn:
        conditions = await service.scope_conditions(ctx, conn, PROCESS_SCHEDULES)
        rows = await process_schedules.schedules_where(conn, conditions, [key])
    if not rows:
        raise not_found("ProcessSchedule does not exist.")
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#Collection(Edm.Int64)",
        "value": process_schedules.robot_ids(rows[0]),
    }


@area.operation(
    "ProcessSchedules",
    "ValidateProcessSchedule",
    summary="Validates the input which would be used to create a process schedule",
    returns="ValidationResultDto",
    body_schema={
        "type": "object",
        "properties": {"processSchedule": {"type": "object"}},
        "required": ["processSchedule"],
    },
    audit=None,  # nothing is written
)
async def validate(ctx: RequestContext, call: ActionCall) -> Any:
    body = inputs.json_object(require_body(call).get("processSchedule"), "processSchedule")
    folder = ctx.require_folder()
    ctx.require("Schedules.View", folder.fully_qualified_name)
    try:
        values = values_from_body(PROCESS_SCHEDULES, body, creating=True)
    except PodiumError as error:
        result: dict[str, Any] = {"IsValid": False, "Errors": [error.message], "ErrorCodes": []}
    else:
        async with ctx.state.db.read() as conn:
            result = await process_schedules.validate(conn, ctx.tenant_id, folder.id, values, body)
    return {
        "@odata.context": f"{ctx.odata_base}/$metadata#UiPath.Server.Configuration.OData.ValidationResultDto",
        **result,
    }


@area.operation(
    "ProcessSchedules",
    "Activate",
    bound_to_entity=True,
    summary="Activates a process schedule associated with a queue: evaluates it now",
)
async def activate(ctx: RequestContext, call: ActionCall) -> None:
    key = inputs.entity_id(call.key, "key")
    async with ctx.state.db.write() as conn:
        conditions = await service.scope_conditions(ctx, conn, PROCESS_SCHEDULES, "Edit")
        rows = await process_schedules.schedules_where(conn, conditions, [key])
        if not rows:
            raise not_found("ProcessSchedule does not exist.")
        await queue_triggers.evaluate(conn, key)


@area.operation(
    "ProcessSchedules",
    "Fire",
    bound_to_entity=True,
    summary="Podium's: fires the trigger now, whatever its schedule (for testing a process); "
    "Schedules.Edit and Jobs.Create in its folder; answers the new jobs' ids",
    returns="Collection(Edm.Int64)",
)
async def fire(ctx: RequestContext, call: ActionCall) -> Any:
    key = inputs.entity_id(call.key, "key")
    async with ctx.state.db.write() as conn:
        conditions = await service.scope_conditions(ctx, conn, PROCESS_SCHEDULES, "Edit")
        rows = await process_schedules.schedules_where(conn, conditions, [key])
        if not rows:
            raise not_found("ProcessSchedule does not exist.")
        starters = await ctx.readable_folder_ids(conn, "Jobs.Create")
        if starters is not None and rows[0]["folder_id"] not in starters:
            raise forbidden("You are not authorized! (missing permission Jobs.Create)")
        launched = await schedule_firing.fire_now(conn, rows[0], utcnow())
        if launched.failure is not None:  # raised in the transaction: nothing of it is kept
            raise bad_request(f"The trigger could not start its jobs: {launched.failure}")
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Collection(Edm.Int64)", "value": launched.job_ids}


PREVIEW_MAX = 20


@area.operation(
    "ProcessSchedules",
    "PreviewSchedule",
    summary="Podium's: a cron expression's summary and its next occurrences in a time zone, skipping a "
    "calendar's days off (what a trigger with them would do; the console's trigger editor asks it)",
    returns="Edm.Untyped",
    body_schema={
        "type": "object",
        "properties": {
            "cron": {"type": "string"},
            "timeZoneId": {"type": "string"},
            "calendarId": {"type": ["integer", "null"]},
            "count": {"type": "integer", "minimum": 1, "maximum": PREVIEW_MAX},
        },
        "required": ["cron", "timeZoneId"],
    },
    audit=None,  # nothing is written
)
async def preview(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Schedules.View", ctx.folder.fully_qualified_name if ctx.folder else None)
    body = require_body(call)
    expression = parse_quartz(inputs.text(body.get("cron"), "cron", max_length=256), "cron")
    zone = resolve_zone(body.get("timeZoneId"), "timeZoneId")
    count = 5 if body.get("count") is None else inputs.integer(body.get("count"), "count")
    if not 1 <= count <= PREVIEW_MAX:
        raise bad_request(f"count must be between 1 and {PREVIEW_MAX}.")
    excluded = None
    if body.get("calendarId") is not None:
        async with ctx.state.db.read() as conn:
            calendar_id = inputs.entity_id(body.get("calendarId"), "calendarId")
            excluded = await calendars.excluded_dates(conn, ctx.tenant_id, calendar_id)
    occurrences: list[str] = []
    moment = utcnow()
    while len(occurrences) < count:
        found = next_fire(expression, zone.zone, moment, excluded)
        if found is None:
            break
        occurrences.append(found.strftime("%Y-%m-%dT%H:%M:%SZ"))
        moment = found
    return {
        "Summary": expression.summary(),
        "TimeZoneIana": zone.iana,
        "Occurrences": occurrences,
    }
