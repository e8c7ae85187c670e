"""Sessions actions of an administrator: DeleteInactiveUnattendedSessions, SetMaintenanceMode (a host in
maintenance gets no new job; a stop strategy stops its running jobs), GetUsernames, and the host
runtimes views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from podium.db.schema_robots import robot_sessions
from podium.db.types import utcnow
from tests.factories import seed_machine, start_jobs
from tests.robots.helpers import RobotClient, connect, job
from tests.support import Api, assert_error

ACTIONS = "/odata/Sessions/UiPath.Server.Configuration.OData."


def _sessions(api: Api) -> dict[int, dict[str, Any]]:
    """Robot id → its session."""
    return {s["RobotId"]: s for s in api.ok(api.get("/odata/Sessions"))["value"]}


def _silence(db: Engine, robot: RobotClient, minutes: int) -> None:
    with db.begin() as conn:
        conn.execute(
            update(robot_sessions)
            .where(robot_sessions.c.robot_id == robot.robot_id)
            .values(reporting_time=utcnow() - dt.timedelta(minutes=minutes))
        )


def _maintenance(api: Api, session_id: int, mode: str, strategy: str | None = None) -> Any:
    body = {"sessionId": session_id, "maintenanceMode": mode, "stopJobsStrategy": strategy}
    return api.post(ACTIONS + "SetMaintenanceMode", body)


def test_delete_inactive_sessions_all_or_none(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db, robots=3)
    robots = connect(api, machine)
    live, gone, silent = robots
    assert (
        api.client.post(
            "/api/robot/disconnect", json={"agentId": gone.agent_id}, headers=gone.headers()
        ).status_code
        == 204
    )
    sessions = _sessions(api)
    assert sessions[gone.robot_id]["State"] == "Disconnected"
    ids = {r.robot_id: sessions[r.robot_id]["Id"] for r in robots}

    # a connected, responsive session in the list: 400, and nothing is deleted
    error = assert_error(
        api.post(
            ACTIONS + "DeleteInactiveUnattendedSessions",
            {"sessionIds": [ids[gone.robot_id], ids[live.robot_id]]},
        ),
        400,
    )
    assert str(ids[live.robot_id]) in error["message"]
    assert len(_sessions(api)) == 3
    # unknown session: 404, nothing deleted
    assert_error(
        api.post(ACTIONS + "DeleteInactiveUnattendedSessions", {"sessionIds": [ids[gone.robot_id], 999999]}),
        404,
    )
    for bad in ({}, {"sessionIds": []}, {"sessionIds": ["1"]}, {"sessionIds": [True]}):
        assert_error(api.post(ACTIONS + "DeleteInactiveUnattendedSessions", bad), 400)
    assert len(_sessions(api)) == 3

    # the disconnected one, and one silent for more than four heartbeat intervals (unresponsive)
    job_id = start_jobs(api)[0]["Id"]
    assert [j["id"] for j in silent.next()["jobs"]] == [job_id]
    _silence(db, silent, minutes=5)
    response = api.post(
        ACTIONS + "DeleteInactiveUnattendedSessions",
        {"sessionIds": [ids[gone.robot_id], ids[silent.robot_id]]},
    )
    assert response.status_code == 204, response.text
    assert set(_sessions(api)) == {live.robot_id}
    faulted = job(api, job_id)
    assert faulted["State"] == "Faulted" and "deleted" in faulted["Info"]
    # the robot of a deleted session must connect again
    assert_error(silent.heartbeat(), 409)
    again = connect(api, machine, agent_id=silent.agent_id)
    assert silent.robot_id in {r.robot_id for r in again}
    assert silent.robot_id in _sessions(api)


def test_delete_inactive_needs_robots_delete(api: Api, db: Engine) -> None:
    robot = connect(api, seed_machine(api, db))[0]
    robot_session = _sessions(api)[robot.robot_id]["Id"]
    response = api.post(
        ACTIONS + "DeleteInactiveUnattendedSessions",
        {"sessionIds": [robot_session]},
        token=robot.token,  # a robot token: no Robots.Delete
    )
    assert_error(response, 403)
    assert robot.robot_id in _sessions(api)


def test_maintenance_takes_the_host_out_of_dispatch(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db, robots=2)
    first, second = connect(api, machine)
    session_id = _sessions(api)[first.robot_id]["Id"]
    running = start_jobs(api)[0]["Id"]
    assert [j["id"] for j in first.next()["jobs"]] == [running]

    assert _maintenance(api, session_id, "Enabled").status_code == 204
    # the whole host (both robots of the agent) is in maintenance; the running job goes on
    runtimes = api.ok(api.get(ACTIONS + "GetMachineSessionRuntimes"))["value"]
    assert {r["MaintenanceMode"] for r in runtimes} == {"Enabled"}
    assert {r["SessionId"] for r in runtimes} == {s["Id"] for s in _sessions(api).values()}
    assert job(api, running)["State"] == "Running"
    assert {r["UsedRuntimes"] for r in runtimes if r["SessionId"] == session_id} == {1}

    pending = start_jobs(api)[0]["Id"]
    assert second.next()["jobs"] == []
    assert job(api, pending)["State"] == "Pending"
    assert first.report(first.running.popitem()[0], "Successful").status_code == 200
    assert first.next()["jobs"] == []

    assert _maintenance(api, session_id, "Default").status_code == 204
    taken = first.next()["jobs"] + second.next()["jobs"]
    assert [j["id"] for j in taken] == [pending]
    runtimes = api.ok(api.get(ACTIONS + "GetMachineSessionRuntimes"))["value"]
    assert {r["MaintenanceMode"] for r in runtimes} == {"Default"}


def test_maintenance_stops_running_jobs_with_the_strategy(api: Api, db: Engine) -> None:
    soft, kill = connect(api, seed_machine(api, db, robots=1, name="A"))[0], None
    kill = connect(api, seed_machine(api, db, robots=1, name="B"))[0]
    sessions = _sessions(api)
    started = start_jobs(api, count=2)
    soft_job = soft.next()["jobs"][0]["id"]
    kill_job = kill.next()["jobs"][0]["id"]
    assert {soft_job, kill_job} == {j["Id"] for j in started}

    assert _maintenance(api, sessions[soft.robot_id]["Id"], "Enabled", "SoftStop").status_code == 204
    assert job(api, soft_job)["State"] == "Stopping"
    assert job(api, kill_job)["State"] == "Running"  # another host
    commands = api.ok(soft.heartbeat())["commands"]
    assert [(c["state"], c["action"]) for c in commands] == [("Stopping", "Stop")]

    assert _maintenance(api, sessions[kill.robot_id]["Id"], 1, 2).status_code == 204  # numbers too
    assert job(api, kill_job)["State"] == "Terminating"
    assert [c["action"] for c in api.ok(kill.heartbeat())["commands"]] == ["Kill"]


def test_set_maintenance_mode_bad_input(api: Api, db: Engine) -> None:
    robot = connect(api, seed_machine(api, db))[0]
    session_id = _sessions(api)[robot.robot_id]["Id"]
    assert_error(_maintenance(api, 999999, "Enabled"), 404)
    assert_error(_maintenance(api, session_id, "Sometimes"), 400)
    assert_error(_maintenance(api, session_id, "Enabled", "Gently"), 400)
    assert_error(api.post(ACTIONS + "SetMaintenanceMode", {"maintenanceMode": "Enabled"}), 400)
    assert_error(api.post(ACTIONS + "SetMaintenanceMode", {"sessionId": "1", "maintenanceMode": 1}), 400)
    with db.begin() as conn:
        enabled = conn.execute(
            select(func.count()).select_from(robot_sessions).where(robot_sessions.c.maintenance_mode != 0)
        ).scalar_one()
    assert enabled == 0


def test_usernames_and_runtimes_of_a_folder(api: Api, db: Engine) -> None:
    robots = connect(api, seed_machine(api, db, robots=2))
    names = api.ok(api.get(ACTIONS + "GetUsernames"))
    assert names["value"] == ["m1\\r0", "m1\\r1"]
    folder_id = api.tenant.shared_folder_id
    url = ACTIONS + f"GetMachineSessionRuntimesByFolderId(folderId={folder_id})"
    rows = api.ok(api.get(url))["value"]
    assert len(rows) == 2
    first = rows[0]
    assert first["RuntimeType"] == "Unattended" and first["Status"] == "Available"
    assert first["HostMachineName"] == "host-M1" and first["Runtimes"] == 1
    assert first["IsUnresponsive"] is False and first["ServiceUserName"] in ("m1\\r0", "m1\\r1")
    one = api.ok(api.get(url + f"?robotId={robots[1].robot_id}"))["value"]
    assert [r["SessionId"] for r in one] == [_sessions(api)[robots[1].robot_id]["Id"]]
    assert api.ok(api.get(url + "?runtimeType=NonProduction"))["value"] == []
    assert_error(api.get(url + "?runtimeType=Nope"), 400)
    assert api.ok(api.get(ACTIONS + "GetMachineSessionRuntimesByFolderId(folderId=999999)"))["value"] == []
    _silence(db, robots[0], minutes=5)
    rows = api.ok(api.get(ACTIONS + "GetMachineSessionRuntimes?$top=1"))["value"]
    assert len(rows) == 1 and rows[0]["IsUnresponsive"] is True
    # the OData options of a stored list, on the computed runtimes
    session_of = {robot_id: session["Id"] for robot_id, session in _sessions(api).items()}
    silent, talking = session_of[robots[0].robot_id], session_of[robots[1].robot_id]
    runtimes = ACTIONS + "GetMachineSessionRuntimes"
    listed = api.ok(api.get(runtimes, params={"$filter": "IsUnresponsive eq false", "$select": "SessionId"}))
    assert listed["value"] == [{"SessionId": talking}] and listed["@odata.count"] == 1
    newest = {"$filter": "RuntimeType eq 'Unattended' and Status ne 'Busy'", "$orderby": "SessionId desc"}
    assert [r["SessionId"] for r in api.ok(api.get(url, params=newest))["value"]] == sorted(
        [silent, talking], reverse=True
    )
    a_minute_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stale = api.ok(api.get(url, params={"$filter": f"ReportingTime lt {a_minute_ago}"}))
    assert [r["SessionId"] for r in stale["value"]] == [silent]
    assert_error(api.get(url + "?$filter=Machine/Name eq 'M1'"), 400)
