"""Queue definitions and adding items (AddQueueItem, BulkAddQueueItems), good and bad input."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.engine import Engine

from tests.factories import create_queue
from tests.queue_helpers import ODATA, SVC, add_item, counts
from tests.support import Api, assert_error

SCHEMA = json.dumps({"type": "object", "properties": {"amount": {"type": "number"}}, "required": ["amount"]})


def test_queue_definition_crud_and_schemas(api: Api) -> None:
    queue = create_queue(
        api,
        MaxNumberOfRetries=2,
        AcceptAutomaticallyRetry=True,
        SlaInMinutes=60,
        RiskSlaInMinutes=30,
        SpecificDataJsonSchema=SCHEMA,
    )
    assert queue["Name"] == "invoices" and queue["MaxNumberOfRetries"] == 2 and queue["Key"]
    assert queue["EnforceUniqueReference"] is False and queue["SpecificDataJsonSchema"] == SCHEMA
    listed = api.ok(api.get(f"{ODATA}/QueueDefinitions?$filter=Name eq 'invoices'", folder="Shared"))["value"]
    assert [q["Id"] for q in listed] == [queue["Id"]]
    assert_error(api.post(f"{ODATA}/QueueDefinitions", {"Name": "invoices"}, folder="Shared"), 409)
    bad_schemas = ["{not json", '"a string"', json.dumps({"type": "no-such-type"})]
    for bad in bad_schemas:
        response = api.post(
            f"{ODATA}/QueueDefinitions", {"Name": "x", "OutputDataJsonSchema": bad}, folder="Shared"
        )
        assert_error(response, 400)
    assert_error(
        api.post(
            f"{ODATA}/QueueDefinitions",
            {"Name": "x", "SlaInMinutes": 10, "RiskSlaInMinutes": 20},
            folder="Shared",
        ),
        400,
    )
    schema = api.get(
        f"{ODATA}/QueueDefinitions({queue['Id']})/{SVC}.GetJsonSchemaDefinition(jsonSchemaType='SpecificData')",
        folder="Shared",
    )
    assert schema.status_code == 200 and schema.json() == json.loads(SCHEMA)
    assert_error(
        api.get(
            f"{ODATA}/QueueDefinitions({queue['Id']})/{SVC}.GetJsonSchemaDefinition(jsonSchemaType='OutputData')",
            folder="Shared",
        ),
        404,
    )
    # renaming a queue renames its items' QueueDefinitionName (what the SDK filters on)
    add_item(api, SpecificContent={"amount": 1})
    api.ok(api.put(f"{ODATA}/QueueDefinitions({queue['Id']})", {"Name": "bills"}, folder="Shared"))
    items = api.ok(api.get(f"{ODATA}/QueueItems?$filter=QueueDefinitionName eq 'bills'", folder="Shared"))[
        "value"
    ]
    assert len(items) == 1 and items[0]["QueueDefinitionId"] == queue["Id"]
    assert_error(
        api.put(
            f"{ODATA}/QueueDefinitions({queue['Id']})", {"EnforceUniqueReference": True}, folder="Shared"
        ),
        400,
    )


def test_add_queue_item_shape_and_sla_defaults(api: Api) -> None:
    create_queue(api, SlaInMinutes=60, RiskSlaInMinutes=45)
    before = dt.datetime.now(dt.UTC)
    created = add_item(
        api,
        Priority="High",
        SpecificContent={"a": 1, "nested": {"b": [1, "x"]}},
        Reference="INV-1",
        Progress="received",
        DeferDate="2020-01-01T00:00:00",
    )
    assert created["@odata.context"].endswith("$metadata#QueueItems/$entity")
    assert created["Status"] == "New" and created["Priority"] == "High" and created["ReviewStatus"] == "None"
    assert created["SpecificContent"] == {"a": 1, "nested": {"b": [1, "x"]}}
    assert created["Reference"] == "INV-1" and created["Progress"] == "received"
    assert created["DeferDate"] == "2020-01-01T00:00:00Z" and created["RetryNumber"] == 0
    assert created["Key"] == created["UniqueKey"] and created["AncestorId"] is None
    due = dt.datetime.fromisoformat(created["DueDate"].replace("Z", "+00:00"))
    risk = dt.datetime.fromisoformat(created["RiskSlaDate"].replace("Z", "+00:00"))
    assert dt.timedelta(minutes=59) < due - before < dt.timedelta(minutes=61)
    assert dt.timedelta(minutes=44) < risk - before < dt.timedelta(minutes=46)
    explicit = add_item(api, DueDate="2030-05-01T10:00:00Z")
    assert explicit["DueDate"] == "2030-05-01T10:00:00Z" and explicit["Priority"] == "Normal"
    fetched = api.ok(api.get(f"{ODATA}/QueueItems({created['Id']})?$expand=QueueDefinition", folder="Shared"))
    assert (
        fetched["QueueDefinition"]["Name"] == "invoices"
        and fetched["SpecificContent"] == created["SpecificContent"]
    )


def test_add_queue_item_bad_input_writes_nothing(api: Api, db: Engine) -> None:
    create_queue(api, SpecificDataJsonSchema=SCHEMA, EnforceUniqueReference=True)
    add_item(api, SpecificContent={"amount": 5}, Reference="R1")
    baseline = counts(db)
    url = f"{ODATA}/Queues/{SVC}.AddQueueItem"
    cases = [
        ({"itemData": {"Name": "nope", "SpecificContent": {"amount": 1}}}, 404),  # unknown queue
        ({"itemData": {"Name": "invoices", "SpecificContent": {"amount": "x"}}}, 400),  # schema
        ({"itemData": {"Name": "invoices", "SpecificContent": {}}}, 400),  # schema: required
        ({"itemData": {"Name": "invoices", "SpecificContent": {"amount": 1, "pad": "x" * 1_100_000}}}, 400),
        ({"itemData": {"Name": "invoices", "Priority": "Urgent", "SpecificContent": {"amount": 1}}}, 400),
        ({"itemData": {"Name": "invoices", "SpecificContent": {"amount": 1}, "Reference": "R1"}}, 409),
        ({"itemData": {"Name": "invoices", "SpecificContent": [1]}}, 400),
        ({"itemData": {"Name": "invoices", "SpecificContent": {"amount": 1}, "DueDate": "soon"}}, 400),
        ({"itemData": {"Name": "invoices", "SpecificContent": {"amount": 1}, "Colour": "red"}}, 400),
        ({"itemData": "invoices"}, 400),
        ({}, 400),
    ]
    for body, status in cases:
        assert_error(api.post(url, body, folder="Shared"), status)
    assert_error(
        api.post(url, {"itemData": {"Name": "invoices", "SpecificContent": {"amount": 1}}}), 400
    )  # no folder
    assert counts(db) == baseline


def test_bulk_add_commit_types(api: Api, db: Engine) -> None:
    create_queue(api, SpecificDataJsonSchema=SCHEMA, EnforceUniqueReference=True)
    url = f"{ODATA}/Queues/{SVC}.BulkAddQueueItems"
    good = [{"SpecificContent": {"amount": i}, "Reference": f"B{i}"} for i in range(3)]
    bad = {"SpecificContent": {"amount": "x"}, "Reference": "BX"}
    body = {"queueName": "invoices", "commitType": "ProcessAllIndependently", "queueItems": good}
    answer = api.ok(api.post(url, body, folder="Shared"))
    assert answer["success"] is True and answer["failedItems"] == []
    assert counts(db)[0] == 3
    # AllOrNothing: one bad item (or a duplicate reference) and nothing at all is written
    baseline = counts(db)
    items = [{"SpecificContent": {"amount": 10}, "Reference": "C0"}, bad]
    assert_error(
        api.post(
            url, {"queueName": "invoices", "commitType": "AllOrNothing", "queueItems": items}, folder="Shared"
        ),
        400,
    )
    dup = [
        {"SpecificContent": {"amount": 10}, "Reference": "C0"},
        {"SpecificContent": {"amount": 1}, "Reference": "B1"},
    ]
    assert_error(
        api.post(
            url, {"queueName": "invoices", "commitType": "AllOrNothing", "queueItems": dup}, folder="Shared"
        ),
        409,
    )
    assert counts(db) == baseline
    # StopOnFirstFailure: items before the failure are added, the rest are not
    items = [
        {"SpecificContent": {"amount": 1}, "Reference": "D0"},
        bad,
        {"SpecificContent": {"amount": 2}, "Reference": "D2"},
    ]
    answer = api.ok(
        api.post(
            url,
            {"queueName": "invoices", "commitType": "StopOnFirstFailure", "queueItems": items},
            folder="Shared",
        )
    )
    assert answer["success"] is False
    assert [(f["Ordinal"], f["ErrorCode"]) for f in answer["failedItems"]] == [
        (1, "QueueItemSchemaViolationException")
    ]
    refs = {i["Reference"] for i in api.ok(api.get(f"{ODATA}/QueueItems", folder="Shared"))["value"]}
    assert "D0" in refs and "D2" not in refs
    # ProcessAllIndependently: every good item is added, each bad one reported with its code
    items = [
        bad,
        {"SpecificContent": {"amount": 3}, "Reference": "E1"},
        {"SpecificContent": {"amount": 3}, "Reference": "B0"},
        {"SpecificContent": {"amount": 3}, "Reference": "E1"},
        {"Priority": "Meh", "SpecificContent": {"amount": 1}},
    ]
    answer = api.ok(
        api.post(
            url,
            {"queueName": "invoices", "commitType": "ProcessAllIndependently", "queueItems": items},
            folder="Shared",
        )
    )
    assert [(f["Ordinal"], f["ErrorCode"]) for f in answer["failedItems"]] == [
        (0, "QueueItemSchemaViolationException"),
        (2, "DuplicateReference"),
        (3, "DuplicateReference"),
        (4, "InvalidArgument"),
    ]
    refs = [i["Reference"] for i in api.ok(api.get(f"{ODATA}/QueueItems", folder="Shared"))["value"]]
    assert refs.count("E1") == 1 and refs.count("B0") == 1


def test_bulk_add_bad_requests_write_nothing(api: Api, db: Engine) -> None:
    create_queue(api)
    url = f"{ODATA}/Queues/{SVC}.BulkAddQueueItems"
    items = [{"SpecificContent": {"n": 1}}]
    for body, status in [
        ({"queueName": "invoices", "commitType": "Sometimes", "queueItems": items}, 400),
        ({"queueName": "missing", "commitType": "AllOrNothing", "queueItems": items}, 404),
        ({"queueName": "invoices", "commitType": "AllOrNothing", "queueItems": []}, 400),
        ({"queueName": "invoices", "commitType": "AllOrNothing", "queueItems": {"a": 1}}, 400),
        ({"queueName": "invoices", "commitType": "AllOrNothing", "queueItems": [{"Priority": "Top"}]}, 400),
    ]:
        assert_error(api.post(url, body, folder="Shared"), status)
    assert counts(db) == (0, 0)


def test_filters_on_items(api: Api) -> None:
    create_queue(api)
    create_queue(api, "other")
    add_item(api, Priority="Low")
    add_item(api, "other")
    value = api.ok(api.get(f"{ODATA}/QueueItems?$filter=QueueDefinitionName eq 'other'", folder="Shared"))[
        "value"
    ]
    assert len(value) == 1 and value[0]["Priority"] == "Normal"
    value = api.ok(
        api.get(f"{ODATA}/QueueItems?$filter=Priority eq 'Low' and Status eq 'New'", folder="Shared")
    )["value"]
    assert len(value) == 1 and value[0]["QueueDefinitionName"] == "invoices"
    assert_error(api.get(f"{ODATA}/QueueItems?$filter=SpecificContent eq 'x'", folder="Shared"), 400)
