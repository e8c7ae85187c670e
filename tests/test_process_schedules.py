"""Triggers (``/odata/ProcessSchedules``, ``domain/process_schedules.py``): CRUD with the fields of
ProcessScheduleDto (names joined, not copied), SetEnabled, GetRobotIdsForSchedule,
ValidateProcessSchedule, the Schedules permissions, and bad input refused with nothing stored."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from podium.db.schema import releases, robots
from podium.db.schema_calendars import calendars
from podium.db.schema_process_schedules import process_schedules
from podium.db.types import utcnow
from tests.factories import create_queue, seed_machine, user_with
from tests.support import Api, assert_error, create_tenant_sync

NS = "UiPath.Server.Configuration.OData"
SCHEDULES = "/odata/ProcessSchedules"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


def release_id(api: Api, db: Engine) -> int:
    seed_machine(api, db)
    found = api.ok(api.get("/odata/Releases?$filter=Name eq 'proc'", folder="Shared"))["value"]
    return int(found[0]["Id"])


def trigger_body(release: int, **fields: Any) -> dict[str, Any]:
    return {
        "Name": "nightly",
        "ReleaseId": release,
        "StartProcessCron": "0 0 9 ? * MON-FRI",
        "StartProcessCronDetails": '{"type":5,"advancedCronExpression":"0 0 9 ? * MON-FRI"}',
        "TimeZoneId": "GTB Standard Time",
        "StartStrategy": 2,
        "InputArguments": '{"n": 1}',
        **fields,
    }


def stored(db: Engine) -> int:
    with db.connect() as conn:
        count: int = conn.execute(select(func.count()).select_from(process_schedules)).scalar_one()
    return count


def test_create_read_edit_delete(api: Api, db: Engine) -> None:
    release = release_id(api, db)
    calendar = api.ok(api.post("/odata/Calendars", {"Name": "Holidays", "ExcludedDates": []}), 201)
    created = api.ok(
        api.post(SCHEDULES, trigger_body(release, CalendarId=calendar["Id"]), folder="Shared"), 201
    )
    assert created["Name"] == "nightly" and created["Enabled"] is True
    assert created["StartProcessCron"] == "0 0 9 ? * MON-FRI"
    assert created["StartProcessCronDetails"] == '{"type":5,"advancedCronExpression":"0 0 9 ? * MON-FRI"}'
    assert created["StartProcessCronSummary"]
    assert created["StartProcessNextOccurrence"].endswith("Z")
    assert created["TimeZoneId"] == "GTB Standard Time" and created["TimeZoneIana"] == "Europe/Bucharest"
    assert created["ReleaseName"] == "proc" and created["PackageName"] == "proc"
    assert created["CalendarId"] == calendar["Id"] and created["CalendarName"] == "Holidays"
    assert created["StartStrategy"] == 2 and created["ExecutorRobots"] == []
    assert created["InputArguments"] == '{"n": 1}' and created["JobPriority"] is None
    key = created["Id"]

    # the calendar's name is read from the calendar: a rename shows at once
    api.ok(api.put(f"/odata/Calendars({calendar['Id']})", {"Name": "Days off"}))
    assert api.ok(api.get(f"{SCHEDULES}({key})", folder="Shared"))["CalendarName"] == "Days off"
    listed = api.ok(api.get(f"{SCHEDULES}?$filter=CalendarName eq 'Days off'&$count=true", folder="Shared"))
    assert [t["Id"] for t in listed["value"]] == [key] and listed["@odata.count"] == 1
    assert api.ok(api.get(f"{SCHEDULES}?$filter=ReleaseName eq 'other'", folder="Shared"))["value"] == []

    # a client PUTs the whole DTO back with the read-only fields as it read them
    edited = {**created, "StartProcessCron": "0 30 8 ? * *", "TimeZoneId": "Europe/Paris", "CalendarId": None}
    edited.pop("@odata.context")
    answer = api.ok(api.put(f"{SCHEDULES}({key})", edited, folder="Shared"))
    assert answer["StartProcessCron"] == "0 30 8 ? * *" and answer["CalendarName"] is None
    assert answer["TimeZoneId"] == "Europe/Paris" and answer["TimeZoneIana"] == "Europe/Paris"
    assert answer["StartProcessNextOccurrence"] != created["StartProcessNextOccurrence"]

    api.ok(api.delete(f"{SCHEDULES}({key})", folder="Shared"), 204)
    assert stored(db) == 0
    api.ok(api.delete(f"/odata/Calendars({calendar['Id']})"), 204)


def test_bad_input_stores_nothing(api: Api, db: Engine, database_url: str) -> None:
    release = release_id(api, db)
    other = create_tenant_sync(database_url, "Other")
    with db.begin() as conn:
        foreign = conn.execute(
            insert(calendars)
            .values(
                tenant_id=other.tenant_id,
                key=str(uuid.uuid4()),
                name="theirs",
                time_zone_id="UTC",
                excluded_dates="[]",
            )
            .returning(calendars.c.id)
        ).scalar_one()
    team = api.ok(api.post("/odata/Folders", {"DisplayName": "Team"}, folder="Shared"), 201)
    with db.begin() as conn:
        elsewhere = conn.execute(
            insert(releases)
            .values(
                tenant_id=api.tenant.tenant_id,
                folder_id=team["Id"],
                key=str(uuid.uuid4()),
                name="theirs",
                process_key="theirs",
                creation_time=utcnow(),
            )
            .returning(releases.c.id)
        ).scalar_one()
    cases: list[tuple[dict[str, Any], str]] = [
        (trigger_body(elsewhere), "ReleaseId"),  # a release of another folder
        (trigger_body(release, StartProcessCron="0 9 * * 1-5"), "StartProcessCron"),
        (trigger_body(release, StartProcessCron="0 0 9 * * MON"), "StartProcessCron"),
        (trigger_body(release, TimeZoneId="Mars/Olympus"), "TimeZoneId"),
        (trigger_body(release, CalendarId=foreign), "CalendarId"),
        (trigger_body(release + 1000), "ReleaseId"),
        (trigger_body(release, StartProcessCronDetails="{not json"), "StartProcessCronDetails"),
        (trigger_body(release, InputArguments="[1]"), "InputArguments"),
        (trigger_body(release, StartStrategy=-2), "StartStrategy"),
        (trigger_body(release, StartStrategy=0), "ExecutorRobots"),
        (trigger_body(release, ExecutorRobots=[{"Id": 1}]), "ExecutorRobots"),
        (trigger_body(release, StopProcessExpression="soon"), "StopProcessExpression"),
        (trigger_body(release, NoSuchField=1), "NoSuchField"),
        ({k: v for k, v in trigger_body(release).items() if k != "TimeZoneId"}, "TimeZoneId"),
        ({k: v for k, v in trigger_body(release).items() if k != "Name"}, "Name"),
        ({k: v for k, v in trigger_body(release).items() if k != "StartProcessCron"}, "StartProcessCron"),
    ]
    for body, field in cases:
        error = assert_error(api.post(SCHEDULES, body, folder="Shared"), 400)
        assert field in error["message"], (field, error["message"])
    queue = create_queue(api)
    negative = trigger_body(release, QueueDefinitionId=queue["Id"], ItemsActivationThreshold=-1)
    assert (
        "ItemsActivationThreshold"
        in assert_error(api.post(SCHEDULES, negative, folder="Shared"), 400)["message"]
    )
    assert stored(db) == 0

    # a PUT with bad input changes nothing
    created = api.ok(api.post(SCHEDULES, trigger_body(release), folder="Shared"), 201)
    bad = trigger_body(release, StartProcessCron="*/5 * * * *")
    assert (
        "Quartz"
        in assert_error(api.put(f"{SCHEDULES}({created['Id']})", bad, folder="Shared"), 400)["message"]
    )
    again = api.ok(api.get(f"{SCHEDULES}({created['Id']})", folder="Shared"))
    assert again["StartProcessCron"] == created["StartProcessCron"]


def test_actions_and_permissions(api: Api, db: Engine) -> None:
    release = release_id(api, db)
    with db.connect() as conn:
        robot_ids = sorted(row.id for row in conn.execute(select(robots.c.id)))
    specific = trigger_body(release, Name="specific", StartStrategy=0, ExecutorRobots=[{"Id": robot_ids[0]}])
    first = api.ok(api.post(SCHEDULES, specific, folder="Shared"), 201)
    second = api.ok(api.post(SCHEDULES, trigger_body(release), folder="Shared"), 201)
    ids = api.ok(api.get(f"{SCHEDULES}/{NS}.GetRobotIdsForSchedule(key={first['Id']})", folder="Shared"))
    assert ids["value"] == [robot_ids[0]]

    off = {"scheduleIds": [first["Id"], second["Id"]], "enabled": False}
    assert api.ok(api.post(f"{SCHEDULES}/{NS}.SetEnabled", off, folder="Shared"))["value"] is True
    read = api.ok(api.get(f"{SCHEDULES}?$orderby=Id", folder="Shared"))["value"]
    assert [(t["Enabled"], t["StartProcessNextOccurrence"]) for t in read] == [(False, None), (False, None)]
    on = {"scheduleIds": [first["Id"]], "enabled": True}
    api.ok(api.post(f"{SCHEDULES}/{NS}.SetEnabled", on, folder="Shared"))
    assert api.ok(api.get(f"{SCHEDULES}({first['Id']})", folder="Shared"))["StartProcessNextOccurrence"]
    missing = {"scheduleIds": [first["Id"], 999_999], "enabled": False}
    assert_error(api.post(f"{SCHEDULES}/{NS}.SetEnabled", missing, folder="Shared"), 404)
    assert api.ok(api.get(f"{SCHEDULES}({first['Id']})", folder="Shared"))["Enabled"] is True

    valid = api.ok(
        api.post(
            f"{SCHEDULES}/{NS}.ValidateProcessSchedule",
            {"processSchedule": trigger_body(release)},
            folder="Shared",
        )
    )
    assert valid["IsValid"] is True and valid["Errors"] == []
    invalid = api.ok(
        api.post(
            f"{SCHEDULES}/{NS}.ValidateProcessSchedule",
            {"processSchedule": trigger_body(release, TimeZoneId="Nowhere")},
            folder="Shared",
        )
    )
    assert invalid["IsValid"] is False and "TimeZoneId" in invalid["Errors"][0]
    assert stored(db) == 2

    viewer = user_with(api, "viewer", ["Schedules.View"])
    assert len(api.ok(api.get(SCHEDULES, folder="Shared", token=viewer))["value"]) == 2
    assert_error(api.post(SCHEDULES, trigger_body(release, Name="x"), folder="Shared", token=viewer), 403)
    assert_error(api.post(f"{SCHEDULES}/{NS}.SetEnabled", off, folder="Shared", token=viewer), 403)
    assert_error(api.delete(f"{SCHEDULES}({first['Id']})", folder="Shared", token=viewer), 403)
    nobody = user_with(api, "nobody", ["Jobs.View"])
    assert_error(api.get(SCHEDULES, folder="Shared", token=nobody), 403)
    with db.begin() as conn:
        conn.execute(update(process_schedules).values(disabled_reason="why", last_fire_time=utcnow()))
    assert api.ok(api.get(f"{SCHEDULES}({first['Id']})", folder="Shared"))["DisabledReason"] == "why"


def test_preview_answers_the_summary_and_next_occurrences(api: Api, db: Engine) -> None:
    calendar = api.ok(api.post("/odata/Calendars", {"Name": "Off", "ExcludedDates": []}), 201)
    preview = f"{SCHEDULES}/{NS}.PreviewSchedule"
    body = {"cron": "0 0 9 ? * MON-FRI", "timeZoneId": "Europe/Athens", "count": 3}
    answer = api.ok(api.post(preview, body, folder="Shared"))
    assert answer["TimeZoneIana"] == "Europe/Athens" and "9" in answer["Summary"]
    firsts = answer["Occurrences"]
    assert len(firsts) == 3 and firsts == sorted(firsts)
    # every occurrence is 09:00 in Athens on a weekday
    for text in firsts:
        local = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Athens"))
        assert (local.hour, local.minute) == (9, 0) and local.weekday() < 5
    # a calendar that takes the first day off moves the first occurrence to the next one
    first_day = datetime.fromisoformat(firsts[0].replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Athens"))
    days = [f"{first_day.date().isoformat()}T00:00:00Z"]
    edited = {"Name": "Off", "TimeZoneId": "Europe/Athens", "ExcludedDates": days}
    api.ok(api.put(f"/odata/Calendars({calendar['Id']})", edited))
    skipped = api.ok(api.post(preview, {**body, "calendarId": calendar["Id"]}, folder="Shared"))
    assert skipped["Occurrences"][:2] == firsts[1:]
    assert_error(api.post(preview, {**body, "cron": "0 9 * * 1-5"}, folder="Shared"), 400)
    assert_error(api.post(preview, {**body, "timeZoneId": "Mars/Base"}, folder="Shared"), 400)
    assert_error(api.post(preview, {**body, "count": 500}, folder="Shared"), 400)
    assert_error(api.post(preview, {**body, "calendarId": 999_999}, folder="Shared"), 400)
