"""Queue retention: finished items older than their queue's period are deleted, or archived first.

Each queue has one ``queue_retention`` row (Orchestrator's built-in policy when none was set: 30 days,
Delete). An item is finished when Successful, Failed, Abandoned, Retried or Deleted; its age counts from
when it finished (EndProcessing, else its last change, else its creation). ``Archive`` writes the
items as JSON lines (their QueueItemDto) to ``<data dir>/queue-archive/<tenant id>/<queue id>/`` and
deletes them only once the file is on disk: a crash in between archives them again next time (at
least once), never loses one. Their events and comments go with them (foreign keys ON DELETE CASCADE).
A file is written under a temporary name and renamed once complete: a reader never sees part of one.

An encrypted queue's archived items keep their SpecificContent, Output and Analytics sealed, as the
database held them (``queue_sealing``): the sealed text stands in the line, opened with the tenant (the
folder's name) and the item's Key or UniqueKey (in the line). ``podium admin rotate-key`` re-seals the
archives too (:func:`reseal_archives`) and keeps a key while an archive needs it (:func:`archive_key_ids`).

The sweep runs on one server process at a time: ``services/queue_retention.py`` runs it under the
``queue-retention`` lease (``services/base.py``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.engine import Database
from podium.db.schema_queues import queue_definitions, queue_items, queue_retention
from podium.db.types import utcnow
from podium.domain.crypto import Keyring, is_sealed, sealed_key_id
from podium.domain.queue_enums import RETENTION_ARCHIVE, RETENTION_NONE
from podium.domain.queue_item_states import FINAL
from podium.domain.queue_sealing import COLUMN_OF, aad
from podium.domain.retention_policies import DEFAULT_ACTION, DEFAULT_PERIOD

BATCH = 1000
FINISHED = sorted(int(status) for status in FINAL)
FINISHED_AT = func.coalesce(
    queue_items.c.end_processing, queue_items.c.last_modification_time, queue_items.c.creation_time
)

ItemToJson = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass
class SweepReport:
    """What one sweep did: items deleted (archived ones included) and archived, per queue id."""

    deleted: dict[int, int] = field(default_factory=dict)
    archived: dict[int, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


ARCHIVE = "queue-archive"


def archive_folder(data_dir: Path, tenant_id: int, queue_id: int) -> Path:
    return data_dir / ARCHIVE / str(tenant_id) / str(queue_id)


async def _policies(conn: AsyncConnection) -> list[Mapping[str, Any]]:
    """Every queue with its action and period (the built-in policy where no row exists)."""
    qd, qr = queue_definitions.c, queue_retention.c
    query = (
        select(
            qd.id,
            qd.tenant_id,
            func.coalesce(qr.action, DEFAULT_ACTION).label("action"),
            func.coalesce(qr.period, DEFAULT_PERIOD).label("period"),
        )
        .select_from(queue_definitions.outerjoin(queue_retention, qr.queue_definition_id == qd.id))
        .order_by(qd.id)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


def write_archive(folder: Path, now: dt.datetime, rows: list[dict[str, Any]]) -> Path:
    """Writes the JSON lines to a new file, flushed to disk before the rows are deleted."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now:%Y%m%dT%H%M%S%fZ}-{rows[0]['Id']}.jsonl"
    if path.exists():
        raise FileExistsError(path)
    _write_lines(path, [orjson.dumps(row) for row in rows])
    return path


def _write_lines(path: Path, lines: list[bytes]) -> None:
    """``path`` holds the lines, complete, or is as it was: written aside, on disk, then renamed."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        for line in lines:
            handle.write(line + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _archives(data_dir: Path) -> list[tuple[int, Path]]:
    """Every archive file, with the tenant of its items."""
    root = data_dir / ARCHIVE
    if not root.is_dir():
        return []
    return [
        (int(path.parent.parent.name), path)
        for path in sorted(root.glob("*/*/*.jsonl"))
        if path.parent.parent.name.isdigit()
    ]


def _sealed_values(item: dict[str, Any]) -> list[tuple[str, str]]:
    """(property, sealed text) of an archived item."""
    return [(name, item[name]) for name in COLUMN_OF if is_sealed(item.get(name))]


def _item_aad(tenant_id: int, item: dict[str, Any], name: str) -> str:
    return aad(tenant_id, item["Key"], item["UniqueKey"], COLUMN_OF[name])


def reseal_archives(data_dir: Path, keyring: Keyring) -> int:
    """Re-seals the archived values not sealed under the keyring's primary key (each file rewritten
    whole, see ``_write_lines``); returns how many. Archive files are never changed otherwise."""
    resealed = 0
    seal = keyring.sealer()
    for tenant_id, path in _archives(data_dir):
        items = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
        changed = 0
        for item in items:
            for name, token in _sealed_values(item):
                if sealed_key_id(token) != keyring.primary:
                    bound = _item_aad(tenant_id, item, name)
                    item[name] = seal(keyring.open(token, bound), bound)
                    changed += 1
        if changed:
            _write_lines(path, [orjson.dumps(item) for item in items])
            resealed += changed
    return resealed


def archive_key_ids(data_dir: Path) -> dict[str, int]:
    """How many archived values each key id seals."""
    counts: dict[str, int] = {}
    for _tenant_id, path in _archives(data_dir):
        for line in path.read_bytes().splitlines():
            if line.strip():
                for _name, token in _sealed_values(orjson.loads(line)):
                    counts[sealed_key_id(token)] = counts.get(sealed_key_id(token), 0) + 1
    return counts


async def _sweep_batch(
    db: Database,
    policy: Mapping[str, Any],
    cutoff: dt.datetime,
    data_dir: Path,
    to_json: ItemToJson,
    report: SweepReport,
) -> int:
    """Deletes (archiving first) up to BATCH expired items of one queue; returns how many."""
    queue_id = int(policy["id"])
    async with db.write() as conn:
        rows = (
            (
                await conn.execute(
                    select(queue_items)
                    .where(
                        queue_items.c.queue_definition_id == queue_id,
                        queue_items.c.status.in_(FINISHED),
                        cutoff > FINISHED_AT,
                    )
                    .order_by(queue_items.c.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            return 0
        ids = [int(row["id"]) for row in rows]
        if policy["action"] == RETENTION_ARCHIVE:
            folder = archive_folder(data_dir, int(policy["tenant_id"]), queue_id)
            report.files.append(write_archive(folder, utcnow(), [to_json(dict(row)) for row in rows]))
            report.archived[queue_id] = report.archived.get(queue_id, 0) + len(ids)
        await conn.execute(delete(queue_items).where(queue_items.c.id.in_(ids)))
    report.deleted[queue_id] = report.deleted.get(queue_id, 0) + len(ids)
    return len(ids)


async def apply_retention(
    db: Database, data_dir: Path, to_json: ItemToJson, now: dt.datetime | None = None
) -> SweepReport:
    """Applies every queue's policy once (whoever calls it; the service adds the lease)."""
    now = now or utcnow()
    report = SweepReport()
    async with db.read() as conn:
        policies = await _policies(conn)
    for policy in policies:
        if policy["action"] == RETENTION_NONE:
            continue
        cutoff = now - dt.timedelta(days=int(policy["period"]))
        while await _sweep_batch(db, policy, cutoff, data_dir, to_json, report) == BATCH:
            pass
        async with db.write() as conn:
            await conn.execute(
                update(queue_retention)
                .where(queue_retention.c.queue_definition_id == policy["id"])
                .values(last_run_time=now)
            )
    return report
