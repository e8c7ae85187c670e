"""``db/bulk.py``'s many-row statements on both backends (PostgreSQL: arrays in binary, a column whose
rows agree as one parameter; SQLite: executemany): what goes in comes back, text that needs quoting in
an array literal included; an UPDATE matches on every column it is told; new keys are version-4 UUIDs."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from sqlalchemy import select

from podium.db import bulk
from podium.db.engine import Database
from podium.db.schema import events
from podium.domain.keys import new_keys

T0 = dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC)
AWKWARD = ['{"a": "q\\"b\\\\"}', "NULL", "", "comma, {brace} é", None]


def _rows() -> list[dict[str, object]]:
    return [
        {
            "tenant_id": 1,
            "folder_id": None if n % 2 else 7,
            "type": "t",
            "entity_key": text,
            "payload": f"p{n}" if text is None else text,
            "creation_time": T0 + dt.timedelta(seconds=n),
        }
        for n, text in enumerate(AWKWARD)
    ]


def test_insert_and_update_rows(database_url: str) -> None:
    async def scenario() -> None:
        db = Database(database_url)
        try:
            rows = _rows()
            async with db.write() as conn:
                made = await bulk.insert_rows(conn, events, rows, returning=("id", "payload"))
                [(single, _)] = await bulk.insert_rows(conn, events, [rows[0]], returning=("id", "type"))
                assert await bulk.insert_rows(conn, events, []) == []
            id_of = {payload: int(event_id) for event_id, payload in made}
            assert len(id_of) == len(rows)
            async with db.read() as conn:
                stored = [
                    dict(row) for row in (await conn.execute(select(events).order_by(events.c.id))).mappings()
                ]
            for row in rows:
                [found] = [s for s in stored if s["id"] == id_of[str(row["payload"])]]
                assert {key: found[key] for key in row} == row
                assert found["dispatched"] is False  # the column's default
            assert [s["payload"] for s in stored if s["id"] == single] == [rows[0]["payload"]]

            changes = [
                {
                    "b_id": id_of[str(row["payload"])],
                    "b_type": "t" if n else "other",
                    "b_at": T0,
                    "b_key": f"k{n}",
                }
                for n, row in enumerate(rows)
            ]
            async with db.write() as conn:
                count = await bulk.update_rows(
                    conn,
                    events,
                    changes,
                    match={"id": "b_id", "type": "b_type"},
                    changes={"creation_time": "b_at", "entity_key": "b_key"},
                )
                assert count == len(rows) - 1  # the first names another type: left alone
                assert await bulk.update_rows(conn, events, [], match={"id": "b_id"}, changes={}) == 0
                ids = [int(value) for value in id_of.values()]
                after = (
                    await conn.execute(
                        select(events.c.id, events.c.entity_key, events.c.creation_time).where(
                            events.c.id.in_(ids)
                        )
                    )
                ).all()
            first = id_of[str(rows[0]["payload"])]
            for event_id, key, at in after:
                if event_id == first:
                    assert (key, at) == (rows[0]["entity_key"], rows[0]["creation_time"])
                else:
                    assert key.startswith("k") and at == T0
        finally:
            await db.dispose()

    asyncio.run(scenario())


def test_new_keys() -> None:
    made = new_keys(500)
    assert len(set(made)) == 500
    for key in made:
        parsed = uuid.UUID(key)
        assert str(parsed) == key and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert new_keys(0) == []
