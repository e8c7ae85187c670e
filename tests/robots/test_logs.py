"""Robot logs: SubmitLogs / Logs from robots, job processes and users; RobotLogs filters, count, export."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from podium.db.schema_robots import robot_logs
from tests.factories import seed_machine, start_jobs
from tests.robots.helpers import connect
from tests.support import Api, assert_error

SUBMIT = "/api/Logs/SubmitLogs"


def _count(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(robot_logs)).scalar_one())


def test_submit_filter_count_export(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine)
    start_jobs(api)
    [job] = robot.next()["jobs"]
    entries = [
        {
            "message": "started",
            "level": "Information",
            "jobKey": job["key"],
            "timeStamp": "2026-01-02T03:04:05Z",
        },
        json.dumps({"message": "careful", "level": "Warn", "jobKey": job["key"]}),  # text, as robots send
        {"message": "broken pipe", "level": 4, "jobKey": job["key"], "processName": "custom"},
        {"message": "robot only", "level": "Trace"},
    ]
    response = api.client.post(SUBMIT, json=entries, headers=robot.headers())
    assert response.status_code == 204, response.text
    listed = api.ok(api.get("/odata/RobotLogs?$orderby=Id"))["value"]
    assert [e["Level"] for e in listed] == ["Info", "Warn", "Error", "Trace"]
    assert listed[0]["TimeStamp"] == "2026-01-02T03:04:05Z" and listed[0]["ProcessName"] == "proc"
    assert listed[0]["RobotName"] == "M1-robot-0" and listed[0]["MachineId"] == machine["Id"]
    assert listed[1]["RawMessage"] and listed[2]["ProcessName"] == "custom"

    def ids(query: str) -> list[str]:
        return [
            e["Message"] for e in api.ok(api.get(f"/odata/RobotLogs?$orderby=Id&$filter={query}"))["value"]
        ]

    assert ids(f"JobKey eq '{job['key']}'") == ["started", "careful", "broken pipe"]
    assert ids("Level eq 'Error'") == ["broken pipe"]
    assert ids("Level ge 'Warn'") == ["careful", "broken pipe"]
    assert ids("contains(Message,'care')") == ["careful"]
    assert ids("RobotName eq 'M1-robot-0' and ProcessName eq 'custom'") == ["broken pipe"]
    assert ids("TimeStamp lt 2026-06-01T00:00:00Z") == ["started"]
    total = api.ok(
        api.get("/odata/RobotLogs/UiPath.Server.Configuration.OData.GetTotalCount?$filter=Level ge 'Warn'")
    )
    assert total["value"] == 2
    export = api.ok(
        api.post("/odata/RobotLogs/UiPath.Server.Configuration.OData.Export?$filter=Level eq 'Error'")
    )
    assert export["Type"] == "Logs" and export["Status"] == "Completed"
    csv = api.client.get(f"/api/Exports/{export['Id']}/Download", headers=api.headers()).text
    assert "broken pipe" in csv and "careful" not in csv

    # a job's process logs with its own token: the entries belong to its job
    token = job["accessToken"]
    single = api.client.post(
        "/api/Logs",
        json={"message": "from the job", "level": "Debug"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert single.status_code == 204, single.text
    assert ids("Message eq 'from the job'") == ["from the job"]
    assert (
        api.ok(api.get("/odata/RobotLogs?$filter=Message eq 'from the job'"))["value"][0]["JobKey"]
        == job["key"]
    )
    # an administrator too
    assert api.post("/api/Logs", {"message": "by hand", "level": "Fatal"}).status_code == 204


def test_bad_batches_write_nothing(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine)
    good = {"message": "ok", "level": "Info"}
    for batch in (
        [good, {"message": "x", "level": "Loud"}],
        [good, {"level": "Info"}],
        [good, {"message": "x", "timeStamp": "yesterday"}],
        [good, {"message": "x", "jobKey": "00000000-0000-0000-0000-000000000000"}],
        [good, {"message": "x", "jobKey": 12}],
        [good, "{not json"],
        [good, 7],
        {"message": "not a list"},
        [good] * 1001,
    ):
        body = assert_error(api.client.post(SUBMIT, json=batch, headers=robot.headers()), 400)
        assert body["message"]
    assert_error(api.client.post(SUBMIT, content=b"{", headers=robot.headers()), 400)
    assert_error(api.client.post(SUBMIT, json=[good]), 401)
    assert _count(db) == 0
