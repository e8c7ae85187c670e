"""BulkAddQueueItems at size: the bulk write path (COPY on PostgreSQL, one INSERT on SQLite) stores what
the single-item path stores, and the unique index guards references taken after the batch's check."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from podium.db.engine import Database
from podium.db.schema_queues import queue_definitions, queue_item_events, queue_items
from podium.domain.queue_enums import QueueItemEventAction, QueueItemPriority, QueueItemStatus
from podium.domain.queue_items import insert_items, item_values, new_keys
from podium.domain.queue_schemas import ItemError
from tests.factories import create_queue
from tests.queue_helpers import ODATA, SVC, counts
from tests.support import Api, assert_error

BULK = f"{ODATA}/Queues/{SVC}.BulkAddQueueItems"


def _bulk(api: Api, items: list[dict[str, Any]], commit: str = "AllOrNothing") -> Any:
    body = {"queueName": "invoices", "commitType": commit, "queueItems": items}
    return api.post(BULK, body, folder="Shared")


def test_large_batch_stores_every_item_with_its_history(api: Api, db: Engine) -> None:
    create_queue(api, SlaInMinutes=60, RiskSlaInMinutes=30, EnforceUniqueReference=True)
    items = [
        {
            "Reference": f"R{i}",
            "SpecificContent": {"n": i, "text": "tab\there, line\nbreak, back\\slash"},
            "Priority": ("High", "Normal", "Low")[i % 3],
        }
        for i in range(1200)
    ]
    items[7]["DueDate"] = "2030-01-02T03:04:05Z"
    items[8]["DeferDate"] = "2029-05-06T07:08:09.5Z"
    answer = api.ok(_bulk(api, items))
    assert answer["success"] is True and answer["failedItems"] == []
    with db.connect() as conn:
        rows = conn.execute(select(queue_items).order_by(queue_items.c.id)).mappings().all()
        history = conn.execute(select(queue_item_events)).mappings().all()
    assert [row["reference"] for row in rows] == [f"R{i}" for i in range(1200)]  # ids follow the order
    assert len({row["key"] for row in rows}) == 1200
    assert all(uuid.UUID(row["key"]).version == 4 and row["key"] == row["unique_key"] for row in rows)
    priorities = [int(QueueItemPriority[name]) for name in ("High", "Normal", "Low")]
    assert [row["priority"] for row in rows[:3]] == priorities
    assert rows[5]["specific_content"] and '"tab\\there' in rows[5]["specific_content"]
    created = rows[0]["creation_time"]
    assert rows[0]["due_date"] == created + dt.timedelta(minutes=60)
    assert rows[0]["risk_sla_date"] == created + dt.timedelta(minutes=30)
    assert rows[7]["due_date"] == dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert rows[8]["defer_date"] == dt.datetime(2029, 5, 6, 7, 8, 9, 500000, tzinfo=dt.UTC)
    assert all(row["unique_reference"] == row["reference"] for row in rows)
    assert sorted(event["queue_item_id"] for event in history) == [row["id"] for row in rows]
    assert {
        (event["action"], event["status"], event["timestamp"], event["user_id"]) for event in history
    } == {(int(QueueItemEventAction.Create), int(QueueItemStatus.New), created, rows[0]["creator_user_id"])}
    listed = api.ok(api.get(f"{ODATA}/QueueItems?$filter=Reference eq 'R5'", folder="Shared"))["value"]
    assert listed[0]["SpecificContent"] == items[5]["SpecificContent"]
    # a second batch: every reference already taken, found with one query, nothing written
    assert_error(_bulk(api, items[:1000]), 409)
    refused = api.ok(_bulk(api, [*items[:2], {"Reference": "new"}], "ProcessAllIndependently"))
    assert [f["ErrorCode"] for f in refused["failedItems"]] == ["DuplicateReference"] * 2
    assert counts(db) == (1201, 1201)


def test_reference_taken_after_the_check_refuses_the_whole_batch(
    api: Api, db: Engine, database_url: str
) -> None:
    """The unique index is the last guard (a concurrent request may add a reference after the batch's
    check): the write answers 409 and the transaction leaves nothing behind."""
    create_queue(api, EnforceUniqueReference=True)
    api.ok(_bulk(api, [{"Reference": "taken"}]))
    with db.connect() as conn:
        queue = dict(conn.execute(select(queue_definitions)).mappings().one())

    async def write_past_the_check() -> None:
        database = Database(database_url)
        now = dt.datetime.now(dt.UTC)
        keys = new_keys(3)
        rows = [
            item_values({"Reference": ref}, queue, None, now, check_name=False, key=key)
            for ref, key in zip(("fresh-1", "taken", "fresh-2"), keys, strict=True)
        ]
        try:
            with pytest.raises(ItemError) as refused:
                async with database.write() as conn:
                    await insert_items(conn, queue, rows, None)
            assert refused.value.status == 409 and refused.value.failure == "DuplicateReference"
        finally:
            await database.dispose()

    asyncio.run(write_past_the_check())
    assert counts(db) == (1, 1)


def test_new_keys_are_distinct_version_4_uuids() -> None:
    keys = new_keys(2000)
    assert len(set(keys)) == 2000
    parsed = [uuid.UUID(key) for key in keys]
    assert all(p.version == 4 and p.variant == uuid.RFC_4122 for p in parsed)
    assert [str(p) for p in parsed] == keys
