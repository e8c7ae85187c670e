"""Queue retention: the ``QueueRetention`` entity set (one QueueRetentionSettingDto per queue, keyed by
the queue's id). The policies and the sweep that applies them are in ``domain/queue_retention.py``.

``PUT /odata/QueueRetention({queue id})`` sets the policy, ``DELETE`` resets it to Orchestrator's
built-in one (30 days, Delete). The sweep runs as a service (``services/queue_retention.py``) every
``queue_retention_sweep_seconds``; its lease lets one server process do the work per interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_queues import queue_retention
from podium.domain.queue_enums import RetentionAction
from podium.domain.queue_retention import check_policy, reset_policy
from podium.http.context import RequestContext
from podium.odata.declare import choice, integer
from podium.odata.model import EntitySet, Scope
from podium.odata.registry import Area

area = Area("Queues")


async def _check_policy(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    await check_policy(conn, ctx.tenant_id, values, existing, body.get("QueueDefinitionId"))


async def _reset(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    """DELETE: back to the built-in policy (the row stays: every queue has one)."""
    await reset_policy(conn, row["id"])


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
