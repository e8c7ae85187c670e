"""StartTransaction and SetTransactionResult in one statement (PostgreSQL, ``domain/queue_hot_path.py``):
they write what the general path writes (item, history row, outbox row when the tenant has an enabled
webhook), and what they do not answer goes the general way with nothing written."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from psycopg import ClientCursor
from sqlalchemy import select
from sqlalchemy.engine import Engine

from podium.db.engine import Database
from podium.db.schema import events
from podium.db.schema_queues import queue_item_events, queue_items
from podium.domain import queue_hot_path, queue_transactions
from podium.domain import queue_items as item_rows
from podium.domain.queue_item_states import claim_next
from podium.odata.serialize import format_datetime
from tests.factories import create_queue, listen
from tests.queue_helpers import add_item, counts, result, start
from tests.support import Api, assert_error


def counted(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Any]:
    """The answers of ``queue_hot_path.<name>``, recorded as the API calls it (the real function runs)."""
    answers: list[Any] = []
    real: Callable[..., Any] = getattr(queue_hot_path, name)

    async def recording(*args: Any) -> Any:
        answers.append(await real(*args))
        return answers[-1]

    monkeypatch.setattr(queue_hot_path, name, recording)
    return answers


def written(db: Engine, item_id: int, unique_key: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(history rows, outbox rows) of an item, without their ids and times."""
    h = queue_item_events.c
    with db.connect() as conn:
        history = conn.execute(
            select(h.action, h.data, h.user_id, h.status, h.review_status, h.reviewer_user_id, h.folder_id)
            .where(h.queue_item_id == item_id)
            .order_by(h.id)
        ).all()
        outbox = conn.execute(
            select(events.c.type, events.c.payload, events.c.folder_id, events.c.dispatched)
            .where(events.c.entity_key == unique_key)
            .order_by(events.c.id)
        ).all()
    return [tuple(row) for row in history], [
        (kind, {**json.loads(payload), "QueueItemId": "x"}, folder, dispatched)
        for kind, payload, folder, dispatched in outbox
    ]


@pytest.mark.parametrize("webhook", [True, False], ids=["heard", "unheard"])
def test_one_statement_writes_what_the_general_path_writes(
    api: Api, db: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch, webhook: bool
) -> None:
    """With an enabled webhook in the tenant, both write the outbox rows; without, neither does."""
    starts, results = counted(monkeypatch, "start_transaction"), counted(monkeypatch, "set_result")
    if webhook:
        listen(api)
    create_queue(api)
    add_item(api, Reference="through-http", SpecificContent={"n": 1})
    add_item(api, Reference="general-path", SpecificContent={"n": 2})

    taken = start(api)
    answer = result(api, taken["Id"], IsSuccessful=True, Output={"total": 3}, OperationId="op-1")
    assert answer.status_code == 200, answer.text
    completed = answer.json()
    assert completed["Status"] == "Successful" and completed["Output"] == {"total": 3}
    assert completed["OperationId"] == "op-1" and completed["EndProcessing"] is not None
    if database_url.startswith("postgresql"):
        assert [answered for answered, _ in starts] == [True] and len(results) == 1 and results[0] is not None
    else:
        assert starts == [] and results == []

    async def general_path() -> dict[str, Any]:
        database = Database(database_url)
        try:
            async with database.write() as conn:
                claimed = await claim_next(
                    conn, taken["QueueDefinitionId"], [], None, api.tenant.admin_user_id, taken_time
                )
            assert claimed is not None
            async with database.write() as conn:
                locked = await item_rows.item_for_update(conn, api.tenant.tenant_id, claimed["id"])
                return await queue_transactions.set_result(
                    conn,
                    locked,
                    {"IsSuccessful": True, "Output": {"total": 3}, "OperationId": "op-1"},
                    api.tenant.admin_user_id,
                )
        finally:
            await database.dispose()

    taken_time = dt.datetime.now(dt.UTC)
    other = asyncio.run(general_path())
    assert other["reference"] == "general-path"
    assert written(db, taken["Id"], taken["Key"]) == written(db, other["id"], other["unique_key"])
    history, outbox = written(db, taken["Id"], taken["Key"])
    assert [row[3] for row in history] == [0, 1, 3]  # added (New), InProgress, then Successful
    if webhook:
        kinds = [(kind, dispatched) for kind, _, _, dispatched in outbox][-2:]
        assert kinds == [("queueitem.inprogress", False), ("queueitem.successful", False)]
    else:
        assert outbox == []
    with db.connect() as conn:
        stored = conn.execute(select(queue_items).where(queue_items.c.id == taken["Id"])).mappings().one()
    assert stored["processing_user_id"] == api.tenant.admin_user_id and stored["operation_id"] == "op-1"
    assert format_datetime(stored["end_processing"]) == completed["EndProcessing"]


def test_what_one_statement_does_not_answer_goes_the_general_way(
    api: Api, db: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = counted(monkeypatch, "set_result")
    create_queue(api)
    create_queue(api, "retried", AcceptAutomaticallyRetry=True, MaxNumberOfRetries=1)
    add_item(api)
    add_item(api, "retried")
    taken, retried = start(api), start(api, "retried")
    before = counts(db)
    assert_error(result(api, taken["Id"], IsSuccessful="yes"), 400)
    assert_error(result(api, 10**12), 404)
    assert counts(db) == before
    # an application exception with retries left: Retried, and its successor (the general path's work)
    failure = {"Reason": "timeout", "Type": "ApplicationException"}
    answer = result(api, retried["Id"], IsSuccessful=False, ProcessingException=failure)
    assert answer.status_code == 200 and answer.json()["Status"] == "Retried"
    successor = start(api, "retried")
    assert successor["AncestorId"] == retried["Id"] and successor["RetryNumber"] == 1
    # a business exception is the one statement's (when PostgreSQL): Failed, never retried
    business = {"Reason": "no such customer", "Type": "BusinessException"}
    answer = result(api, successor["Id"], IsSuccessful=False, ProcessingException=business)
    assert answer.status_code == 200 and answer.json()["Status"] == "Failed"
    assert answer.json()["ProcessingException"]["Reason"] == "no such customer"
    assert start(api, "retried") is None
    # the item is finished: a second result is refused (400), whichever path answered the first
    assert result(api, taken["Id"], IsSuccessful=True).status_code == 200
    assert_error(result(api, taken["Id"], IsSuccessful=True), 400)
    # the statement answered the business exception and the first success; the rest went the general way
    # (a body it cannot read is not even tried, nor an application exception: retried, or failed with an
    # alert)
    answered = [answer is not None for answer in results]
    assert answered == ([False, True, True, False] if database_url.startswith("postgresql") else [])


def test_a_result_finds_its_item_by_primary_key(api: Api, db: Engine, database_url: str) -> None:
    """Most items done, one InProgress: the completion's plan goes by the primary key, not through
    ix_queue_items_status_start (whose InProgress range also holds every past InProgress version)."""
    if not database_url.startswith("postgresql"):
        return  # the one-statement path is PostgreSQL's
    queue = create_queue(api)
    add_item(api, Reference="taken")
    with db.begin() as conn:  # 5,000 finished items beside it, then fresh statistics
        row = conn.execute(select(queue_items).where(queue_items.c.reference == "taken")).mappings().one()
        copy = {k: v for k, v in row.items() if k not in ("id", "key", "unique_key", "reference")}
        conn.execute(
            queue_items.insert(),
            [
                {**copy, "key": f"k{n}", "unique_key": f"u{n}", "reference": f"r{n}", "status": 3}
                for n in range(5000)
            ],
        )
        conn.exec_driver_sql("ANALYZE queue_items")
    taken = start(api)
    outcome = queue_transactions.read_result({"IsSuccessful": True})
    statement = queue_hot_path._result_statement(tuple(sorted(outcome.changes)), False, False)
    params = {
        **outcome.changes,
        "id": taken["Id"],
        "tenant": row["tenant_id"],
        "folder": queue["OrganizationUnitId"],
        "robot": None,
        "user": 1,
        "now": dt.datetime.now(dt.UTC),
        "retryable": False,
    }
    with db.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        found = ClientCursor(raw).execute("EXPLAIN " + statement, params).fetchall()
        raw.rollback()
    plan = "\n".join(line for (line,) in found)
    assert "ix_queue_items_status_start" not in plan and "pk_queue_items" in plan, plan


def test_item_dto_is_every_field_converted_in_order() -> None:
    """``item_dto`` copies what needs no conversion and skips the constants' calls: the same DTO as
    each field's converter, in the fields' order."""
    from podium.domain.queue_items import ITEM_DTO_FIELDS, item_dto
    from podium.odata.serialize import converter

    now = dt.datetime(2026, 12, 7, 2, 30, 1, 250000, tzinfo=dt.UTC)
    row: dict[str, Any] = {column.name: None for column in queue_items.c}
    row.update(
        id=7,
        tenant_id=1,
        folder_id=2,
        queue_definition_id=3,
        queue_definition_name="q",
        key="k",
        unique_key="u",
        status=3,
        review_status=1,
        priority=2,
        reference="r",
        specific_content='{"n": 1}',
        output='{"ok": true}',
        processing_exception_type=1,
        retry_number=1,
        creation_time=now,
        start_processing=now,
        end_processing=now,
        robot_id=5,
        ancestor_id=6,
        progress="half",
    )
    expected = {f.name: converter(f)(row[str(f.column)]) if f.stored else f.constant for f in ITEM_DTO_FIELDS}
    answer = item_dto(row)
    assert answer == expected and list(answer) == list(expected)


def test_calls_that_meet_share_one_statement_and_each_gets_its_own_answer(
    api: Api, db: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six StartTransaction calls on one queue at the same moment: one statement; the calls its checks let
    through take the next items in order (one robot is unknown: not answered, the general path's), the
    last finds the queue empty. Their results: one statement again; an unknown item is not answered. Each
    item's history and outbox rows are those of a call alone."""
    if not database_url.startswith("postgresql"):
        return  # the one-statement path is PostgreSQL's
    listen(api)
    queue = create_queue(api)
    for n in range(4):
        add_item(api, Reference=f"r{n}")
    ran: list[tuple[str, int]] = []
    real_rows = queue_hot_path._rows

    async def recording(database: Database, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        calls = params.get("users", params.get("ids"))
        ran.append(("claim" if "claimed AS" in sql else "result", len(calls) if calls else 1))
        return await real_rows(database, sql, params)

    monkeypatch.setattr(queue_hot_path, "_rows", recording)
    tenant, folder, user = api.tenant.tenant_id, queue["OrganizationUnitId"], api.tenant.admin_user_id
    outcome = queue_transactions.read_result({"IsSuccessful": True, "Output": {"n": 1}})

    async def scenario() -> tuple[list[Any], list[Any]]:
        database = Database(database_url)
        now = dt.datetime.now(dt.UTC)
        try:
            robots = [None, None, None, "no-such-robot", None, None]
            starts = await asyncio.gather(
                *(
                    queue_hot_path.start_transaction(
                        database, tenant, folder, "invoices", robot, None, user, now
                    )
                    for robot in robots
                )
            )
            ids = [item["id"] for _, item in starts if item is not None] + [10**12]
            results = await asyncio.gather(
                *(
                    queue_hot_path.set_result(database, tenant, folder, item_id, outcome, None, user, now)
                    for item_id in ids
                )
            )
        finally:
            await database.dispose()
        return list(starts), list(results)

    starts, results = asyncio.run(scenario())
    assert ran == [("claim", 6), ("result", 5)]
    answered = [(answered, item and item["reference"]) for answered, item in starts]
    assert answered == [(True, "r0"), (True, "r1"), (True, "r2"), (False, None), (True, "r3"), (True, None)]
    assert [row and (row["reference"], row["status"], row["output"]) for row in results] == [
        ("r0", 3, '{"n":1}'),
        ("r1", 3, '{"n":1}'),
        ("r2", 3, '{"n":1}'),
        ("r3", 3, '{"n":1}'),
        None,
    ]
    assert all("podium_call" not in row and "status_name" not in row for row in results if row)
    # a call alone, through the API, writes the same rows for its item
    add_item(api, Reference="alone")
    alone = start(api)
    assert result(api, alone["Id"], IsSuccessful=True, Output={"n": 1}).status_code == 200
    first = starts[0][1]
    assert written(db, first["id"], first["unique_key"]) == written(db, alone["Id"], alone["Key"])
