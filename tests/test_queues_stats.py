"""Queue statistics: RetrieveQueuesProcessingStatus and RetrieveLastDaysProcessingRecords, computed from
the items, after retries and deletions, with OData options on the computed rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from podium.db.schema_queues import queue_items
from tests.factories import create_queue
from tests.queue_helpers import ODATA, SVC, add_item, result, start
from tests.support import Api, assert_error

STATS = f"{ODATA}/QueueProcessingRecords/{SVC}.RetrieveQueuesProcessingStatus"


def timed(db: Engine, item_id: int, seconds: int, ended: dt.datetime) -> None:
    """Stands in for the clock: the attempt ran ``seconds`` and ended at ``ended``."""
    with db.begin() as conn:
        conn.execute(
            update(queue_items)
            .where(queue_items.c.id == item_id)
            .values(start_processing=ended - dt.timedelta(seconds=seconds), end_processing=ended)
        )


def failed(api: Api, kind: str) -> dict[str, Any]:
    taken = start(api)
    api.ok(result(api, taken["Id"], IsSuccessful=False, ProcessingException={"Type": kind, "Reason": "x"}))
    return taken  # type: ignore[no-any-return]


@pytest.fixture
def queues(api: Api, db: Engine) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # taken here, not at import: see the last-days test
    queue = create_queue(api, AcceptAutomaticallyRetry=True, MaxNumberOfRetries=1, Description="work")
    created = {ref: add_item(api, Reference=ref) for ref in "ABCDEF"}
    success = start(api)  # A
    api.ok(result(api, success["Id"], IsSuccessful=True))
    timed(db, success["Id"], 10, now - dt.timedelta(days=1))
    retried = failed(api, "ApplicationException")  # B: Retried, its successor B2 goes to the end
    timed(db, retried["Id"], 20, now)
    business = failed(api, "BusinessException")  # C
    timed(db, business["Id"], 40, now)
    api.ok(api.delete(f"{ODATA}/QueueItems({created['D']['Id']})", folder="Shared"), 204)
    in_progress = start(api)  # E
    assert in_progress["Reference"] == "E"
    # F stays New; then B2 (the retry) is the next New item after F
    retry = start(api, Reference="B")
    assert retry["AncestorId"] == retried["Id"]
    api.ok(result(api, retry["Id"], IsSuccessful=False, ProcessingException={"Type": "BusinessException"}))
    timed(db, retry["Id"], 30, now)
    empty = create_queue(api, "empty")
    return {"queue": queue, "empty": empty, "now": now}


def test_processing_status_counts_retries_once_and_skips_deleted(api: Api, queues: dict[str, Any]) -> None:
    body = api.ok(api.get(f"{STATS}?$orderby=QueueDefinitionName", folder="Shared"))
    assert body["@odata.count"] == 2
    empty, work = body["value"]
    assert work["QueueDefinitionId"] == queues["queue"]["Id"] and work["Id"] == queues["queue"]["Id"]
    assert (work["QueueDefinitionName"], work["QueueDefinitionDescription"]) == ("invoices", "work")
    assert (work["QueueDefinitionAcceptAutomaticallyRetry"], work["QueueDefinitionMaxNumberOfRetries"]) == (
        True,
        1,
    )
    assert (work["ItemsToProcess"], work["ItemsInProgress"]) == (1, 1)  # F; E (D is Deleted)
    assert work["SuccessfulTransactionsNo"] == 1  # A
    assert work["ApplicationExceptionsNo"] == 1  # B, retried
    assert work["BusinessExceptionsNo"] == 2  # C and B's retry
    assert work["TotalNumberOfTransactions"] == 4
    assert work["SuccessfulTransactionsProcessingTime"] == pytest.approx(10, abs=0.01)
    assert work["ApplicationExceptionsProcessingTime"] == pytest.approx(20, abs=0.01)
    assert work["BusinessExceptionsProcessingTime"] == pytest.approx(70, abs=0.01)
    assert work["ProcessingMeanTime"] == pytest.approx(25, abs=0.01)  # (10 + 20 + 40 + 30) / 4
    assert work["LastProcessed"] == queues["now"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert work["SpecificDataJsonSchemaExists"] is False and work["QueueFoldersCount"] == 1
    assert (work["ReleaseName"], work["ReleaseId"], work["IsProcessInCurrentFolder"]) == (None, None, None)
    assert empty["QueueDefinitionName"] == "empty"
    assert [empty[k] for k in ("ItemsToProcess", "TotalNumberOfTransactions", "ProcessingMeanTime")] == [
        0,
        0,
        0,
    ]
    assert empty["LastProcessed"] is None


def test_processing_status_query_options(api: Api, queues: dict[str, Any]) -> None:
    def names(query: str) -> list[str]:
        return [row["QueueDefinitionName"] for row in api.ok(api.get(f"{STATS}?{query}"))["value"]]

    assert names("$filter=BusinessExceptionsNo gt 1") == ["invoices"]
    assert names("$filter=TotalNumberOfTransactions eq 0") == ["empty"]
    assert names("$orderby=ItemsToProcess desc&$top=1") == ["invoices"]
    assert names("$orderby=QueueDefinitionName desc&$skip=1") == ["empty"]
    assert names("$filter=ProcessingMeanTime gt 24.5 and SuccessfulTransactionsNo eq 1") == ["invoices"]
    selected = api.ok(api.get(f"{STATS}?$select=QueueDefinitionName,ItemsToProcess&$top=1&$count=false"))
    assert selected == {
        "@odata.context": selected["@odata.context"],
        "value": [{"QueueDefinitionName": "invoices", "ItemsToProcess": 1}],
    }
    assert_error(api.get(f"{STATS}?$filter=NoSuchField eq 1"), 400)
    # every queue's all-time record through the entity set itself
    records = api.ok(
        api.get(f"{ODATA}/QueueProcessingRecords?$filter=QueueDefinitionId eq {queues['queue']['Id']}")
    )
    [record] = records["value"]
    assert (record["NumberOfRetriedItems"], record["NumberOfBusinessExceptions"], record["ReportType"]) == (
        1,
        2,
        "All",
    )


def test_last_days_records(api: Api, queues: dict[str, Any]) -> None:
    queue_id = queues["queue"]["Id"]
    url = f"{ODATA}/QueueProcessingRecords/{SVC}.RetrieveLastDaysProcessingRecords"
    body = api.ok(api.get(f"{url}(daysNo=3,queueDefinitionId={queue_id})", folder="Shared"))
    days = body["value"]
    today = queues["now"].date()
    if dt.datetime.now(dt.UTC).date() != today:
        pytest.skip("the UTC day changed between the fixture and the answer: every item moved one bucket")
    assert [d["ProcessingTime"] for d in days] == [
        f"{today - dt.timedelta(days=n):%Y-%m-%d}T00:00:00Z" for n in (2, 1, 0)
    ]
    assert [d["NumberOfSuccessfulTransactions"] for d in days] == [0, 1, 0]
    assert [d["NumberOfApplicationExceptions"] for d in days] == [0, 0, 1]
    assert [d["NumberOfBusinessExceptions"] for d in days] == [0, 0, 2]
    assert [d["NumberOfRetriedItems"] for d in days] == [0, 0, 1]
    assert [d["TotalNumberOfTransactions"] for d in days] == [0, 1, 3]
    assert days[2]["BusinessExceptionsProcessingTime"] == pytest.approx(70, abs=0.01)
    assert days[1]["SuccessfulTransactionsProcessingTime"] == pytest.approx(10, abs=0.01)
    assert [(d["NumberOfRemainingTransactions"], d["NumberOfInProgressTransactions"]) for d in days] == [
        (0, 0),
        (0, 0),
        (1, 1),
    ]
    assert {d["ReportType"] for d in days} == {"Day"} and days[0]["UiQueueMetadata"]["Name"] == "invoices"
    assert_error(api.get(f"{url}(daysNo=0,queueDefinitionId={queue_id})"), 400)
    assert_error(api.get(f"{url}(daysNo=x,queueDefinitionId={queue_id})"), 400)
    assert_error(api.get(f"{url}(daysNo=3,queueDefinitionId=999999)"), 404)
