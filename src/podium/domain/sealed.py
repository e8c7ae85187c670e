"""Where sealed secrets live, what binds each to its row, and re-sealing them under a new key.

Each sealed column is listed once here with the associated data of its rows, so encryption, reading
and ``podium admin rotate-key`` agree on it. The associated data uses only values a row never changes
(tenant, asset key, asset and robot ids, an item's Key and UniqueKey).

The item data of queues (``queue_sealing``) is sealed only for encrypted queues: those columns hold clear
JSON text in the other queues' rows, which are left alone; a clear value in an encrypted queue's row (an
item written before items were sealed) is sealed by rotate-key. Sealed values are told from clear text
by their ``pe1:`` prefix, which also lets the database count them per key (the key id follows it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, update

from podium.db.engine import Database
from podium.db.schema_assets import asset_robot_values, asset_user_values, assets
from podium.db.schema_buckets import buckets
from podium.db.schema_queues import queue_definitions, queue_items
from podium.db.schema_webhooks import webhooks
from podium.domain.crypto import KEY_ID_CHARS, SEALED_PREFIX, Keyring, is_sealed, sealed_key_id
from podium.domain.queue_sealing import SEALED as ITEM_DATA
from podium.domain.queue_sealing import row_aad
from podium.storage.secrets import bucket_aad


def asset_aad(tenant_id: int, asset_key: str) -> str:
    return f"asset:{tenant_id}:{asset_key}"


def robot_value_aad(asset_id: int, robot_id: int) -> str:
    return f"asset-robot-value:{asset_id}:{robot_id}"


def user_value_aad(asset_id: int, user_id: int, machine_id: int | None) -> str:
    return f"asset-user-value:{asset_id}:{user_id}:{machine_id or 0}"


@dataclass(frozen=True)
class SealedColumn:
    table: Table
    column: str
    aad: Callable[[Mapping[str, Any]], str]
    # for a column that also holds clear values (queue items of queues that are not encrypted): the rows
    # whose values must be sealed; None when every value of the column is sealed
    must_seal: ColumnElement[bool] | None = None


def _item_data(column: str) -> SealedColumn:
    encrypted = select(queue_definitions.c.id).where(queue_definitions.c.encrypted.is_(True))
    return SealedColumn(
        queue_items,
        column,
        lambda row: row_aad(row, column),
        queue_items.c.queue_definition_id.in_(encrypted),
    )


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn(assets, "secret", lambda row: asset_aad(row["tenant_id"], row["key"])),
    SealedColumn(asset_robot_values, "secret", lambda row: robot_value_aad(row["asset_id"], row["robot_id"])),
    SealedColumn(
        asset_user_values,
        "secret",
        lambda row: user_value_aad(row["asset_id"], row["user_id"], row["machine_id"]),
    ),
    SealedColumn(buckets, "secret", lambda row: bucket_aad(row["tenant_id"], row["identifier"])),
    SealedColumn(webhooks, "secret", lambda row: f"webhook:{row['tenant_id']}:{row['key']}"),
    *(_item_data(column) for column in ITEM_DATA),
)


def _sealed(column: ColumnElement[Any]) -> ColumnElement[bool]:
    return column.like(SEALED_PREFIX + "%")


def _key_id(column: ColumnElement[Any]) -> ColumnElement[str]:
    return func.substr(column, len(SEALED_PREFIX) + 1, KEY_ID_CHARS)


def _to_seal(sealed: SealedColumn) -> ColumnElement[bool]:
    """The rows rotate-key looks at: sealed values, and the clear ones of rows that must be sealed."""
    column = sealed.table.c[sealed.column]
    if sealed.must_seal is None:
        return column.is_not(None)
    return and_(column.is_not(None), or_(_sealed(column), sealed.must_seal))


@dataclass
class ResealReport:
    resealed: int = 0
    already_current: int = 0
    remaining_old: int = 0  # sealed under another key after the pass (written concurrently)
    sealed_clear: int = 0  # clear values of rows that must be sealed, sealed by the pass


async def reseal_all(db: Database, keyring: Keyring, batch: int = 200) -> ResealReport:
    """Re-seals every secret not sealed under the keyring's primary key, a batch per transaction.

    Each row is updated only if it still holds the value read (compare and set), so a secret a
    running server changes meanwhile is not overwritten; a final pass counts what is left. A clear value
    in a row that must be sealed (``SealedColumn.must_seal``) is sealed.
    """
    report = ResealReport()
    for sealed in SEALED_COLUMNS:
        table, column = sealed.table, sealed.table.c[sealed.column]
        last_id = 0
        while True:
            async with db.read() as conn:
                rows = (
                    (
                        await conn.execute(
                            select(table)
                            .where(table.c.id > last_id, _to_seal(sealed))
                            .order_by(table.c.id)
                            .limit(batch)
                        )
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                break
            last_id = rows[-1]["id"]
            async with db.write() as conn:
                for row in rows:
                    token = row[sealed.column]
                    clear = not is_sealed(token)
                    if not clear and sealed_key_id(token) == keyring.primary:
                        report.already_current += 1
                        continue
                    aad = sealed.aad(dict(row))
                    fresh = keyring.seal(token if clear else keyring.open(token, aad), aad)
                    done = await conn.execute(
                        update(table)
                        .where(table.c.id == row["id"], column == token)
                        .values({sealed.column: fresh})
                    )
                    if clear:
                        report.sealed_clear += done.rowcount
                    else:
                        report.resealed += done.rowcount
        report.remaining_old += await _count_not_under(db, sealed, keyring.primary)
    return report


async def _count_not_under(db: Database, sealed: SealedColumn, key_id: str) -> int:
    """Values sealed under another key, and clear values of rows that must be sealed (counted by the
    database: a queue may hold millions of items)."""
    column = sealed.table.c[sealed.column]
    stale = and_(_sealed(column), _key_id(column) != key_id)
    if sealed.must_seal is not None:
        stale = or_(stale, and_(~_sealed(column), sealed.must_seal))
    async with db.read() as conn:
        count = await conn.execute(select(func.count()).where(column.is_not(None), stale))
        return int(count.scalar_one())


async def key_ids_in_use(db: Database) -> dict[str, int]:
    """How many sealed values each key id seals (to know when an old key can go)."""
    counts: dict[str, int] = {}
    for sealed in SEALED_COLUMNS:
        column = sealed.table.c[sealed.column]
        kid = _key_id(column)
        async with db.read() as conn:
            rows = await conn.execute(select(kid, func.count()).where(_sealed(column)).group_by(kid))
            for key_id, count in rows:
                counts[key_id] = counts.get(key_id, 0) + int(count)
    return counts
