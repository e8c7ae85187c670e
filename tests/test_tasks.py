"""Action Center tasks over HTTP: generic, form and app tasks from creation to completion, assignment,
the OData lists and actions, catalogs, and the refusals that change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from podium.db.schema import events
from tests.factories import SHARED, listen, user_with
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"
GENERIC = "/tasks/GenericTasks"
FORMS = "/forms/TaskForms"
APPS = "/tasks/AppTasks"
WORKER_PERMISSIONS = ["Tasks.View", "Tasks.Edit"]

LAYOUT: dict[str, Any] = {
    "components": [
        {
            "type": "textfield",
            "key": "invoice",
            "input": True,
            "validate": {"required": True, "maxLength": 10},
        },
        {
            "type": "columns",
            "columns": [
                {"components": [{"type": "number", "key": "amount", "input": True, "validate": {"min": 0}}]},
                {"components": [{"type": "checkbox", "key": "approved", "input": True}]},
            ],
        },
        {
            "type": "select",
            "key": "currency",
            "input": True,
            "data": {"values": [{"label": "Euro", "value": "EUR"}, {"label": "Dollar", "value": "USD"}]},
        },
        {"type": "button", "key": "submit", "input": True, "action": "submit"},
    ]
}


def create_external(api: Api, title: str = "Close ticket", **body: Any) -> dict[str, Any]:
    payload = {"type": "ExternalTask", "title": title, "priority": "High", "data": {"ticket": 7}, **body}
    task: dict[str, Any] = api.ok(api.post(f"{GENERIC}/CreateTask", payload, folder=SHARED), 201)
    return task


def assign(api: Api, task_id: int, user: str, action: str = "AssignTasks", token: str | None = None) -> Any:
    body = {"taskAssignments": [{"taskId": task_id, "UserNameOrEmail": user}]}
    return api.ok(api.post(f"/odata/Tasks/{NS}.{action}", body, token=token))["value"]


def data_by_id(api: Api, task_id: int, token: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = api.ok(api.get(f"{GENERIC}/GetTaskDataById?taskId={task_id}", token=token))
    return found


def test_external_task_from_creation_to_completion(api: Api, db: Engine) -> None:
    listen(api)  # the outbox keeps the task's events
    task = create_external(api, externalTag="JIRA", tags=[{"name": "team", "value": "ops"}])
    assert task["status"] == 0 and isinstance(task["status"], int)
    assert task["type"] == "ExternalTask" and task["priority"] == "High" and task["externalTag"] == "JIRA"
    assert task["data"] == {"ticket": 7} and task["action"] is None and task["isDeleted"] is False
    assert task["organizationUnitFullyQualifiedName"] == SHARED and task["tags"][0]["Name"] == "team"

    assert assign(api, task["id"], "admin") == []
    assigned = data_by_id(api, task["id"])
    assert assigned["status"] == 1 and assigned["assignedToUser"]["userName"] == "admin"

    completion = {"taskId": task["id"], "data": {"resolution": "done"}, "action": "close"}
    assert api.post(f"{GENERIC}/CompleteTask", completion).status_code == 204
    done = api.ok(api.get(f"{GENERIC}/GetTaskDataByKey?taskKey={task['key']}"))
    assert done["status"] == 2 and done["action"] == "close"
    assert done["data"] == {"ticket": 7, "resolution": "done", "Action": "close"}
    assert done["completionTime"] and done["key"] == task["key"]

    # completing twice: 409, nothing changed
    again = {"taskId": task["id"], "data": {"resolution": "other"}, "action": "reopen"}
    assert_error(api.post(f"{GENERIC}/CompleteTask", again), 409)
    assert data_by_id(api, task["id"]) == done

    odata = api.ok(api.get(f"/odata/Tasks({task['id']})"))
    assert odata["Status"] == "Completed" and odata["IsCompleted"] is True and odata["Action"] == "close"
    activities = api.ok(api.get(f"/odata/TaskActivities/{NS}.GetByTaskId(taskId={task['id']})"))["value"]
    assert [a["ActivityType"] for a in activities] == ["Created", "Assigned", "Completed"]
    with db.connect() as conn:
        kinds = [
            r.type
            for r in conn.execute(
                select(events.c.type).where(events.c.entity_key == task["key"]).order_by(events.c.id)
            )
        ]
    assert kinds == ["task.created", "task.assigned", "task.completed"]


def test_form_task_is_completed_by_its_assignee_with_valid_data(api: Api) -> None:
    worker = user_with(api, "worker", WORKER_PERMISSIONS, folder=api.tenant.shared_folder_id)
    body = {"title": "Approve invoice", "formLayout": LAYOUT, "data": {"invoice": "INV-1"}}
    task = api.ok(api.post(f"{FORMS}/CreateFormTask", body, folder=SHARED), 201)
    assert task["type"] == "FormTask" and task["status"] == 0

    form = api.ok(api.get(f"{FORMS}/GetTaskFormById?taskId={task['id']}&expandOnFormLayout=true"))
    assert form["formLayout"] == LAYOUT and form["data"] == {"invoice": "INV-1"}
    assert (
        api.ok(api.get(f"{FORMS}/GetTaskFormById?taskId={task['id']}&expandOnFormLayout=false"))["formLayout"]
        is None
    )

    def complete(data: dict[str, Any], token: str | None = None) -> Any:
        return api.post(
            f"{FORMS}/CompleteTask", {"taskId": task["id"], "data": data, "action": "approve"}, token=token
        )

    assert_error(complete({"amount": 5}, worker), 409)  # nobody assigned yet
    assert assign(api, task["id"], "worker") == []
    assert_error(complete({"amount": 5}), 403)  # the admin is not the assignee
    for bad in (
        {"invoice": None, "amount": 5},  # required
        {"invoice": "INV-123456789"},  # longer than maxLength
        {"amount": "five"},
        {"amount": -1},
        {"approved": "yes"},
        {"currency": "GBP"},
    ):
        assert "does not match the form" in assert_error(complete(bad, worker), 400)["message"]
    assert data_by_id(api, task["id"])["status"] == 1

    assert complete({"amount": 12.5, "approved": True, "currency": "EUR"}, worker).status_code == 204
    done = data_by_id(api, task["id"])
    assert done["status"] == 2 and done["action"] == "approve"
    assert done["data"] == {
        "invoice": "INV-1",
        "amount": 12.5,
        "approved": True,
        "currency": "EUR",
        "Action": "approve",
    }


def test_form_task_refuses_a_layout_that_is_not_an_object_and_data_of_the_wrong_type(api: Api) -> None:
    assert_error(api.post(f"{FORMS}/CreateFormTask", {"title": "x", "formLayout": [1]}, folder=SHARED), 400)
    assert_error(api.post(f"{FORMS}/CreateFormTask", {"title": "x"}, folder=SHARED), 400)
    bad = {"title": "x", "formLayout": LAYOUT, "data": {"amount": "many"}}
    assert_error(api.post(f"{FORMS}/CreateFormTask", bad, folder=SHARED), 400)
    assert api.ok(api.get("/odata/Tasks"))["@odata.count"] == 0


def test_app_task_create_assign_complete(api: Api) -> None:
    body = {"title": "Review", "data": {"name": "Ann"}, "appId": "app-1", "actionableMessageMetaData": {}}
    task = api.ok(api.post(f"{APPS}/CreateAppTask", body, folder=SHARED), 201)
    assert task["type"] == "AppTask" and task["appTasksMetadata"]["appId"] == "app-1"
    assert assign(api, task["id"], "admin") == []
    completion = {"taskId": task["id"], "data": {"decision": "yes"}, "action": "Approve"}
    assert api.post(f"{APPS}/CompleteAppTask", completion).status_code == 204
    done = api.ok(api.get(f"{APPS}/GetAppTaskById?taskId={task['id']}"))
    assert done["status"] == 2 and done["data"]["decision"] == "yes" and done["data"]["Action"] == "Approve"
    # an app task is not completed through the form route
    other = api.ok(api.post(f"{APPS}/CreateAppTask", body, folder=SHARED), 201)
    assert_error(api.post(f"{FORMS}/CompleteTask", {"taskId": other["id"], "data": {}}), 400)


def test_quickform_task_of_the_sdk(api: Api) -> None:
    body = {"type": 6, "taskSchemaKey": "k1", "schema": {"fields": []}, "title": "Quick", "data": {"q": 1}}
    task = api.ok(api.post(f"{GENERIC}/CreateTask", body, folder=SHARED), 201)
    assert task["type"] == "QuickFormTask" and task["status"] == 0


def test_assignment_actions_answer_errors_per_task(api: Api) -> None:
    first, second = create_external(api, "one"), create_external(api, "two")
    errors = assign(api, first["id"], "nobody")
    assert len(errors) == 1 and errors[0]["TaskId"] == first["id"] and errors[0]["ErrorMessage"]
    body = {
        "taskAssignments": [
            {"TaskId": first["id"], "UserId": api.tenant.admin_user_id},
            {"TaskId": 999999, "UserId": 1},
        ]
    }
    result = api.ok(api.post(f"/odata/Tasks/{NS}.AssignTasks", body))["value"]
    assert [e["TaskId"] for e in result] == [999999]
    assert assign(api, first["id"], "admin") != []  # already assigned: AssignTasks refuses
    assert assign(api, first["id"], "admin", "ReassignTasks") == []
    assert api.ok(api.post(f"/odata/Tasks/{NS}.UnassignTasks", {"taskIds": [first["id"]]}))["value"] == []
    assert data_by_id(api, first["id"])["status"] == 0
    assert (
        api.ok(api.post(f"/odata/Tasks/{NS}.DeleteTasks", {"taskIds": [second["id"], 424242]}))["value"][0][
            "TaskId"
        ]
        == 424242
    )
    deleted = data_by_id(api, second["id"])
    assert deleted["isDeleted"] is True
    assert [t["Id"] for t in api.ok(api.get("/odata/Tasks"))["value"]] == [first["id"]]
    assert_error(api.post(f"{GENERIC}/CompleteTask", {"taskId": second["id"], "data": {}}), 404)
    assert_error(api.post(f"/odata/Tasks/{NS}.AssignTasks", {"taskAssignments": "x"}), 400)


def test_tasks_across_folders_show_what_a_user_may_work_on(api: Api) -> None:
    worker = user_with(api, "worker", WORKER_PERMISSIONS, folder=api.tenant.shared_folder_id)
    mine, theirs, open_task = (
        create_external(api, "mine"),
        create_external(api, "theirs"),
        create_external(api, "open"),
    )
    assign(api, mine["id"], "worker")
    assign(api, theirs["id"], "admin")
    seen = api.ok(api.get(f"/odata/Tasks/{NS}.GetTasksAcrossFolders?$orderby=Id", token=worker))["value"]
    assert [t["Title"] for t in seen] == ["mine", "open"]
    admin_view = api.ok(api.get(f"/odata/Tasks/{NS}.GetTasksAcrossFoldersForAdmin?$orderby=Id"))["value"]
    assert [t["Title"] for t in admin_view] == ["mine", "theirs", "open"]
    assert_error(api.get(f"/odata/Tasks/{NS}.GetTasksAcrossFoldersForAdmin", token=worker), 403)
    assert open_task["status"] == 0


def test_permissions_are_checked(api: Api) -> None:
    viewer = user_with(api, "viewer", ["Tasks.View"], folder=api.tenant.shared_folder_id)
    task = create_external(api)
    assert_error(api.post(f"{GENERIC}/CreateTask", {"title": "x"}, folder=SHARED, token=viewer), 403)
    assert_error(api.post(f"{GENERIC}/CompleteTask", {"taskId": task["id"], "data": {}}, token=viewer), 403)
    assert data_by_id(api, task["id"], token=viewer)["status"] == 0
    assert_error(api.post(f"{GENERIC}/CreateTask", {"title": "x"}), 400)  # no folder


def test_save_data_tags_metadata_notes_and_forward(api: Api) -> None:
    worker = user_with(api, "worker", WORKER_PERMISSIONS, folder=api.tenant.shared_folder_id)
    catalog = api.ok(
        api.post(f"/odata/TaskCatalogs/{NS}.CreateTaskCatalog", {"Name": "Invoices"}, folder=SHARED), 201
    )
    task = api.ok(
        api.post(
            f"{FORMS}/CreateFormTask",
            {"title": "t", "formLayout": LAYOUT, "taskCatalogName": "invoices"},
            folder=SHARED,
        ),
        201,
    )
    assert task["taskCatalogName"] == "Invoices"
    assert_error(
        api.post(
            f"{FORMS}/CreateFormTask",
            {"title": "t", "formLayout": LAYOUT, "taskCatalogName": "nope"},
            folder=SHARED,
        ),
        400,
    )
    assign(api, task["id"], "admin")
    assert (
        api.put(f"{FORMS}/SaveTaskData", {"taskId": task["id"], "data": {"invoice": "A"}}).status_code == 204
    )
    assert_error(api.put(f"{FORMS}/SaveTaskData", {"taskId": task["id"], "data": {"amount": "x"}}), 400)
    assert (
        api.put(f"{GENERIC}/SaveTaskTags", {"taskId": task["id"], "tags": [{"name": "a"}]}).status_code == 204
    )
    edit = {
        "TaskId": task["id"],
        "Title": "renamed",
        "Priority": "Critical",
        "UnsetTaskCatalog": True,
        "NoteText": "why",
    }
    assert api.post(f"/odata/Tasks/{NS}.EditTaskMetadata", edit).status_code == 204
    note = api.ok(api.post(f"/odata/TaskNotes/{NS}.CreateTaskNote", {"TaskId": task["id"], "Text": "hello"}))
    assert note["Text"] == "hello"
    notes = api.ok(api.get(f"/odata/TaskNotes/{NS}.GetByTaskId(taskId={task['id']})"))["value"]
    assert [n["Text"] for n in notes] == ["why", "hello"]
    forward = {
        "TaskId": task["id"],
        "SaveData": True,
        "Data": {"amount": 3},
        "UserNameOrEmail": "worker",
        "NoteText": "yours",
    }
    assert api.post(f"{FORMS}/SaveAndReassignTask", forward).status_code == 204
    now = data_by_id(api, task["id"], token=worker)
    assert now["assignedToUser"]["userName"] == "worker" and now["data"] == {"amount": 3}
    assert now["title"] == "renamed" and now["priority"] == "Critical" and now["taskCatalogName"] is None
    assert now["tags"][0]["Name"] == "a"
    assert catalog["Name"] == "Invoices"


def test_bulk_complete_and_update(api: Api) -> None:
    tasks = [
        api.ok(
            api.post(f"{FORMS}/CreateFormTask", {"title": f"t{i}", "formLayout": LAYOUT}, folder=SHARED), 201
        )
        for i in range(3)
    ]
    for task in tasks[:2]:
        assign(api, task["id"], "admin")
    update = {"taskIds": [t["id"] for t in tasks], "data": {"invoice": "B"}}
    failures = api.ok(api.put(f"{FORMS}/BulkUpdateTasks", update))
    assert [f["taskId"] for f in failures] == [tasks[2]["id"]]  # not assigned
    complete = {"taskIds": [t["id"] for t in tasks] + [987654], "data": {"amount": 1}, "action": "ok"}
    failures = api.ok(api.post(f"{FORMS}/BulkCompleteTasks", complete))
    assert sorted(f["taskId"] for f in failures) == [tasks[2]["id"], 987654]
    assert [data_by_id(api, t["id"])["status"] for t in tasks] == [2, 2, 0]
    assert data_by_id(api, tasks[0]["id"])["data"] == {"invoice": "B", "amount": 1, "Action": "ok"}


def test_task_catalogs_crud(api: Api) -> None:
    created = api.ok(
        api.post("/odata/TaskCatalogs", {"Name": "Claims", "Description": "d"}, folder=SHARED), 201
    )
    assert created["RetentionAction"] == "Delete" or created["RetentionAction"] in ("None", "Archive")
    task = create_external(api, taskCatalogName="Claims")
    assert (
        api.post(
            f"/odata/TaskCatalogs({created['Id']})/{NS}.UpdateTaskCatalog", {"Name": "Claims2"}
        ).status_code
        == 204
    )
    assert data_by_id(api, task["id"])["taskCatalogName"] == "Claims2"
    details = api.ok(
        api.get(f"/odata/TaskCatalogs/{NS}.GetTaskCatalogExtendedDetails(taskCatalogId={created['Id']})")
    )
    assert details["AssociatedTasksCount"] == 1
    assert_error(api.post("/odata/TaskCatalogs", {"Name": "Claims2"}, folder=SHARED), 409)
    assert_error(api.post("/odata/TaskCatalogs", {"Name": "Enc", "Encrypted": True}, folder=SHARED), 400)
    assert api.delete(f"/odata/TaskCatalogs({created['Id']})").status_code == 204
    assert data_by_id(api, task["id"])["taskCatalogName"] is None


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (f"{GENERIC}/CompleteTask", {"taskId": "x"}),
        (f"{GENERIC}/CompleteTask", {"taskId": 1, "data": [1]}),
        (f"{GENERIC}/CompleteTask", [1]),
        (f"{GENERIC}/CreateTask", {"title": ""}),
        (f"{GENERIC}/CreateTask", {"title": "x", "priority": "Urgent"}),
        (f"{GENERIC}/CreateTask", {"title": "x", "type": "Nope"}),
        (f"{GENERIC}/CreateTask", {"title": "x", "tags": "a"}),
    ],
)
def test_bad_bodies_are_400(api: Api, url: str, body: Any) -> None:
    assert_error(api.post(url, body, folder=SHARED), 400)


def test_unknown_task_ids_are_404(api: Api) -> None:
    assert_error(api.get(f"{GENERIC}/GetTaskDataById?taskId=12345"), 404)
    assert_error(api.get(f"{GENERIC}/GetTaskDataByKey?taskKey=7a5e0a84-0000-0000-0000-000000000000"), 404)
    assert_error(api.post(f"{GENERIC}/CompleteTask", {"taskId": 12345, "data": {}}), 404)
    assert_error(api.get("/odata/Tasks(12345)"), 404)
