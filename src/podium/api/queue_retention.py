"""Queue retention: the ``QueueRetention`` entity set (one QueueRetentionSettingDto per queue, keyed by
the queue's id) and the background sweep that applies the policies (``domain/queue_retention.py``).

``PUT /odata/QueueRetention({queue id})`` sets the policy, ``DELETE`` resets it to Orchestrator's
built-in one (30 days, Delete). Every server process runs the sweep loop every
``queue_retention_sweep_seconds``; the lease lets one of them do the work per interval.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_buckets import buckets
from podium.db.schema_queues import queue_retention
from podium.domain import queue_retention as retention
from podium.domain.queue_enums import RetentionAction
from podium.errors import bad_request
from podium.http.context import RequestContext
from podium.odata.declare import choice, integer
from podium.odata.model import EntitySet, Scope
from podium.odata.registry import Area

area = Area("Queues")

log = logging.getLogger("podium.queues.retention")


async def _check_policy(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    """A period of at least one day, an existing bucket; a body naming another queue than the key is
    refused. Archives are written to the data folder: ``BucketId`` is kept and answered, not used."""
    named = body.get("QueueDefinitionId")
    if existing is not None and named is not None and named != existing["queue_definition_id"]:
        raise bad_request("QueueDefinitionId must be the queue of the key.")
    period = values.get("period")
    if period is not None and not 1 <= period <= retention.MAX_PERIOD_DAYS:
        raise bad_request(f"Period must be a number of days from 1 to {retention.MAX_PERIOD_DAYS}.")
    bucket_id = values.get("bucket_id")
    if bucket_id is not None:
        found = select(buckets.c.id).where(buckets.c.id == bucket_id, buckets.c.tenant_id == ctx.tenant_id)
        if (await conn.execute(found)).first() is None:
            raise bad_request(f"Bucket {bucket_id} does not exist.")


async def _reset(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    """DELETE: back to the built-in policy (the row stays: every queue has one)."""
    await conn.execute(
        update(queue_retention)
        .where(queue_retention.c.id == row["id"])
        .values(action=retention.DEFAULT_ACTION, period=retention.DEFAULT_PERIOD, bucket_id=None)
    )


QUEUE_RETENTION = area.add(
    EntitySet(
        name="QueueRetention",
        type_name="QueueRetentionSettingDto",
        table=queue_retention,
        scope=Scope.FOLDER,
        permission="Queues",
        key_column="queue_definition_id",
        insertable=False,
        before_write=_check_policy,
        soft_delete=_reset,
        fields=[
            integer("QueueDefinitionId", "queue_definition_id", read_only=True),
            choice("Action", RetentionAction, "action", nullable=False),
            integer("Period", "period", nullable=False),
            integer("BucketId", "bucket_id"),
        ],
    )
)
