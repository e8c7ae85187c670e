"""Suspend and resume over HTTP (in process, both backends): a robot reports its job Suspended with the
``uipath`` runtime's resume triggers; ``/odata/JobTriggers`` (as the SDK's ``jobs.resume`` reads it)
and ``GetWithWaitEvents`` show the waits; a payload delivered to the inbox, or the end of the job
waited for, resumes the job, which the robot is handed again with what met its wait and its state;
bad input is refused with the error body and changes nothing."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy.engine import Engine

from tests.factories import seed_machine, start_jobs
from tests.robots.helpers import FOLDER, RobotClient, connect, job
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"


def _run(robot: RobotClient) -> dict[str, Any]:
    """The robot's next job, acknowledged."""
    [assigned] = robot.next()["jobs"]
    assert robot.report(assigned["key"], "Running", claim=assigned["claim"]).status_code == 200
    return dict(assigned)


def test_a_job_suspends_on_an_inbox_and_another_job_and_resumes(api: Api, db: Engine) -> None:
    [robot] = connect(api, seed_machine(api, db))
    parent, child = start_jobs(api, 2)
    assigned = _run(robot)
    assert assigned["key"] == parent["Key"] and assigned["resume"] is None
    waits = [
        {"interruptId": "ask", "triggerType": "Api", "apiResume": {"inboxId": "INBOX-1", "request": "why?"}},
        {"interruptId": "sub", "triggerType": "Job", "itemKey": child["Key"], "folderPath": FOLDER},
    ]
    state = base64.b64encode(b"checkpoint").decode()
    answer = robot.report(
        parent["Key"], "Suspended", resumeTriggers=waits, runtimeState=state, info="waiting"
    )
    assert answer.status_code == 200 and answer.json()["state"] == "Suspended"
    robot.running.pop(parent["Key"])
    suspended = job(api, parent["Id"])
    assert (suspended["State"], suspended["Info"], suspended["ResumeVersion"]) == (
        "Suspended",
        "waiting",
        None,
    )

    # what the SDK's jobs.resume(job_id=…) reads, then the admin's view
    first = api.ok(api.get(f"/odata/JobTriggers?$filter=JobId eq {parent['Id']}&$top=1&$select=ItemKey"))
    assert first["value"] == [{"ItemKey": "inbox-1"}]
    listed = api.ok(api.get(f"/odata/JobTriggers?$filter=JobId eq {parent['Id']}&$orderby=Id", folder=FOLDER))
    assert [(t["TriggerType"], t["Status"], t["InboxId"]) for t in listed["value"]] == [
        ("Inbox", "New", "inbox-1"),
        ("Job", "New", None),
    ]
    events = api.ok(api.get(f"/odata/JobTriggers/{NS}.GetWithWaitEvents(jobId={parent['Id']})"))["value"]
    assert [(e["TriggerType"], e["ItemId"], e["ItemName"]) for e in events] == [
        ("Inbox", None, None),
        ("Job", child["Id"], "proc"),
    ]
    assert events[0]["TriggerMessage"] == '"why?"' and events[0]["CreationTime"]
    wait_events = f"/odata/JobTriggers/{NS}.GetWithWaitEvents(jobId={parent['Id']})"
    jobs_only = api.ok(api.get(wait_events, params={"$filter": "TriggerType eq 'Job'", "$select": "ItemId"}))
    assert jobs_only["value"] == [{"ItemId": child["Id"]}] and jobs_only["@odata.count"] == 1
    newest = api.ok(api.get(wait_events, params={"$orderby": "Id desc", "$top": "1"}))
    assert [e["TriggerType"] for e in newest["value"]] == ["Job"] and newest["@odata.count"] == 2

    # bad input changes nothing
    assert_error(api.post("/api/JobTriggers/DeliverPayload/nope", {"payload": 1}), 404)
    assert_error(api.get("/api/JobTriggers/GetPayload/inbox-1"), 404)  # nothing delivered yet
    assert_error(api.get(f"/odata/JobTriggers/{NS}.GetWithWaitEvents(jobId=999999)"), 404)
    assert_error(api.post(f"/odata/Jobs/{NS}.ResumeJob", {"jobKey": child["Key"]}, folder=FOLDER), 400)
    assert_error(api.post("/api/JobTriggers/SaveExternalTrigger", {"type": "deepRag"}), 400)
    assert robot.report(child["Key"], "Suspended", resumeTriggers=waits).status_code == 409  # not yet its job
    assert job(api, parent["Id"])["State"] == "Suspended" and job(api, child["Id"])["State"] == "Pending"

    # the payload resumes it; the robot is handed it again with the payload and its state
    assert api.post("/api/JobTriggers/DeliverPayload/INBOX-1", {"payload": {"ok": 1}}).status_code == 200
    assert api.get("/api/JobTriggers/GetPayload/inbox-1").json() == {"payload": {"ok": 1}}
    assert_error(api.post("/api/JobTriggers/DeliverPayload/inbox-1", {"payload": 2}), 409)
    resumed = job(api, parent["Id"])
    assert (resumed["State"], resumed["ResumeVersion"]) == ("Resumed", 1) and resumed["ResumeTime"]
    again = _run(robot)
    assert again["key"] == parent["Key"]
    assert again["resume"] == {"version": 1, "values": {"ask": {"payload": {"ok": 1}}}, "state": state}
    assert job(api, parent["Id"])["State"] == "Running"

    # it suspends again on the child; the child's end resumes it with the child's output
    assert robot.report(parent["Key"], "Suspended", resumeTriggers=waits[1:]).json()["state"] == "Suspended"
    robot.running.pop(parent["Key"])
    assert _run(robot)["key"] == child["Key"]
    robot.report(child["Key"], "Successful", outputArguments={"total": 3})
    robot.running.pop(child["Key"])
    final = _run(robot)
    assert final["key"] == parent["Key"] and final["resume"]["version"] == 2
    outcome = {"key": child["Key"], "state": "Successful", "output": {"total": 3}, "info": None}
    assert final["resume"]["values"] == {"sub": outcome}
    robot.report(parent["Key"], "Successful", outputArguments={"done": True})
    ended = job(api, parent["Id"])
    assert ended["State"] == "Successful" and ended["StartTime"] == suspended["StartTime"]


def test_bad_suspensions_are_refused(api: Api, db: Engine) -> None:
    [robot] = connect(api, seed_machine(api, db))
    [started] = start_jobs(api)
    _run(robot)
    for waits, extra in (
        ([{"triggerType": "DeepRag", "itemKey": "x"}], {}),
        ([{"triggerType": "Timer", "resumeTime": "tomorrow"}], {}),
        ("not a list", {}),
        ([{"triggerType": "Timer", "resumeTime": "2030-01-01T00:00:00Z"}], {"runtimeState": "%%%"}),
    ):
        assert_error(robot.report(started["Key"], "Suspended", resumeTriggers=waits, **extra), 400)
    assert job(api, started["Id"])["State"] == "Running"
    assert api.ok(api.get(f"/odata/JobTriggers?$filter=JobId eq {started['Id']}"))["value"] == []


def test_completing_the_task_a_job_waits_for_resumes_it_with_the_data(api: Api, db: Engine) -> None:
    [robot] = connect(api, seed_machine(api, db))
    [started] = start_jobs(api)
    _run(robot)
    payload = {"type": "ExternalTask", "title": "Approve", "data": {"amount": 7}}
    task = api.ok(api.post("/tasks/GenericTasks/CreateTask", payload, folder=FOLDER), 201)
    wait = {"interruptId": "approval", "triggerType": "Task", "itemKey": task["key"], "folderPath": FOLDER}
    assert robot.report(started["Key"], "Suspended", resumeTriggers=[wait]).json()["state"] == "Suspended"
    robot.running.pop(started["Key"])
    waiting = api.ok(api.get(f"/tasks/GenericTasks/GetTaskDataById?taskId={task['id']}"))
    assert (waiting["waitJobKey"], waiting["waitJobState"]) == (started["Key"], "Suspended")
    events = api.ok(api.get(f"/odata/JobTriggers/{NS}.GetWithWaitEvents(jobId={started['Id']})"))["value"]
    assert [(e["TriggerType"], e["ItemId"], e["ItemName"]) for e in events] == [
        ("Task", task["id"], "Approve")
    ]

    completion = {"taskId": task["id"], "data": {"ok": True}, "action": "approve"}
    assert api.post("/tasks/GenericTasks/CompleteTask", completion).status_code == 204
    assert job(api, started["Id"])["State"] == "Resumed"
    again = _run(robot)
    assert again["resume"]["values"] == {"approval": {"amount": 7, "ok": True, "Action": "approve"}}
