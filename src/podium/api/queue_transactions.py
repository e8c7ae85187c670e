"""Transactions: StartTransaction, SetTransactionResult (bound to Queues) and SetTransactionProgress
(bound to QueueItems).

Thin: each handler reads the body, checks the caller's permission in the queue's folder and calls
``domain/queue_transactions.py`` in one write transaction. Queue actions are in the ``UiPathODataSvc``
namespace. The abandon sweep is a service (``services/queue_abandon.py``).

On PostgreSQL, StartTransaction and SetTransactionResult first try ``domain/queue_hot_path.py`` (one
statement each) when the caller holds Transactions.Edit in the folder of the headers and the request is
the common case; whatever it does not answer goes the general way, with its errors.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium import inputs
from podium.api.queue_definitions import queue_named
from podium.api.queue_items import body_object, item_entity, item_keys
from podium.db.types import utcnow
from podium.domain import queue_hot_path, queue_transactions
from podium.domain.queue_definitions import is_shared_to
from podium.domain.queue_items import item_for_update
from podium.errors import PodiumError
from podium.http.context import RequestContext
from podium.http.folders_header import FolderRef
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import json_response, require_body

SVC = "UiPathODataSvc"
area = Area("Queues")


@area.operation(
    "Queues",
    "StartTransaction",
    namespace=SVC,
    returns="QueueItemDto",
    summary="Starts a transaction: hands the caller the next New item (or null)",
    audit=None,  # not a change someone makes (queue traffic, exports)
)
async def start_transaction(ctx: RequestContext, call: ActionCall) -> Response:
    data = body_object(call, "transactionData")
    queue_transactions.reject_start_fields(data)
    answered, item = await _start_in_one_statement(ctx, data)
    if not answered:
        async with ctx.state.db.write() as conn:
            queue = await queue_named(ctx, conn, data.get("Name"), "Name", "Transactions.Edit")
            robot_id = await queue_transactions.resolve_robot(
                conn, ctx.tenant_id, data.get("RobotIdentifier"), ctx.principal.robot_id
            )
            item = await queue_transactions.start_transaction(
                conn, queue, data, robot_id, ctx.user_id, item_keys(ctx)
            )
    if item is None:
        # Orchestrator answers 204; the official Python SDK parses every answer as JSON: null is both.
        return json_response(None)
    return item_entity(ctx, item)


def _hot_path_folder(ctx: RequestContext) -> FolderRef | None:
    """The folder of the headers when the one-statement path may serve the call: PostgreSQL, and the
    caller holds Transactions.Edit there."""
    folder = ctx.folder
    if ctx.state.db.is_sqlite or folder is None:
        return None
    return folder if ctx.principal.has("Transactions.Edit", folder.fully_qualified_name) else None


START_FIELDS = frozenset({"Name", "RobotIdentifier"})  # what the one-statement StartTransaction reads


async def _start_in_one_statement(
    ctx: RequestContext, data: dict[str, Any]
) -> tuple[bool, dict[str, Any] | None]:
    folder = _hot_path_folder(ctx)
    name, robot_key = data.get("Name"), data.get("RobotIdentifier") or None
    if (
        folder is None
        or any(value is not None and key not in START_FIELDS for key, value in data.items())
        or not isinstance(name, str)
        or not 0 < len(name) <= 512
        or "\x00" in name
        or not isinstance(robot_key, str | None)
    ):
        return False, None
    return await queue_hot_path.start_transaction(
        ctx.state.db, ctx.tenant_id, folder.id, name, robot_key, ctx.principal.robot_id, ctx.user_id, utcnow()
    )


async def _result_in_one_statement(ctx: RequestContext, key: Any, result: Any) -> dict[str, Any] | None:
    folder = _hot_path_folder(ctx)
    if folder is None:
        return None
    try:
        item_id = inputs.entity_id(key, "The queue item key")
        outcome = queue_transactions.read_result(result)
    except PodiumError:
        return None  # the general path answers, its checks in their order
    if not outcome.successful and outcome.retryable:
        return None  # an application exception: retried, or failed with an alert (the general path)
    return await queue_hot_path.set_result(
        ctx.state.db,
        ctx.tenant_id,
        folder.id,
        item_id,
        outcome,
        ctx.principal.robot_id,
        ctx.user_id,
        utcnow(),
    )


async def _held_item(ctx: RequestContext, conn: AsyncConnection, key: Any) -> dict[str, Any]:
    """The InProgress item the caller holds, locked; the caller needs Transactions.Edit in the item's
    folder, or in the folder of the headers when the item's queue is shared to it."""
    item = await item_for_update(conn, ctx.tenant_id, inputs.entity_id(key, "The queue item key"))
    folder_path = item["folder_path"]
    header = ctx.folder
    if (
        header is not None
        and header.id != item["folder_id"]
        and await is_shared_to(conn, item["queue_definition_id"], header.id)
    ):
        folder_path = header.fully_qualified_name
    ctx.require("Transactions.Edit", folder_path)
    queue_transactions.check_holder(item, ctx.user_id, ctx.principal.robot_id)
    return item


@area.operation(
    "Queues",
    "SetTransactionResult",
    bound_to_entity=True,
    namespace=SVC,
    returns="QueueItemDto",
    summary="Sets the result of a transaction (success, or a business/application exception)",
    audit=None,  # not a change someone makes (queue traffic, exports)
)
async def set_transaction_result(ctx: RequestContext, call: ActionCall) -> Response:
    result = body_object(call, "transactionResult")
    updated = await _result_in_one_statement(ctx, call.key, result)
    if updated is None:
        async with ctx.state.db.write() as conn:
            item = await _held_item(ctx, conn, call.key)
            updated = await queue_transactions.set_result(conn, item, result, ctx.user_id, item_keys(ctx))
    return item_entity(ctx, updated)


@area.operation(
    "QueueItems",
    "SetTransactionProgress",
    bound_to_entity=True,
    namespace=SVC,
    returns="QueueItemDto",
    summary="Updates the progress of an InProgress item",
    audit=None,  # not a change someone makes (queue traffic, exports)
)
async def set_transaction_progress(ctx: RequestContext, call: ActionCall) -> Response:
    body = require_body(call)
    async with ctx.state.db.write() as conn:
        item = await _held_item(ctx, conn, call.key)
        updated = await queue_transactions.set_progress(conn, item, body.get("progress"), ctx.user_id)
    return item_entity(ctx, updated)
