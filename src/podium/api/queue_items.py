"""Queue items: the QueueItems entity set (PUT edits a New item, DELETE makes it Deleted), the Queues
set (it lists queue items like QueueItems; the transaction actions are bound to it), AddQueueItem and
BulkAddQueueItems.

Thin: each handler reads the body, checks the caller's permission in the queue's folder and calls
``domain/queue_items.py`` in one write transaction. Queue actions are in the ``UiPathODataSvc`` namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium import inputs
from podium.api.queue_definitions import queue_named
from podium.db.schema_queues import queue_items
from podium.db.types import utcnow
from podium.domain.crypto import keyring_for
from podium.domain.queue_items import (
    ITEM_DTO_FIELDS,
    SHARED_THROUGH,
    add_item,
    bulk_add,
    delete_item,
    edit_item,
    item_dto,
    item_for_update,
    parse_commit_type,
)
from podium.domain.queue_sealing import COLUMN_OF, OPENER_CONTEXT, Keys, opener
from podium.http.context import RequestContext
from podium.odata.model import EntitySet, Navigation, Scope, Sealed
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import entity, json_response, require_body

SVC = "UiPathODataSvc"
BULK_RESPONSE = "UiPath.Server.Configuration.OData.BulkOperationResponseDtoOfFailedQueueItemDto"
area = Area("Queues")

ITEM_NAVIGATIONS = [
    Navigation(
        "QueueDefinition", "QueueDefinitions", local="queue_definition_id", type_name="QueueDefinitionDto"
    ),
    Navigation("Robot", "Robots", local="robot_id", type_name="SimpleRobotDto"),
    Navigation("ReviewerUser", "Users", local="reviewer_user_id", type_name="SimpleUserDto"),
]


async def _delete_item(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any]) -> None:
    """DELETE /odata/QueueItems(id): a New item becomes Deleted (the row stays, for history)."""
    await delete_item(conn, row, ctx.user_id)


def item_keys(ctx: RequestContext) -> Keys:
    """The server's keyring, for the items of encrypted queues (asked for only by them)."""
    return lambda: keyring_for(ctx.state.settings)


async def _edit_item(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any], body: Any) -> None:
    """PUT /odata/QueueItems(id) with a QueueItemDataDto: edits a New item."""
    await edit_item(conn, row, body, ctx.user_id, item_keys(ctx))


# an encrypted queue's item data, opened on every read; $filter and $orderby cannot use it
SEALED_ITEM_DATA = Sealed(frozenset(COLUMN_OF), OPENER_CONTEXT, lambda ctx: opener(item_keys(ctx)))

QUEUE_ITEMS = area.add(
    EntitySet(
        name="QueueItems",
        type_name="QueueItemDto",
        table=queue_items,
        scope=Scope.FOLDER,
        permission="Transactions",
        insertable=False,
        shared_through=SHARED_THROUGH,
        edit=_edit_item,
        soft_delete=_delete_item,
        navigations=ITEM_NAVIGATIONS,
        fields=ITEM_DTO_FIELDS,
        sealed=SEALED_ITEM_DATA,
    )
)

# The transaction actions live on /odata/Queues; reading it lists queue items like QueueItems.
QUEUES = area.add(
    EntitySet(
        name="Queues",
        type_name="QueueItemDto",
        table=queue_items,
        scope=Scope.FOLDER,
        permission="Transactions",
        insertable=False,
        updatable=False,
        deletable=False,
        shared_through=SHARED_THROUGH,
        navigations=ITEM_NAVIGATIONS,
        fields=ITEM_DTO_FIELDS,
        sealed=SEALED_ITEM_DATA,
    )
)


def item_entity(ctx: RequestContext, row: Mapping[str, Any], status: int = 200) -> Response:
    """The QueueItemDto answer of a queue_items row (an encrypted queue's item opened)."""
    return entity(ctx, "QueueItems", item_dto(row, item_keys(ctx)), status)


def body_object(call: ActionCall, name: str) -> dict[str, Any]:
    """The JSON object ``name`` of the request body (itemData, transactionData, transactionResult)."""
    return inputs.json_object(require_body(call).get(name), name)


@area.operation(
    "Queues",
    "AddQueueItem",
    namespace=SVC,
    summary="Adds a new queue item",
    returns="QueueItemDto",
    audit=None,  # not a change someone makes (queue traffic, exports)
)
async def add_queue_item(ctx: RequestContext, call: ActionCall) -> Response:
    data = body_object(call, "itemData")
    async with ctx.state.db.write() as conn:
        queue = await queue_named(ctx, conn, data.get("Name"), "Name", "Transactions.Create")
        item_id = await add_item(conn, queue, data, ctx.user_id, utcnow(), item_keys(ctx))
        item = await item_for_update(conn, ctx.tenant_id, item_id)
    return item_entity(ctx, item, 201)


@area.operation(
    "Queues",
    "BulkAddQueueItems",
    namespace=SVC,
    summary="Bulk adds queue items",
    returns="BulkOperationResponseDtoOfFailedQueueItemDto",
    audit=None,  # not a change someone makes (queue traffic, exports)
)
async def bulk_add_queue_items(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    commit = parse_commit_type(body.get("commitType"))
    async with ctx.state.db.write() as conn:
        queue = await queue_named(ctx, conn, body.get("queueName"), "queueName", "Transactions.Create")
        items = body.get("queueItems")
        outcome = await bulk_add(conn, queue, items, commit, ctx.user_id, utcnow(), item_keys(ctx))
    failed = [
        {"Ordinal": ordinal, "ErrorCode": error.failure, "ErrorMessage": error.message}
        for ordinal, error in outcome.failed
    ]
    message = None
    if outcome.stopped:
        message = f"Stopped at item {failed[0]['Ordinal']}: the items after it were not added."
    elif failed:
        message = f"{len(failed)} of {len(outcome.ids) + len(failed)} items were not added."
    return json_response(
        {
            "@odata.context": f"{ctx.odata_base}/$metadata#{BULK_RESPONSE}",
            "success": not failed,
            "message": message,
            "failedItems": failed,
        }
    )
