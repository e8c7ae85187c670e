#!/usr/bin/env python
"""Benchmark: BulkAddQueueItems in process (the domain's ``bulk_add``, no HTTP), batches of 1,000 items,
into a plain queue, a queue with a SpecificDataJsonSchema (validated off the event loop on RE2), an
encrypted queue (every SpecificContent sealed) and both; on SQLite and PostgreSQL::

    /work/venv/bin/python benchmarks/queue_bulk_variants.py [--batches 20] [--database-url URL]

Prints items/s per variant and how much longer the event loop was blocked at most meanwhile (a
ticker coroutine measures its own lateness): validation runs in a worker thread, so the loop stays free
whatever the schema. PostgreSQL lives in schema ``podium_bench_variants`` (dropped and created again).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from podium.config import Settings
from podium.db.engine import Database, postgres_options, sync_url
from podium.db.schema_queues import queue_definitions
from podium.db.tables import metadata
from podium.db.types import utcnow
from podium.domain.crypto import keyring_for
from podium.domain.queue_definitions import queue_created, queue_of
from podium.domain.queue_enums import CommitType
from podium.domain.queue_items import bulk_add
from podium.domain.tenancy import create_tenant

SCHEMA = "podium_bench_variants"
CONTENT_SCHEMA = {
    "type": "object",
    "required": ["n", "text"],
    "properties": {
        "n": {"type": "integer", "minimum": 0},
        "text": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 64},
        "lines": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    },
}
VARIANTS = {
    "plain": (False, False),
    "schema": (True, False),
    "encrypted": (False, True),
    "both": (True, True),
}


def prepare(url: str) -> str:
    """Tables from the metadata; on PostgreSQL in a schema of their own."""
    if url.startswith("postgresql"):
        target, args = postgres_options(sync_url(url))
        admin = create_engine(target, connect_args=args)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        admin.dispose()
        url = make_url(url).update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(False)
    target, args = postgres_options(sync_url(url)) if url.startswith("postgresql") else (sync_url(url), {})
    engine = create_engine(target, connect_args=args)
    metadata.create_all(engine)
    engine.dispose()
    return url


async def ticker(stop: asyncio.Event, lateness: list[float]) -> None:
    while not stop.is_set():
        started = time.monotonic()
        await asyncio.sleep(0.005)
        lateness.append(time.monotonic() - started - 0.005)


async def measure(url: str, data_dir: Path, batches: int) -> None:
    db = Database(url)
    keys = keyring_for(Settings(data_dir=data_dir, database_url=url, secret_key="bench-" + "k" * 40))
    try:
        async with db.write() as conn:
            tenant = await create_tenant(conn, "Default")
        for name, (with_schema, encrypted) in VARIANTS.items():
            async with db.write() as conn:
                values: dict[str, Any] = {
                    "tenant_id": tenant.tenant_id,
                    "folder_id": tenant.shared_folder_id,
                    "key": os.urandom(16).hex()[:36],
                    "name": name,
                    "encrypted": encrypted,
                    "creation_time": utcnow(),
                    "specific_data_json_schema": orjson.dumps(CONTENT_SCHEMA).decode()
                    if with_schema
                    else None,
                }
                queue_id = (
                    await conn.execute(
                        insert(queue_definitions).values(**values).returning(queue_definitions.c.id)
                    )
                ).scalar_one()
                await queue_created(conn, tenant.tenant_id, queue_id, tenant.shared_folder_id)
                queue = await queue_of(conn, queue_id)
            bodies = [
                [
                    {"SpecificContent": {"n": b * 1000 + i, "text": "invoice", "lines": ["a", "b", "c"]}}
                    for i in range(1000)
                ]
                for b in range(batches)
            ]
            stop, lateness = asyncio.Event(), [0.0]
            ticking = asyncio.create_task(ticker(stop, lateness))
            started = time.perf_counter()
            for items in bodies:
                async with db.write() as conn:
                    outcome = await bulk_add(
                        conn, queue, items, CommitType.AllOrNothing, None, utcnow(), lambda: keys
                    )
                    assert len(outcome.ids) == 1000
            seconds = time.perf_counter() - started
            stop.set()
            await ticking
            print(
                f"  {name:10s} {batches * 1000 / seconds:8.0f} items/s"
                f"   event loop late at most {max(lateness) * 1000:5.1f} ms"
            )
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "PODIUM_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--batches", type=int, default=20, help="batches of 1,000 items per variant")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as data:
        for url in (f"sqlite:///{data}/bench.db", args.database_url):
            print(url.split(":")[0].split("+")[0] + ":")
            asyncio.run(measure(prepare(url), Path(data), args.batches))


if __name__ == "__main__":
    main()
