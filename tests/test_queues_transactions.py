"""StartTransaction / SetTransactionProgress / SetTransactionResult, retries and abandoned items."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from podium.db.engine import Database
from podium.db.schema_queues import queue_items
from podium.domain.queue_transactions import abandon_stale_items
from tests.factories import create_queue
from tests.queue_helpers import (
    ODATA,
    SVC,
    add_item,
    counts,
    create_robot,
    item,
    result,
    robot_key,
    robot_token,
    start,
)
from tests.support import Api, assert_error


def test_dequeue_order_defer_and_reference(api: Api) -> None:
    create_queue(api)
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    ids = {
        "normal-1": add_item(api, Reference="normal-1")["Id"],
        "low-due-late": add_item(
            api, Reference="low-due-late", Priority="Low", DueDate="2031-01-01T00:00:00Z"
        )["Id"],
        "high": add_item(api, Reference="high", Priority="High")["Id"],
        "deferred": add_item(api, Reference="deferred", Priority="High", DeferDate=future)["Id"],
        "normal-due-late": add_item(api, Reference="normal-due-late", DueDate="2031-01-01T00:00:00Z")["Id"],
        "normal-due-early": add_item(api, Reference="normal-due-early", DueDate="2030-01-01T00:00:00Z")["Id"],
        "normal-2": add_item(api, Reference="normal-2")["Id"],
        "low": add_item(api, Reference="low", Priority="Low")["Id"],
        "past-deferral": add_item(api, Reference="past-deferral", DeferDate="2020-01-01T00:00:00Z")["Id"],
    }
    # a reference filter picks among New items; StartsWith takes a prefix (with % and _ taken literally)
    assert start(api, Reference="normal-2")["Id"] == ids["normal-2"]
    assert (
        start(api, Reference="normal-due", ReferenceFilterOption="StartsWith")["Id"]
        == ids["normal-due-early"]
    )
    assert start(api, Reference="normal%", ReferenceFilterOption="StartsWith") is None
    assert start(api, Reference="nothing-like-it") is None
    order = []
    while (taken := start(api)) is not None:
        assert taken["Status"] == "InProgress" and taken["StartProcessing"] is not None
        order.append(taken["Reference"])
    # items with a DueDate first (by Priority, then DueDate), then the rest by Priority, then FIFO
    assert order == ["normal-due-late", "low-due-late", "high", "normal-1", "past-deferral", "low"]
    assert item(api, ids["deferred"])["Status"] == "New"


def test_start_with_content_robot_identifier_and_null_answer(api: Api, db: Engine) -> None:
    create_queue(api)
    robot = create_robot(api, "r1")
    answer = api.post(
        f"{ODATA}/Queues/{SVC}.StartTransaction", {"transactionData": {"Name": "invoices"}}, folder="Shared"
    )
    assert answer.status_code == 200 and answer.content == b"null"  # the SDK parses every answer as JSON
    started = start(
        api, RobotIdentifier=robot_key(db, robot["Id"]), SpecificContent={"x": 1}, Reference="direct"
    )
    assert started["Status"] == "InProgress" and started["RobotId"] == robot["Id"]
    assert started["SpecificContent"] == {"x": 1} and started["Reference"] == "direct"
    expanded = api.ok(api.get(f"{ODATA}/QueueItems({started['Id']})?$expand=Robot", folder="Shared"))
    assert expanded["Robot"]["Name"] == "r1"
    body = {
        "transactionData": {"Name": "invoices", "RobotIdentifier": "00000000-0000-0000-0000-000000000000"}
    }
    assert_error(api.post(f"{ODATA}/Queues/{SVC}.StartTransaction", body, folder="Shared"), 404)
    body = {"transactionData": {"Name": "nope"}}
    assert_error(api.post(f"{ODATA}/Queues/{SVC}.StartTransaction", body, folder="Shared"), 404)
    body = {"transactionData": {"Name": "invoices", "ReferenceFilterOption": "Contains", "Reference": "a"}}
    assert_error(api.post(f"{ODATA}/Queues/{SVC}.StartTransaction", body, folder="Shared"), 400)


def test_results_progress_and_holder(api: Api, db: Engine) -> None:
    output_schema = json.dumps({"type": "object", "properties": {"total": {"type": "integer"}}})
    create_queue(api, OutputDataJsonSchema=output_schema)
    r1, r2 = create_robot(api, "r1"), create_robot(api, "r2")
    t1, t2 = robot_token(api, r1["Id"]), robot_token(api, r2["Id"])
    for n in range(3):
        add_item(api, SpecificContent={"n": n})
    first = start(api, token=t1)
    assert first["RobotId"] == r1["Id"]
    progress = api.post(
        f"{ODATA}/QueueItems({first['Id']})/{SVC}.SetTransactionProgress",
        {"progress": "half"},
        folder="Shared",
        token=t1,
    )
    assert progress.status_code == 200 and progress.json()["Progress"] == "half"
    baseline = counts(db)
    # not the holder, schema violations, malformed exceptions: refused, nothing written
    assert_error(result(api, first["Id"], token=t2, IsSuccessful=True), 403)
    assert_error(
        api.post(
            f"{ODATA}/QueueItems({first['Id']})/{SVC}.SetTransactionProgress",
            {"progress": "x"},
            folder="Shared",
            token=t2,
        ),
        403,
    )
    assert_error(result(api, first["Id"], token=t1, IsSuccessful=True, Output={"total": "many"}), 400)
    assert_error(
        result(api, first["Id"], token=t1, IsSuccessful=False, ProcessingException={"Type": "Oops"}), 400
    )
    assert_error(result(api, first["Id"], token=t1, IsSuccessful="yes"), 400)
    assert_error(result(api, 999_999, token=t1, IsSuccessful=True), 404)
    assert counts(db) == baseline and item(api, first["Id"])["Status"] == "InProgress"
    done = result(api, first["Id"], token=t1, IsSuccessful=True, Output={"total": 3}, Analytics={"ms": 5})
    assert done.status_code == 200 and done.json()["Status"] == "Successful"
    stored = item(api, first["Id"])
    assert stored["Output"] == {"total": 3} and stored["Analytics"] == {"ms": 5} and stored["EndProcessing"]
    assert_error(result(api, first["Id"], token=t1, IsSuccessful=True), 400)  # no longer InProgress
    # a New item was never started: no result for it
    new_id = add_item(api)["Id"]
    assert_error(result(api, new_id, IsSuccessful=True), 400)
    # business exceptions are final even on a retrying queue
    second = start(api, token=t2)
    failed = result(
        api,
        second["Id"],
        token=t2,
        IsSuccessful=False,
        ProcessingException={"Type": "BusinessException", "Reason": "bad data", "Details": "d"},
    )
    assert failed.status_code == 200
    stored = item(api, second["Id"])
    assert stored["Status"] == "Failed" and stored["ProcessingExceptionType"] == "BusinessException"
    assert stored["ProcessingException"]["Reason"] == "bad data"


def test_application_exceptions_retry_until_the_limit(api: Api) -> None:
    create_queue(api, MaxNumberOfRetries=2, AcceptAutomaticallyRetry=True, EnforceUniqueReference=True)
    original = add_item(api, SpecificContent={"v": 1}, Reference="ref-1", Priority="High")
    chain = [original["Id"]]
    for attempt in range(3):
        taken = start(api)
        assert taken["Id"] == chain[-1] and taken["RetryNumber"] == attempt
        failed = result(
            api,
            taken["Id"],
            IsSuccessful=False,
            ProcessingException={"Type": "ApplicationException", "Reason": f"try {attempt}"},
        )
        assert failed.status_code == 200
        if attempt < 2:
            assert failed.json()["Status"] == "Retried"
            successor = api.ok(
                api.get(f"{ODATA}/QueueItems?$filter=AncestorId eq {taken['Id']}", folder="Shared")
            )["value"]
            assert len(successor) == 1
            s = successor[0]
            assert (s["Status"], s["RetryNumber"], s["Key"], s["Reference"]) == (
                "New",
                attempt + 1,
                original["Key"],
                "ref-1",
            )
            assert (
                s["SpecificContent"] == {"v": 1}
                and s["Priority"] == "High"
                and s["UniqueKey"] != original["UniqueKey"]
            )
            assert s["AncestorUniqueKey"] == taken["UniqueKey"]
            chain.append(s["Id"])
        else:
            assert failed.json()["Status"] == "Failed"
    assert start(api) is None
    # the reference stays taken by the original item of the chain
    assert_error(add_item(api, status=409, Reference="ref-1"), 409)


def test_abandoned_items_are_retried(api: Api, db: Engine, database_url: str) -> None:
    create_queue(api, MaxNumberOfRetries=1, AcceptAutomaticallyRetry=True)
    create_queue(api, "no-retry")
    add_item(api, SpecificContent={"k": 1})
    add_item(api, "no-retry")
    first, other = start(api), start(api, "no-retry")
    fresh_id = add_item(api)["Id"]
    fresh = start(api)
    assert fresh["Id"] == fresh_id
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
    with db.begin() as conn:
        conn.execute(
            update(queue_items)
            .where(queue_items.c.id.in_([first["Id"], other["Id"]]))
            .values(start_processing=old)
        )

    async def sweep() -> list[int]:
        database = Database(database_url)
        try:
            return await abandon_stale_items(database, dt.timedelta(hours=24))
        finally:
            await database.dispose()

    assert sorted(asyncio.run(sweep())) == sorted([first["Id"], other["Id"]])
    assert item(api, first["Id"])["Status"] == "Retried"
    assert item(api, other["Id"])["Status"] == "Abandoned"
    assert item(api, fresh["Id"])["Status"] == "InProgress"
    with db.connect() as conn:
        successor = conn.execute(
            select(queue_items.c.id, queue_items.c.status, queue_items.c.retry_number).where(
                queue_items.c.ancestor_id == first["Id"]
            )
        ).one()
    assert (successor.status, successor.retry_number) == (0, 1)
    assert asyncio.run(sweep()) == []
    assert_error(result(api, first["Id"], IsSuccessful=True), 400)  # too late: abandoned and retried
    history = api.ok(api.get(f"{ODATA}/QueueItems({successor.id})", folder="Shared"))
    assert history["SpecificContent"] == {"k": 1}


def test_claim_is_one_skip_locked_statement_on_postgresql(db: Engine, database_url: str) -> None:
    """The dequeue is one UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING on PostgreSQL,
    and reads the dequeue index (EXPLAIN on this backend)."""
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    from podium.domain.queue_item_states import claim_statement

    statement = claim_statement(1, [], None, None, dt.datetime.now(dt.UTC))
    sql = str(statement.compile(dialect=postgresql.dialect()))
    assert (
        sql.startswith("UPDATE queue_items")
        and sql.count("FOR UPDATE SKIP LOCKED") == 1
        and "RETURNING" in sql
    )
    if db.dialect.name == "postgresql":
        with db.connect() as conn:
            compiled = statement.compile(dialect=db.dialect, compile_kwargs={"literal_binds": True})
            plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {compiled}")))
        assert "ix_queue_items_dequeue" in plan and "LockRows" in plan
