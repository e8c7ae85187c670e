"""The robot protocol over HTTP (in process): connect, heartbeats, sessions, dispatch, results, stop."""

from __future__ import annotations

import threading
import time

from sqlalchemy import update
from sqlalchemy.engine import Engine

from podium.db.schema_robots import robot_sessions
from podium.db.types import utcnow
from podium.robot.messages import Assignment, ConnectAnswer
from tests.factories import seed_machine, start_jobs
from tests.robots.helpers import FOLDER, connect, job
from tests.support import Api, assert_error


def test_unknown_machine_key_and_bad_connect(api: Api, db: Engine) -> None:
    body = {"machineKey": "no-such-key", "hostMachineName": "h", "agentId": "a"}
    assert_error(api.client.post("/api/robot/connect", json=body), 401)
    machine = seed_machine(api, db)
    assert_error(
        api.client.post("/api/robot/connect", json={**body, "machineKey": machine["Key"], "capacity": 0}), 400
    )
    assert_error(api.client.post("/api/robot/connect", content=b"[1,"), 400)
    good = {**body, "machineKey": machine["Key"]}
    for bad in ({"agentId": "x" * 37}, {"hostMachineName": ""}, {"capacity": True}, {"robotName": 7}):
        assert_error(api.client.post("/api/robot/connect", json={**good, **bad}), 400)
    [robot] = connect(api, machine)
    for bad in ({"wait": 121}, {"wait": "5"}, {"free": -1}, {"free": True}, {"running": ["x"]}):
        poll = {"agentId": robot.agent_id, "wait": 0, **bad}
        assert_error(api.client.post("/api/robot/jobs/next", json=poll, headers=robot.headers()), 400)
    assert_error(api.client.post("/api/robot/heartbeat", json={"agentId": "a"}), 401)
    assert_error(
        api.client.post(
            "/api/robot/heartbeat", json={"agentId": "a"}, headers={"Authorization": f"Bearer {api.token}"}
        ),
        401,
    )  # a user token


def test_sessions_follow_heartbeats_and_disconnect(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db, robots=2)
    body = {"machineKey": machine["Key"], "hostMachineName": "host-M1", "agentId": "agent-0", "capacity": 2}
    answer = api.ok(api.client.post("/api/robot/connect", json=body))
    assert ConnectAnswer.from_json(answer).to_json() == answer
    assert [r["capacity"] for r in answer["robots"]] == [2, 2] and answer["heartbeatSeconds"] > 0
    robots = connect(api, machine)
    assert len(robots) == 2
    sessions = api.ok(api.get("/odata/Sessions?$expand=Robot&$orderby=Id"))["value"]
    assert [s["State"] for s in sessions] == ["Available", "Available"]
    assert sessions[0]["Robot"]["Name"] == "M1-robot-0" and sessions[0]["HostMachineName"] == "host-M1"
    assert sessions[0]["MachineName"] == "M1"
    machine_sessions = api.ok(
        api.get(f"/odata/Sessions/UiPath.Server.Configuration.OData.GetMachineSessions(key={machine['Id']})")
    )
    assert len(machine_sessions["value"]) == 2
    assert api.ok(robots[0].heartbeat()) == {"commands": []}
    robots[0].running = {"x" * 36: "Running"}  # a busy robot says so
    api.ok(robots[0].heartbeat())
    assert (
        api.ok(api.get(f"/odata/Sessions?$filter=RobotId eq {robots[0].robot_id}"))["value"][0]["State"]
        == "Busy"
    )
    # a heartbeat from another agent than the session's: 409, the agent must connect again
    other = robots[1]
    other.agent_id = "someone-else"
    assert_error(other.heartbeat(), 409)
    # silent robots: the sweep disconnects them
    with db.begin() as conn:
        conn.execute(update(robot_sessions).values(reporting_time=utcnow().replace(year=2000)))
    api.client.portal.call(api.client.app.state.services.run_now, "robot-sweep")  # type: ignore[attr-defined]
    states = {s["State"] for s in api.ok(api.get("/odata/Sessions"))["value"]}
    assert states == {"Disconnected"}


def test_jobs_count_dispatch_results_and_ownership(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db, robots=2)
    first, second = connect(api, machine)
    started = start_jobs(api, 3, InputArguments='{"a": 1}')
    got = first.next()["jobs"]
    assert len(got) == 1  # one job at a time
    assignment = got[0]
    assert assignment["processKey"] == "proc" and assignment["processVersion"] == "1.0.0"
    assert assignment["inputArguments"] == '{"a": 1}' and assignment["folderPath"] == FOLDER
    assert assignment["robotKey"] == first.robot_key and assignment["accessToken"]
    assert Assignment.from_json(assignment).to_json() == assignment  # the one type, on the wire as is
    running = job(api, assignment["id"])
    assert running["State"] == "Running" and running["StartTime"] and running["HostMachineName"] == "host-M1"
    assert running["RobotId"] == first.robot_id
    assert first.next()["jobs"] == []  # busy
    second_jobs = second.next()["jobs"]
    assert len(second_jobs) == 1 and second_jobs[0]["id"] != assignment["id"]
    # only the robot holding the job reports on it
    assert_error(second.report(assignment["key"], "Successful"), 403)
    assert_error(first.report(assignment["key"], "Finished"), 400)
    assert_error(first.report(assignment["key"], "Successful", outputArguments="[1]"), 400)
    assert_error(first.report("00000000-0000-0000-0000-000000000000", "Successful"), 404)
    assert job(api, assignment["id"])["State"] == "Running"
    api.ok(first.report(assignment["key"], "Successful", outputArguments={"answer": 42}))
    done = job(api, assignment["id"])
    assert done["State"] == "Successful" and done["OutputArguments"] == '{"answer":42}' and done["EndTime"]
    assert_error(first.report(assignment["key"], "Faulted"), 409)
    first.running.clear()
    third = first.next()["jobs"]
    assert len(third) == 1
    api.ok(first.report(third[0]["key"], "Faulted", info="ValueError: boom\nTraceback ..."))
    assert job(api, third[0]["id"])["Info"].startswith("ValueError: boom")
    assert {j["Id"] for j in started} == {assignment["id"], second_jobs[0]["id"], third[0]["id"]}


def test_soft_stop_and_kill_reach_the_robot(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine, capacity=2)
    start_jobs(api, 2)
    jobs = robot.next()["jobs"]
    assert len(jobs) == 2
    stop = "/odata/Jobs/UiPath.Server.Configuration.OData.StopJobs"
    api.ok(api.post(stop, {"jobIds": [jobs[0]["id"]], "strategy": "SoftStop"}, folder=FOLDER))
    api.ok(api.post(stop, {"jobIds": [jobs[1]["id"]], "strategy": "Kill"}, folder=FOLDER))
    commands = api.ok(robot.heartbeat())["commands"]
    assert sorted((c["jobKey"], c["action"]) for c in commands) == sorted(
        [(jobs[0]["key"], "Stop"), (jobs[1]["key"], "Kill")]
    )
    robot.running = {jobs[0]["key"]: "Stopping", jobs[1]["key"]: "Terminating"}
    assert api.ok(robot.heartbeat())["commands"] == []  # already seen
    api.ok(robot.report(jobs[0]["key"], "Stopped"))
    api.ok(robot.report(jobs[1]["key"], "Stopped"))
    assert {job(api, j["id"])["State"] for j in jobs} == {"Stopped"}


def test_long_poll_wakes_when_a_job_starts(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine)
    answer: dict[str, object] = {}

    def poll() -> None:
        began = time.monotonic()
        answer["result"] = robot.next(wait=20)
        answer["seconds"] = time.monotonic() - began

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.5)  # the poll is waiting
    [started] = start_jobs(api)
    thread.join(timeout=25)
    result = answer["result"]
    assert isinstance(result, dict) and [j["id"] for j in result["jobs"]] == [started["Id"]]
    assert float(answer["seconds"]) < 15  # woken, not timed out  # type: ignore[arg-type]


def test_stop_wakes_a_waiting_poll(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine, capacity=1)
    [started] = start_jobs(api)
    [assignment] = robot.next()["jobs"]
    answer: dict[str, object] = {}
    thread = threading.Thread(target=lambda: answer.update(result=robot.next(wait=20, free=0)))
    thread.start()
    time.sleep(0.5)
    stop = "/odata/Jobs/UiPath.Server.Configuration.OData.StopJobs"
    api.ok(api.post(stop, {"jobIds": [started["Id"]], "strategy": "SoftStop"}, folder=FOLDER))
    thread.join(timeout=25)
    result = answer["result"]
    assert isinstance(result, dict)
    assert result["commands"] == [{"jobKey": assignment["key"], "state": "Stopping", "action": "Stop"}]


def test_silent_robot_faults_its_job(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine)
    [started] = start_jobs(api)
    robot.next()
    with db.begin() as conn:
        conn.execute(update(robot_sessions).values(reporting_time=utcnow().replace(year=2000)))
    api.client.portal.call(api.client.app.state.services.run_now, "robot-sweep")  # type: ignore[attr-defined]
    faulted = job(api, started["Id"])
    assert faulted["State"] == "Faulted" and "stopped reporting" in faulted["Info"]
    # it restarts (a new agent): connects again and takes new work
    [again] = connect(api, machine)
    [new] = start_jobs(api)
    assert [j["id"] for j in again.next()["jobs"]] == [new["Id"]]


def test_restarted_agent_faults_the_jobs_it_lost(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine)
    [started] = start_jobs(api)
    robot.next()
    connect(api, machine)  # a new agent id: the old process died
    assert job(api, started["Id"])["State"] == "Faulted"


def test_job_token_is_scoped_and_ends_with_the_job(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine)
    start_jobs(api)
    [assignment] = robot.next()["jobs"]
    token = assignment["accessToken"]
    listed = api.ok(api.get("/odata/Jobs", token=token))["value"]
    assert assignment["id"] in [j["Id"] for j in listed]
    should = api.client.get("/api/robot/jobs/current/stop", headers={"Authorization": f"Bearer {token}"})
    assert api.ok(should) == {"shouldStop": False, "state": "Running"}
    api.ok(robot.report(assignment["key"], "Successful"))
    assert_error(api.get("/odata/Jobs", token=token), 401)  # at once (domain/revocations.py)
