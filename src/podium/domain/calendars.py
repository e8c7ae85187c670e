"""Calendars: a tenant's named lists of days off. A trigger that names one does not fire on those days
(read in the calendar's own time zone) and fires as usual afterwards.

Each excluded day is kept as a date: Orchestrator's clients send date-times (``"2025-12-25T00:00:00Z"``,
or the moment the user clicked, ``"2019-11-12T14:31:44.778Z"``), and what they mean is the day written
there, so the date part is kept as written (its offset is not applied) and answered as that day at
midnight UTC. A calendar without a ``TimeZoneId`` takes the tenant's (setting ``Abp.Timing.TimeZone``),
as Orchestrator fills it in.

The legacy single calendar of Settings/GetCalendar and SetCalendar is the tenant's calendar named
``BankHoliday`` (Orchestrator's default calendar; the link between the two is (inf)).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.db.schema_calendars import calendars
from podium.domain import settings
from podium.domain.timezones import resolve_zone
from podium.errors import bad_request

MAX_DATES = 10_000
NAME_LENGTH = 256
LEGACY_NAME = "BankHoliday"


@dataclass(frozen=True)
class ExcludedDates:
    """A calendar's days off in its zone: ``excluded(day)`` / ``day in excluded`` for a local date."""

    calendar_id: int
    time_zone_id: str
    zone: ZoneInfo
    dates: frozenset[dt.date]

    def __call__(self, day: dt.date) -> bool:
        return day in self.dates

    def __contains__(self, day: object) -> bool:
        return day in self.dates

    def __len__(self) -> int:
        return len(self.dates)


def parse_dates(value: Any, field: str = "ExcludedDates") -> list[dt.date]:
    """The days of a JSON list of dates or date-times (null: none), sorted, duplicates dropped; 400
    naming ``field`` otherwise."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request(f'{field} must be a list of dates such as "2025-12-25T00:00:00Z".')
    if len(value) > MAX_DATES:
        raise bad_request(f"{field} may hold at most {MAX_DATES} dates.")
    days: set[dt.date] = set()
    for item in value:
        days.add(_day(item, field))
    return sorted(days)


def _day(item: Any, field: str) -> dt.date:
    if isinstance(item, str) and item.isascii() and 10 <= len(item.strip()) <= 40:
        text = item.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if 1 <= moment.year <= 9998:
                return moment.date()  # the day as written: its offset is not applied
    shown = repr(item) if len(repr(item)) <= 64 else repr(item)[:64] + "…"
    raise bad_request(f'{field}: {shown} is not a date such as "2025-12-25T00:00:00Z".')


def dates_json(days: Iterable[dt.date]) -> str:
    """The stored form, which is also the answered one: a JSON list of each day at midnight UTC,
    ``"2025-12-25T00:00:00Z"``."""
    return orjson.dumps([f"{day.isoformat()}T00:00:00Z" for day in days]).decode()


def stored_dates(stored: str | None) -> list[dt.date]:
    return [dt.date.fromisoformat(text[:10]) for text in orjson.loads(stored or "[]")]


def answered_dates(stored: str | None) -> list[str]:
    answered: list[str] = orjson.loads(stored or "[]")
    return answered


async def tenant_zone_id(conn: AsyncConnection, tenant_id: int) -> str:
    """The tenant's time zone (``Abp.Timing.TimeZone``), the default of a calendar's."""
    zone: str = await settings.value(conn, tenant_id, settings.TIME_ZONE)
    return zone


async def check_write(
    conn: AsyncConnection,
    tenant_id: int,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    """Fills and checks a calendar's column values from an ExtendedCalendarDto body (create: ``existing``
    None): the zone resolved (the tenant's when none is sent on create), ExcludedDates parsed (kept
    when a PUT leaves them out), the name not blank."""
    if "name" in values:
        name = values["name"]
        if not isinstance(name, str) or not name.strip():
            raise bad_request("Name must not be empty.")
        values["name"] = name.strip()
    if values.get("time_zone_id") is not None:
        values["time_zone_id"] = _canonical_zone(values["time_zone_id"])
    elif existing is None or "TimeZoneId" in body:
        values["time_zone_id"] = _canonical_zone(await tenant_zone_id(conn, tenant_id))
    if "ExcludedDates" in body:
        values["excluded_dates"] = dates_json(parse_dates(body["ExcludedDates"]))
    elif existing is None:
        values["excluded_dates"] = "[]"


def _canonical_zone(name: Any) -> str:
    """The zone id as stored: the Windows id as Windows spells it, else the IANA id."""
    resolved = resolve_zone(name, "TimeZoneId")
    if (
        isinstance(name, str)
        and resolved.windows_id is not None
        and name.strip().lower() == resolved.windows_id.lower()
    ):
        return resolved.windows_id
    return resolved.iana


async def calendar_in_tenant(
    conn: AsyncConnection, tenant_id: int, calendar_id: Any, field: str = "CalendarId"
) -> dict[str, Any]:
    """The tenant's calendar (``id``, ``key``, ``name``, ``time_zone_id``, ``excluded_dates``): a 400
    naming ``field`` when the id is not a calendar of this tenant (another tenant's is not told apart
    from one that does not exist)."""
    key = inputs.entity_id(calendar_id, field)
    row = (
        (
            await conn.execute(
                select(calendars).where(calendars.c.id == key, calendars.c.tenant_id == tenant_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise bad_request(f"{field}: calendar {key} does not exist.")
    return dict(row)


async def excluded_dates(conn: AsyncConnection, tenant_id: int, calendar_id: int) -> ExcludedDates:
    """The calendar's days off and zone, for ``cron.next_fire(..., excluded=...)``; 400 as
    :func:`calendar_in_tenant`."""
    row = await calendar_in_tenant(conn, tenant_id, calendar_id)
    zone = resolve_zone(row["time_zone_id"], "TimeZoneId")
    days = frozenset(stored_dates(row["excluded_dates"]))
    return ExcludedDates(row["id"], row["time_zone_id"], zone.zone, days)


async def calendar_exists(conn: AsyncConnection, tenant_id: int, name: Any) -> bool:
    """CalendarExists: whether the tenant has a calendar of that name; 400 for a name no calendar could
    have (blank, too long)."""
    text = inputs.text(name, "calendarName", max_length=NAME_LENGTH)
    if not text.strip():
        raise bad_request("calendarName must not be empty.")
    found = await conn.execute(
        select(calendars.c.id)
        .where(calendars.c.tenant_id == tenant_id, calendars.c.name == text.strip())
        .limit(1)
    )
    return found.first() is not None


async def legacy_calendar(conn: AsyncConnection, tenant_id: int) -> dict[str, Any]:
    """Settings/GetCalendar's ``CalendarDto``: ``{"TimeZoneId", "ExcludedDates"}`` of the tenant's
    BankHoliday calendar (the tenant's zone and no days when it has none)."""
    row = (
        await conn.execute(
            select(calendars.c.time_zone_id, calendars.c.excluded_dates).where(
                calendars.c.tenant_id == tenant_id, calendars.c.name == LEGACY_NAME
            )
        )
    ).first()
    if row is None:
        return {"TimeZoneId": await tenant_zone_id(conn, tenant_id), "ExcludedDates": []}
    return {"TimeZoneId": row.time_zone_id, "ExcludedDates": answered_dates(row.excluded_dates)}


async def set_legacy_calendar(conn: AsyncConnection, tenant_id: int, body: Any) -> None:
    """Settings/SetCalendar: a ``CalendarDto`` body (``TimeZoneId``, ``ExcludedDates``) becomes the
    tenant's BankHoliday calendar, created when missing. Everything is checked before anything is
    written; unknown properties are a 400."""
    if not isinstance(body, Mapping):
        raise bad_request("The request body must be a JSON object.")
    unknown = sorted(set(body) - {"TimeZoneId", "ExcludedDates"} - {k for k in body if k.startswith("@")})
    if unknown:
        raise bad_request(f"The property '{unknown[0]}' does not exist on type 'CalendarDto'.")
    zone_name = body.get("TimeZoneId")
    zone = _canonical_zone(zone_name if zone_name is not None else await tenant_zone_id(conn, tenant_id))
    days = dates_json(parse_dates(body.get("ExcludedDates")))
    changed = await conn.execute(
        update(calendars)
        .where(calendars.c.tenant_id == tenant_id, calendars.c.name == LEGACY_NAME)
        .values(time_zone_id=zone, excluded_dates=days)
    )
    if changed.rowcount:
        return
    try:
        async with conn.begin_nested():  # a concurrent SetCalendar may create it first
            await conn.execute(
                insert(calendars).values(
                    tenant_id=tenant_id,
                    key=str(uuid.uuid4()),
                    name=LEGACY_NAME,
                    time_zone_id=zone,
                    excluded_dates=days,
                )
            )
    except IntegrityError:
        await conn.execute(
            update(calendars)
            .where(calendars.c.tenant_id == tenant_id, calendars.c.name == LEGACY_NAME)
            .values(time_zone_id=zone, excluded_dates=days)
        )
