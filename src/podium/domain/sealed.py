"""Where sealed secrets live, what binds each to its row, and re-sealing them under a new key.

Each sealed column is listed once here with the associated data of its rows, so encryption, reading
and ``podium admin rotate-key`` agree on it. The associated data uses only values a row never changes
(tenant, asset key, asset and robot ids).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select, update

from podium.db.engine import Database
from podium.db.schema_assets import asset_robot_values, asset_user_values, assets
from podium.db.schema_buckets import buckets
from podium.domain.crypto import Keyring, sealed_key_id
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


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn(assets, "secret", lambda row: asset_aad(row["tenant_id"], row["key"])),
    SealedColumn(asset_robot_values, "secret", lambda row: robot_value_aad(row["asset_id"], row["robot_id"])),
    SealedColumn(
        asset_user_values,
        "secret",
        lambda row: user_value_aad(row["asset_id"], row["user_id"], row["machine_id"]),
    ),
    SealedColumn(buckets, "secret", lambda row: bucket_aad(row["tenant_id"], row["identifier"])),
)


@dataclass
class ResealReport:
    resealed: int = 0
    already_current: int = 0
    remaining_old: int = 0  # sealed under another key after the pass (written concurrently)


async def reseal_all(db: Database, keyring: Keyring, batch: int = 200) -> ResealReport:
    """Re-seals every secret not sealed under the keyring's primary key, a batch per transaction.

    Each row is updated only if it still holds the value read (compare and set), so a secret a
    running server changes meanwhile is not overwritten; a final pass counts what is left.
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
                            .where(table.c.id > last_id, column.is_not(None))
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
                    if sealed_key_id(token) == keyring.primary:
                        report.already_current += 1
                        continue
                    aad = sealed.aad(dict(row))
                    fresh = keyring.seal(keyring.open(token, aad), aad)
                    done = await conn.execute(
                        update(table)
                        .where(table.c.id == row["id"], column == token)
                        .values({sealed.column: fresh})
                    )
                    report.resealed += done.rowcount
        report.remaining_old += await _count_not_under(db, sealed, keyring.primary)
    return report


async def _count_not_under(db: Database, sealed: SealedColumn, key_id: str) -> int:
    column = sealed.table.c[sealed.column]
    async with db.read() as conn:
        tokens = (await conn.execute(select(column).where(column.is_not(None)))).scalars().all()
    return sum(1 for token in tokens if sealed_key_id(token) != key_id)


async def key_ids_in_use(db: Database) -> dict[str, int]:
    """How many sealed values each key id seals (to know when an old key can go)."""
    counts: dict[str, int] = {}
    for sealed in SEALED_COLUMNS:
        column = sealed.table.c[sealed.column]
        async with db.read() as conn:
            for token in (await conn.execute(select(column).where(column.is_not(None)))).scalars():
                kid = sealed_key_id(token)
                counts[kid] = counts.get(kid, 0) + 1
    return counts
