"""Job retention per release: the ``ReleaseRetention`` entity set (one ReleaseRetentionSettingDto per
release, keyed by the release's id). The policies and the sweep that applies them are in
``domain/release_retention.py``.

``PUT /odata/ReleaseRetention({release id})`` sets the policy, ``DELETE`` resets it to Orchestrator's
built-in one (30 days, Delete); the release's folder's Processes.View/Edit govern them. The sweep runs
as a service (``services/job_retention.py``) under its lease.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_jobs import release_retention
from podium.domain.queue_enums import RetentionAction
from podium.domain.release_retention import check_policy, reset_policy
from podium.http.context import RequestContext
from podium.odata.declare import choice, integer
from podium.odata.model import EntitySet, Scope
from podium.odata.registry import Area

area = Area("Releases")


async def _check_policy(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    await check_policy(conn, ctx.tenant_id, values, existing, body.get("ReleaseId"))


async def _reset(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    """DELETE: back to the built-in policy (the row stays: every release has one)."""
    await reset_policy(conn, row["id"])


RELEASE_RETENTION = area.add(
    EntitySet(
        name="ReleaseRetention",
        type_name="ReleaseRetentionSettingDto",
        table=release_retention,
        scope=Scope.FOLDER,
        permission="Processes",
        key_column="release_id",
        insertable=False,
        before_write=_check_policy,
        soft_delete=_reset,
        fields=[
            integer("ReleaseId", "release_id", read_only=True),
            choice("Action", RetentionAction, "action", nullable=False),
            integer("Period", "period", nullable=False),
            integer("BucketId", "bucket_id"),
        ],
    )
)
