"""Queue retention: the QueueRetention settings over HTTP, and the sweep (called directly) deleting or
archiving finished items older than the period, once across concurrent sweeps (the lease)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from podium.config import Settings
from podium.db.engine import Database
from podium.db.schema_queues import queue_item_comments, queue_item_events, queue_items
from podium.domain import queue_retention
from podium.domain.queue_enums import QueueItemStatus
from podium.domain.queue_items import item_dto
from podium.http.state import AppState
from podium.services.base import run_round
from podium.services.queue_retention import SERVICE as RETENTION
from tests.factories import create_queue
from tests.queue_helpers import ODATA, add_item
from tests.support import SIGNING_KEY, Api, assert_error

S = QueueItemStatus
NOW = dt.datetime.now(dt.UTC)
HOUR = dt.timedelta(hours=1)


def aged(db: Engine, item_id: int, status: S, days: float) -> None:
    """Stands in for the item's life: it reached ``status`` ``days`` ago."""
    when = NOW - dt.timedelta(days=days)
    values: dict[str, Any] = {"status": int(status), "last_modification_time": when, "creation_time": when}
    if status not in (S.New, S.Deleted):
        values.update(start_processing=when - HOUR, end_processing=None if status is S.InProgress else when)
    with db.begin() as conn:
        conn.execute(update(queue_items).where(queue_items.c.id == item_id).values(**values))


def remaining(db: Engine, queue_id: int) -> set[int]:
    with db.connect() as conn:
        rows = conn.execute(select(queue_items.c.id).where(queue_items.c.queue_definition_id == queue_id))
        return {row.id for row in rows}


def populate(api: Api, db: Engine, queue: str, days_old: float, days_new: float) -> dict[str, int]:
    """One item per status, old (``days_old``), and a recent Successful one (``days_new``)."""
    ids: dict[str, int] = {}
    for status in S:
        ids[status.name] = add_item(api, queue)["Id"]
        aged(db, ids[status.name], status, days_old)
    ids["recent"] = add_item(api, queue)["Id"]
    aged(db, ids["recent"], S.Successful, days_new)
    return ids


def run_sweep(url: str, data_dir: Path, holder: str = "test", count: int = 1) -> list[Any]:
    """``count`` concurrent rounds of the retention service, each as another server process (holder):
    the report of each round that got the lease, None for the others."""

    async def go() -> list[Any]:
        db = Database(url)
        state = AppState(settings=Settings(data_dir=data_dir), db=db, signing_key=SIGNING_KEY)
        reports: dict[str, queue_retention.SweepReport] = {}

        async def round_of(name: str) -> Any:
            async def apply(state: AppState) -> None:
                reports[name] = await queue_retention.apply_retention(state.db, data_dir, item_dto)

            service = replace(RETENTION, run_once=apply)
            got = await run_round(service, state, name, interval=3600)
            return reports[name] if got else None

        try:
            return list(await asyncio.gather(*(round_of(f"{holder}-{n}") for n in range(count))))
        finally:
            await db.dispose()

    return asyncio.run(go())


def test_retention_settings_over_http(api: Api) -> None:
    queue = create_queue(api)
    other = create_queue(api, "other")
    url = f"{ODATA}/QueueRetention"
    listed = api.ok(api.get(f"{url}?$orderby=QueueDefinitionId", folder="Shared"))
    assert listed["value"] == [
        {"QueueDefinitionId": queue["Id"], "Action": "Delete", "Period": 30, "BucketId": None},
        {"QueueDefinitionId": other["Id"], "Action": "Delete", "Period": 30, "BucketId": None},
    ]
    body = {"QueueDefinitionId": queue["Id"], "Action": "Archive", "Period": 7}
    changed = api.ok(api.put(f"{url}({queue['Id']})", body, folder="Shared"))
    assert (changed["Action"], changed["Period"]) == ("Archive", 7)
    assert api.ok(api.get(f"{url}({queue['Id']})"))["Action"] == "Archive"
    api.ok(api.put(f"{url}({other['Id']})", {"Action": "None", "Period": 1}, folder="Shared"))
    assert api.ok(api.get(f"{url}?$filter=Action eq 'None'"))["value"][0]["QueueDefinitionId"] == other["Id"]
    for bad in (
        {"Action": "Archive", "Period": 0},
        {"Action": "Sometimes", "Period": 3},
        {"Action": "Delete", "Period": "3"},
        {"Action": "Delete", "Period": 3, "BucketId": 424242},
        {"QueueDefinitionId": other["Id"], "Action": "Delete", "Period": 3},
        {"Action": "Delete", "Colour": "red"},
    ):
        assert_error(api.put(f"{url}({queue['Id']})", bad, folder="Shared"), 400)
    assert api.ok(api.get(f"{url}({queue['Id']})"))["Period"] == 7  # nothing half-written
    assert_error(api.put(f"{url}(999999)", body, folder="Shared"), 404)
    assert_error(api.get(f"{url}(999999)"), 404)
    assert_error(api.post(url, body, folder="Shared"), 400)
    api.ok(api.delete(f"{url}({queue['Id']})", folder="Shared"), 204)  # back to the built-in policy
    assert api.ok(api.get(f"{url}({queue['Id']})"))["Action"] == "Delete"
    assert api.ok(api.get(f"{url}({queue['Id']})"))["Period"] == 30
    api.ok(api.delete(f"{ODATA}/QueueDefinitions({other['Id']})", folder="Shared"), 204)
    assert_error(api.get(f"{url}({other['Id']})"), 404)  # its policy went with it


def test_sweep_deletes_finished_items_past_the_period(
    api: Api, db: Engine, database_url: str, tmp_path: Path
) -> None:
    default = create_queue(api, "default")  # built-in: 30 days, Delete
    short = create_queue(api, "short")
    kept = create_queue(api, "kept")
    api.ok(
        api.put(f"{ODATA}/QueueRetention({short['Id']})", {"Action": "Delete", "Period": 2}, folder="Shared")
    )
    api.ok(api.put(f"{ODATA}/QueueRetention({kept['Id']})", {"Action": "None", "Period": 1}, folder="Shared"))
    old_default = populate(api, db, "default", days_old=31, days_new=29)
    old_short = populate(api, db, "short", days_old=3, days_new=1)
    old_kept = populate(api, db, "kept", days_old=400, days_new=1)
    comment = {"Text": "checked", "QueueItemId": old_default["Successful"]}
    api.ok(api.post(f"{ODATA}/QueueItemComments", comment, folder="Shared"), 201)

    [report] = run_sweep(database_url, tmp_path)

    survivors = {"New", "InProgress", "recent"}
    for queue, ids in ((default, old_default), (short, old_short)):
        assert remaining(db, queue["Id"]) == {ids[name] for name in survivors}
        assert report.deleted[queue["Id"]] == 5  # Failed, Successful, Abandoned, Retried, Deleted
    assert remaining(db, kept["Id"]) == set(old_kept.values()) and kept["Id"] not in report.deleted
    assert report.archived == {} and report.files == []
    gone = [old_default[s.name] for s in S if s.name not in survivors]
    with db.connect() as conn:
        for table in (queue_item_events, queue_item_comments):
            left = conn.execute(select(func.count()).where(table.c.queue_item_id.in_(gone))).scalar_one()
            assert left == 0  # the items' history and comments went with them
        history = select(func.count()).where(queue_item_events.c.queue_item_id == old_default["New"])
        assert conn.execute(history).scalar_one() == 1  # a kept item keeps its history
    assert api.ok(api.get(f"{ODATA}/QueueRetention({short['Id']})"))["Period"] == 2


def test_sweep_archives_to_the_data_folder(api: Api, db: Engine, database_url: str, tmp_path: Path) -> None:
    queue = create_queue(api)
    api.ok(
        api.put(f"{ODATA}/QueueRetention({queue['Id']})", {"Action": "Archive", "Period": 5}, folder="Shared")
    )
    ids = populate(api, db, "invoices", days_old=6, days_new=4)
    [report] = run_sweep(database_url, tmp_path)
    expired = {ids[name] for name in ("Failed", "Successful", "Abandoned", "Retried", "Deleted")}
    assert remaining(db, queue["Id"]) == {ids["New"], ids["InProgress"], ids["recent"]}
    assert report.archived == {queue["Id"]: 5} and report.deleted == {queue["Id"]: 5}
    [path] = report.files
    folder = tmp_path / "queue-archive" / str(api.tenant.tenant_id) / str(queue["Id"])
    assert path.parent == folder and list(folder.iterdir()) == [path]
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert {line["Id"] for line in lines} == expired
    assert {line["Status"] for line in lines} == {"Failed", "Successful", "Abandoned", "Retried", "Deleted"}
    assert {line["QueueDefinitionName"] for line in lines} == {"invoices"}
    assert all(line["Key"] and "SpecificContent" in line for line in lines)


def test_concurrent_sweeps_do_the_work_once(api: Api, db: Engine, database_url: str, tmp_path: Path) -> None:
    queue = create_queue(api)
    api.ok(
        api.put(f"{ODATA}/QueueRetention({queue['Id']})", {"Action": "Archive", "Period": 1}, folder="Shared")
    )
    ids = populate(api, db, "invoices", days_old=2, days_new=0.5)
    reports = run_sweep(database_url, tmp_path, "server", count=2)
    done = [report for report in reports if report is not None]
    assert len(done) == 1 and done[0].archived == {queue["Id"]: 5}
    assert len(list((tmp_path / "queue-archive").rglob("*.jsonl"))) == 1
    assert remaining(db, queue["Id"]) == {ids["New"], ids["InProgress"], ids["recent"]}
    # within the interval, another server finds the lease held and does nothing
    late = add_item(api)["Id"]
    aged(db, late, S.Successful, 3)
    assert run_sweep(database_url, tmp_path, "late") == [None]
    assert late in remaining(db, queue["Id"])
