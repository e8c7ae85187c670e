"""Editing New queue items (PUT QueueItems(key) with a QueueItemDataDto), GetReviewers, queues shared
to folders (ShareToFolders, GetFoldersForQueue, GetQueuesAcrossFolders) and a queue's CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pytest

from tests.factories import create_queue
from tests.queue_helpers import ODATA, SVC, add_item, counts, item, start
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"
SCHEMA = orjson.dumps(
    {"type": "object", "properties": {"Amount": {"type": "number"}}, "required": ["Amount"]}
).decode()


pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


def edit(api: Api, item_id: int, body: Any) -> Any:
    return api.put(f"{ODATA}/QueueItems({item_id})", body, folder="Shared")


def test_edit_a_new_item(api: Api) -> None:
    create_queue(api, EnforceUniqueReference=True, SpecificDataJsonSchema=SCHEMA)
    first = add_item(api, Reference="A", SpecificContent={"Amount": 1})
    add_item(api, Reference="B", SpecificContent={"Amount": 2})
    body = {
        "Name": "invoices",
        "Priority": "High",
        "SpecificContent": {"Amount": 5, "Note": "late"},
        "DueDate": "2030-01-02T03:04:05Z",
        "Reference": "A2",
        "Progress": "checked",
    }
    edited = api.ok(edit(api, first["Id"], body))
    assert (edited["Priority"], edited["SpecificContent"], edited["Reference"]) == (
        "High",
        {"Amount": 5, "Note": "late"},
        "A2",
    )
    assert (edited["DueDate"], edited["Progress"], edited["Status"]) == (
        "2030-01-02T03:04:05Z",
        "checked",
        "New",
    )
    assert (
        add_item(api, Reference="A", SpecificContent={"Amount": 3})["Reference"] == "A"
    )  # the old reference is free again
    events = api.ok(
        api.get(
            f"{ODATA}/QueueItemEvents/{NS}.GetQueueItemEventsHistory(queueItemId={first['Id']})?$orderby=Id",
            folder="Shared",
        )
    )["value"]
    assert [e["Action"] for e in events] == ["Create", "Edit"]
    assert orjson.loads(events[1]["Data"])["Reference"] == "A2"
    assert start(api)["Id"] == first["Id"]  # High priority and a due date: served first


def test_edit_refusals_write_nothing(api: Api, db: Any) -> None:
    create_queue(api, EnforceUniqueReference=True, SpecificDataJsonSchema=SCHEMA)
    first = add_item(api, Reference="A", SpecificContent={"Amount": 1})
    add_item(api, Reference="B", SpecificContent={"Amount": 2})
    create_queue(api, "other")
    baseline, before = counts(db), item(api, first["Id"])
    for body, status in (
        ({"SpecificContent": {"Amount": "many"}}, 400),  # the queue's JSON schema
        ({"SpecificContent": {}}, 400),
        ({"Reference": "B"}, 409),  # the queue enforces unique references
        ({"Priority": "Urgent"}, 400),
        ({"DueDate": "tomorrow"}, 400),
        ({"Name": "other"}, 400),
        ({"Colour": "red"}, 400),
        ({"Reference": "x" * 129}, 400),
        ([1, 2], 400),
    ):
        assert_error(edit(api, first["Id"], body), status)
    assert_error(edit(api, 999_999, {"Priority": "Low"}), 404)
    assert counts(db) == baseline and item(api, first["Id"]) == before
    taken = start(api)
    assert_error(edit(api, taken["Id"], {"Priority": "Low"}), 400)  # InProgress: only New items change


def test_get_reviewers(api: Api) -> None:
    folder = api.ok(api.post("/odata/Folders", {"DisplayName": "Team"}), 201)
    reviewer = api.ok(api.post("/odata/Users", {"UserName": "rita", "Password": "rita-password-1"}), 201)
    api.ok(api.post("/odata/Users", {"UserName": "nobody", "Password": "nobody-password-1"}), 201)
    [role] = api.ok(api.get("/odata/Roles?$filter=Name eq 'Automation User'"))["value"]
    assignment = {
        "UserIds": [reviewer["Id"]],
        "RolesPerFolder": [{"FolderId": folder["Id"], "RoleIds": [role["Id"]]}],
    }
    api.ok(api.post(f"/odata/Folders/{NS}.AssignUsers", {"assignments": assignment}), 204)
    url = f"{ODATA}/QueueItems/{NS}.GetReviewers"

    def names(folder_ref: int | str, query: str = "") -> list[str]:
        body = api.ok(api.get(f"{url}?$orderby=UserName{query}", folder=folder_ref))
        return [user["UserName"] for user in body["value"]]

    assert names(folder["Id"]) == ["admin", "rita"]  # a tenant role, a role in the folder
    assert names("Shared") == ["admin"]  # rita's role is in Team only
    assert names(folder["Id"], "&$filter=startswith(UserName,'r')&$select=UserName,Id") == ["rita"]
    token = api.login("nobody", "nobody-password-1")
    assert_error(api.get(url, folder="Shared", token=token), 403)


def test_share_queue_to_folders(api: Api) -> None:
    team = api.ok(api.post("/odata/Folders", {"DisplayName": "Team"}), 201)
    queue = create_queue(api)
    create_queue(api, "local-only")
    share = f"{ODATA}/QueueDefinitions/{NS}.ShareToFolders"
    body = {"QueueIds": [queue["Id"]], "ToAddFolderIds": [team["Id"]], "ToRemoveFolderIds": []}
    api.ok(api.post(share, body, folder="Shared"), 204)
    seen = api.ok(api.get(f"{ODATA}/QueueDefinitions", folder=team["Id"]))["value"]
    assert [(q["Name"], q["FoldersCount"]) for q in seen] == [("invoices", 2)]
    folders = api.ok(api.get(f"{ODATA}/QueueDefinitions/{NS}.GetFoldersForQueue(id={queue['Id']})"))
    assert folders["TotalFoldersCount"] == 2
    assert sorted(f["FullyQualifiedName"] for f in folders["AccessibleFolders"]) == ["Shared", "Team"]
    across = api.ok(
        api.get(f"{ODATA}/QueueDefinitions/{NS}.GetQueuesAcrossFolders?excludeFolderId={team['Id']}")
    )
    assert [q["Name"] for q in across["value"]] == ["local-only"]
    stats = api.ok(
        api.get(f"{ODATA}/QueueProcessingRecords/{SVC}.RetrieveQueuesProcessingStatus", folder=team["Id"])
    )
    assert [(s["QueueDefinitionName"], s["QueueFoldersCount"]) for s in stats["value"]] == [("invoices", 2)]
    # a name is unique among the queues a folder sees
    assert_error(api.post(f"{ODATA}/QueueDefinitions", {"Name": "invoices"}, folder=team["Id"]), 409)
    clash = {"QueueIds": [queue["Id"]], "ToAddFolderIds": [], "ToRemoveFolderIds": []}
    local = api.ok(api.get(f"{ODATA}/QueueDefinitions?$filter=Name eq 'local-only'", folder="Shared"))[
        "value"
    ][0]
    api.ok(api.post(share, {**clash, "QueueIds": [local["Id"]], "ToAddFolderIds": [team["Id"]]}), 204)
    assert_error(
        api.put(f"{ODATA}/QueueDefinitions({local['Id']})", {"Name": "invoices"}, folder="Shared"), 409
    )
    # the creation folder stays; bad bodies are refused
    assert_error(api.post(share, {**clash, "ToRemoveFolderIds": [queue["OrganizationUnitId"]]}), 400)
    assert_error(
        api.post(share, {**clash, "ToAddFolderIds": [team["Id"]], "ToRemoveFolderIds": [team["Id"]]}), 400
    )
    assert_error(api.post(share, {**clash, "QueueIds": ["x"]}), 400)
    assert_error(api.post(share, {**clash, "QueueIds": [999_999]}), 404)
    assert_error(api.post(share, {**clash, "ToAddFolderIds": [999_999]}), 400)
    api.ok(api.post(share, {**clash, "ToRemoveFolderIds": [team["Id"]]}), 204)
    assert api.ok(api.get(f"{ODATA}/QueueDefinitions({queue['Id']})"))["FoldersCount"] == 1
    assert [q["Name"] for q in api.ok(api.get(f"{ODATA}/QueueDefinitions", folder=team["Id"]))["value"]] == [
        "local-only"
    ]


def test_export_queue_items(api: Api) -> None:
    queue = create_queue(api)
    first = add_item(api, Reference="A", SpecificContent={"x": 1})
    add_item(api, Reference="B")
    create_queue(api, "other")
    add_item(api, "other", Reference="C")
    start(api)
    url = f"{ODATA}/QueueDefinitions({queue['Id']})/{SVC}.Export"
    export = api.ok(api.post(url, folder="Shared"))
    assert (export["Type"], export["Status"]) == ("Queues", "Completed")
    download = api.client.get(f"/api/Exports/{export['Id']}/Download", headers=api.headers())
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["Reference"], r["Status"]) for r in rows] == [("A", "InProgress"), ("B", "New")]
    assert rows[0]["Id"] == str(first["Id"])
    filtered = api.ok(api.post(f"{url}?$filter=Status eq 'New'", folder="Shared"))
    download = api.client.get(f"/api/Exports/{filtered['Id']}/Download", headers=api.headers())
    assert [r["Reference"] for r in csv.DictReader(io.StringIO(download.text))] == ["B"]
    assert_error(api.post(f"{ODATA}/QueueDefinitions(999999)/{SVC}.Export", folder="Shared"), 404)
    assert_error(api.post(f"{url}?$filter=Nope eq 1", folder="Shared"), 400)


def test_a_shared_queue_is_worked_from_the_folder_it_is_shared_to(api: Api) -> None:
    """A user whose only role is in Team adds, takes, finishes and lists items of a queue of Shared that
    is shared to Team; unshared, the queue is gone from Team."""
    team = api.ok(api.post("/odata/Folders", {"DisplayName": "Team"}), 201)
    queue = create_queue(api)
    share = f"{ODATA}/QueueDefinitions/{NS}.ShareToFolders"
    api.ok(
        api.post(share, {"QueueIds": [queue["Id"]], "ToAddFolderIds": [team["Id"]], "ToRemoveFolderIds": []}),
        204,
    )
    dora = api.ok(api.post("/odata/Users", {"UserName": "dora", "Password": "dora-password"}), 201)["Id"]
    [automation] = api.ok(api.get("/odata/Roles?$filter=Name eq 'Automation User'"))["value"]
    assignment = {
        "UserIds": [dora],
        "RolesPerFolder": [{"FolderId": team["Id"], "RoleIds": [automation["Id"]]}],
    }
    api.ok(api.post(f"/odata/Folders/{NS}.AssignUsers", {"assignments": assignment}), 204)
    token = api.login("dora", "dora-password")

    def as_dora(path: str, body: Any = None) -> Any:
        return api.post(path, body, folder=team["Id"], token=token)

    added = api.ok(as_dora(f"{ODATA}/Queues/{SVC}.AddQueueItem", {"itemData": {"Name": "invoices"}}), 201)
    assert added["OrganizationUnitId"] == queue["OrganizationUnitId"]  # the item lives with its queue
    taken = api.ok(
        as_dora(f"{ODATA}/Queues/{SVC}.StartTransaction", {"transactionData": {"Name": "invoices"}})
    )
    assert taken["Id"] == added["Id"]
    done = as_dora(
        f"{ODATA}/Queues({taken['Id']})/{SVC}.SetTransactionResult",
        {"transactionResult": {"IsSuccessful": True}},
    )
    assert api.ok(done)["Status"] == "Successful"
    listed = api.ok(api.get(f"{ODATA}/QueueItems", folder=team["Id"], token=token))["value"]
    assert [found["Id"] for found in listed] == [added["Id"]]
    # dora has no role in Shared, where the queue lives
    assert_error(api.get(f"{ODATA}/QueueItems", folder="Shared", token=token), 403)

    api.ok(
        api.post(share, {"QueueIds": [queue["Id"]], "ToAddFolderIds": [], "ToRemoveFolderIds": [team["Id"]]}),
        204,
    )
    assert_error(as_dora(f"{ODATA}/Queues/{SVC}.AddQueueItem", {"itemData": {"Name": "invoices"}}), 404)
    assert api.ok(api.get(f"{ODATA}/QueueItems", folder=team["Id"], token=token))["value"] == []
