"""Encrypted queues: SpecificContent, Output and Analytics are sealed at rest (the database and the
retention archives hold no clear text), answered opened everywhere the API shows them, refused in
$filter/$orderby, bound to their item, and re-sealed by ``podium admin rotate-key``."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from podium.config import Settings
from podium.db.engine import Database
from podium.db.schema_audit import audit_log_entities, audit_logs
from podium.db.schema_queues import queue_item_events, queue_items
from podium.domain import queue_retention
from podium.domain.crypto import Keyring, KeyringError, key_file, read_key_file, sealed_key_id
from podium.domain.key_rotation import rotate_key
from podium.domain.queue_items import item_dto
from podium.domain.queue_sealing import OPENER_CONTEXT, opener
from tests.factories import create_queue
from tests.queue_helpers import ODATA, SVC, add_item, item, result, start
from tests.support import SIGNING_KEY, Api, assert_error

SECRETS = ("card-4111-1111", "paid-by-wire-778", "fraud-score-0.93", "edited-iban-DE89", "direct-ssn-078")
COLUMNS = ("specific_content", "output", "analytics")


def _settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, secret_key=SIGNING_KEY)


def _work(api: Api, queue: str = "vault") -> dict[str, Any]:
    """Every way item data is written: AddQueueItem, BulkAddQueueItems (COPY on PostgreSQL), StartTransaction
    with content, an edit, SetTransactionResult with Output and Analytics, an automatic retry."""
    card, paid, score, iban, ssn = SECRETS
    first = add_item(api, queue, SpecificContent={"card": card}, Reference="one", Priority="High")
    body = {
        "queueName": queue,
        "commitType": "AllOrNothing",
        "queueItems": [
            {"SpecificContent": {"n": n, "card": card}, "Reference": f"bulk-{n}"} for n in range(3)
        ],
    }
    assert api.ok(api.post(f"{ODATA}/Queues/{SVC}.BulkAddQueueItems", body, folder="Shared"))["success"]
    edited = {"SpecificContent": {"iban": iban}, "Reference": "edited"}
    api.ok(api.put(f"{ODATA}/QueueItems({first['Id'] + 1})", edited, folder="Shared"))
    taken = start(api, queue)
    done = api.ok(
        result(api, taken["Id"], IsSuccessful=True, Output={"paid": paid}, Analytics={"score": score})
    )
    failed = start(api, queue)
    retried = api.ok(result(api, failed["Id"], IsSuccessful=False, ProcessingException={"Reason": "flaky"}))
    direct = start(api, queue, SpecificContent={"ssn": ssn})
    return {"first": first, "taken": taken, "done": done, "retried": retried, "direct": direct}


def _stored(db: Engine) -> list[Any]:
    with db.connect() as conn:
        return [conn.execute(select(table)).all() for table in (queue_items, queue_item_events)]


def _database_bytes(database_url: str, db: Engine) -> bytes:
    with db.connect() as conn:  # the audit log keeps the bodies of edits (an item's SpecificContent)
        audited = [conn.execute(select(table)).all() for table in (audit_logs, audit_log_entities)]
    stored = repr([*_stored(db), *audited]).encode()
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        stored += path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    return stored


def test_an_encrypted_queue_stores_no_clear_text(api: Api, db: Engine, database_url: str) -> None:
    create_queue(api, "vault", Encrypted=True, AcceptAutomaticallyRetry=True, MaxNumberOfRetries=1)
    _work(api)
    stored = _database_bytes(database_url, db)
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
    with db.connect() as conn:
        rows = conn.execute(select(queue_items)).mappings().all()
    assert len(rows) == 6  # added, 3 bulk-added, the retry of one of them, added and started at once
    values = [row[column] for row in rows for column in COLUMNS if row[column] is not None]
    assert len(values) >= 8 and all(value.startswith("pe1:") for value in values)
    edit_events = [e for e in _stored(db)[1] if e.data and "SpecificContent" in e.data]
    assert [orjson.loads(e.data)["SpecificContent"] for e in edit_events] == ["(encrypted)"]


def test_a_plain_queue_is_stored_as_before(api: Api, db: Engine) -> None:
    create_queue(api, "plain")
    add_item(api, "plain", SpecificContent={"card": SECRETS[0]})
    with db.connect() as conn:
        assert (
            conn.execute(select(queue_items.c.specific_content)).scalar_one() == '{"card":"card-4111-1111"}'
        )


# properties that differ between two queues' items whatever their data
UNRELATED = frozenset(
    {
        "Id",
        "Key",
        "UniqueKey",
        "QueueDefinitionId",
        "QueueDefinitionName",
        "CreationTime",
        "StartProcessing",
        "EndProcessing",
        "LastModificationTime",
        "AncestorId",
        "AncestorUniqueKey",
        "ProcessingException",
        "SecondsInPreviousAttempts",
    }
)


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{name: value for name, value in row.items() if name not in UNRELATED} for row in rows]


def test_answers_are_opened_and_keep_their_shape(api: Api) -> None:
    create_queue(api, "vault", Encrypted=True, AcceptAutomaticallyRetry=True, MaxNumberOfRetries=1)
    create_queue(api, "plain", AcceptAutomaticallyRetry=True, MaxNumberOfRetries=1)
    answers = {name: _work(api, name) for name in ("vault", "plain")}
    for name in ("vault", "plain"):
        work = answers[name]
        assert work["first"]["SpecificContent"] == {"card": SECRETS[0]}
        assert work["done"]["Output"] == {"paid": SECRETS[1]} and work["done"]["Analytics"] == {
            "score": SECRETS[2]
        }
        assert work["direct"]["SpecificContent"] == {"ssn": SECRETS[4]}
        assert item(api, work["first"]["Id"] + 1)["SpecificContent"] == {"iban": SECRETS[3]}
    # the same DTOs, property for property, from every read
    listed = {
        name: api.ok(api.get(f"{ODATA}/QueueItems?$filter=QueueDefinitionName eq '{name}'", folder="Shared"))[
            "value"
        ]
        for name in ("vault", "plain")
    }
    assert _comparable(listed["vault"]) == _comparable(listed["plain"])
    assert set(answers["vault"]["done"]) == set(answers["plain"]["done"])
    vault = answers["vault"]
    done = item(api, vault["done"]["Id"])
    assert done["Output"] == {"paid": SECRETS[1]} and done["Analytics"] == {"score": SECRETS[2]}
    chosen = api.ok(
        api.get(f"{ODATA}/Queues?$select=Output,Id&$filter=Id eq {vault['done']['Id']}", folder="Shared")
    )
    assert chosen["value"] == [{"Output": {"paid": SECRETS[1]}, "Id": vault["done"]["Id"]}]
    history = api.ok(
        api.get(
            f"{ODATA}/QueueItems({vault['retried']['Id']})/{SVC}.GetItemProcessingHistory", folder="Shared"
        )
    )["value"]
    assert len(history) == 2 and all(i["SpecificContent"] == history[0]["SpecificContent"] for i in history)
    queue_id = vault["first"]["QueueDefinitionId"]
    export = api.ok(api.post(f"{ODATA}/QueueDefinitions({queue_id})/{SVC}.Export", folder="Shared"))
    download = api.client.get(f"/api/Exports/{export['Id']}/Download", headers=api.headers())
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert any(SECRETS[1] in row["Output"] for row in rows) and any(
        SECRETS[0] in r["SpecificContent"] for r in rows
    )


@pytest.mark.parametrize(
    "query",
    [
        "$filter=SpecificContent eq 'x'",
        "$filter=contains(Output, 'x')",
        "$filter=Analytics ne null",
        "$orderby=SpecificContent",
        "$orderby=Output desc",
    ],
)
def test_filters_and_orders_on_item_data_are_refused(api: Api, query: str) -> None:
    create_queue(api, "vault", Encrypted=True)
    add_item(api, "vault", SpecificContent={"a": 1})
    for entity_set in ("QueueItems", "Queues"):
        answer = api.get(f"{ODATA}/{entity_set}?{query}", folder="Shared")
        assert "encrypted" in assert_error(answer, 400)["message"]


def test_encrypted_cannot_change_once_the_queue_exists(api: Api) -> None:
    queue = create_queue(api, "vault", Encrypted=True)
    plain = create_queue(api, "plain")
    for target, value in ((queue, False), (plain, True)):
        body = {"Name": target["Name"], "Encrypted": value}
        assert (
            "Encrypted"
            in assert_error(api.put(f"{ODATA}/QueueDefinitions({target['Id']})", body, folder="Shared"), 400)[
                "message"
            ]
        )
    same = {**{k: v for k, v in queue.items() if not k.startswith("@")}, "Description": "kept"}
    assert (
        api.ok(api.put(f"{ODATA}/QueueDefinitions({queue['Id']})", same, folder="Shared"))["Encrypted"]
        is True
    )


def test_sealed_values_are_bound_to_their_item(
    api: Api, db: Engine, tmp_path: Path, database_url: str
) -> None:
    create_queue(api, "vault", Encrypted=True)
    first = add_item(api, "vault", SpecificContent={"who": "first"})
    second = add_item(api, "vault", SpecificContent={"who": "second"})
    with db.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(queue_items)).mappings()}
    read = opener(lambda: Keyring(_settings(tmp_path, database_url)))
    context = {i: tuple(rows[i][c] for c in OPENER_CONTEXT) for i in rows}
    sealed = {i: rows[i]["specific_content"] for i in rows}
    assert read("SpecificContent", sealed[first["Id"]], context[first["Id"]]) == {"who": "first"}
    with pytest.raises(KeyringError):  # another item's content
        read("SpecificContent", sealed[first["Id"]], context[second["Id"]])
    with pytest.raises(KeyringError):  # another property of the same item
        read("Output", sealed[first["Id"]], context[first["Id"]])
    with db.begin() as conn:  # copied into the other row: that row does not open
        conn.execute(
            update(queue_items)
            .where(queue_items.c.id == second["Id"])
            .values(specific_content=sealed[first["Id"]])
        )
    assert api.get(f"{ODATA}/QueueItems({second['Id']})", folder="Shared").status_code == 500
    assert item(api, first["Id"])["SpecificContent"] == {"who": "first"}


def _archive(database_url: str, tmp_path: Path, db: Engine) -> list[Path]:
    """The queue's finished items archived by the retention sweep (its policy: Archive, 1 day)."""
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    with db.begin() as conn:
        finished = queue_items.c.status != 0
        conn.execute(
            update(queue_items).where(finished).values(end_processing=old, last_modification_time=old)
        )

    async def sweep() -> list[Path]:
        data = Database(database_url)
        try:
            report = await queue_retention.apply_retention(data, tmp_path, item_dto)
        finally:
            await data.dispose()
        return report.files

    return asyncio.run(sweep())


def test_rotate_key_reseals_items_and_archives(
    api: Api, db: Engine, tmp_path: Path, database_url: str
) -> None:
    queue = create_queue(api, "vault", Encrypted=True, AcceptAutomaticallyRetry=True, MaxNumberOfRetries=1)
    work = _work(api)
    api.ok(
        api.put(f"{ODATA}/QueueRetention({queue['Id']})", {"Action": "Archive", "Period": 1}, folder="Shared")
    )
    files = _archive(database_url, tmp_path, db)
    archived = b"".join(path.read_bytes() for path in files)
    assert files and b"pe1:" in archived and not any(secret.encode() in archived for secret in SECRETS)
    # an item written in clear text before items were sealed: rotate-key seals it
    kept = work["first"]["Id"] + 2  # a New item (the first one was archived)
    with db.begin() as conn:
        clear = update(queue_items).where(queue_items.c.id == kept).values(specific_content='{"old":"clear"}')
        conn.execute(clear)
    settings = _settings(tmp_path, database_url)
    before = Keyring(settings).primary
    lines = asyncio.run(rotate_key(settings, retire_old=True))
    fresh = Keyring(settings).primary
    assert fresh != before and any("Encrypted 1 values" in line for line in lines), lines
    assert any("queue retention archives" in line for line in lines) and any(
        "Retired old keys" in line for line in lines
    )
    assert len(read_key_file(key_file(settings))) == 1
    with db.connect() as conn:
        values = [v for row in conn.execute(select(*(queue_items.c[c] for c in COLUMNS))) for v in row if v]
    assert values and {sealed_key_id(v) for v in values} == {fresh}
    archived_ids = {
        sealed_key_id(line[name])
        for path in files
        for line in map(orjson.loads, path.read_bytes().splitlines())
        for name in ("SpecificContent", "Output", "Analytics")
        if isinstance(line.get(name), str)
    }
    assert archived_ids == {fresh}
    # the running server opens everything with the new key alone
    assert item(api, kept)["SpecificContent"] == {"old": "clear"}
    remaining = api.ok(api.get(f"{ODATA}/QueueItems", folder="Shared"))["value"]
    assert {"iban": SECRETS[3]} in [i["SpecificContent"] for i in remaining]
