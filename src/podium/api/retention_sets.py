"""The retention entity sets (QueueRetention, ReleaseRetention) declared once: one policy row per
owner, keyed by the owner's id, not insertable (every owner has one), DELETE resets it
(``domain/retention_policies.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.domain.queue_enums import RetentionAction
from podium.domain.retention_policies import check_policy, reset_policy
from podium.http.context import RequestContext
from podium.odata.declare import choice, integer
from podium.odata.model import EntitySet, Scope


def retention_set(
    name: str, type_name: str, table: Table, permission: str, owner: tuple[str, str]
) -> EntitySet:
    """``owner``: the owner's id property and column (``QueueDefinitionId``, ``queue_definition_id``)."""
    owner_field, owner_column = owner

    async def check(
        ctx: RequestContext,
        conn: AsyncConnection,
        values: dict[str, Any],
        existing: Mapping[str, Any] | None,
        body: Mapping[str, Any],
    ) -> None:
        await check_policy(
            conn, ctx.tenant_id, values, existing, (owner_field, owner_column, body.get(owner_field))
        )

    async def reset(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
        await reset_policy(conn, table, row["id"])

    return EntitySet(
        name=name,
        type_name=type_name,
        table=table,
        scope=Scope.FOLDER,
        permission=permission,
        key_column=owner_column,
        insertable=False,
        before_write=check,
        soft_delete=reset,
        fields=[
            integer(owner_field, owner_column, read_only=True),
            choice("Action", RetentionAction, "action", nullable=False),
            integer("Period", "period", nullable=False),
            integer("BucketId", "bucket_id"),
        ],
    )
