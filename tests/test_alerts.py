"""Alerts: raised by a faulted job, an offline robot, a queue item failed with an application exception,
a queue's SLA at risk and a process; each user's own copy and read state; Alerts.View / Alerts.Create.

One app per backend for the module: each test looks at the alerts raised after it began."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from podium.db.engine import Database
from podium.db.schema import events
from podium.db.schema_robots import robot_sessions
from podium.db.types import utcnow
from podium.domain import alerts
from podium.domain import robot_sessions as sessions_domain
from tests.conftest import sync_engine
from tests.factories import NS, create_queue, listen, robot_with_token, seed_machine, start_jobs, user_with
from tests.queue_helpers import add_item, result, start
from tests.robots.helpers import connect
from tests.support import Api, assert_error, start_app

pytestmark = pytest.mark.usefixtures("cheap_password_hashes")
RAISE = f"/odata/Alerts/{NS}.RaiseProcessAlert"
MARK = f"/odata/Alerts/{NS}.MarkAsRead"
UNREAD = f"/odata/Alerts/{NS}.GetUnreadCount"


@pytest.fixture(scope="module")
def app(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with start_app(module_database_url, tmp_path_factory.mktemp("alerts")) as api:
        yield api


@pytest.fixture(scope="module")
def engine(module_database_url: str) -> Iterator[Engine]:
    engine = sync_engine(module_database_url)
    yield engine
    engine.dispose()


def newest(api: Api, name: str, token: str | None = None) -> dict[str, Any]:
    page = api.ok(
        api.get(
            f"/odata/Alerts?$filter=NotificationName eq '{name}'&$orderby=CreationTime desc&$top=1",
            token=token,
        )
    )["value"]
    assert page, f"no {name} alert"
    return dict(page[0])


def unread(api: Api, token: str | None = None) -> int:
    return int(api.ok(api.get(UNREAD, token=token))["value"])


def in_transaction(url: str, call: Any) -> Any:
    async def run() -> Any:
        database = Database(url)
        try:
            async with database.write() as conn:
                return await call(conn)
        finally:
            await database.dispose()

    return asyncio.run(run())


def test_faulted_job_and_offline_robot_raise_alerts(
    app: Api, engine: Engine, module_database_url: str
) -> None:
    machine = seed_machine(app, engine, name="AL")
    listen(app)  # the outbox keeps the alerts' events
    [job] = start_jobs(app, 1)
    [robot] = connect(app, machine)
    [assignment] = robot.next()["jobs"]
    assert robot.report(assignment["key"], "Running", claim=assignment["claim"]).status_code == 200
    assert robot.report(assignment["key"], "Faulted", info="boom").status_code == 200
    faulted = newest(app, "Job.Faulted")
    assert (faulted["Component"], faulted["Severity"], faulted["State"]) == ("Jobs", "Error", "Unread")
    data = orjson.loads(faulted["Data"])
    assert data["JobId"] == job["Id"] and data["Info"] == "boom"

    with engine.begin() as conn:  # the robot falls silent
        conn.execute(
            update(robot_sessions)
            .where(robot_sessions.c.robot_id == robot.robot_id)
            .values(reporting_time=utcnow() - dt.timedelta(minutes=10))
        )
    in_transaction(
        module_database_url, lambda conn: sessions_domain.disconnect_silent(conn, dt.timedelta(minutes=2))
    )
    offline = newest(app, "Robot.StatusChanged.Offline")
    assert (offline["Component"], offline["Severity"]) == ("Robots", "Fatal")
    assert orjson.loads(offline["Data"])["RobotName"] == robot.name
    with engine.connect() as conn:  # webhooks carry them: the outbox holds an event per alert
        keys = set(
            conn.execute(select(events.c.entity_key).where(events.c.type == alerts.EVENT_TYPE)).scalars()
        )
    assert {faulted["Id"], offline["Id"]} <= keys
    severe = app.ok(app.get("/odata/Alerts?$filter=Severity ge 'Error'&$select=Severity"))["value"]
    assert severe and {a["Severity"] for a in severe} <= {"Error", "Fatal"}


def test_queue_item_failed_with_application_exception(app: Api) -> None:
    create_queue(app, "alerting")
    item = add_item(app, "alerting", Reference="inv-7")
    assert start(app, "alerting")["Id"] == item["Id"]
    failure = {
        "IsSuccessful": False,
        "ProcessingException": {"Type": "ApplicationException", "Reason": "crashed"},
    }
    assert result(app, item["Id"], **failure).status_code == 200
    alert = newest(app, "QueueItem.Failed.ApplicationException")
    assert (alert["Component"], alert["Severity"]) == ("Transactions", "Error")
    data = orjson.loads(alert["Data"])
    assert (data["QueueName"], data["Reference"], data["Reason"]) == ("alerting", "inv-7", "crashed")
    business = add_item(app, "alerting", Reference="inv-8")
    start(app, "alerting")
    rejected = {"IsSuccessful": False, "ProcessingException": {"Type": "BusinessException", "Reason": "no"}}
    assert result(app, business["Id"], **rejected).status_code == 200
    assert newest(app, "QueueItem.Failed.ApplicationException")["Id"] == alert["Id"]  # none for it


def test_queue_sla_at_risk(app: Api, module_database_url: str) -> None:
    create_queue(app, "sla-q", SlaInMinutes=120, RiskSlaInMinutes=60)
    added = add_item(app, "sla-q")
    risk = dt.datetime.fromisoformat(added["RiskSlaDate"].replace("Z", "+00:00"))
    window = (risk - dt.timedelta(seconds=1), risk + dt.timedelta(seconds=1))
    raised = in_transaction(module_database_url, lambda conn: alerts.raise_sla_risks(conn, *window))
    assert raised == 1
    alert = newest(app, "Queue.Sla.AtRisk")
    assert (alert["Component"], alert["Severity"]) == ("Queues", "Warn")
    assert orjson.loads(alert["Data"])["ItemsAtRisk"] == 1
    later = (risk + dt.timedelta(seconds=1), risk + dt.timedelta(minutes=1))  # the next window: not again
    assert in_transaction(module_database_url, lambda conn: alerts.raise_sla_risks(conn, *later)) == 0


def test_read_state_is_each_users_own(app: Api) -> None:
    reader = user_with(app, "alert-reader", ["Alerts.View"])
    app.ok(app.post(RAISE, {"processAlert": {"Message": "check me", "Severity": "Warn"}}))
    mine, theirs = newest(app, "Process.Alert"), newest(app, "Process.Alert", token=reader)
    assert mine["Id"] == theirs["Id"] and mine["UserNotificationId"] != theirs["UserNotificationId"]
    before_mine, before_theirs = unread(app), unread(app, reader)
    # another user's notification: 404, and nothing changes for anyone
    assert_error(app.post(MARK, {"ids": [mine["UserNotificationId"]]}, token=reader), 404)
    assert_error(
        app.post(MARK, {"ids": [theirs["UserNotificationId"], mine["UserNotificationId"]]}, token=reader), 404
    )
    assert (unread(app), unread(app, reader)) == (before_mine, before_theirs)
    left = app.ok(app.post(MARK, {"ids": [mine["UserNotificationId"]]}))["value"]
    assert left == before_mine - 1 == unread(app)
    assert newest(app, "Process.Alert")["State"] == "Read"
    assert (
        newest(app, "Process.Alert", token=reader)["State"] == "Unread"
        and unread(app, reader) == before_theirs
    )


def test_permissions(app: Api) -> None:
    outsider = user_with(app, "alert-outsider", ["Robots.View"])
    for response in (app.get("/odata/Alerts", token=outsider), app.get(UNREAD, token=outsider)):
        assert_error(response, 403)
    assert_error(app.post(MARK, {"ids": []}, token=outsider), 403)
    assert_error(app.post(RAISE, {"processAlert": {"Message": "x"}}, token=outsider), 403)
    robot = robot_with_token(app, "alerting-robot")  # a robot raises without Alerts.Create
    app.ok(
        app.post(RAISE, {"processAlert": {"Message": "from a robot", "ProcessName": "p"}}, token=robot.token)
    )
    assert orjson.loads(newest(app, "Process.Alert")["Data"])["Message"] == "from a robot"


@pytest.mark.parametrize(
    "body",
    [
        {"processAlert": {"Message": "x" * 513}},
        {"processAlert": {"Message": "x", "Severity": "Loud"}},
        {"processAlert": {"Message": ""}},
        {"processAlert": "text"},
        {},
    ],
)
def test_bad_process_alerts_store_nothing(app: Api, body: dict[str, Any]) -> None:
    before = unread(app)
    assert_error(app.post(RAISE, body), 400)
    assert unread(app) == before


def test_bad_mark_as_read(app: Api) -> None:
    assert_error(app.post(MARK, {"ids": "not-a-list"}), 400)
    assert_error(app.post(MARK, {"ids": [1]}), 400)
    assert_error(app.post(MARK, {"ids": ["00000000-0000-0000-0000-000000000000"]}), 404)
