"""``/odata/Calendars``: a tenant's calendars of days off (ExtendedCalendarDto) and CalendarExists.
Permissions are the Settings ones, as in Orchestrator (View to read, Create, Edit, Delete)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db import schema_calendars
from podium.domain import calendars
from podium.http.context import RequestContext
from podium.odata.declare import entity_key, key_id, text
from podium.odata.model import Edm, EntitySet, Field, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import require_body

area = Area("Calendars")


async def _before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    await calendars.check_write(conn, ctx.tenant_id, values, existing, body)


CALENDARS = area.add(
    EntitySet(
        name="Calendars",
        type_name="ExtendedCalendarDto",
        table=schema_calendars.calendars,
        scope=Scope.TENANT,
        permission="Settings",
        unique=("name",),
        before_write=_before_write,
        fields=[
            text("Name", "name", required=True, nullable=False, max_length=calendars.NAME_LENGTH),
            text("TimeZoneId", "time_zone_id", max_length=64),
            # a list of date-times, read and checked by domain/calendars.check_write
            Field("ExcludedDates", Edm.UNTYPED, "excluded_dates", read_only=True),
            entity_key(),
            key_id(),
        ],
    )
)


@area.operation(
    "Calendars",
    "CalendarExists",
    summary="Validate calendar name, and check if it already exists",
    returns="Edm.Boolean",
    body_schema={
        "type": "object",
        "properties": {"calendarName": {"type": "string"}},
        "required": ["calendarName"],
    },
)
async def calendar_exists(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Settings.View")
    name = require_body(call).get("calendarName")
    async with ctx.state.db.read() as conn:
        exists = await calendars.calendar_exists(conn, ctx.tenant_id, name)
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Edm.Boolean", "value": exists}
