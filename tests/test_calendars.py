"""Calendars (``/odata/Calendars``, ``domain/calendars.py``): CRUD, CalendarExists, excluded dates as
days in the calendar's zone, Settings permissions, bad input refused with nothing stored, the calls
triggers and the Settings area make (calendar_in_tenant, excluded_dates, the legacy calendar)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.engine import Database
from podium.db.schema_calendars import calendars as calendars_table
from podium.domain import calendars
from podium.domain.cron import next_fire, parse_quartz
from podium.errors import PodiumError
from tests.factories import user_with
from tests.support import Api, assert_error, create_tenant_sync

NS = "UiPath.Server.Configuration.OData"
T = TypeVar("T")
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


def run(url: str, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """``work`` in a write transaction of its own, as a trigger or the Settings area would call it."""

    async def go() -> T:
        database = Database(url)
        try:
            async with database.write() as conn:
                return await work(conn)
        finally:
            await database.dispose()

    return asyncio.run(go())


def stored(db: Engine) -> int:
    with db.connect() as conn:
        count: int = conn.execute(select(func.count()).select_from(calendars_table)).scalar_one()
    return count


def test_create_read_edit_delete(api: Api) -> None:
    body = {
        "Name": "Holidays",
        "TimeZoneId": "GTB Standard Time",
        "ExcludedDates": [
            "2025-12-25T00:00:00Z",
            "2026-01-01T14:31:44.778Z",  # the moment a user clicked: the day counts
            "2025-12-25T10:00:00+02:00",  # the same day again, written with an offset
            "2025-12-24",
        ],
    }
    created = api.ok(api.post("/odata/Calendars", body), 201)
    assert created["Name"] == "Holidays" and created["TimeZoneId"] == "GTB Standard Time"
    assert created["ExcludedDates"] == [
        "2025-12-24T00:00:00Z",
        "2025-12-25T00:00:00Z",
        "2026-01-01T00:00:00Z",
    ]
    assert created["Key"] and isinstance(created["Id"], int)
    key = created["Id"]

    assert api.ok(api.get(f"/odata/Calendars({key})")) | {"@odata.context": None} == created | {
        "@odata.context": None
    }
    listed = api.ok(api.get("/odata/Calendars?$filter=Name eq 'Holidays'"))["value"]
    assert [c["ExcludedDates"] for c in listed] == [created["ExcludedDates"]]

    # PUT without ExcludedDates keeps them; with them replaces them
    renamed = api.ok(api.put(f"/odata/Calendars({key})", {"Name": "Days off", "TimeZoneId": "Europe/Athens"}))
    assert renamed["Name"] == "Days off" and renamed["TimeZoneId"] == "Europe/Athens"
    assert renamed["ExcludedDates"] == created["ExcludedDates"]
    replaced = api.ok(api.put(f"/odata/Calendars({key})", {"Name": "Days off", "ExcludedDates": []}))
    assert replaced["ExcludedDates"] == [] and replaced["TimeZoneId"] == "Europe/Athens"

    api.ok(api.delete(f"/odata/Calendars({key})"), 204)
    assert_error(api.get(f"/odata/Calendars({key})"), 404)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (None, "UTC"),  # the tenant's zone (Abp.Timing.TimeZone) when none is sent
        ("gtb standard time", "GTB Standard Time"),
        ("europe/athens", "Europe/Athens"),
        ("America/New_York", "America/New_York"),
    ],
)
def test_time_zone_ids(api: Api, sent: str | None, kept: str) -> None:
    body: dict[str, Any] = {"Name": "C"} if sent is None else {"Name": "C", "TimeZoneId": sent}
    assert api.ok(api.post("/odata/Calendars", body), 201)["TimeZoneId"] == kept


def test_calendar_exists(api: Api) -> None:
    api.ok(api.post("/odata/Calendars", {"Name": "Holidays"}), 201)
    url = f"/odata/Calendars/{NS}.CalendarExists"
    assert api.ok(api.post(url, {"calendarName": "Holidays"}))["value"] is True
    assert api.ok(api.post(url, {"calendarName": "Other"}))["value"] is False
    for bad in (
        {"calendarName": ""},
        {"calendarName": "  "},
        {"calendarName": 5},
        {},
        [],
        {"calendarName": "x" * 257},
    ):
        assert_error(api.post(url, bad), 400)


def test_names_are_unique_per_tenant(api: Api, db: Engine) -> None:
    api.ok(api.post("/odata/Calendars", {"Name": "Holidays"}), 201)
    assert_error(api.post("/odata/Calendars", {"Name": "Holidays"}), 409)
    other = api.ok(api.post("/odata/Calendars", {"Name": "Other"}), 201)
    assert_error(api.put(f"/odata/Calendars({other['Id']})", {"Name": "Holidays"}), 409)
    assert stored(db) == 2


BAD = [
    ({}, "Name"),
    ({"Name": ""}, "Name"),
    ({"Name": "   "}, "Name"),
    ({"Name": None}, "Name"),
    ({"Name": "x" * 257}, "Name"),
    ({"Name": "C", "TimeZoneId": "Mars Standard Time"}, "TimeZoneId"),
    ({"Name": "C", "TimeZoneId": "localtime"}, "TimeZoneId"),
    ({"Name": "C", "TimeZoneId": 5}, "TimeZoneId"),
    ({"Name": "C", "TimeZoneId": "x" * 65}, "TimeZoneId"),
    ({"Name": "C", "ExcludedDates": "2025-12-25"}, "ExcludedDates"),
    ({"Name": "C", "ExcludedDates": {"a": 1}}, "ExcludedDates"),
    ({"Name": "C", "ExcludedDates": [5]}, "ExcludedDates"),
    ({"Name": "C", "ExcludedDates": [None]}, "ExcludedDates"),
    ({"Name": "C", "ExcludedDates": ["Christmas"]}, "ExcludedDates"),
    ({"Name": "C", "ExcludedDates": ["2025-13-01T00:00:00Z"]}, "ExcludedDates"),
    ({"Name": "C", "ExcludedDates": ["2025-12-25T00:00:00Z", "2025-02-30"]}, "ExcludedDates"),
    ({"Name": "C", "ExcludedDates": ["2025-12-25"] * 10_001}, "ExcludedDates"),
    ({"Name": "C", "Foo": 1}, "Foo"),
]


@pytest.mark.parametrize(("body", "named"), BAD, ids=[f"{i}-{b[1]}" for i, b in enumerate(BAD)])
def test_bad_input_is_a_400_and_nothing_is_stored(api: Api, db: Engine, body: Any, named: str) -> None:
    error = assert_error(api.post("/odata/Calendars", body), 400)
    assert named in error["message"]
    assert stored(db) == 0
    # the same on an edit: the calendar is unchanged
    key = api.ok(api.post("/odata/Calendars", {"Name": "Kept", "ExcludedDates": ["2025-01-01"]}), 201)["Id"]
    edit = {"Name": "Kept", **{k: v for k, v in body.items() if k != "Name"}} if "Name" in body else body
    if edit not in ({"Name": "Kept"}, {}):  # an empty PUT changes nothing
        assert_error(api.put(f"/odata/Calendars({key})", edit), 400)
    after = api.ok(api.get(f"/odata/Calendars({key})"))
    assert (after["Name"], after["TimeZoneId"], after["ExcludedDates"]) == (
        "Kept",
        "UTC",
        ["2025-01-01T00:00:00Z"],
    )


def test_settings_permissions(api: Api) -> None:
    api.ok(api.post("/odata/Calendars", {"Name": "Holidays"}), 201)
    viewer = user_with(api, "viewer", ["Settings.View"])
    assert [c["Name"] for c in api.ok(api.get("/odata/Calendars", token=viewer))["value"]] == ["Holidays"]
    url = f"/odata/Calendars/{NS}.CalendarExists"
    assert api.ok(api.post(url, {"calendarName": "Holidays"}, token=viewer))["value"] is True
    assert_error(api.post("/odata/Calendars", {"Name": "New"}, token=viewer), 403)
    key = api.ok(api.get("/odata/Calendars"))["value"][0]["Id"]
    assert_error(api.put(f"/odata/Calendars({key})", {"Name": "X"}, token=viewer), 403)
    assert_error(api.delete(f"/odata/Calendars({key})", token=viewer), 403)

    nobody = user_with(api, "nobody", ["Robots.View"])
    assert_error(api.get("/odata/Calendars", token=nobody), 403)
    assert_error(api.post(url, {"calendarName": "Holidays"}, token=nobody), 403)

    editor = user_with(
        api, "editor", ["Settings.View", "Settings.Create", "Settings.Edit", "Settings.Delete"]
    )
    new = api.ok(api.post("/odata/Calendars", {"Name": "New"}, token=editor), 201)
    api.ok(api.put(f"/odata/Calendars({new['Id']})", {"Name": "Newer"}, token=editor))
    api.ok(api.delete(f"/odata/Calendars({new['Id']})", token=editor), 204)


def test_tenants_see_only_their_calendars(api: Api, database_url: str) -> None:
    mine = api.ok(api.post("/odata/Calendars", {"Name": "Holidays", "ExcludedDates": ["2025-12-25"]}), 201)
    other = create_tenant_sync(database_url, "Other")
    theirs = run(
        database_url,
        lambda conn: _create_directly(conn, other.tenant_id, "Theirs"),
    )
    assert [c["Name"] for c in api.ok(api.get("/odata/Calendars"))["value"]] == ["Holidays"]
    assert_error(api.get(f"/odata/Calendars({theirs})"), 404)
    assert_error(api.put(f"/odata/Calendars({theirs})", {"Name": "Mine now"}), 404)
    assert_error(api.delete(f"/odata/Calendars({theirs})"), 404)

    tenant = api.tenant.tenant_id
    found = run(database_url, lambda conn: calendars.calendar_in_tenant(conn, tenant, mine["Id"]))
    assert found["name"] == "Holidays"
    for wrong in (theirs, 10**12, 0, "1", None, True):
        with pytest.raises(PodiumError) as caught:
            run(database_url, lambda conn, key=wrong: calendars.calendar_in_tenant(conn, tenant, key))
        assert caught.value.status == 400 and caught.value.message.startswith("CalendarId")
        with pytest.raises(PodiumError):
            run(database_url, lambda conn, key=wrong: calendars.excluded_dates(conn, tenant, key))


async def _create_directly(conn: AsyncConnection, tenant_id: int, name: str) -> int:
    await calendars.set_legacy_calendar(conn, tenant_id, {"TimeZoneId": "UTC", "ExcludedDates": []})
    row = await conn.execute(select(calendars_table.c.id).where(calendars_table.c.tenant_id == tenant_id))
    key: int = row.scalar_one()
    return key


def test_excluded_dates_drive_next_fire(api: Api, database_url: str) -> None:
    """A weekday-morning trigger with a calendar in Athens: skips the excluded days (read in the
    calendar's zone), fires as usual afterwards."""
    body = {
        "Name": "Greek holidays",
        "TimeZoneId": "GTB Standard Time",
        "ExcludedDates": ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-06T00:00:00Z"],
    }
    key = api.ok(api.post("/odata/Calendars", body), 201)["Id"]
    tenant = api.tenant.tenant_id
    excluded = run(database_url, lambda conn: calendars.excluded_dates(conn, tenant, key))
    assert excluded.time_zone_id == "GTB Standard Time" and excluded.zone.key == "Europe/Bucharest"
    assert excluded(dt.date(2026, 1, 1)) and dt.date(2026, 1, 6) in excluded and len(excluded) == 3
    assert not excluded(dt.date(2026, 1, 5))

    cron = parse_quartz("0 0 9 ? * MON-FRI")
    start = dt.datetime(2025, 12, 31, 12, tzinfo=dt.UTC)  # Wednesday
    fires = []
    after = start
    for _ in range(3):
        found = next_fire(cron, excluded.zone, after, excluded)
        assert found is not None
        fires.append(found)
        after = found
    # Thu 1 and Fri 2 excluded, Mon 5 fires, Tue 6 excluded, Wed 7 fires; 09:00 Athens is 07:00 UTC
    assert fires == [
        dt.datetime(2026, 1, 5, 7, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 7, 7, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 8, 7, tzinfo=dt.UTC),
    ]


def test_legacy_calendar_for_the_settings_area(api: Api, database_url: str, db: Engine) -> None:
    tenant = api.tenant.tenant_id
    assert run(database_url, lambda conn: calendars.legacy_calendar(conn, tenant)) == {
        "TimeZoneId": "UTC",
        "ExcludedDates": [],
    }
    body = {"TimeZoneId": "Pacific Standard Time", "ExcludedDates": ["2025-07-04T00:00:00Z"]}
    run(database_url, lambda conn: calendars.set_legacy_calendar(conn, tenant, body))
    assert run(database_url, lambda conn: calendars.legacy_calendar(conn, tenant)) == {
        "TimeZoneId": "Pacific Standard Time",
        "ExcludedDates": ["2025-07-04T00:00:00Z"],
    }
    run(database_url, lambda conn: calendars.set_legacy_calendar(conn, tenant, {"ExcludedDates": None}))
    listed = api.ok(api.get("/odata/Calendars"))["value"]
    assert [(c["Name"], c["TimeZoneId"], c["ExcludedDates"]) for c in listed] == [("BankHoliday", "UTC", [])]
    for bad in ({"TimeZoneId": "Nowhere"}, {"ExcludedDates": ["x"]}, {"Foo": 1}, [], "x"):
        with pytest.raises(PodiumError) as caught:
            run(database_url, lambda conn, b=bad: calendars.set_legacy_calendar(conn, tenant, b))
        assert caught.value.status == 400
    assert stored(db) == 1
    assert run(database_url, lambda conn: calendars.legacy_calendar(conn, tenant))["TimeZoneId"] == "UTC"


def test_settings_get_and_set_calendar(api: Api) -> None:
    ops = f"/odata/Settings/{NS}."
    first = api.ok(api.get(ops + "GetCalendar"))
    assert first["ExcludedDates"] == [] and first["TimeZoneId"]
    body = {"TimeZoneId": "Europe/Athens", "ExcludedDates": ["2030-12-25T00:00:00Z"]}
    api.ok(api.post(ops + "SetCalendar", body), 204)
    read = api.ok(api.get(ops + "GetCalendar"))
    assert read["TimeZoneId"] == "Europe/Athens" and read["ExcludedDates"] == ["2030-12-25T00:00:00Z"]
    listed = api.ok(api.get("/odata/Calendars?$filter=Name eq 'BankHoliday'"))["value"]
    assert len(listed) == 1
    assert_error(api.post(ops + "SetCalendar", {"TimeZoneId": "Nowhere"}), 400)
    assert_error(api.post(ops + "SetCalendar", {"Other": 1}), 400)
    assert api.ok(api.get(ops + "GetCalendar")) == read
    reader = user_with(api, "reader", ["Settings.View"])
    assert api.ok(api.get(ops + "GetCalendar", token=reader))["TimeZoneId"] == "Europe/Athens"
    assert_error(api.post(ops + "SetCalendar", body, token=reader), 403)
