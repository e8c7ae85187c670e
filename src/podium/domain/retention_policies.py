"""What queue and job retention policies share: one policy row per owner (a queue, a release) with an
``Action``, a ``Period`` in days and a ``BucketId``; the checks of a change and the reset to
Orchestrator's built-in policy (30 days, Delete). The sweeps that apply them are the owners' own
(``queue_retention.py``, ``release_retention.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_buckets import buckets
from podium.domain.queue_enums import RETENTION_DELETE
from podium.errors import bad_request

DEFAULT_ACTION, DEFAULT_PERIOD = RETENTION_DELETE, 30
MAX_PERIOD_DAYS = 36_500


async def check_policy(
    conn: AsyncConnection,
    tenant_id: int,
    values: Mapping[str, Any],
    existing: Mapping[str, Any] | None,
    owner: tuple[str, str, Any],
) -> None:
    """A period from 1 day to 100 years, an existing bucket of the tenant; a body naming another owner
    than the key's is refused. ``owner``: (its property, its column, what the body names). Archives are
    written to the data folder: ``BucketId`` is kept and answered, not used."""
    name, column, named = owner
    if existing is not None and named is not None and named != existing[column]:
        raise bad_request(f"{name} must be the id in the key.")
    period = values.get("period")
    if period is not None and not 1 <= period <= MAX_PERIOD_DAYS:
        raise bad_request(f"Period must be a number of days from 1 to {MAX_PERIOD_DAYS}.")
    bucket_id = values.get("bucket_id")
    if bucket_id is not None:
        found = select(buckets.c.id).where(buckets.c.id == bucket_id, buckets.c.tenant_id == tenant_id)
        if (await conn.execute(found)).first() is None:
            raise bad_request(f"Bucket {bucket_id} does not exist.")


async def reset_policy(conn: AsyncConnection, table: Table, policy_id: int) -> None:
    """Back to the built-in policy (the row stays: every owner has one)."""
    await conn.execute(
        update(table)
        .where(table.c.id == policy_id)
        .values(action=DEFAULT_ACTION, period=DEFAULT_PERIOD, bucket_id=None)
    )
